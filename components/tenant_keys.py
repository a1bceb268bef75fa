"""Tiers and tenants on the API: a usage plan per tier, an API key per customer, its plan key and registry items."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.tenant_registry import HASH_KEY
from whitelabel.config import Settings, TierSettings, resource_prefix
from whitelabel.protection import resource_options
from whitelabel.tenancy import Tenant, api_key_name, registry_item, tenants


@dataclass(frozen=True)
class TenantKeysArgs:
    """Inputs of the tenant keys.

    prefix: `resource_prefix(settings, project, stack)`; API key and usage plan names start with it.
    tiers: tier name → its throttle and optional quota (one usage plan each).
    tenants: every customer with its tier, suspension and hostnames (`whitelabel.tenancy.tenants`).
    table_name: the registry table (`TenantRegistry.table_name`).
    protect: protected production (`protectResources`): API keys are protected.
    """

    prefix: str
    tiers: Mapping[str, TierSettings]
    tenants: Sequence[Tenant]
    rest_api_id: pulumi.Input[str]
    stage_name: pulumi.Input[str]
    table_name: pulumi.Input[str]
    protect: bool = False

    @classmethod
    def from_settings(cls, settings: Settings, project: str, stack: str, gateway: Any, registry: Any) -> TenantKeysArgs:
        return cls(
            prefix=resource_prefix(settings, project, stack),
            tiers=dict(settings.tiers),
            tenants=tuple(tenants(settings)),
            rest_api_id=gateway.rest_api_id,
            stage_name=gateway.stage_name,
            table_name=registry.table_name,
            protect=settings.protect_resources,
        )


class TenantKeys(pulumi.ComponentResource):
    """A usage plan per tier on the stage; per customer an API key, the plan key attaching it to its tier's
    plan, and one registry item per hostname carrying the key's value.

    Every name is keyed by tier, customer or hostname, never by list position, so reordering `customers`
    changes nothing. What a config change touches:
    - a new customer: its key, its plan key, its item(s);
    - a tier change: its plan key (replaced: a plan key cannot move between plans) and the `tier`
      attribute of its item(s);
    - suspending or resuming: the `status` attribute of its item(s) only (the key stays enabled: the
      authorizer refuses the host before API Gateway ever looks at the key).
    """

    def __init__(self, name: str, args: TenantKeysArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("whitelabel:tenant_keys:TenantKeys", name, None, opts)
        # Child names end in -usage-plan, -api-key, -plan-key or -item (items are named by hostname, which
        # has dots a customer or tier name cannot have), so no two kinds can collide whatever the names.
        self.plans: dict[str, aws.apigateway.UsagePlan] = {}
        for tier_name, tier in sorted(args.tiers.items()):
            quota = (
                aws.apigateway.UsagePlanQuotaSettingsArgs(limit=tier.quota.limit, period=tier.quota.period)
                if tier.quota is not None
                else None
            )
            # One plan per tier (usage plans: 300 per account and region): AWS applies its throttle and quota
            # to each API key in it, i.e. per tenant, "best effort" (usage plans and API keys,
            # https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-usage-plans.html).
            self.plans[tier_name] = aws.apigateway.UsagePlan(
                f"{name}-{tier_name}-usage-plan",
                name=f"{args.prefix}-{tier_name}",
                description=f"Tier {tier_name}: per-tenant throttle and quota",
                # stage_name comes from the Stage resource: the plan waits for the stage to exist
                # (CreateUsagePlan refuses an API stage that does not exist yet).
                api_stages=[aws.apigateway.UsagePlanApiStageArgs(api_id=args.rest_api_id, stage=args.stage_name)],
                throttle_settings=aws.apigateway.UsagePlanThrottleSettingsArgs(
                    rate_limit=tier.rate_limit, burst_limit=tier.burst_limit
                ),
                quota_settings=quota,
                opts=pulumi.ResourceOptions(parent=self),
            )

        self.api_keys: dict[str, aws.apigateway.ApiKey] = {}
        self.tenants: dict[str, pulumi.Output[dict[str, Any]]] = {}
        for tenant in sorted(args.tenants, key=lambda t: t.name):
            prefix = f"{name}-{tenant.name}"
            # Enabled also while suspended: resuming is one flag on the registry item, nothing else.
            key = aws.apigateway.ApiKey(
                f"{prefix}-api-key",
                name=api_key_name(args.prefix, tenant.name),
                description=f"Tenant {tenant.name}: usage identifier returned by the tenant authorizer",
                enabled=True,
                opts=resource_options("api-key", args.protect, parent=self),
            )
            self.api_keys[tenant.name] = key
            # Named without the tier: a tier change is a replacement of this one resource. AWS allows a key
            # in only one usage plan per API stage ("a given API key can only be associated with one usage
            # plan for each stage", api-gateway-api-usage-plans.html above), so the old association must go
            # before the new one is made: delete before replace (requests of that tenant get 403 for the
            # seconds in between).
            aws.apigateway.UsagePlanKey(
                f"{prefix}-plan-key",
                key_id=key.id,
                key_type="API_KEY",
                usage_plan_id=self.plans[tenant.tier].id,
                opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
            )
            for hostname in tenant.hostnames:
                # The item carries the key's value: secret in state and in every diff, whatever the provider marks.
                item: pulumi.Output[str] = pulumi.Output.secret(
                    key.value.apply(functools.partial(_item_json, hostname, tenant))
                )
                # Named by hostname (the item's key), not by customer: a hostname that moves between customers
                # is one update, never a create of the new owner's item and a later delete of the same key.
                aws.dynamodb.TableItem(
                    f"{name}-{hostname}-item",
                    table_name=args.table_name,
                    hash_key=HASH_KEY,
                    item=item,
                    opts=pulumi.ResourceOptions(parent=self),
                )
            self.tenants[tenant.name] = key.id.apply(functools.partial(_tenant_output, tenant))

        self.usage_plan_ids = {tier: plan.id for tier, plan in self.plans.items()}
        self.register_outputs({"tenants": self.tenants, "usagePlanIds": self.usage_plan_ids})


def _item_json(hostname: str, tenant: Tenant, api_key: str) -> str:
    """The registry item of one hostname as the JSON text `TableItem.item` takes."""
    item = registry_item(
        hostname,
        tenant.name,
        tenant.tier,
        tenant.suspended,
        api_key,
        mtls_issuers=tenant.mtls_issuers,
        mtls_subjects=tenant.mtls_subjects,
    )
    return json.dumps(item, sort_keys=True)


def _tenant_output(tenant: Tenant, api_key_id: str) -> dict[str, Any]:
    """One entry of the `tenants` stack output: never the key's value, only its id."""
    return {"hostnames": list(tenant.hostnames), "tier": tenant.tier, "status": tenant.status, "apiKeyId": api_key_id}
