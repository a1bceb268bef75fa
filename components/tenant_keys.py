"""Tiers and tenants on the API: a usage plan per tier, an API key per customer (or a pooled tier's few shared keys),
its plan key and registry items."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.tenant_registry import HASH_KEY
from whitelabel.config import TierSettings
from whitelabel.protection import resource_options
from whitelabel.tenancy import Tenant, api_key_name, pool_key_name, registry_item


@dataclass(frozen=True)
class TenantKeysArgs:
    """Inputs of the tenant keys.

    prefix: the platform's name prefix (`<namePrefix or project>-<stack>` in the program); API key names start
        with it.
    usage_plan_ids: tier name → the platform's usage plan of that tier (`usage_plans`).
    tenants: every customer with its tier, suspension and hostnames (`whitelabel.tenancy.tenants`).
    table_name: the registry table (`TenantRegistry.table_name`).
    protect: protected production (`protectResources`): API keys are protected.
    pools: pooled tier name → how many keys its tenants share (`TierSettings.pool_size`); perTenant tiers absent.
    """

    prefix: str
    usage_plan_ids: pulumi.Input[Mapping[str, str]]
    tenants: Sequence[Tenant]
    table_name: pulumi.Input[str]
    protect: bool = False
    pools: Mapping[str, int] = field(default_factory=dict)


def usage_plans(
    name: str,
    prefix: str,
    tiers: Mapping[str, TierSettings],
    rest_api_id: pulumi.Input[str],
    stage_name: pulumi.Input[str],
    parent: pulumi.Resource,
    aliases: Callable[[str], Sequence[pulumi.Alias | str]] = lambda name: (),
) -> dict[str, aws.apigateway.UsagePlan]:
    """A usage plan per tier on the stage (`<name>-<tier>-usage-plan`), the platform's part of the keys.

    aliases: logical name → aliases (a plan that moved here from another component).
    """
    plans: dict[str, aws.apigateway.UsagePlan] = {}
    for tier_name, tier in sorted(tiers.items()):
        quota = (
            aws.apigateway.UsagePlanQuotaSettingsArgs(limit=tier.quota.limit, period=tier.quota.period)
            if tier.quota is not None
            else None
        )
        plan_name = f"{name}-{tier_name}-usage-plan"
        # Said as it is for a pooled tier (only there: a perTenant plan's description, and so its diff, stays).
        per = "per pool key" if tier.pooled else "per-tenant"
        # One plan per tier (usage plans: 300 per account and region): AWS applies its throttle and quota
        # to each API key in it, i.e. per tenant, "best effort" (usage plans and API keys,
        # https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-usage-plans.html).
        plans[tier_name] = aws.apigateway.UsagePlan(
            plan_name,
            name=f"{prefix}-{tier_name}",
            description=f"Tier {tier_name}: {per} throttle and quota",
            # stage_name comes from the Stage resource: the plan waits for the stage to exist
            # (CreateUsagePlan refuses an API stage that does not exist yet).
            api_stages=[aws.apigateway.UsagePlanApiStageArgs(api_id=rest_api_id, stage=stage_name)],
            throttle_settings=aws.apigateway.UsagePlanThrottleSettingsArgs(
                rate_limit=tier.rate_limit, burst_limit=tier.burst_limit
            ),
            quota_settings=quota,
            opts=pulumi.ResourceOptions(parent=parent, aliases=list(aliases(plan_name))),
        )
    return plans


class TenantKeys(pulumi.ComponentResource):
    """Per customer and tier an API key with the plan key attaching it to that tier's usage plan (the
    platform's, `usage_plans`), and one registry item per hostname carrying the key of the customer's tier.

    Every name is keyed by tier, customer or hostname, never by list position, so reordering `customers`
    changes nothing. What a config change touches:
    - a new customer: its key, its plan key, its item(s), each item created after the plan key;
    - a tier change: the new tier's key and plan key are created, then its item(s) switch to that key (and
      tier); the old tier's key and plan key are deleted once the program drops them, with `previousTier`
      in a later `pulumi up`, so decisions the authorizer cached with the old key stay metered meanwhile;
    - suspending or resuming: the `status` attribute of its item(s) only (the key stays enabled: the
      authorizer refuses the host before API Gateway ever looks at the key);
    - removal: its item(s) first, then its plan key(s), then its key(s) (Pulumi deletes dependents first).

    A pooled tier (`args.pools`) has `poolKeys` keys of its own, each with its plan key, made once whatever its
    tenants; a tenant in it owns no key: its items carry the pool key `pool_index` picks, so onboarding it is its
    items alone, and re-tiering into or out of it keeps the order above (the pool key is metered before any item
    names it; the per-tenant key of a tier being left stays with `previousTier`).
    """

    def __init__(self, name: str, args: TenantKeysArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("whitelabel:tenant_keys:TenantKeys", name, None, opts)
        # Child names end in -api-key, -plan-key or -item; keys and plan keys are named by `<customer>.<tier>`
        # and items by hostname, with dots a customer or tier name cannot have, so no two resources can collide
        # whatever the names.
        self._plan_ids = pulumi.Output.from_input(args.usage_plan_ids)
        self.api_keys: dict[str, aws.apigateway.ApiKey] = {}
        self.plan_keys: dict[str, aws.apigateway.UsagePlanKey] = {}
        # Each tenant with the API key its `tenants` entry names (a pool key in a pooled tier), sorted by name.
        entries: list[tuple[Tenant, aws.apigateway.ApiKey]] = []
        # Each key's value, secret, made once per key: a pool key's serves the items of hundreds of tenants.
        secret_values: dict[aws.apigateway.ApiKey, pulumi.Output[str]] = {}
        # Pooled tier → its (key, plan key) per pool index. Named `pool.<tier>.<index>`: two dots, where a tenant's
        # `<customer>.<tier>` has one, so no pool key's name can be a tenant key's.
        self.pool_keys: dict[str, list[tuple[aws.apigateway.ApiKey, aws.apigateway.UsagePlanKey]]] = {
            tier: [self._pool_key(name, args, tier, index) for index in range(size)]
            for tier, size in sorted(args.pools.items())
        }
        for tenant in sorted(args.tenants, key=lambda t: t.name):
            # A key per tenant AND tier: AWS allows a key in only one usage plan per API stage ("a given API key
            # can only be associated with one usage plan for each stage", api-gateway-api-usage-plans.html
            # above), so a tier change cannot move one key without a moment outside every plan, when API
            # Gateway refuses the requests it meters with 403 ("Otherwise, it throws an InvalidKeyParameter
            # exception. As a result, the caller receives a 403 Forbidden response",
            # https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-key-source.html).
            # The new tier's key is created and metered first; the old one goes only once the program drops it.
            for key_tier in tenant.key_tiers:
                key, plan_key = self._key(name, args, tenant, key_tier)
                if key_tier == tenant.tier:
                    self.api_keys[tenant.name], self.plan_keys[tenant.name] = key, plan_key
            if tenant.pool_key is not None:
                key, plan_key = self.pool_keys[tenant.tier][tenant.pool_key]
            else:
                key, plan_key = self.api_keys[tenant.name], self.plan_keys[tenant.name]
            if key not in secret_values:
                # The item carries the key's value: secret in state and in every diff, whatever the provider marks.
                secret_values[key] = pulumi.Output.secret(key.value)
            for hostname in tenant.hostnames:
                item = secret_values[key].apply(functools.partial(_item_json, hostname, tenant))
                # Named by hostname (the item's key), not by customer: a hostname that moves between customers
                # is one update, never a create of the new owner's item and a later delete of the same key.
                aws.dynamodb.TableItem(
                    f"{name}-{hostname}-item",
                    table_name=args.table_name,
                    hash_key=HASH_KEY,
                    item=item,
                    # A host goes live (or switches keys) only once its key is in its tier's plan: before that,
                    # every request the authorizer allows would get 403. The same edge orders removal the other
                    # way: Pulumi deletes dependents first, so the host goes before its plan key and key.
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[plan_key]),
                )
            entries.append((tenant, key))

        self.tenants: pulumi.Output[dict[str, Any]] = _tenant_outputs(entries)
        self.register_outputs({"tenants": self.tenants})

    def _pool_key(
        self, name: str, args: TenantKeysArgs, tier: str, index: int
    ) -> tuple[aws.apigateway.ApiKey, aws.apigateway.UsagePlanKey]:
        """Key `index` of pooled `tier`'s pool and the plan key that puts it in the tier's usage plan: the plan's
        throttle and quota then apply to it, i.e. to its tenants together (usage plans apply per API key,
        https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-usage-plans.html)."""
        key = aws.apigateway.ApiKey(
            f"{name}-pool.{tier}.{index}-api-key",
            name=pool_key_name(args.prefix, tier, index),
            # Not the pool's size: a new poolKeys must not update every key of the pool.
            description=f"Tier {tier}: pool key {index}, shared by the tier's tenants",
            enabled=True,
            opts=resource_options("api-key", args.protect, parent=self),
        )
        plan_key = aws.apigateway.UsagePlanKey(
            f"{name}-pool.{tier}.{index}-plan-key",
            key_id=key.id,
            key_type="API_KEY",
            usage_plan_id=self._plan_ids.apply(functools.partial(_plan_of, tier)),
            opts=resource_options("usage-plan-key", args.protect, parent=self, delete_before_replace=True),
        )
        return key, plan_key

    def _key(
        self, name: str, args: TenantKeysArgs, tenant: Tenant, tier: str
    ) -> tuple[aws.apigateway.ApiKey, aws.apigateway.UsagePlanKey]:
        """The tenant's API key for `tier` and the plan key that puts it in that tier's usage plan.

        Named `<tenant>.<tier>`: neither name has a dot, so no two (tenant, tier) pairs share a name. The key of
        the tenant's tier adopts, through an alias, the one key per tenant that stacks deployed before per-tier
        keys have (`<name>-<tenant>-api-key`): same key, same value, same AWS name, nothing replaced.
        """
        serving = tier == tenant.tier
        # In protected production only the key and plan key in service are protected: the tier a tenant is
        # leaving must be deletable by the `pulumi up` that drops `previousTier`. A re-tier without it tries to
        # delete protected ones and stops there, old key still in its plan (docs "Re-tiering without a 403").
        protect = args.protect and serving
        # Enabled also while suspended: resuming is one flag on the registry item, nothing else.
        key = aws.apigateway.ApiKey(
            f"{name}-{tenant.name}.{tier}-api-key",
            # Unchanged from the one-key-per-tenant stacks (an adopted key keeps its name). CreateApiKey documents
            # `name` as optional with no uniqueness rule
            # (https://docs.aws.amazon.com/apigateway/latest/api/API_CreateApiKey.html): the two keys of a
            # tenant leaving a tier share it; the tier is in the Pulumi name and the `tenants` output.
            name=api_key_name(args.prefix, tenant.name),
            description=f"Tenant {tenant.name}: usage identifier returned by the tenant authorizer",
            enabled=True,
            opts=resource_options(
                "api-key",
                protect,
                parent=self,
                aliases=[pulumi.Alias(name=f"{name}-{tenant.name}-api-key")] if serving else None,
            ),
        )
        plan_key = aws.apigateway.UsagePlanKey(
            f"{name}-{tenant.name}.{tier}-plan-key",
            key_id=key.id,
            key_type="API_KEY",
            usage_plan_id=self._plan_ids.apply(functools.partial(_plan_of, tier)),
            # A plan key is replaced only when its key or plan is, or when an upgrade from one-key-per-tenant
            # adopts the old plan key for another tier in the same `pulumi up` (its key moves plans): the old
            # association must then go first, as a key sits in one plan per stage.
            opts=resource_options(
                "usage-plan-key",
                protect,
                parent=self,
                delete_before_replace=True,
                aliases=[pulumi.Alias(name=f"{name}-{tenant.name}-plan-key")] if serving else None,
            ),
        )
        return key, plan_key


def _plan_of(tier: str, plan_ids: Mapping[str, str]) -> str:
    return plan_ids[tier]


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
        auth=tenant.auth,
    )
    return json.dumps(item, sort_keys=True)


def _tenant_outputs(entries: list[tuple[Tenant, aws.apigateway.ApiKey]]) -> pulumi.Output[dict[str, Any]]:
    """The `tenants` output, tenant name → `_tenant_output`, as one apply over the distinct keys' ids (a pooled tier's
    tenants share a few). A dict of per-tenant Outputs would be lifted leaf by leaf wherever it is passed on
    (`Output.from_input`): dozens of Outputs per tenant, a shard's main cost after its resources."""
    keys = list(dict.fromkeys(key for _, key in entries))
    position = {key: index for index, key in enumerate(keys)}

    def tenants(ids: list[str]) -> dict[str, Any]:
        return {tenant.name: _tenant_output(tenant, ids[position[key]]) for tenant, key in entries}

    return pulumi.Output.all(*(key.id for key in keys)).apply(tenants)


def _tenant_output(tenant: Tenant, api_key_id: str) -> dict[str, Any]:
    """One entry of the `tenants` stack output: never the key's value, only its id (a pool key's in a pooled tier,
    with `poolKey`, its index)."""
    entry: dict[str, Any] = {
        "hostnames": list(tenant.hostnames),
        "tier": tenant.tier,
        "status": tenant.status,
        "apiKeyId": api_key_id,
    }
    if tenant.pool_key is not None:
        entry["poolKey"] = tenant.pool_key
    return entry
