"""whitelabel-gateway's reference stack: the example backends in `services/`, one `WhiteLabelGateway` in front."""

import gc
from typing import Any, cast

import pulumi
from pulumi.runtime.sync_await import _sync_await

from components.args import (
    BackendArgs,
    BackendKind,
    TenantSetArgs,
    WhiteLabelGatewayArgs,
)
from components.network import Network, NetworkArgs
from components.tenant_set import ComponentArgsError, TenantSet
from components.white_label_gateway import WhiteLabelGateway
from services.container_service import ContainerService, ContainerServiceArgs
from services.docs_bucket import DocsBucket, DocsBucketArgs
from services.docs_portal import add_portal
from services.web_app import WebApp, WebAppArgs
from whitelabel.api_definition import route_of, route_record
from whitelabel.component_args import args_of_config, config_key
from whitelabel.config import PROJECT, ConfigError, Customer, key_part, load_config, resource_prefix
from whitelabel.environment import Shard, check_platform_serves
from whitelabel.portal import guide_documents, shared_files, shared_objects, tenant_objects
from whitelabel.stack_file import load_shard


def gateway_args(
    raw: dict[str, Any], prefix: str, stage: str, backends: dict[str, BackendArgs], network: Network
) -> WhiteLabelGatewayArgs:
    """The stack's config as the component's args: every key of the stack file by one rule (`args_of_config`:
    camelCase → snake_case, customers → tenants), plus what the program itself provides: the stage, the name
    prefix it computed, the example backends and the VPC link's network. The component validates the args.

    `adopt_program_stack`: this program's dev and prod stacks predate the component package; their resources
    are taken over through aliases, nothing replaced (docs "Use it as a component").
    """
    provided = {
        "stage_name": stage,
        "name_prefix": prefix,
        "backends": backends,
        "vpc_link_subnet_ids": network.private_subnet_ids,
        "vpc_link_security_group_id": network.vpc_link_security_group_id,
        "adopt_program_stack": True,
    }
    return cast(WhiteLabelGatewayArgs, {**args_of_config(raw), **provided})


def in_config_words(error: ComponentArgsError, customers: list[Customer]) -> pulumi.RunError:
    """A component's refusal of args this program built from config, said as the stack file's key: a config user
    never reads an arg path (`tenants[1].auth.audiences` → `customers.globex.auth.audiences`). The config model
    checks first, so this is a rule only a component knows (its platform's, for a shard)."""
    # The mapping form names customers by key, the list form by index (docs "Customers by name").
    written = pulumi.Config().get_object("customers")
    keys = [
        f"customers{key_part(c.name)}" if isinstance(written, dict) else f"customers[{index}]"
        for index, c in enumerate(customers)
    ]
    return pulumi.RunError(f"{PROJECT}:{config_key(error.path, keys)}: {error.rule}")


def load_balancer(target: Any) -> BackendArgs:
    return BackendArgs(
        kind=BackendKind.ALB,
        load_balancer_arn=target.arn,
        load_balancer_dns_name=target.dns_name,
        port=target.port,
    )


def shard_args(shard: Shard, platform: dict[str, Any]) -> TenantSetArgs:
    """A tenant shard's TenantSet: the platform's `platform` export as it is, and the shard's customers (its stack
    file's `customers`, by the same rule as a platform's)."""
    return cast(
        TenantSetArgs, {**platform, "tenants": args_of_config({"customers": shard.raw["customers"]})["tenants"]}
    )


def read_export(reference: pulumi.StackReference, name: str) -> Any:
    """One output of the referenced stack as a plain value (None when it has none), secret or not."""
    # `get_output_details` waits for the reference's read, as a synchronous invoke waits. The SDK has no public
    # synchronous read of a StackReference (its own invokes use `_sync_await`): the version is pinned by uv.lock and
    # tests/test_auth_paths.py fails if a locked release drops it. A platform that marks an export secret hands it in
    # `secret_value` (the values are ids and names; TenantSet args are plain, so it is read as such).
    details = _sync_await(reference.get_output_details(name))
    return details.value if details.value is not None else details.secret_value


def platform_export(reference: pulumi.StackReference, shard: Shard) -> dict[str, Any]:
    """The platform stack's `platform` export as plain values (TenantSetArgs has plain fields: tenants fan out at
    construction); refused in one line when the platform has not exported it yet, or cannot serve a tenant."""
    value = read_export(reference, "platform")
    if not isinstance(value, dict):
        raise pulumi.RunError(
            f"whitelabel-gateway:platform: {shard.platform} exports no `platform` object: `pulumi up` the platform"
            ' stack with this version first (docs "Tenant shards")'
        )
    try:
        check_platform_serves(shard, value)
    except ConfigError as error:
        raise pulumi.RunError(str(error)) from None
    return value


def make_platform(
    raw: dict[str, Any],
    prefix: str,
    stage_name: str,
    network: Network,
    service1: Any,
    service2: Any,
    docs: Any,
    per_tenant_docs: bool = False,
) -> WhiteLabelGateway:
    """The one `WhiteLabelGateway` of the reference stack, in front of the example backends.

    per_tenant_docs: `docs.perTenant`: `/docs` reads each tenant's own pages (docs "Developer portal per tenant").
    """
    docs_backend = BackendArgs(kind=BackendKind.S3, bucket_name=docs.bucket_name, read_role_arn=docs.read_role_arn)
    if per_tenant_docs:
        docs_backend["per_tenant"] = True
        docs_backend["shared_files"] = list(shared_files())
        docs_backend["documents"] = list(guide_documents(docs.object_keys))
    # Named `whitelabel`: its children are `whitelabel-gateway`, `whitelabel-tenants`, …; the aliases that
    # `adopt_program_stack` adds map them onto the old top-level `gateway`, `tenants`, … of existing stacks.
    return WhiteLabelGateway(
        "whitelabel",
        gateway_args(
            raw,
            prefix,
            stage_name,
            # In the order and with the prefixes of `whitelabel.api_definition.BACKENDS` (what the plan shows).
            {
                "service1": load_balancer(service1.load_balancer),
                "service2": load_balancer(service2.load_balancer),
                "docs": docs_backend,
            },
            network,
        ),
    )


