"""Customers' own domains through CloudFront SaaS Manager (docs "Own domains: two edges").

`OwnDomainEdge` is the platform's part, made once: a multi-tenant distribution whose origin is each tenant's
subdomain of the regional wildcard domain (`{{tenant}}.<baseDomain>`), a connection group (the customers' CNAME
target), the viewer-request function that sets `X-Forwarded-Host`, and with the WAF on a CLOUDFRONT-scope web ACL.
`OwnDomainTenants` is a TenantSet's part: one distribution tenant per own domain, nothing else, so onboarding an own
domain is one `pulumi up` that creates one resource (in a shard too, against the platform's exported ids).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.tenant_domains import validation_records
from components.waf import log_delivery_policy, web_acl_rules
from whitelabel.cloudfront import (
    ALL_VIEWER_EXCEPT_HOST_POLICY_ID,
    ALLOWED_METHODS,
    CACHED_METHODS,
    CACHING_DISABLED_POLICY_ID,
    MOVED_CERTIFICATE_REGION,
    ORIGIN_ID,
    TENANT_PARAMETER,
    VALIDATION_TOKEN_HOST,
    forwarded_host_function,
    origin_domain,
)
from whitelabel.config import HANDOFF_LABEL, Customer
from whitelabel.protection import resource_options
from whitelabel.waf import RATE_LIMITED_BODY, RATE_LIMITED_BODY_KEY

# "AWS WAF is available globally for CloudFront distributions, but you must use the Region US East (N. Virginia) to
# create your web ACL and any resources used in the web ACL" ("Resources that you can protect with AWS WAF",
# https://docs.aws.amazon.com/waf/latest/developerguide/how-aws-waf-works-resources.html); its logs go there too.
# Set through pulumi-aws 7's per-resource `region`, no second provider.
GLOBAL_REGION = "us-east-1"


@dataclass(frozen=True)
class OwnDomainEdgeArgs:
    """Inputs of the platform's CloudFront edge.

    resource_prefix: names the distribution's comment, the connection group, the function and the web ACL.
    base_domain: the regional wildcard domain's base: the origin is `{{tenant}}.<base_domain>`.
    dual_stack: IPv6 on the connection group (what customers' CNAMEs resolve to).
    waf: the web ACL's limits, (block, per_ip_limit, per_host_limit), or None with the WAF off.
    log_retention_days: the edge web ACL's log group (`aws-waf-logs-<prefix>-edge`, us-east-1).
    protect: protected production: the distribution and connection group protected, the log group retained.
    """

    resource_prefix: str
    base_domain: str
    dual_stack: bool = False
    waf: tuple[bool, int, int] | None = None
    log_retention_days: int = 14
    protect: bool = False


class OwnDomainEdge(pulumi.ComponentResource):
    """The multi-tenant distribution, its connection group, viewer-request function and (WAF on) web ACL."""

    def __init__(self, name: str, args: OwnDomainEdgeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("whitelabel:own_domains:OwnDomainEdge", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # Origin custom headers are static text; a function is the documented way to put a per-request value (the
        # viewer's Host) into the origin request. It runs on viewer request, so the origin request policy's "all
        # viewer headers" carries its header to the origin.
        function = aws.cloudfront.Function(
            f"{name}-forwarded-host",
            # At most 61 characters: the prefix is at most 46 (whitelabel/names.py), a function name 64.
            name=f"{args.resource_prefix}-forwarded-host",
            runtime="cloudfront-js-2.0",
            comment="X-Forwarded-Host = the viewer's Host (a client's value is replaced)",
            code=forwarded_host_function(),
            publish=True,
            opts=child,
        )
        self.web_acl: aws.wafv2.WebAcl | None = None
        if args.waf is not None:
            block, per_ip, per_host = args.waf
            metric = f"{args.resource_prefix}-edge"
            # The regional web ACL's reasoning at the edge: per-IP and per-Host (the viewer's own domain here: one
            # counter per tenant) rate rules within the same managed groups, counted before CloudFront reaches the
            # regional one.
            self.web_acl = aws.wafv2.WebAcl(
                f"{name}-web-acl",
                name=metric,
                description="White-label gateway own domains (CloudFront): managed groups, per-tenant and per-IP rates",
                scope="CLOUDFRONT",
                region=GLOBAL_REGION,
                default_action={"allow": {}},
                rules=web_acl_rules(block, per_ip, per_host, metric),
                custom_response_bodies=[
                    {"key": RATE_LIMITED_BODY_KEY, "content": RATE_LIMITED_BODY, "content_type": "APPLICATION_JSON"}
                ],
                visibility_config={
                    "cloudwatch_metrics_enabled": True,
                    "metric_name": metric,
                    "sampled_requests_enabled": True,
                },
                opts=child,
            )
            self._waf_logging(name, metric, args)
        self.connection_group = aws.cloudfront.ConnectionGroup(
            f"{name}-connection-group",
            name=f"{args.resource_prefix}-own-domains",
            enabled=True,
            ipv6_enabled=args.dual_stack,
            opts=resource_options("own-domain-edge", args.protect, parent=self),
        )
        self.distribution = aws.cloudfront.MultitenantDistribution(
            f"{name}-distribution",
            comment=f"{args.resource_prefix}: customers' own domains in front of *.{args.base_domain}",
            enabled=True,
            http_version="http2and3",
            origins=[
                {
                    "id": ORIGIN_ID,
                    "domain_name": origin_domain(args.base_domain),
                    "custom_origin_configs": [
                        {
                            "http_port": 80,
                            "https_port": 443,
                            "origin_protocol_policy": "https-only",
                            "origin_ssl_protocols": ["TLSv1.2"],
                        }
                    ],
                }
            ],
            default_cache_behavior={
                "target_origin_id": ORIGIN_ID,
                "viewer_protocol_policy": "https-only",
                "allowed_methods": {"items": list(ALLOWED_METHODS), "cached_methods": list(CACHED_METHODS)},
                # An API's answers are per tenant and per user: nothing is cached at the edge.
                "cache_policy_id": CACHING_DISABLED_POLICY_ID,
                # Host would name the viewer's domain, which API Gateway does not serve (403): the origin's own
                # name goes as Host instead, and the viewer's domain in X-Forwarded-Host.
                "origin_request_policy_id": ALL_VIEWER_EXCEPT_HOST_POLICY_ID,
                "compress": False,
                "function_associations": [{"event_type": "viewer-request", "function_arn": function.arn}],
            },
            tenant_config={
                "parameter_definitions": [
                    {
                        "name": TENANT_PARAMETER,
                        "definitions": [
                            {
                                "string_schemas": [
                                    {"required": True, "comment": "the customer's subdomain label (the origin)"}
                                ]
                            }
                        ],
                    }
                ]
            },
            # Each tenant brings its own (managed) certificate; the distribution itself serves no name.
            viewer_certificate={"cloudfront_default_certificate": True},
            restrictions={"geo_restriction": {"restriction_type": "none"}},
            web_acl_id=self.web_acl.arn if self.web_acl is not None else None,
            opts=resource_options("own-domain-edge", args.protect, parent=self),
        )
        self.function = function
        self.distribution_id = self.distribution.id
        self.connection_group_id = self.connection_group.id
        self.routing_endpoint = self.connection_group.routing_endpoint
        self.register_outputs(
            {
                "distributionId": self.distribution_id,
                "connectionGroupId": self.connection_group_id,
                "routingEndpoint": self.routing_endpoint,
            }
        )

    def _waf_logging(self, name: str, metric: str, args: OwnDomainEdgeArgs) -> None:
        """The edge web ACL's logs, as the regional one's (components/waf.py), in us-east-1 with the web ACL: WAF
        delivers only to log groups named `aws-waf-logs-*`, through a resource policy naming only this group."""
        assert self.web_acl is not None
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-waf-logs",
            name=f"aws-waf-logs-{metric}",
            retention_in_days=args.log_retention_days,
            region=GLOBAL_REGION,
            opts=resource_options("log-group", args.protect, parent=self),
        )
        policy = aws.cloudwatch.LogResourcePolicy(
            f"{name}-waf-log-policy",
            policy_name=f"aws-waf-logs-{metric}",
            policy_document=log_group.arn.apply(log_delivery_policy),
            region=GLOBAL_REGION,
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.wafv2.WebAclLoggingConfiguration(
            f"{name}-waf-logging",
            resource_arn=self.web_acl.arn,
            log_destination_configs=[log_group.arn],
            redacted_fields=[{"single_header": {"name": "authorization"}}, {"single_header": {"name": "cookie"}}],
            region=GLOBAL_REGION,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )


@dataclass(frozen=True)
class OwnDomainTenantsArgs:
    """Inputs of a TenantSet's distribution tenants.

    customers: the customers whose own domain goes through CloudFront (`whitelabel.cloudfront.cloudfront_customers`).
    name_prefix: the platform's: each tenant's AWS name is `<name_prefix>-<customer>` (unique per account).
    distribution_id, connection_group_id, routing_endpoint: the platform's `OwnDomainEdge` (or its export).
    base_domain: the platform's: a customer moved from API Gateway (`customDomainMove`) keeps pointing its domain at
        `<subdomain>.cname.<base_domain>`, the record we switch.
    """

    customers: Sequence[Customer]
    name_prefix: str
    distribution_id: pulumi.Input[str]
    connection_group_id: pulumi.Input[str]
    routing_endpoint: pulumi.Input[str]
    protect: bool = False
    base_domain: str = ""


class OwnDomainTenants(pulumi.ComponentResource):
    """One distribution tenant per own domain: its domain, its `tenant` parameter, a CloudFront-managed certificate
    (or, for a customer moved from API Gateway, a DNS-validated ACM certificate)."""

    def __init__(self, name: str, args: OwnDomainTenantsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("whitelabel:own_domains:OwnDomainTenants", name, None, opts)
        made: list[tuple[str, tuple[str, ...], aws.cloudfront.DistributionTenant]] = []
        moving: dict[str, pulumi.Output[dict[str, Any]]] = {}  # customers moving from API Gateway: a few at a time
        for customer in args.customers:
            domain = customer.custom_domain
            assert domain is not None  # cloudfront_customers holds own-domain customers only
            # `customDomain` first (the certificate's primary name), then `customDomains`: up to 100 per tenant.
            domains = (domain, *customer.more_domains)
            moved = (
                _MovedCertificate(f"{name}-{customer.name}", domain, args.protect, self)
                if customer.custom_domain_move
                else None
            )
            certificate: dict[str, Any] = (
                moved.tenant_inputs()
                if moved is not None
                else {
                    "managed_certificate_request": {
                        "primary_domain_name": domain,
                        "validation_token_host": VALIDATION_TOKEN_HOST,
                        "certificate_transparency_logging_preference": "enabled",
                    },
                    # terraform-provider-aws (which pulumi-aws bridges) waits for the managed certificate only when
                    # wait_for_deployment is true: that wait crashes (#46790) and, when issuance fails, loses the
                    # created tenant from state so the next `up` creates it again and fails (#48353). Without it the
                    # create returns once CloudFront accepted the tenant; the certificate's state is read afterwards
                    # (customDomainHandoff, `make smoke`).
                    "wait_for_deployment": False,
                }
            )
            tenant = aws.cloudfront.DistributionTenant(
                # `<component>-<customer>-<role>`, as every tenant's resource: `make preview` files it under the tenant.
                f"{name}-{customer.name}-tenant",
                name=f"{args.name_prefix}-{customer.name}",
                distribution_id=args.distribution_id,
                connection_group_id=args.connection_group_id,
                domains=[{"domain": d} for d in domains],
                parameters=[{"name": TENANT_PARAMETER, "value": customer.subdomain}],
                enabled=True,
                opts=resource_options(
                    "distribution-tenant",
                    args.protect,
                    parent=self,
                    # CloudFront attaches the issued certificate as `customizations.certificate` by itself (#45987:
                    # the provider then reports a value the program never set); without ignoring it every later
                    # `up` would try to remove the customer's certificate.
                    # A moved tenant's certificate is set at its create and never changes (its name is the domain).
                    ignore_changes=["customizations"],
                ),
                **certificate,
            )
            if moved is not None:
                point_at = f"{customer.subdomain}.{HANDOFF_LABEL}.{args.base_domain}"
                moving[customer.name] = pulumi.Output.all(tenant.id, tenant.status, moved.validation_records()).apply(
                    functools.partial(_moved_handoff, domain, point_at, str(customer.custom_domain_move))
                )
                continue
            made.append((customer.name, domains, tenant))
        self.custom_domain_handoff = _with_moving(_handoffs(args.routing_endpoint, made), moving)
        self.register_outputs({})


def _handoffs(
    routing_endpoint: pulumi.Input[str], made: list[tuple[str, tuple[str, ...], aws.cloudfront.DistributionTenant]]
) -> pulumi.Output[dict[str, dict[str, Any]]]:
    """Customer name → `_handoff`, in the order of `made`, as one Output: one apply over every tenant's id and status.
    A dict of per-tenant Outputs of dicts would be lifted leaf by leaf where it is merged and exported
    (`Output.from_input`): dozens of Outputs per tenant at a shard's 1,000."""
    states = [value for _, _, tenant in made for value in (tenant.id, tenant.status)]

    def handoffs(values: list[Any]) -> dict[str, dict[str, Any]]:
        point_at = values[0]
        return {
            name: _handoff(domains, [point_at, values[1 + 2 * index], values[2 + 2 * index]])
            for index, (name, domains, _) in enumerate(made)
        }

    return pulumi.Output.all(routing_endpoint, *states).apply(handoffs)


def _with_moving(
    handoffs: pulumi.Output[dict[str, dict[str, Any]]], moving: dict[str, pulumi.Output[dict[str, Any]]]
) -> pulumi.Output[dict[str, dict[str, Any]]]:
    """`_handoffs` with the moving customers' `_moved_handoff`s added, still one Output."""
    if not moving:
        return handoffs
    names = list(moving)
    return pulumi.Output.all(handoffs, *moving.values()).apply(
        lambda values: {**values[0], **dict(zip(names, values[1:], strict=True))}
    )


def _handoff(domains: tuple[str, ...], values: list[Any]) -> dict[str, Any]:
    """What the customer of `domains` is told: the CNAME to set for each, and how its certificate stands.

    values: the connection group's routing endpoint, the distribution tenant's id and status.
    """
    point_at, tenant_id, status = values
    domain = domains[0]
    return {
        "domain": domain,
        "domains": list(domains),
        "edge": "cloudFront",
        "pointAt": point_at,
        "recordType": "CNAME",
        "distributionTenantId": tenant_id,
        "tenantStatus": status,
        "certificate": {
            # CloudFront serves the HTTP validation token itself once the name resolves to it, and renews the same way.
            "validation": f"HTTP, served by CloudFront once {', '.join(domains)} resolve to {point_at}",
            # Not in the tenant's own state: only GetManagedCertificateDetails answers it.
            "state": (
                f"aws cloudfront get-managed-certificate-details --identifier {tenant_id}"
                " (pending-validation, issued, validation-timed-out, failed, ...)"
            ),
        },
    }


class _MovedCertificate:
    """A moved customer's certificate for its tenant (docs "Moving a customer from an API Gateway domain to
    CloudFront"): DNS-validated, in us-east-1, for `customDomain`, issued before the tenant exists.

    The customer published ACM's validation record for its API Gateway certificate; ACM's record is "created
    specifically for your domain and your account", and "Without the need to repeat validation, you can request
    additional ACM certificates for your fully qualified domain name (FQDN) for as long as the CNAME record remains in
    place ... Since the CNAME validation token works for any AWS Region, you can re-create the same certificate in
    multiple Regions" (AWS Certificate Manager DNS validation,
    https://docs.aws.amazon.com/acm/latest/userguide/dns-validation.html): this one is issued on that record, while
    the domain still points at API Gateway, and renews on it. A managed certificate could not be: CloudFront
    validates it over HTTP once the domain points at CloudFront, or from the current host (`self-hosted`), which an
    API Gateway custom domain (HTTPS only) cannot serve.
    """

    def __init__(self, name: str, domain: str, protect: bool, parent: pulumi.Resource) -> None:
        self.certificate = aws.acm.Certificate(
            f"{name}-certificate",
            domain_name=domain,
            validation_method="DNS",
            region=MOVED_CERTIFICATE_REGION,
            opts=resource_options("certificate", protect, parent=parent),
        )
        # No record of ours: the customer's validation record is already published. This waits until ACM has issued,
        # so the tenant below is created with an issued certificate.
        self.validation = aws.acm.CertificateValidation(
            f"{name}-certificate-validation",
            certificate_arn=self.certificate.arn,
            region=MOVED_CERTIFICATE_REGION,
            opts=pulumi.ResourceOptions(parent=parent),
        )

    def validation_records(self) -> pulumi.Output[list[dict[str, Any]]]:
        """The validation records ACM names for the certificate: those the customer published already."""
        return validation_records(self.certificate)

    def tenant_inputs(self) -> dict[str, Any]:
        """The tenant's certificate arguments: the issued certificate as its customization, no managed request.

        "The certificate verifies whether you're authorized to use the domain name" (Request certificates for your
        CloudFront distribution tenant, https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/managed-cloudfront-certificates.html):
        the tenant serves the domain with it at once, wherever the domain's DNS points.
        """
        return {
            "customizations": {"certificate": {"arn": self.validation.certificate_arn}},
            # The provider waits for the tenant to be deployed, and for a certificate only with a managed request
            # (internal/service/cloudfront/distribution_tenant.go): `prepare`'s `pulumi up` returns once the tenant
            # serves the domain everywhere, so `switch` can follow at once.
            "wait_for_deployment": True,
        }


def _moved_handoff(domain: str, point_at: str, step: str, values: list[Any]) -> dict[str, Any]:
    """What a customer moving from API Gateway is told: nothing to change; the record its domain names is ours.

    values: the distribution tenant's id and status, the us-east-1 certificate's validation records.
    """
    tenant_id, status, records = values
    served = {"prepare": "apiGateway", "switch": "apiGateway and cloudFront (until DNS caches expire)"}
    return {
        "domain": domain,
        "domains": [domain],
        "edge": "cloudFront",
        "move": step,
        "servedBy": served.get(step, "cloudFront"),
        # The customer's CNAME stays as it is: we switch the record it names.
        "pointAt": point_at,
        "recordType": "CNAME",
        "distributionTenantId": tenant_id,
        "tenantStatus": status,
        "validationRecords": records,
        "certificate": {
            "validation": f"DNS, on the record the customer published for {domain} (the same for every certificate"
            " of this name in the account)",
            "region": MOVED_CERTIFICATE_REGION,
        },
    }
