"""`TenantSet`: the per-tenant resources only (alias records, dedicated and own domains, API keys, plan keys,
registry items) against a platform that exists: a `WhiteLabelGateway` of this stack or another one."""

# No `from __future__ import annotations`: Pulumi's schema analyzer reads `__init__`'s and the class's annotations
# as objects (inspect.get_annotations, not evaluated); as strings it fails and the plugin cannot start.

from typing import Any, cast

import pulumi

from components.args import TenantSetArgs
from components.own_domains import OwnDomainTenants, OwnDomainTenantsArgs
from components.tenant_domains import DomainSettings, TenantDomains, TenantDomainsArgs, zone_id_of
from components.tenant_keys import TenantKeys, TenantKeysArgs
from whitelabel.cloudfront import cloudfront_customers
from whitelabel.component_args import ArgError, check_name_prefix, settings_of
from whitelabel.config import POOL_KEYS_MAX
from whitelabel.tenancy import tenants


class ComponentArgsError(pulumi.RunError, ValueError):
    """A component's args break a rule: `<Component> <name>: <arg path>: <rule>`, one line.

    A RunError, so the engine prints the line without a traceback, and a ValueError for Python callers; `path`
    and `rule` let a program that built the args from its config say it in the config's words.
    """

    def __init__(self, message: str, path: str = "", rule: str = "") -> None:
        super().__init__(message)
        self.path = path
        self.rule = rule


def refuse(component: str, name: str, error: ArgError) -> ComponentArgsError:
    return ComponentArgsError(f"{component} {name}: {error}", error.path, error.rule)


def check_platform_serves(settings: Any, user_auth: Any, ttl: Any) -> None:
    """A tenant with end-user authentication or mutual TLS needs a platform authorizer that serves it: ArgError.

    user_auth, ttl: the platform's `user_auth` and `authorizer_cache_ttl_seconds` (None: not known, refused).
    With a cached decision (TTL > 0) API Gateway would reuse one Allow per Host for requests with another token,
    another certificate or none; without USER_AUTH the function never looks at a token.
    """
    for index, customer in enumerate(settings.customers):
        if settings.auth_of(customer) is not None:
            if user_auth is not True:
                said = "not known (user_auth unset)" if user_auth is None else "off (user_auth false)"
                raise ArgError(
                    f"tenants[{index}].auth",
                    f"needs end-user authentication, which the platform's authorizer does not run: it is {said};"
                    " turn it on at the platform (its auth.issuer, or auth.enabled) and update the platform first",
                )
            if ttl != 0:
                raise ArgError(
                    f"tenants[{index}].auth",
                    f"needs the platform's authorizer_cache_ttl_seconds to be 0 (it is {_shown(ttl)}): a cached"
                    " decision would serve one user's Allow to requests with another token or none",
                )
        if customer.mtls_truststore is not None and ttl != 0:
            raise ArgError(
                f"tenants[{index}].mtls_truststore",
                f"needs the platform's authorizer_cache_ttl_seconds to be 0 (it is {_shown(ttl)}): a cached decision"
                " would reuse an Allow earned with a client certificate for requests without one",
            )


def _shown(ttl: Any) -> str:
    return "not known" if ttl is None else f"{ttl:g} s" if isinstance(ttl, float) else f"{ttl} s"


def legacy_alias(adopt: bool, old_name: str) -> list[pulumi.Alias] | None:
    """The alias of a component that was a top-level component of the program's stacks before the component
    package (issue 16); its children inherit it (the engine replaces the parent-name start of their names)."""
    return [pulumi.Alias(name=old_name, parent=pulumi.ROOT_STACK_RESOURCE)] if adopt else None


