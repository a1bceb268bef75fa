"""Customer subdomains on the one API: certificate, custom domains, base path mappings, DNS."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from whitelabel.config import Customer, Settings

# TLS 1.2 or stronger on every custom domain.
SECURITY_POLICY = "TLS_1_2"


@dataclass(frozen=True)
class TenantDomainsArgs:
    """Inputs of the tenant domains.

    hosted_zone: the public Route 53 zone that holds the records (baseDomain or a parent of it).
    dual_stack: serve IPv6 too (AAAA alias records, dual-stack custom domains).
    """

    base_domain: str
    hosted_zone: str
    customers: Sequence[Customer]
    rest_api_id: pulumi.Input[str]
    stage_name: pulumi.Input[str]
    dual_stack: bool = False

    @classmethod
    def from_settings(cls, settings: Settings, gateway: Any) -> TenantDomainsArgs:
        return cls(
            base_domain=settings.base_domain,
            hosted_zone=settings.hosted_zone,
            customers=tuple(settings.customers),
            rest_api_id=gateway.rest_api_id,
            stage_name=gateway.stage_name,
            dual_stack=settings.dual_stack,
        )


class TenantDomains(pulumi.ComponentResource):
    """Every customer's `<subdomain>.<baseDomain>` routed to the API's stage.

    Shared customers cost one alias record (two when dual-stack) on the wildcard custom domain;
    dedicated customers get their own custom domain and mapping. No wildcard DNS record exists, so a
    subdomain that is not a customer does not resolve.
    """

    def __init__(self, name: str, args: TenantDomainsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("whitelabel:tenant_domains:TenantDomains", name, None, opts)
        self._name = name
        self._args = args
        self.zone_id = aws.route53.get_zone_output(
            name=args.hosted_zone, private_zone=False, opts=pulumi.InvokeOutputOptions(parent=self)
        ).zone_id
        wildcard = f"*.{args.base_domain}"

        # One certificate covers the wildcard domain and every dedicated domain: `*.x` matches
        # `acme.x` (one label only). It lives in the API's region: regional domains need that.
        self.certificate = aws.acm.Certificate(
            f"{name}-certificate",
            domain_name=wildcard,
            validation_method="DNS",
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.validation = self._validate(f"{name}-certificate", self.certificate, [wildcard], zone_owned=True)
        self.certificate_arn = self.validation.certificate_arn

        self.wildcard_domain = self._domain(f"{name}-wildcard", wildcard, self.certificate_arn)
        self.wildcard_domain_name = self.wildcard_domain.domain_name
        self.wildcard_domain_target = self.wildcard_domain.regional_domain_name

        endpoints: dict[str, str] = {}
        dedicated_targets: dict[str, pulumi.Output[str]] = {}
        previous: pulumi.Resource | None = None
        # Sorted by name, never by list position: reordering `customers` changes nothing.
        for customer in sorted(args.customers, key=lambda c: c.name):
            fqdn = f"{customer.subdomain}.{args.base_domain}"
            endpoints[customer.name] = f"https://{fqdn}"
            if customer.dedicated_domain:
                # CreateDomainName is limited to one call per 30 s per account (not raisable): the
                # dedicated domains are created one after another, never all at once.
                domain = self._domain(f"{name}-{customer.name}", fqdn, self.certificate_arn, after=previous)
                previous = domain
                dedicated_targets[customer.name] = domain.regional_domain_name
                self._alias_records(f"{name}-{customer.name}", fqdn, domain)
            else:
                self._alias_records(f"{name}-{customer.name}", fqdn, self.wildcard_domain)

        self.endpoints = endpoints
        self.dedicated_domain_targets = dedicated_targets
        self.custom_domain_handoff: dict[str, Any] = {}
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
                opts=pulumi.ResourceOptions(parent=self),
            )
            fqdns.append(record.fqdn)
        return aws.acm.CertificateValidation(
            f"{name}-validation",
            certificate_arn=certificate.arn,
            validation_record_fqdns=fqdns if zone_owned else None,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _domain(
        self, name: str, domain_name: str, certificate_arn: pulumi.Input[str], *, after: pulumi.Resource | None = None
    ) -> aws.apigateway.DomainName:
        """A regional custom domain mapped (empty base path) to the stage."""
        endpoint = aws.apigateway.DomainNameEndpointConfigurationArgs(
            types="REGIONAL", ip_address_type="dualstack" if self._args.dual_stack else None
        )
        domain = aws.apigateway.DomainName(
            f"{name}-domain",
            domain_name=domain_name,
            regional_certificate_arn=certificate_arn,
            endpoint_configuration=endpoint,
            security_policy=SECURITY_POLICY,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[after] if after else None),
        )
        aws.apigateway.BasePathMapping(
            f"{name}-mapping",
            domain_name=domain.domain_name,
            rest_api=self._args.rest_api_id,
            stage_name=self._args.stage_name,
            opts=pulumi.ResourceOptions(parent=self),
        )
        return domain

    def _alias_records(self, name: str, fqdn: str, domain: aws.apigateway.DomainName) -> None:
        """`fqdn` → the custom domain's regional endpoint: A, and AAAA when dual-stack."""
        alias = [
            aws.route53.RecordAliasArgs(
                name=domain.regional_domain_name,
                zone_id=domain.regional_zone_id,
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
                opts=pulumi.ResourceOptions(parent=self),
            )


def _option_for(
    options: Sequence[aws.acm.outputs.CertificateDomainValidationOption], base: str
) -> aws.acm.outputs.CertificateDomainValidationOption:
    """The validation option of `base` (ACM lists `*.x` and `x` separately, with one record)."""
    return next(o for o in options if (o.domain_name or "").removeprefix("*.") == base)
