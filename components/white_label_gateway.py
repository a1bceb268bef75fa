"""`WhiteLabelGateway`: the platform (REST API, stage, VPC link, tenant registry and authorizer, usage plans,
wildcard certificate and domain, WAF, operations) in front of the caller's backends, and its own tenants."""

# No `from __future__ import annotations`: Pulumi's schema analyzer reads `__init__`'s and the class's annotations
# as objects (inspect.get_annotations, not evaluated); as strings it fails and the plugin cannot start.

from collections.abc import Callable, Sequence
from typing import Any, Optional, cast

import pulumi

from components.args import BackendArgs, EndpointType, TenantDns, TenantSetArgs, WhiteLabelGatewayArgs
from components.gateway import BackendTarget, Gateway, GatewayArgs
from components.operations import Operations, OperationsArgs
from components.own_domains import OwnDomainEdge, OwnDomainEdgeArgs
from components.tenant_authorizer import TenantAuthorizer, TenantAuthorizerArgs
from components.tenant_domains import (
    DomainSettings,
    alias_records,
    alias_target,
    custom_domain,
    wildcard_certificate,
    zone_id_of,
)
from components.tenant_keys import usage_plans
from components.tenant_registry import TenantRegistry, TenantRegistryArgs
from components.tenant_set import TenantSet, legacy_alias, refuse
from components.waf import Waf, WafArgs
from whitelabel.api_definition import BackendKind
from whitelabel.cloudfront import uses_cloudfront
from whitelabel.component_args import (
    ArgError,
    backend_entries,
    check_name_prefix,
    check_names,
    check_vpc_link,
    plain,
    settings_of,
)
from whitelabel.config import STAGE_NAME_RE
from whitelabel.waf import waf_limits


def backend_target(backend: BackendArgs) -> BackendTarget:
    """The gateway's target of one checked backend arg."""
    return BackendTarget(
        kind=BackendKind(plain(backend["kind"])),
        prefix=backend.get("prefix"),
        description=backend.get("description") or "",
        arn=backend.get("load_balancer_arn"),
        dns_name=backend.get("load_balancer_dns_name"),
        # Through the provider host a port arrives as a float (8443.0: the engine's numbers are doubles, and the
        # SDK's integer mapping keeps the float); it is written into the integration URI, so make it an int.
        port=None if backend.get("port") is None else int(backend["port"]),
        url=backend.get("url"),
        function_name=backend.get("function_name"),
        invoke_arn=backend.get("function_invoke_arn"),
        bucket_name=backend.get("bucket_name"),
        read_role_arn=backend.get("read_role_arn"),
        key_prefix=backend.get("key_prefix") or "",
        per_tenant=bool(backend.get("per_tenant")),
        shared_files=tuple(backend.get("shared_files") or ()),
        documents=tuple(backend.get("documents") or ()),
    )


def auth_args(settings: Any) -> dict[str, Any]:
    """The stack's `auth` as `AuthArgs` (plain values: it crosses stacks in `shard_platform`)."""
    auth = settings.auth
    values: dict[str, Any] = {
        "audiences": list(auth.audiences),
        "tenant_claim": auth.tenant_claim,
        "public_prefixes": list(auth.public_prefixes),
        "enabled": auth.enabled,
    }
    if auth.issuer is not None:
        values["issuer"] = auth.issuer
    return values


def moved_from(
    old_parent_type: str, old_parent: str, name: str, adopt: bool
) -> Callable[[str, str], Sequence[pulumi.Alias | str]]:
    """Aliases for resources that moved from the program's old top-level component `old_parent` (a child there
    named `<old_parent><suffix>`) to this component (named `<name><suffix>`); none unless adopting."""

    def aliases(type_: str, new_name: str) -> Sequence[pulumi.Alias | str]:
        if not adopt:
            return ()
        old_name = old_parent + new_name.removeprefix(name)
        stack, project = pulumi.get_stack(), pulumi.get_project()
        # A URN string is an alias of its own (the Python SDK's form of `Alias(urn=...)`).
        return [f"urn:pulumi:{stack}::{project}::{old_parent_type}${type_}::{old_name}"]

    return aliases