class TenantSet(pulumi.ComponentResource):
    """Every tenant of `args.tenants` on a platform given by its outputs: `<name>-domains` (alias records,
    dedicated and own custom domains) and `<name>-keys` (an API key per tenant and tier, its plan key, one
    registry item per hostname). Registers nothing of the platform itself.
    """

    endpoints: pulumi.Output[dict[str, str]]
    """Tenant name → `https://<subdomain>.<base_domain>`."""
    tenants: pulumi.Output[dict[str, Any]]
    """Tenant name → its hostnames, tier, status and API key id (never the key's value)."""
    dedicated_domain_targets: pulumi.Output[dict[str, str]]
    """Tenant name → the regional (EDGE: CloudFront) domain name of its dedicated custom domain."""
    custom_domain_handoff: pulumi.Output[dict[str, Any]]
    """Tenant name → what its own domain needs from the customer (validation records, the name to point at)."""

    def __init__(self, name: str, args: TenantSetArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        # Refused before anything is registered, in one line naming the arg.
        try:
            check_name_prefix(args.get("name_prefix"))
            tiers = list(args.get("tiers") or [])
            if not tiers:
                raise ArgError("tiers", "name the platform's tiers (at least one)")
            # Through the provider host a number may arrive as a float (2.0): a whole one is the int it was.
            pooled = {
                tier: int(size) if isinstance(size, float) and size.is_integer() else size
                for tier, size in cast(dict[str, Any], args.get("pooled_tiers") or {}).items()
            }
            for tier, size in pooled.items():
                if tier not in tiers:
                    raise ArgError(f"pooled_tiers.{tier}", f"{tier!r} is not one of tiers: {', '.join(tiers)}")
                if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= POOL_KEYS_MAX:
                    raise ArgError(
                        f"pooled_tiers.{tier}", f"{size!r} must be the tier's poolKeys: 1 to {POOL_KEYS_MAX}"
                    )
            settings = settings_of(
                args,
                {
                    # Only the names and key modes count here: the platform owns the plans and validated their limits.
                    "tiers": {
                        tier: {"rateLimit": 1, "burstLimit": 1}
                        | ({"keyMode": "pooled", "poolKeys": pooled[tier]} if tier in pooled else {})
                        for tier in tiers
                    },
                    # The platform owns the authorizer's cache and checks it against mutual TLS.
                    "authorizer": {"cacheTtlSeconds": 0},
                },
            )
            check_platform_serves(settings, args.get("user_auth"), args.get("authorizer_cache_ttl_seconds"))
            # No `check_names` here: the only name built from the prefix is the API key's, for which AWS documents
            # no length limit (whitelabel/names.py); the platform checks its own names.
            dedicated = [i for i, c in enumerate(settings.customers) if c.dedicated_domain]
            if dedicated and args.get("certificate_arn") is None:
                raise ArgError(
                    f"tenants[{dedicated[0]}].dedicated_domain", "needs the platform's certificate_arn (give it)"
                )
            through_cloudfront = cloudfront_customers(settings)
            # By name: comparing models is slow at 1,000s. A customer moving from API Gateway (`customDomainMove`)
            # keeps its own domain in TenantDomains: its custom domain serves until `done`, its record stays after.
            cloudfront_names = {c.name for c in through_cloudfront if c.custom_domain_move is None}
            if through_cloudfront and args.get("own_domain_distribution_id") is None:
                index = settings.customers.index(through_cloudfront[0])
                raise ArgError(
                    f"tenants[{index}].custom_domain",
                    "goes through CloudFront, but the platform has no multi-tenant distribution (own_domain_"
                    "distribution_id unset): set customDomains.via cloudFront at the platform and update it first",
                )
        except ArgError as error:
            raise refuse("TenantSet", name, error) from None
        super().__init__("whitelabel:index:TenantSet", name, None, opts)
        adopt = bool(args.get("adopt_program_stack"))

        domains = TenantDomains(
            f"{name}-domains",
            TenantDomainsArgs(
                base_domain=settings.base_domain,
                # An own domain through CloudFront is a distribution tenant below, not an API Gateway custom domain:
                # TenantDomains sees those customers without it (their subdomain's records stay).
                customers=tuple(
                    c.model_copy(update={"custom_domain": None}) if c.name in cloudfront_names else c
                    for c in settings.customers
                ),
                domains=DomainSettings(
                    zone_id=zone_id_of(settings.hosted_zone, self),
                    rest_api_id=args["rest_api_id"],
                    stage_name=args["stage_name"],
                    dual_stack=settings.dual_stack,
                    tls_policy=settings.tls_policy,
                    protect=settings.protect_resources,
                    endpoint=settings.endpoint,
                ),
                wildcard_target_name=args["wildcard_domain_name"],
                wildcard_target_zone_id=args["wildcard_domain_zone_id"],
                certificate_arn=args.get("certificate_arn"),
                tenant_dns=settings.tenant_dns,
                own_domain_routing_endpoint=cast(Any, args.get("own_domain_routing_endpoint")),
            ),
            pulumi.ResourceOptions(parent=self, aliases=legacy_alias(adopt, "tenants")),
        )
        keys = TenantKeys(
            f"{name}-keys",
            TenantKeysArgs(
                prefix=args["name_prefix"],
                usage_plan_ids=args["usage_plan_ids"],
                tenants=tuple(tenants(settings)),
                table_name=args["registry_table_name"],
                protect=settings.protect_resources,
                pools={tier: values.pool_size for tier, values in settings.tiers.items() if values.pooled},
            ),
            pulumi.ResourceOptions(parent=self, aliases=legacy_alias(adopt, "tenant-keys")),
        )

        own = (
            OwnDomainTenants(
                f"{name}-own-domains",
                OwnDomainTenantsArgs(
                    customers=through_cloudfront,
                    name_prefix=args["name_prefix"],
                    distribution_id=cast(Any, args.get("own_domain_distribution_id")),
                    connection_group_id=cast(Any, args.get("own_domain_connection_group_id")),
                    routing_endpoint=cast(Any, args.get("own_domain_routing_endpoint")),
                    protect=settings.protect_resources,
                    base_domain=settings.base_domain,
                ),
                pulumi.ResourceOptions(parent=self),
            )
            if through_cloudfront
            else None
        )

        self.endpoints = pulumi.Output.from_input(domains.endpoints)
        self.tenants = keys.tenants  # plain values already: `from_input` would lift them leaf by leaf again
        # Dicts of outputs: `from_input` resolves them to one plain dict.
        self.dedicated_domain_targets = cast(Any, pulumi.Output.from_input(cast(Any, domains.dedicated_domain_targets)))
        handoff: pulumi.Output[dict[str, Any]] = pulumi.Output.from_input(cast(Any, domains.custom_domain_handoff))
        if own is not None:
            # Nested, not `Output.all`: that would lift the distribution tenants' plain dicts leaf by leaf again.
            own_handoff = own.custom_domain_handoff
            handoff = handoff.apply(lambda regional: own_handoff.apply(lambda edge: {**regional, **edge}))
        self.custom_domain_handoff = handoff
        self.register_outputs(
            {
                "endpoints": self.endpoints,
                "tenants": self.tenants,
                "dedicatedDomainTargets": self.dedicated_domain_targets,
                "customDomainHandoff": self.custom_domain_handoff,
            }
        )
