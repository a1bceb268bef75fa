"""The web ACL's arithmetic, as plain functions: rate limits derived from the tiers, capacity units (WCU), and
the body a rate-limited client receives. `components/waf.py` wires it to resources; the offline mocks
(`whitelabel/offline.py`) use the capacity count."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from whitelabel.config_base import ConfigError, show
from whitelabel.config_limits import WAF_RATE_LIMIT_MAX, WAF_RATE_LIMIT_MIN
from whitelabel.gateway_config import Settings

# A rate-based rule's window: requests are counted over the last 300 s (EvaluationWindowSec: 60, 120, 300
# or 600; https://docs.aws.amazon.com/waf/latest/APIReference/API_RateBasedStatement.html).
EVALUATION_WINDOW_SECONDS = 300

# How far above a tier's most possible requests in one window the rate rules sit. A tenant within its plan
# must never be refused by the WAF, and three things make the WAF's count exceed what the plan admits:
# - the WAF counts every request that reaches the stage, also those API Gateway then answers 429 because the
#   tenant's token bucket is empty: a client at its plan's edge that retries each 429 once doubles its count;
# - usage-plan throttling is "best effort" (API Gateway may admit more than the plan:
#   https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-usage-plans.html);
# - the WAF's count is an estimate that "gives more importance to more recent requests" and "does not
#   guarantee an exact limit match", so a burst at the end of the window weighs more than the same requests
#   spread over it (https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-type-rate-based-caveats.html).
# Twice the plan's ceiling covers the first in full and leaves as much again for the other two. It is a
# judgement, not a measurement: no AWS account is reachable from here.
FLOOD_MARGIN = 2

# Web ACL capacity units (WCU): a web ACL may use 1,500 within its base price; above that AWS charges
# per 500 WCU ("Web ACL capacity units (WCUs) in AWS WAF",
# https://docs.aws.amazon.com/waf/latest/developerguide/aws-waf-capacity-units.html).
WCU_INCLUDED = 1500
# A rate-based rule costs 2 WCU, plus 30 for each custom aggregation key:
# https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-type-rate-based.html
RATE_RULE_WCU = 2
CUSTOM_KEY_WCU = 30


@dataclass(frozen=True)
class ManagedGroup:
    """An AWS managed rule group and its fixed capacity (the group's WCU as AWS lists it).

    always_count: the group only counts, in block mode too.
    """

    name: str
    wcu: int
    always_count: bool = False


# Baseline and IP reputation groups with the capacity AWS gives each (Common 700, KnownBadInputs 200:
# https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-baseline.html; Amazon IP
# reputation 25, anonymous IP 50), in rule order: the cheap reputation list first, then the inspections.
MANAGED_GROUPS: tuple[ManagedGroup, ...] = (
    ManagedGroup("AWSManagedRulesAmazonIpReputationList", 25),
    # Matches hosting providers' and VPN addresses, which server-to-server tenants use: it only counts,
    # so its matches show in metrics and logs without refusing a tenant's backend.
    ManagedGroup("AWSManagedRulesAnonymousIpList", 50, always_count=True),
    ManagedGroup("AWSManagedRulesKnownBadInputsRuleSet", 200),
    # Core rule set. Its SizeRestrictions_BODY blocks request bodies over 8 KB (docs "WAF").
    ManagedGroup("AWSManagedRulesCommonRuleSet", 700),
)

# Rule names (and metric names) of the two rate rules.
PER_IP_RULE = "per-ip-rate"
PER_TENANT_RULE = "per-tenant-rate"


def web_acl_capacity() -> int:
    """The web ACL's WCU as we compute it: the managed groups, the per-IP rate rule (IP is a built-in key, no
    custom key) and the per-tenant rule (one custom key, the Host header)."""
    return sum(g.wcu for g in MANAGED_GROUPS) + RATE_RULE_WCU + (RATE_RULE_WCU + CUSTOM_KEY_WCU)


def rules_capacity(rules: Sequence[Mapping[str, Any]]) -> int:
    """The WCU of rules as the provider registers them (camelCase keys): what AWS reports as the web ACL's
    `capacity`, for the offline mocks. A managed group not in `MANAGED_GROUPS` raises KeyError."""
    groups = {g.name: g.wcu for g in MANAGED_GROUPS}
    total = 0
    for rule in rules:
        statement = rule["statement"]
        if "managedRuleGroupStatement" in statement:
            total += groups[statement["managedRuleGroupStatement"]["name"]]
        else:
            keys = statement["rateBasedStatement"].get("customKeys") or []
            total += RATE_RULE_WCU + CUSTOM_KEY_WCU * len(keys)
    return total


def tier_window_ceiling(rate_limit: float, burst_limit: int, window: int = EVALUATION_WINDOW_SECONDS) -> int:
    """The most requests a usage plan's token bucket admits in `window` seconds: a full bucket (`burst_limit`)
    plus `rate_limit` tokens a second refilled over the window."""
    return math.ceil(rate_limit * window) + burst_limit


def derived_rate_limit(tiers: Iterable[tuple[float, int]]) -> int:
    """The default limit of both rate rules, per 5 minutes: the highest tier's window ceiling times
    `FLOOD_MARGIN`, within the limits a rate-based rule takes.

    tiers: (rateLimit, burstLimit) of each tier.
    """
    ceiling = max(tier_window_ceiling(rate, burst) for rate, burst in tiers)
    return min(WAF_RATE_LIMIT_MAX, max(WAF_RATE_LIMIT_MIN, FLOOD_MARGIN * ceiling))


@dataclass(frozen=True)
class WafLimits:
    """The rate rules' limits (requests per 5 minutes) a stack deploys, and where the floor comes from.

    floor: the lowest per-Host limit accepted (the derived default); highest_tier: the tier that sets it.
    """

    per_host: int
    per_ip: int
    floor: int
    highest_tier: str


def waf_limits(settings: Settings) -> WafLimits:
    """The effective limits: `waf.perTenantLimit` / `waf.perIpLimit` where set, else derived from the tiers."""
    tiers = settings.tiers
    highest = max(tiers, key=lambda name: (tier_window_ceiling(tiers[name].rate_limit, tiers[name].burst_limit), name))
    floor = derived_rate_limit((t.rate_limit, t.burst_limit) for t in tiers.values())
    waf = settings.waf
    return WafLimits(
        per_host=waf.per_tenant_limit if waf.per_tenant_limit is not None else floor,
        # One address may carry a whole tenant (server-to-server behind one NAT address), so by default the
        # per-IP rule cuts no tenant either; an explicit lower perIpLimit is the operator's choice.
        per_ip=waf.per_ip_limit if waf.per_ip_limit is not None else floor,
        floor=floor,
        highest_tier=highest,
    )


def check_waf(settings: Settings) -> None:
    """Refuse a per-Host limit that would refuse a tenant within its tier (one `ConfigError` line)."""
    if not settings.waf.enabled or settings.waf.per_tenant_limit is None:
        return
    limits = waf_limits(settings)
    if limits.per_host < limits.floor:
        tier = settings.tiers[limits.highest_tier]
        raise ConfigError(
            "waf.perTenantLimit",
            f"{show(limits.per_host)} is below {limits.floor:,} requests per 5 minutes, which a tenant of tier"
            f" {limits.highest_tier!r} may send within its plan ({tier.rate_limit:g}/s x 300 s + burst"
            f" {tier.burst_limit}, x{FLOOD_MARGIN} margin); raise it or leave it unset for that default",
        )


# The body of a rate rule's 429, in our error shape (docs "Our own error responses"). WAF answers before API
# Gateway has a request id, so the body has none. AWS WAF custom responses take precedence over API Gateway's
# gateway responses: https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html
RATE_LIMITED_BODY_KEY = "rate-limited"
RATE_LIMITED_BODY = json.dumps(
    {"error": "throttled", "reason": "rate-limit", "message": "Too many requests; slow down and retry"},
    separators=(",", ":"),
)
