"""whitelabel-gateway: one REST API, every customer on its own subdomain, three backends behind it."""

import pulumi

from components.gateway import BackendTarget, Gateway, GatewayArgs
from components.network import Network, NetworkArgs
from components.operations import Operations, OperationsArgs
from components.tenant_authorizer import TenantAuthorizer, TenantAuthorizerArgs
from components.tenant_domains import TenantDomains, TenantDomainsArgs
from components.tenant_keys import TenantKeys, TenantKeysArgs
from components.tenant_registry import TenantRegistry, TenantRegistryArgs
from components.waf import Waf, WafArgs
from services.container_service import ContainerService, ContainerServiceArgs
from services.docs_bucket import DocsBucket, DocsBucketArgs
from services.web_app import WebApp, WebAppArgs
from whitelabel.config import load_settings, resource_prefix

settings = load_settings()  # stops with one line naming key, entry and rule before any resource
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
# Before the gateway: the tenant authorizer reads this table.
registry = TenantRegistry(
    "tenant-registry", TenantRegistryArgs.from_settings(settings, pulumi.get_project(), stage_name)
)
# Host → tenant, tier and API key, read from the registry; every method of the gateway runs it.
authorizer = TenantAuthorizer(
    "tenant-authorizer",
    TenantAuthorizerArgs.from_settings(settings, prefix, registry.table_name, registry.table_arn),
)

gateway = Gateway(
    "gateway",
    GatewayArgs(
        stage_name=stage_name,
        resource_prefix=prefix,
        vpc_link_subnet_ids=network.private_subnet_ids,
        vpc_link_security_group_id=network.vpc_link_security_group_id,
        # In the order and with the prefixes of `whitelabel.api_definition.BACKENDS` (what the plan shows).
        backends={
            "service1": BackendTarget.load_balancer(service1.load_balancer),
            "service2": BackendTarget.load_balancer(service2.load_balancer),
            "docs": BackendTarget.bucket(docs.bucket_name, docs.read_role_arn),
        },
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
)

# The firewall in front of the stage: managed rule groups, per-tenant and per-IP rate limits (off in dev).
waf = (
    Waf(
        "waf",
        WafArgs.from_settings(settings, prefix, gateway.stage_arn),
    )
    if settings.waf.enabled
    else None
)

# The operator's view: saved queries, Contributor Insights, dashboard, alarms (per stack, never per customer).
operations = Operations(
    "operations",
    OperationsArgs(
        resource_prefix=prefix,
        api_name=gateway.rest_api_name,
        stage_name=gateway.stage_name,
        access_log_group_name=gateway.access_logs.name,
        load_balancers={"service1": service1.load_balancer.arn, "service2": service2.load_balancer.arn},
        alarms=settings.alarms,
        authorizer_function_name=authorizer.function_name,
        waf_web_acl_metric_name=waf.metric_name if waf is not None else None,
    ),
)

tenants = TenantDomains("tenants", TenantDomainsArgs.from_settings(settings, gateway))
keys = TenantKeys(
    "tenant-keys", TenantKeysArgs.from_settings(settings, pulumi.get_project(), stage_name, gateway, registry)
)

pulumi.export("customerEndpoints", tenants.endpoints)
pulumi.export("tenants", keys.tenants)  # name → hostnames, tier, status, apiKeyId (never the key value)
pulumi.export("tenantRegistry", registry.table_name)
pulumi.export("dedicatedDomains", tenants.dedicated_domain_targets)
pulumi.export("customDomainHandoff", tenants.custom_domain_handoff)
pulumi.export("wildcardDomain", tenants.wildcard_domain_name)
pulumi.export("wildcardDomainTarget", tenants.wildcard_domain_target)
pulumi.export("certificateArn", tenants.certificate_arn)
pulumi.export("apiId", gateway.rest_api_id)
pulumi.export("stageName", gateway.stage_name)
pulumi.export("vpcLinkId", gateway.vpc_link_id)
pulumi.export("docsBucket", docs.bucket_name)
pulumi.export("vpcId", network.vpc_id)
pulumi.export("service1LoadBalancer", service1.load_balancer.dns_name)
pulumi.export("service2LoadBalancer", service2.load_balancer.dns_name)
pulumi.export("service1LogGroup", service1.log_group_name)
pulumi.export("operationsDashboard", operations.dashboard_name)
pulumi.export("alarmTopicArn", operations.alarm_topic_arn)
if waf is not None:
    pulumi.export("webAclArn", waf.web_acl_arn)
    pulumi.export("wafCapacity", waf.capacity)  # WCU as AWS counts them; 1,500 are in the web ACL's base price
