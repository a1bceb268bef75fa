"""Customer subdomains on the one API: per-tenant alias records, dedicated and own custom domains.

The platform's part (the wildcard certificate and custom domain, `tenantDns: wildcard`'s record) is built by
`components/white_label_gateway.py` with the functions here; `TenantDomains` holds only what one tenant adds.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from whitelabel.cloudfront import SWITCHED_RECORD_TTL
from whitelabel.config import (
    DEFAULT_TLS_POLICY,
    HANDOFF_LABEL,
    MTLS_TLS_POLICY,
    REGIONAL_ENDPOINT,
    Customer,
    endpoint_access_mode,
)
from whitelabel.endpoints import Endpoint
from whitelabel.protection import resource_options

# (resource type token, logical name) → aliases of a resource that moved here from another component.
AliasesFor = Callable[[str, str], Sequence[pulumi.Alias | str]]


def _no_aliases(type_: str, name: str) -> Sequence[pulumi.Alias | str]:
    return ()


@dataclass(frozen=True)
class DomainSettings:
    """What every custom domain and record of a stack shares.

    zone_id: the public Route 53 zone holding the records (baseDomain or a parent of it).
    dual_stack: serve IPv6 too (AAAA alias records, dual-stack custom domains).
    tls_policy: the security policy of every custom domain, except mutual-TLS ones, which use `TLS_1_2` (the only
        policy AWS allows with mutual TLS).
    protect: protected production: certificates, custom domains, alias and validation records are protected.
    endpoint: REGIONAL or EDGE (config `endpointType`): which certificate argument and region, and which alias
        target, the custom domains use (`whitelabel.endpoints`).
    """

    zone_id: pulumi.Input[str]
    rest_api_id: pulumi.Input[str]
    stage_name: pulumi.Input[str]
    dual_stack: bool = False
    tls_policy: str = DEFAULT_TLS_POLICY
    protect: bool = False
    endpoint: Endpoint = REGIONAL_ENDPOINT


def alias_target(
    domain: aws.apigateway.DomainName, endpoint: Endpoint
) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
    """What a name is aliased to (name, hosted zone id): the regional endpoint, or the edge domain's CloudFront
    distribution (whitelabel/endpoints.py)."""
    return getattr(domain, endpoint.alias_name_attr), getattr(domain, endpoint.alias_zone_attr)


def zone_id_of(hosted_zone: str, parent: pulumi.Resource) -> pulumi.Output[str]:
    """The id of the public hosted zone named `hosted_zone`."""
    return aws.route53.get_zone_output(
        name=hosted_zone, private_zone=False, opts=pulumi.InvokeOutputOptions(parent=parent)
    ).zone_id


def wildcard_certificate(
    name: str,
    base_domain: str,
    settings: DomainSettings,
    parent: pulumi.Resource,
    aliases: AliasesFor = _no_aliases,
) -> aws.acm.CertificateValidation:
    """The `*.<base_domain>` certificate, DNS-validated through our zone; its validation's `certificate_arn`.

    One certificate covers the wildcard domain and every dedicated domain: `*.x` matches `acme.x` (one label
    only). It lives in the API's region for regional domains, in us-east-1 for edge ones (pulumi-aws 7's
    per-resource `region`; None keeps a regional stack's inputs as they were).
    """
    wildcard = f"*.{base_domain}"
    certificate = aws.acm.Certificate(
        f"{name}-certificate",
        domain_name=wildcard,
        validation_method="DNS",
        region=settings.endpoint.certificate_region,
        opts=resource_options(
            "certificate",
            settings.protect,
            parent=parent,
            aliases=list(aliases("aws:acm/certificate:Certificate", f"{name}-certificate")),
        ),
    )
    # `*.x` and `x` are validated by the same record; creating it twice would conflict.
    base = base_domain
    option = certificate.domain_validation_options.apply(functools.partial(_option_for, base=base))
    record_name = f"{name}-certificate-validation-{base.replace('.', '-')}"
    record = aws.route53.Record(
        record_name,
        zone_id=settings.zone_id,
        name=option.resource_record_name,
        type=option.resource_record_type,
        records=[option.resource_record_value],
        ttl=300,
        allow_overwrite=True,
        opts=resource_options(
            "validation-record",
            settings.protect,
            parent=parent,
            aliases=list(aliases("aws:route53/record:Record", record_name)),
        ),
    )
    return aws.acm.CertificateValidation(
        f"{name}-certificate-validation",
        certificate_arn=certificate.arn,
        validation_record_fqdns=[record.fqdn],
        region=settings.endpoint.certificate_region,  # where the certificate is
        opts=pulumi.ResourceOptions(
            parent=parent,
            aliases=list(
                aliases("aws:acm/certificateValidation:CertificateValidation", f"{name}-certificate-validation")
            ),
        ),
    )


def custom_domain(
    name: str,
    domain_name: str,
    certificate_arn: pulumi.Input[str],
    settings: DomainSettings,
    parent: pulumi.Resource,
    *,
    truststore: str | None = None,
    after: pulumi.Resource | None = None,
    aliases: AliasesFor = _no_aliases,
) -> aws.apigateway.DomainName:
    """A custom domain `<name>-domain` of the endpoint type mapped (empty base path) to the stage (`<name>-mapping`).

    truststore: `s3://bucket/key` of a PEM bundle: clients must present a certificate it trusts (mutual
    TLS, on regional domains only), and the domain uses `TLS_1_2`, as AWS requires with mutual TLS:
    https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-mutual-tls.html
    after: the domain created before this one (CreateDomainName: one call per 30 s per account).
    """
    # Explicit in both cases: the provider does not see drift on an unset value, so turning dualStack
    # off must say "ipv4" (the default for public custom domains) to turn a domain back.
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-custom-domain-ip-address-type.html
    endpoint = aws.apigateway.DomainNameEndpointConfigurationArgs(
        types=settings.endpoint.type, ip_address_type="dualstack" if settings.dual_stack else "ipv4"
    )
    # `regional_certificate_arn` or, for an edge domain, `certificate_arn` (whitelabel/endpoints.py).
    certificate: dict[str, pulumi.Input[str]] = {settings.endpoint.certificate_arg: certificate_arn}
    policy = MTLS_TLS_POLICY if truststore is not None else settings.tls_policy
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
            settings.protect,
            parent=parent,
            depends_on=[after] if after is not None else None,
            aliases=list(aliases("aws:apigateway/domainName:DomainName", f"{name}-domain")),
        ),
        **certificate,  # type: ignore[arg-type]
    )
    aws.apigateway.BasePathMapping(
        f"{name}-mapping",
        domain_name=domain.domain_name,
        rest_api=settings.rest_api_id,
        stage_name=settings.stage_name,
        opts=pulumi.ResourceOptions(
            parent=parent, aliases=list(aliases("aws:apigateway/basePathMapping:BasePathMapping", f"{name}-mapping"))
        ),
    )
    return domain


def alias_records(
    name: str,
    fqdn: str,
    target_name: pulumi.Input[str],
    target_zone_id: pulumi.Input[str],
    settings: DomainSettings,
    parent: pulumi.Resource,
    aliases: AliasesFor = _no_aliases,
    record_types: tuple[str, ...] | None = None,
) -> None:
    """`fqdn` → a custom domain's endpoint (regional, or CloudFront for edge): A, and AAAA when dual-stack
    (`<name>-a`, `<name>-aaaa`); `record_types` names them instead (a moving customer's record keeps only its A)."""
    alias = [aws.route53.RecordAliasArgs(name=target_name, zone_id=target_zone_id, evaluate_target_health=False)]
    if record_types is None:
        record_types = ("A", "AAAA") if settings.dual_stack else ("A",)
    for record_type in record_types:
        record_name = f"{name}-{record_type.lower()}"
        aws.route53.Record(
            record_name,
            zone_id=settings.zone_id,
            name=fqdn,
            type=record_type,
            aliases=alias,
            opts=resource_options(
                "customer-dns-record",
                settings.protect,
                parent=parent,
                aliases=list(aliases("aws:route53/record:Record", record_name)),
            ),
        )


def validation_records(certificate: aws.acm.Certificate) -> pulumi.Output[list[dict[str, Any]]]:
    """The DNS records ACM names to validate `certificate`, as the customer is told them: name, type, value."""
    return certificate.domain_validation_options.apply(
        lambda options: [
            {"name": o.resource_record_name, "type": o.resource_record_type, "value": o.resource_record_value}
            for o in options or []
        ]
    )


@dataclass(frozen=True)
class TenantDomainsArgs:
    """Inputs of the tenant domains.

    customers: the validated tenants (`whitelabel.config.Customer`), in any order.
    certificate_arn: the platform's validated `*.<baseDomain>` certificate; dedicated domains use it.
    wildcard_target_name, wildcard_target_zone_id: the platform's wildcard custom domain's endpoint (regional,
        or its CloudFront distribution for edge), the alias target of shared tenants' records.
    tenant_dns: `perCustomer` (one alias record per shared customer; unknown names do not resolve) or
        `wildcard` (the platform's one `*.<baseDomain>` record serves them; onboarding makes no Route 53 change).
    own_domain_routing_endpoint: the platform's connection group's routing endpoint: what the `cname` record of a
        customer moved to CloudFront names (`customDomainMove: switch | done`).
    """

    base_domain: str
    customers: Sequence[Customer]
    domains: DomainSettings
    wildcard_target_name: pulumi.Input[str]
    wildcard_target_zone_id: pulumi.Input[str]
    certificate_arn: pulumi.Input[str] | None = None
    tenant_dns: str = "perCustomer"
    own_domain_routing_endpoint: pulumi.Input[str] | None = None


class TenantDomains(pulumi.ComponentResource):
    """Every customer's `<subdomain>.<baseDomain>` routed to the API's stage.

    Shared customers cost one alias record (two when dual-stack) on the platform's wildcard custom domain;
    dedicated customers get their own custom domain and mapping. With `tenantDns: perCustomer` no
    wildcard DNS record exists, so a subdomain that is not a customer does not resolve; with `wildcard`
    the platform's one `*.<baseDomain>` record replaces every shared customer's record, unknown names resolve
    and the tenant authorizer refuses them. Dedicated customers keep their own records in both modes: a name
    that exists in the zone is answered from its own records, not from the wildcard.
    """

    def __init__(self, name: str, args: TenantDomainsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("whitelabel:tenant_domains:TenantDomains", name, None, opts)
        self._args = args
        # CreateDomainName is limited to one call per 30 s per account, and the limit cannot be raised:
        # every custom domain this stack adds waits for the one before it, so one `pulumi up` with many
        # new domains makes its calls one after another instead of failing on throttling.
        self._previous_domain: pulumi.Resource | None = None
        # The first one waits for the platform's wildcard domain too: the certificate ARN handed on with the
        # wildcard domain's endpoint as a dependency (same value, one more edge).
        self._certificate_arn: pulumi.Output[str] | None = (
            pulumi.Output.all(args.certificate_arn, args.wildcard_target_name).apply(lambda v: str(v[0]))
            if args.certificate_arn is not None
            else None
        )

        endpoints: dict[str, str] = {}
        dedicated_targets: dict[str, pulumi.Output[str]] = {}
        handoff: dict[str, pulumi.Output[dict[str, Any]]] = {}
        # Sorted by name, never by list position: reordering `customers` changes nothing.
        for customer in sorted(args.customers, key=lambda c: c.name):
            fqdn = f"{customer.subdomain}.{args.base_domain}"
            endpoints[customer.name] = f"https://{fqdn}"
            prefix = f"{name}-{customer.name}"
            if customer.dedicated_domain:
                if self._certificate_arn is None:
                    raise ValueError(f"{prefix}: a dedicated domain needs the platform's certificate_arn")
                domain = self._domain(prefix, fqdn, self._certificate_arn, customer.mtls_truststore)
                target, zone = alias_target(domain, args.domains.endpoint)
                dedicated_targets[customer.name] = target
                self._records(prefix, fqdn, target, zone)
            elif args.tenant_dns != "wildcard":
                self._records(prefix, fqdn, args.wildcard_target_name, args.wildcard_target_zone_id)
            if customer.custom_domain is not None:
                handoff[customer.name] = self._own_domain(f"{prefix}-own", customer, customer.custom_domain)

        self.endpoints = endpoints
        self.dedicated_domain_targets = dedicated_targets
        self.custom_domain_handoff = handoff
        self.register_outputs({"endpoints": self.endpoints})

    def _domain(
        self, name: str, domain_name: str, certificate_arn: pulumi.Input[str], truststore: str | None = None
    ) -> aws.apigateway.DomainName:
        """A custom domain mapped to the stage, created after the previous one."""
        domain = custom_domain(
            name,
            domain_name,
            certificate_arn,
            self._args.domains,
            self,
            truststore=truststore,
            after=self._previous_domain,
        )
        self._previous_domain = domain
        return domain

    def _records(self, name: str, fqdn: str, target: pulumi.Input[str], zone: pulumi.Input[str]) -> None:
        alias_records(name, fqdn, target, zone, self._args.domains, self)

    def _cname_record(
        self, name: str, fqdn: str, alias_to: tuple[pulumi.Input[str], pulumi.Input[str]] | None = None
    ) -> None:
        """Our `<subdomain>.cname.<baseDomain>` record (`<name>-a`, the URN it has had since phase 2) while the
        customer moves: the A alias to its API Gateway domain (`alias_to`: its name and zone), or without one a CNAME to
        the routing endpoint.

        The switch is one update of this one resource: the record's type is not a replacing property in
        terraform-provider-aws, which then deletes the old record and creates the new one "within a transactional
        change" (internal/service/route53/record.go), one ChangeResourceRecordSets batch, all or nothing: no moment
        without an answer. Route 53 allows no CNAME beside other records of its name, so a dual-stack stack's AAAA
        alias goes already at `prepare` (IPv6 viewers use the A answer until the switch, then CloudFront's AAAA). A
        CNAME, not an alias to CloudFront: an alias to a distribution needs the record's name among its domains.
        """
        settings = self._args.domains
        if alias_to is not None:
            target, zone = alias_to
            alias_records(name, fqdn, target, zone, settings, self, record_types=("A",))
            return
        if self._args.own_domain_routing_endpoint is None:
            raise ValueError(f"{name}: a customer moved to CloudFront needs the platform's routing endpoint")
        aws.route53.Record(
            f"{name}-a",
            zone_id=settings.zone_id,
            name=fqdn,
            type="CNAME",
            records=[self._args.own_domain_routing_endpoint],
            ttl=SWITCHED_RECORD_TTL,
            opts=resource_options("customer-dns-record", settings.protect, parent=self),
        )

    def _own_domain(self, name: str, customer: Customer, domain_name: str) -> pulumi.Output[dict[str, Any]]:
        """A domain the customer owns (`api.customer.com`), in two phases so `pulumi up` never waits on DNS
        we do not control.

        Phase 1 requests its certificate and hands the customer the validation record(s) and the name to
        point the domain at. Phase 2 (`customDomainValidated: true`, once the customer has published the
        records) waits for the certificate, then creates the custom domain, its mapping and our record.

        Moving to CloudFront (`customDomainMove`, docs "Moving a customer from an API Gateway domain to CloudFront";
        the distribution tenant is `components/own_domains.py`'s): `prepare` keeps all of it (dual-stack: without
        the AAAA record, see `_cname_record`), `switch` turns our record into a CNAME to the connection group, `done`
        keeps only that record.
        """
        point_at = f"{customer.subdomain}.{HANDOFF_LABEL}.{self._args.base_domain}"
        move = customer.custom_domain_move
        if move == "done":
            # The API Gateway custom domain, its mapping, certificate and validation go; our record stays, as switched.
            self._cname_record(name, point_at)
            return pulumi.Output.from_input(
                {"domain": domain_name, "status": "moved", "validationRecords": [], "pointAt": point_at}
            )
        certificate = aws.acm.Certificate(
            f"{name}-certificate",
            domain_name=domain_name,
            validation_method="DNS",
            region=self._args.domains.endpoint.certificate_region,
            opts=resource_options("certificate", self._args.domains.protect, parent=self),
        )
        status = "awaiting-validation"
        target: pulumi.Input[str | None] = None
        if customer.custom_domain_validated:
            # No records of ours: the customer published them; this waits until ACM has issued.
            validation = aws.acm.CertificateValidation(
                f"{name}-validation",
                certificate_arn=certificate.arn,
                region=self._args.domains.endpoint.certificate_region,
                opts=pulumi.ResourceOptions(parent=self),
            )
            # The customer's own domain is one more way in: it gets the same truststore as its subdomain.
            domain = self._domain(name, domain_name, validation.certificate_arn, customer.mtls_truststore)
            target, zone = alias_target(domain, self._args.domains.endpoint)
            if move == "switch":
                self._cname_record(name, point_at)
            elif move == "prepare":
                self._cname_record(name, point_at, (target, zone))
            else:
                self._records(name, point_at, target, zone)
            status = "validated"
        records = validation_records(certificate)
        return pulumi.Output.all(records, target).apply(
            lambda values: {
                "domain": domain_name,
                "status": status,
                "validationRecords": values[0],
                "pointAt": point_at,
                "pointAtTarget": values[1],
            }
        )


def _option_for(
    options: Sequence[aws.acm.outputs.CertificateDomainValidationOption], base: str
) -> aws.acm.outputs.CertificateDomainValidationOption:
    """The validation option of `base` (ACM lists `*.x` and `x` separately, with one record)."""
    return next(o for o in options if (o.domain_name or "").removeprefix("*.") == base)
