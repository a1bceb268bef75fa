"""Customer subdomains on the one API: certificate, custom domains, base path mappings, DNS."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from whitelabel.config import (
    DEFAULT_TLS_POLICY,
    EDGE_ENDPOINT,
    HANDOFF_LABEL,
    MTLS_TLS_POLICY,
    REGIONAL_ENDPOINT,
    Customer,
    Settings,
    endpoint_access_mode,
)
from whitelabel.endpoints import EDGE
from whitelabel.protection import resource_options


@dataclass(frozen=True)
class TenantDomainsArgs:
    """Inputs of the tenant domains.

    hosted_zone: the public Route 53 zone that holds the records (baseDomain or a parent of it).
    dual_stack: serve IPv6 too (AAAA alias records, dual-stack custom domains).
    tenant_dns: `perCustomer` (one alias record per shared customer; unknown names do not resolve) or
        `wildcard` (one `*.<baseDomain>` alias record; onboarding makes no Route 53 change).
    tls_policy: the security policy of every custom domain (config `tlsPolicy`), except those of customers
        with an mTLS truststore, which use `TLS_1_2` (the only policy AWS allows with mutual TLS).
    protect: protected production (`protectResources`): certificates, custom domains, alias and validation
        records are protected.
    endpoint_type: REGIONAL or EDGE (config `endpointType`): which certificate argument and region, and which
        alias target, the custom domains use (`whitelabel.endpoints`).
    """

    base_domain: str
    hosted_zone: str
    customers: Sequence[Customer]
    rest_api_id: pulumi.Input[str]
    stage_name: pulumi.Input[str]
    dual_stack: bool = False
    tenant_dns: str = "perCustomer"
    tls_policy: str = DEFAULT_TLS_POLICY
    protect: bool = False
    endpoint_type: str = "REGIONAL"

    @classmethod
    def from_settings(cls, settings: Settings, gateway: Any) -> TenantDomainsArgs:
        return cls(
            base_domain=settings.base_domain,
            hosted_zone=settings.hosted_zone,
            customers=tuple(settings.customers),
            rest_api_id=gateway.rest_api_id,
            stage_name=gateway.stage_name,
            dual_stack=settings.dual_stack,
            tenant_dns=settings.tenant_dns,
            tls_policy=settings.tls_policy,
            protect=settings.protect_resources,
            endpoint_type=settings.endpoint_type,
        )


class TenantDomains(pulumi.ComponentResource):
    """Every customer's `<subdomain>.<baseDomain>` routed to the API's stage.

    Shared customers cost one alias record (two when dual-stack) on the wildcard custom domain;
    dedicated customers get their own custom domain and mapping. With `tenantDns: perCustomer` no
    wildcard DNS record exists, so a subdomain that is not a customer does not resolve; with `wildcard`
    one `*.<baseDomain>` record replaces every shared customer's record, unknown names resolve and the
    tenant authorizer refuses them. Dedicated customers keep their own records in both modes: a name
    that exists in the zone is answered from its own records, not from the wildcard.
    """

    def __init__(self, name: str, args: TenantDomainsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("whitelabel:tenant_domains:TenantDomains", name, None, opts)
        self._name = name
        self._args = args
        self._endpoint = EDGE_ENDPOINT if args.endpoint_type == EDGE else REGIONAL_ENDPOINT
        # CreateDomainName is limited to one call per 30 s per account, and the limit cannot be raised:
        # every custom domain this stack adds waits for the one before it, so one `pulumi up` with many
        # new domains makes its calls one after another instead of failing on throttling.
        self._previous_domain: pulumi.Resource | None = None
        self.zone_id = aws.route53.get_zone_output(
            name=args.hosted_zone, private_zone=False, opts=pulumi.InvokeOutputOptions(parent=self)
        ).zone_id
        wildcard = f"*.{args.base_domain}"

        # One certificate covers the wildcard domain and every dedicated domain: `*.x` matches
        # `acme.x` (one label only). It lives in the API's region for regional domains, in us-east-1 for edge
        # ones (pulumi-aws 7's per-resource `region`; None keeps a regional stack's inputs as they were).
        self.certificate = aws.acm.Certificate(
            f"{name}-certificate",
            domain_name=wildcard,
            validation_method="DNS",
            region=self._endpoint.certificate_region,
            opts=resource_options("certificate", args.protect, parent=self),
        )
        self.validation = self._validate(f"{name}-certificate", self.certificate, [wildcard], zone_owned=True)
        self.certificate_arn = self.validation.certificate_arn

        self.wildcard_domain = self._domain(f"{name}-wildcard", wildcard, self.certificate_arn)
        self.wildcard_domain_name = self.wildcard_domain.domain_name
        self.wildcard_domain_target = self._target(self.wildcard_domain)
        wildcard_dns = args.tenant_dns == "wildcard"
        if wildcard_dns:
            # Route 53 takes `*` as the leftmost label as a wildcard matching any name below baseDomain
            # that has no records of its own ("Using an asterisk (*) in the names of hosted zones and
            # records", https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DomainNameFormat.html).
            self._alias_records(f"{name}-wildcard", wildcard, self.wildcard_domain)

        endpoints: dict[str, str] = {}
        dedicated_targets: dict[str, pulumi.Output[str]] = {}
        handoff: dict[str, pulumi.Output[dict[str, Any]]] = {}
        # Sorted by name, never by list position: reordering `customers` changes nothing.
        for customer in sorted(args.customers, key=lambda c: c.name):
            fqdn = f"{customer.subdomain}.{args.base_domain}"
            endpoints[customer.name] = f"https://{fqdn}"
            prefix = f"{name}-{customer.name}"
            if customer.dedicated_domain:
                domain = self._domain(prefix, fqdn, self.certificate_arn, customer.mtls_truststore)
                dedicated_targets[customer.name] = self._target(domain)
                self._alias_records(prefix, fqdn, domain)
            elif not wildcard_dns:
                self._alias_records(prefix, fqdn, self.wildcard_domain)
            if customer.custom_domain is not None:
                handoff[customer.name] = self._own_domain(f"{prefix}-own", customer, customer.custom_domain)

        self.endpoints = endpoints
        self.dedicated_domain_targets = dedicated_targets
        self.custom_domain_handoff = handoff
        self.register_outputs(
            {
                "endpoints": self.endpoints,
                "wildcardDomainTarget": self.wildcard_domain_target,
                "certificateArn": self.certificate_arn,
            }
        )

    def _validate(
        self, name: str, certificate: aws.acm.Certificate, domains: Sequence[str], *, zone_owned: bool
    ) -> aws.acm.CertificateValidation:
        """DNS-validate a certificate through our zone: one record per unique record name."""
        # `*.x` and `x` are validated by the same record; creating it twice would conflict.
        unique = sorted({d.removeprefix("*.") for d in domains})
        fqdns = []
        for base in unique:
            option = certificate.domain_validation_options.apply(functools.partial(_option_for, base=base))
            record = aws.route53.Record(
                f"{name}-validation-{base.replace('.', '-')}",
                zone_id=self.zone_id,
                name=option.resource_record_name,
                type=option.resource_record_type,
                records=[option.resource_record_value],
                ttl=300,
                allow_overwrite=True,
                opts=resource_options("validation-record", self._args.protect, parent=self),
            )
            fqdns.append(record.fqdn)
        return aws.acm.CertificateValidation(
            f"{name}-validation",
            certificate_arn=certificate.arn,
            validation_record_fqdns=fqdns if zone_owned else None,
            region=self._endpoint.certificate_region,  # where the certificate is
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _domain(
        self, name: str, domain_name: str, certificate_arn: pulumi.Input[str], truststore: str | None = None
    ) -> aws.apigateway.DomainName:
        """A custom domain of the endpoint type mapped (empty base path) to the stage, created after the previous one.

        truststore: `s3://bucket/key` of a PEM bundle: clients must present a certificate it trusts (mutual
        TLS, on regional domains only), and the domain uses `TLS_1_2`, as AWS requires with mutual TLS:
        https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-mutual-tls.html
        """
        # Explicit in both cases: the provider does not see drift on an unset value, so turning dualStack
        # off must say "ipv4" (the default for public custom domains) to turn a domain back.
        # https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-custom-domain-ip-address-type.html
        endpoint = aws.apigateway.DomainNameEndpointConfigurationArgs(
            types=self._endpoint.type, ip_address_type="dualstack" if self._args.dual_stack else "ipv4"
        )
        # `regional_certificate_arn` or, for an edge domain, `certificate_arn` (whitelabel/endpoints.py).
        certificate: dict[str, pulumi.Input[str]] = {self._endpoint.certificate_arg: certificate_arn}
        policy = MTLS_TLS_POLICY if truststore is not None else self._args.tls_policy
        domain = aws.apigateway.DomainName(
            f"{name}-domain",
            domain_name=domain_name,
            endpoint_configuration=endpoint,
            # tlsPolicy (an enhanced one with STRICT: SNI must match Host); a mutual-TLS domain uses TLS_1_2, which
            # the config then requires tlsPolicy to be (whitelabel/config.py: MTLS_TLS_POLICY).
            security_policy=policy,
            endpoint_access_mode=endpoint_access_mode(policy),
            mutual_tls_authentication={"truststore_uri": truststore} if truststore is not None else None,
            opts=resource_options(
                "custom-domain",
                self._args.protect,
                parent=self,
                depends_on=[self._previous_domain] if self._previous_domain else None,
            ),
            **certificate,  # type: ignore[arg-type]
        )
        self._previous_domain = domain
        aws.apigateway.BasePathMapping(
            f"{name}-mapping",
            domain_name=domain.domain_name,
            rest_api=self._args.rest_api_id,
            stage_name=self._args.stage_name,
            opts=pulumi.ResourceOptions(parent=self),
        )
        return domain

    def _own_domain(self, name: str, customer: Customer, domain_name: str) -> pulumi.Output[dict[str, Any]]:
        """A domain the customer owns (`api.customer.com`), in two phases so `pulumi up` never waits on DNS
        we do not control.

        Phase 1 requests its certificate and hands the customer the validation record(s) and the name to
        point the domain at. Phase 2 (`customDomainValidated: true`, once the customer has published the
        records) waits for the certificate, then creates the custom domain, its mapping and our record.
        """
        certificate = aws.acm.Certificate(
            f"{name}-certificate",
            domain_name=domain_name,
            validation_method="DNS",
            region=self._endpoint.certificate_region,
            opts=resource_options("certificate", self._args.protect, parent=self),
        )
        point_at = f"{customer.subdomain}.{HANDOFF_LABEL}.{self._args.base_domain}"
        status = "awaiting-validation"
        target: pulumi.Input[str | None] = None
        if customer.custom_domain_validated:
            # No records of ours: the customer published them; this waits until ACM has issued.
            validation = aws.acm.CertificateValidation(
                f"{name}-validation",
                certificate_arn=certificate.arn,
                region=self._endpoint.certificate_region,
                opts=pulumi.ResourceOptions(parent=self),
            )
            # The customer's own domain is one more way in: it gets the same truststore as its subdomain.
            domain = self._domain(name, domain_name, validation.certificate_arn, customer.mtls_truststore)
            self._alias_records(name, point_at, domain)
            status = "validated"
            target = self._target(domain)
        records = certificate.domain_validation_options.apply(
            lambda options: [
                {"name": o.resource_record_name, "type": o.resource_record_type, "value": o.resource_record_value}
                for o in options
            ]
        )
        return pulumi.Output.all(records, target).apply(
            lambda values: {
                "domain": domain_name,
                "status": status,
                "validationRecords": values[0],
                "pointAt": point_at,
                "pointAtTarget": values[1],
            }
        )

    def _target(self, domain: aws.apigateway.DomainName) -> pulumi.Output[str]:
        """What a name is aliased to: the regional endpoint, or the edge domain's CloudFront distribution."""
        return getattr(domain, self._endpoint.alias_name_attr)

    def _alias_records(self, name: str, fqdn: str, domain: aws.apigateway.DomainName) -> None:
        """`fqdn` → the custom domain's endpoint (regional, or CloudFront for edge): A, and AAAA when dual-stack."""
        alias = [
            aws.route53.RecordAliasArgs(
                name=self._target(domain),
                zone_id=getattr(domain, self._endpoint.alias_zone_attr),
                evaluate_target_health=False,
            )
        ]
        for record_type in ("A", "AAAA") if self._args.dual_stack else ("A",):
            aws.route53.Record(
                f"{name}-{record_type.lower()}",
                zone_id=self.zone_id,
                name=fqdn,
                type=record_type,
                aliases=alias,
                opts=resource_options("customer-dns-record", self._args.protect, parent=self),
            )


def _option_for(
    options: Sequence[aws.acm.outputs.CertificateDomainValidationOption], base: str
) -> aws.acm.outputs.CertificateDomainValidationOption:
    """The validation option of `base` (ACM lists `*.x` and `x` separately, with one record)."""
    return next(o for o in options if (o.domain_name or "").removeprefix("*.") == base)