class WhiteLabelGateway(pulumi.ComponentResource):
    """One REST API in front of `args.backends`, every tenant on its own subdomain of `args.base_domain`.

    Children: `<name>-registry`, `<name>-authorizer`, `<name>-gateway` (its VPC link only with an ALB or NLB
    backend), `<name>-waf` (when enabled), `<name>-operations`, the wildcard certificate and custom domain, a
    usage plan per tier, and `<name>-tenants`, a `TenantSet` of `args.tenants`.
    """

    api_id: pulumi.Output[str]
    """The REST API's id."""
    stage_name: pulumi.Output[str]
    """The stage tenants are served from."""
    stage_arn: pulumi.Output[str]
    """The stage's ARN (what a web ACL is associated with)."""
    vpc_link_id: pulumi.Output[Optional[str]]  # noqa: UP045 (Pulumi's schema analyzer reads Optional)
    """The VPC link v2 of the ALB and NLB backends; none without them."""
    usage_plan_ids: pulumi.Output[dict[str, str]]
    """Tier name → its usage plan id (what a `TenantSet` in another stack needs)."""
    registry_table_name: pulumi.Output[str]
    """The tenant registry's DynamoDB table."""
    certificate_arn: pulumi.Output[str]
    """The validated `*.<base_domain>` certificate."""
    wildcard_domain_name: pulumi.Output[str]
    """`*.<base_domain>`, the shared custom domain."""
    wildcard_domain_target: pulumi.Output[str]
    """The wildcard custom domain's regional domain name, or with EDGE its CloudFront domain name (the alias target
    of shared tenants)."""
    wildcard_domain_zone_id: pulumi.Output[str]
    """The hosted zone id of that target."""
    endpoints: pulumi.Output[dict[str, str]]
    """Tenant name → `https://<subdomain>.<base_domain>` (the tenants of `args.tenants`)."""
    tenants: pulumi.Output[dict[str, Any]]
    """Tenant name → its hostnames, tier, status and API key id (never the key's value)."""
    dedicated_domain_targets: pulumi.Output[dict[str, str]]
    """Tenant name → the regional (EDGE: CloudFront) domain name of its dedicated custom domain."""
    custom_domain_handoff: pulumi.Output[dict[str, Any]]
    """Tenant name → what its own domain needs from the customer (validation records, the name to point at)."""
    shard_platform: pulumi.Output[dict[str, Any]]
    """Everything a `TenantSet` in another stack (a tenant shard) needs, as its args' keys (`TenantSetArgs` without
    `tenants`): ids, names and plain settings, no secret. The program exports it as `platform`."""
    dashboard_name: pulumi.Output[str]
    """The operations dashboard."""
    alarm_topic_arn: pulumi.Output[str]
    """The SNS topic the alarms notify."""
    web_acl_arn: pulumi.Output[Optional[str]]  # noqa: UP045
    """The web ACL's ARN; none with the WAF off."""
    waf_capacity: pulumi.Output[Optional[int]]  # noqa: UP045
    """The web ACL's capacity in WCU as AWS counts them; none with the WAF off."""

    def __init__(self, name: str, args: WhiteLabelGatewayArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        # Every arg is checked before the first child exists; a refusal is one line naming the arg path.
        try:
            check_name_prefix(args.get("name_prefix"))
            stage = args.get("stage_name")
            if not isinstance(stage, str) or not STAGE_NAME_RE.match(stage):
                raise ArgError("stage_name", f"{stage!r} must be 1 to 128 letters, digits, '-' or '_' (API Gateway)")
            settings = settings_of(args, None if "tenants" in args else {"customers": []})
            # The names AWS would refuse (function, table, log groups, keys, plans, ...), before any child exists.
            check_names(settings, args["name_prefix"], stage)
            backends = backend_entries(args.get("backends") or {})
            check_vpc_link(backends, args)
        except ArgError as error:
            raise refuse("WhiteLabelGateway", name, error) from None
        super().__init__("whitelabel:index:WhiteLabelGateway", name, None, opts)
        adopt = bool(args.get("adopt_program_stack"))
        prefix = args["name_prefix"]

        # Before the gateway: the tenant authorizer reads this table.
        registry = TenantRegistry(
            f"{name}-registry",
            TenantRegistryArgs(table_name=f"{prefix}-tenants", protect=settings.protect_resources),
            pulumi.ResourceOptions(parent=self, aliases=legacy_alias(adopt, "tenant-registry")),
        )
        # Host → tenant, tier and API key, read from the registry; every method of the gateway runs it.
        authorizer = TenantAuthorizer(
            f"{name}-authorizer",
            TenantAuthorizerArgs.from_settings(settings, prefix, registry.table_name, registry.table_arn),
            pulumi.ResourceOptions(parent=self, aliases=legacy_alias(adopt, "tenant-authorizer")),
        )
        gateway = Gateway(
            f"{name}-gateway",
            GatewayArgs(
                stage_name=args["stage_name"],
                resource_prefix=prefix,
                backends={backend: backend_target(target) for backend, target in args["backends"].items()},
                vpc_link_subnet_ids=args.get("vpc_link_subnet_ids"),
                vpc_link_security_group_id=args.get("vpc_link_security_group_id"),
                authorizer=authorizer,
                authorizer_cache_ttl_seconds=settings.authorizer.cache_ttl_seconds,
                throttle=settings.throttle,
                log_retention_days=settings.log_retention_days,
                manage_account_logging=settings.manage_account_logging,
                tracing=settings.tracing,
                tls_policy=settings.tls_policy,
                cache=settings.cache,
                protect=settings.protect_resources,
                dual_stack=settings.dual_stack,
                endpoint_type=settings.endpoint_type,
            ),
            pulumi.ResourceOptions(parent=self, aliases=legacy_alias(adopt, "gateway")),
        )
        # The firewall in front of the stage: managed rule groups, per-tenant and per-IP rate limits.
        waf = (
            Waf(
                f"{name}-waf",
                WafArgs.from_settings(settings, prefix, gateway.stage_arn),
                pulumi.ResourceOptions(parent=self, aliases=legacy_alias(adopt, "waf")),
            )
            if settings.waf.enabled
            else None
        )
        # The operator's view: saved queries, Contributor Insights, dashboard, alarms (never per tenant). ALBs
        # get TargetResponseTime alarms; an NLB publishes no response time (AWS/NetworkELB metrics:
        # https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-cloudwatch-metrics.html).
        operations = Operations(
            f"{name}-operations",
            OperationsArgs(
                resource_prefix=prefix,
                api_name=gateway.rest_api_name,
                stage_name=gateway.stage_name,
                access_log_group_name=gateway.access_logs.name,
                load_balancers={
                    b.name: args["backends"][b.name]["load_balancer_arn"] for b in backends if b.kind is BackendKind.ALB
                },
                alarms=settings.alarms,
                authorizer_function_name=authorizer.function_name,
                authorizer_log_group_name=authorizer.log_group_name,
                waf_web_acl_metric_name=waf.metric_name if waf is not None else None,
                backends=tuple(backends),
            ),
            pulumi.ResourceOptions(parent=self, aliases=legacy_alias(adopt, "operations")),
        )

        # The platform's part of the tenant domains: the wildcard certificate and custom domain, and with
        # `tenant_dns: wildcard` its one record. In the program's old stacks they sat in `tenants`.
        domains = DomainSettings(
            zone_id=zone_id_of(settings.hosted_zone, self),
            rest_api_id=gateway.rest_api_id,
            stage_name=gateway.stage_name,
            dual_stack=settings.dual_stack,
            tls_policy=settings.tls_policy,
            protect=settings.protect_resources,
            endpoint=settings.endpoint,
        )
        from_tenants = moved_from("whitelabel:tenant_domains:TenantDomains", "tenants", name, adopt)
        validation = wildcard_certificate(name, settings.base_domain, domains, self, from_tenants)
        wildcard_name = f"*.{settings.base_domain}"
        wildcard = custom_domain(
            f"{name}-wildcard", wildcard_name, validation.certificate_arn, domains, self, aliases=from_tenants
        )
        wildcard_target, wildcard_zone_id = alias_target(wildcard, settings.endpoint)
        if settings.tenant_dns == "wildcard":
            # Route 53 takes `*` as the leftmost label as a wildcard matching any name below baseDomain
            # that has no records of its own ("Using an asterisk (*) in the names of hosted zones and
            # records", https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DomainNameFormat.html).
            alias_records(
                f"{name}-wildcard",
                wildcard_name,
                wildcard_target,
                wildcard_zone_id,
                domains,
                self,
                from_tenants,
            )
        # A usage plan per tier (in old stacks under `tenant-keys`): the platform's, tenants' keys join them.
        from_keys = moved_from("whitelabel:tenant_keys:TenantKeys", "tenant-keys", name, adopt)
        plans = usage_plans(
            name,
            prefix,
            settings.tiers,
            gateway.rest_api_id,
            gateway.stage_name,
            self,
            lambda plan: from_keys("aws:apigateway/usagePlan:UsagePlan", plan),
        )
        plan_ids = {tier: plan.id for tier, plan in plans.items()}

        # Own domains through CloudFront (docs "Own domains: two edges"): the distribution, its connection group,
        # function and web ACL, made once; each TenantSet adds a distribution tenant per own domain.
        edge = (
            OwnDomainEdge(
                f"{name}-own-domain-edge",
                OwnDomainEdgeArgs(
                    resource_prefix=prefix,
                    base_domain=settings.base_domain,
                    dual_stack=settings.dual_stack,
                    waf=(
                        (settings.waf.mode == "block", waf_limits(settings).per_ip, waf_limits(settings).per_host)
                        if settings.waf.enabled
                        else None
                    ),
                    log_retention_days=settings.log_retention_days,
                    protect=settings.protect_resources,
                ),
                pulumi.ResourceOptions(parent=self),
            )
            if uses_cloudfront(settings)
            else None
        )

        # What every TenantSet of this platform takes from it, as TenantSetArgs keys: this one's, and a shard's
        # (the `shard_platform` export below, docs "Tenant shards"). Pooled tiers: each TenantSet makes its own
        # pool keys, so no key value crosses stacks.
        platform_args: dict[str, Any] = {
            "base_domain": settings.base_domain,
            "hosted_zone": settings.hosted_zone,
            "name_prefix": prefix,
            "rest_api_id": gateway.rest_api_id,
            "stage_name": gateway.stage_name,
            "usage_plan_ids": plan_ids,
            "tiers": sorted(settings.tiers),
            "pooled_tiers": {tier: values.pool_size for tier, values in settings.tiers.items() if values.pooled},
            "default_tier": settings.default_tier,
            "registry_table_name": registry.table_name,
            "wildcard_domain_name": wildcard_target,
            "wildcard_domain_zone_id": wildcard_zone_id,
            "certificate_arn": validation.certificate_arn,
            "tenant_dns": settings.tenant_dns,
            "endpoint_type": settings.endpoint_type,
            "tls_policy": settings.tls_policy,
            "dual_stack": settings.dual_stack,
            "protect_resources": settings.protect_resources,
            # What a TenantSet must respect of this platform's authorizer (issue 23 §1, §2): the stack's `auth` its
            # tenants inherit, whether the function runs end-user authentication, and its decision cache.
            "auth": auth_args(settings),
            "user_auth": settings.user_auth,
            "authorizer_cache_ttl_seconds": settings.authorizer.cache_ttl_seconds,
        }
        if edge is not None:
            # Only then: a platform without the CloudFront edge exports what it exported before.
            platform_args.update(
                {
                    "custom_domains": {"via": settings.custom_domains.via},
                    "own_domain_distribution_id": edge.distribution_id,
                    "own_domain_connection_group_id": edge.connection_group_id,
                    "own_domain_routing_endpoint": edge.routing_endpoint,
                }
            )
        tenant_set = TenantSet(
            f"{name}-tenants",
            cast(
                TenantSetArgs,
                {
                    **platform_args,
                    "tenants": list(args.get("tenants") or []),
                    "tenant_dns": TenantDns(settings.tenant_dns),
                    "endpoint_type": EndpointType(settings.endpoint_type),
                    "adopt_program_stack": adopt,
                },
            ),
            pulumi.ResourceOptions(parent=self),
        )

        # Not an output: the Gateway component itself (its routes and deployed values), for Python callers and the
        # offline tools (tools/openapi.py); through the provider host only the outputs below cross.
        self.gateway = gateway
        self.api_id = gateway.rest_api_id
        self.stage_name = gateway.stage_name
        self.stage_arn = gateway.stage_arn
        self.vpc_link_id = pulumi.Output.from_input(gateway.vpc_link_id)
        self.usage_plan_ids = pulumi.Output.from_input(cast(Any, plan_ids))
        self.registry_table_name = registry.table_name
        self.certificate_arn = validation.certificate_arn
        self.wildcard_domain_name = wildcard.domain_name
        self.wildcard_domain_target = wildcard_target
        self.wildcard_domain_zone_id = wildcard_zone_id
        self.endpoints = tenant_set.endpoints
        self.tenants = tenant_set.tenants
        self.dedicated_domain_targets = tenant_set.dedicated_domain_targets
        self.custom_domain_handoff = tenant_set.custom_domain_handoff
        # A shard's TenantSet args are these values as they are (docs "Tenant shards"): keys of TenantSetArgs.
        self.shard_platform = pulumi.Output.from_input(cast(Any, platform_args))
        self.dashboard_name = operations.dashboard_name
        self.alarm_topic_arn = operations.alarm_topic_arn
        self.own_domain_edge = edge  # not an output: the CloudFront edge's resources, for Python callers and tests
        self.web_acl_arn = pulumi.Output.from_input(waf.web_acl_arn if waf is not None else None)
        self.waf_capacity = pulumi.Output.from_input(waf.capacity if waf is not None else None)
        self.register_outputs(
            {
                "apiId": self.api_id,
                "stageName": self.stage_name,
                "stageArn": self.stage_arn,
                "vpcLinkId": self.vpc_link_id,
                "usagePlanIds": self.usage_plan_ids,
                "registryTableName": self.registry_table_name,
                "certificateArn": self.certificate_arn,
                "wildcardDomainName": self.wildcard_domain_name,
                "wildcardDomainTarget": self.wildcard_domain_target,
                "endpoints": self.endpoints,
                "tenants": self.tenants,
                "shardPlatform": self.shard_platform,
            }
        )