# A stack of thousands of resources keeps nearly everything it makes until it ends (resources, their Outputs, the SDK's
# futures), so at CPython's default thresholds (700, 10, 10) the cyclic collector scans an ever larger heap again and
# again: 18 full collections, about 45% of the CPU of onboarding into a shard of 1,000 own-domain tenants
# (docs/shards.md "How it scales"). A larger first generation leaves a few young collections and no full one; the
# tests set the same.
gc.set_threshold(50_000, 20, 20)

# A tenant shard (its config names a `platform`) runs only a TenantSet of its customers against the platform's
# export; checked against every stack file of its environment before any resource (docs "Tenant shards").
shard = load_shard()
if shard is not None:
    reference = pulumi.StackReference("platform", shard.platform)
    try:
        tenant_set = TenantSet("whitelabel-tenants", shard_args(shard, platform_export(reference, shard)))
    except ComponentArgsError as error:
        raise in_config_words(error, list(shard.settings.customers)) from None
    portal = read_export(reference, "portal")
    if isinstance(portal, dict):
        # The platform serves a developer portal per tenant: this shard's tenants get their pages in the platform's
        # docs bucket, children of this stack's TenantSet (the renderer's shared files are the platform's).
        routes = [route_of(record) for record in portal["routes"]]
        add_portal(
            "docs",
            tenant_set,
            portal["bucket"],
            (),
            [(c.name, tenant_objects(shard.settings, c, routes)) for c in shard.settings.customers],
        )
    pulumi.export("platform", shard.platform)
    pulumi.export("customerEndpoints", tenant_set.endpoints)
    pulumi.export("tenants", tenant_set.tenants)
    pulumi.export("dedicatedDomains", tenant_set.dedicated_domain_targets)
    pulumi.export("customDomainHandoff", tenant_set.custom_domain_handoff)
else:
    settings, raw = load_config()  # stops with one line naming key, entry and rule before any resource
    stage_name = pulumi.get_stack()
    # Names unique per account and region start with this, so two projects or forks using one stack name do not collide.
    prefix = resource_prefix(settings, pulumi.get_project(), stage_name)

    network = Network("network", NetworkArgs.from_settings(settings.network))

    service1 = ContainerService(
        "service1",
        ContainerServiceArgs.from_settings(
            settings.service1, network, settings.log_retention_days, prefix, protect=settings.protect_resources
        ),
    )
    service2 = WebApp("service2", WebAppArgs.from_settings(settings.service2, network))
    docs = DocsBucket("docs", DocsBucketArgs.from_settings(settings.docs, protect=settings.protect_resources))

    try:
        platform = make_platform(raw, prefix, stage_name, network, service1, service2, docs, settings.docs.per_tenant)
    except ComponentArgsError as error:
        raise in_config_words(error, list(settings.customers)) from None
    if settings.docs.per_tenant:
        # Each tenant's pages from the routes the gateway serves (docs "Developer portal per tenant").
        add_portal(
            "docs",
            docs,
            docs.bucket_name,
            shared_objects(),
            [(c.name, tenant_objects(settings, c, platform.gateway.routes)) for c in settings.customers],
        )
        # What a tenant shard needs to write its tenants' pages (docs "Developer portal per tenant").
        pulumi.export(
            "portal", {"bucket": docs.bucket_name, "routes": [route_record(r) for r in platform.gateway.routes]}
        )

    pulumi.export("customerEndpoints", platform.endpoints)
    pulumi.export("tenants", platform.tenants)  # name → hostnames, tier, status, apiKeyId (never the key value)
    pulumi.export("tenantRegistry", platform.registry_table_name)
    pulumi.export("dedicatedDomains", platform.dedicated_domain_targets)
    pulumi.export("customDomainHandoff", platform.custom_domain_handoff)
    pulumi.export("wildcardDomain", platform.wildcard_domain_name)
    pulumi.export("wildcardDomainTarget", platform.wildcard_domain_target)
    pulumi.export("certificateArn", platform.certificate_arn)
    pulumi.export("apiId", platform.api_id)
    pulumi.export("platform", platform.shard_platform)  # what a tenant shard reads (docs "Tenant shards")
    pulumi.export("stageName", platform.stage_name)
    pulumi.export("vpcLinkId", platform.vpc_link_id)
    pulumi.export("docsBucket", docs.bucket_name)
    pulumi.export("vpcId", network.vpc_id)
    pulumi.export("service1LoadBalancer", service1.load_balancer.dns_name)
    pulumi.export("service2LoadBalancer", service2.load_balancer.dns_name)
    pulumi.export("service1LogGroup", service1.log_group_name)
    pulumi.export("operationsDashboard", platform.dashboard_name)
    pulumi.export("alarmTopicArn", platform.alarm_topic_arn)
    if settings.waf.enabled:
        pulumi.export("webAclArn", platform.web_acl_arn)
        pulumi.export(
            "wafCapacity", platform.waf_capacity
        )  # WCU as AWS counts them; 1,500 are in the web ACL's base price
