"""The web application firewall in front of the stage: AWS managed rule groups, rate limits per tenant
hostname and per client IP, metrics on every rule, and logs in CloudWatch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from whitelabel.config import WafSettings
from whitelabel.protection import resource_options

# A rate-based rule's window: requests are counted over the last 300 s (EvaluationWindowSec: 60, 120, 300
# or 600; https://docs.aws.amazon.com/waf/latest/APIReference/API_RateBasedStatement.html).
EVALUATION_WINDOW_SECONDS = 300

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
    # Core rule set. Its SizeRestrictions_BODY blocks request bodies over 8 KB (README "WAF").
    ManagedGroup("AWSManagedRulesCommonRuleSet", 700),
)

# Rule names (and metric names) of the two rate rules.
PER_IP_RULE = "per-ip-rate"
PER_TENANT_RULE = "per-tenant-rate"


def web_acl_capacity() -> int:
    """The web ACL's WCU: the managed groups, the per-IP rate rule (IP is a built-in key, no custom key) and
    the per-tenant rule (one custom key, the Host header)."""
    return sum(g.wcu for g in MANAGED_GROUPS) + RATE_RULE_WCU + (RATE_RULE_WCU + CUSTOM_KEY_WCU)


def _visibility(metric_name: str) -> Any:
    # Metrics in CloudWatch (AWS/WAFV2, per rule) and sampled requests in the console, on every rule.
    return {"cloudwatch_metrics_enabled": True, "metric_name": metric_name, "sampled_requests_enabled": True}


def web_acl_rules(settings: WafSettings, metric_prefix: str) -> list[Any]:
    """The web ACL's rules as `wafv2.WebAcl` takes them, in priority order.

    block mode: managed groups act as AWS ships them (override none) and the rate rules answer 429;
    count mode: everything only counts, for tuning against real traffic.
    """
    block = settings.mode == "block"
    rules: list[Any] = []
    for group in MANAGED_GROUPS[:1]:
        rules.append(_managed_rule(group, len(rules), block, metric_prefix))
    # Rate rules right after the reputation list: they count every request that reaches them.
    rules.append(
        _rate_rule(
            PER_IP_RULE,
            len(rules),
            {"aggregate_key_type": "IP"},
            settings.per_ip_limit,
            block,
            metric_prefix,
        )
    )
    rules.append(
        _rate_rule(
            PER_TENANT_RULE,
            len(rules),
            {
                # One counter per Host header value, i.e. per tenant hostname. No text transformation: a
                # client that varies the case splits only its own counts, and the per-IP rule still bounds it.
                "aggregate_key_type": "CUSTOM_KEYS",
                "custom_keys": [
                    {"header": {"name": "Host", "text_transformations": [{"priority": 0, "type": "NONE"}]}}
                ],
            },
            settings.per_tenant_limit,
            block,
            metric_prefix,
        )
    )
    for group in MANAGED_GROUPS[1:]:
        rules.append(_managed_rule(group, len(rules), block, metric_prefix))
    return rules


def _managed_rule(group: ManagedGroup, priority: int, block: bool, metric_prefix: str) -> dict[str, Any]:
    # `none` keeps the group's own actions (block); `count` turns every one of them into a count.
    override: dict[str, Any] = {"none": {}} if block and not group.always_count else {"count": {}}
    return {
        "name": group.name,
        "priority": priority,
        "override_action": override,
        "statement": {"managed_rule_group_statement": {"vendor_name": "AWS", "name": group.name}},
        "visibility_config": _visibility(f"{metric_prefix}-{group.name}"),
    }


def _rate_rule(
    name: str, priority: int, key: dict[str, Any], limit: int, block: bool, metric_prefix: str
) -> dict[str, Any]:
    # Too many requests is 429, so clients back off as they do for API Gateway's own throttling.
    action = {"block": {"custom_response": {"response_code": 429}}} if block else {"count": {}}
    return {
        "name": name,
        "priority": priority,
        "action": action,
        "statement": {
            "rate_based_statement": {**key, "limit": limit, "evaluation_window_sec": EVALUATION_WINDOW_SECONDS}
        },
        "visibility_config": _visibility(f"{metric_prefix}-{name}"),
    }


@dataclass(frozen=True)
class WafArgs:
    """Inputs of the WAF.

    resource_prefix: names the web ACL (and its CloudWatch metric) and its log group
        (`aws-waf-logs-<prefix>`: WAF delivers only to log groups named so).
    stage_arn: `arn:aws:apigateway:<region>::/restapis/<api id>/stages/<stage>`, the stage to protect.
    protect: protected production (`protectResources`): the WAF log group is retained on delete.
    """

    resource_prefix: str
    stage_arn: pulumi.Input[str]
    settings: WafSettings
    log_retention_days: int
    protect: bool = False


class Waf(pulumi.ComponentResource):
    """A regional web ACL associated with the API's stage, with its logging configuration."""

    def __init__(self, name: str, args: WafArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("whitelabel:waf:Waf", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.metric_name = args.resource_prefix
        self.web_acl = aws.wafv2.WebAcl(
            f"{name}-web-acl",
            name=args.resource_prefix,
            description="White-label gateway: managed rule groups, per-tenant and per-IP rate limits",
            # REGIONAL: an API Gateway stage (CLOUDFRONT is for distributions).
            scope="REGIONAL",
            default_action=aws.wafv2.WebAclDefaultActionArgs(allow=aws.wafv2.WebAclDefaultActionAllowArgs()),
            rules=web_acl_rules(args.settings, args.resource_prefix),
            visibility_config=_visibility(self.metric_name),
            opts=child,
        )
        # A REST API stage is protected by associating the web ACL with the stage's ARN:
        # https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-control-access-aws-waf.html
        self.association = aws.wafv2.WebAclAssociation(
            f"{name}-association",
            resource_arn=args.stage_arn,
            web_acl_arn=self.web_acl.arn,
            opts=child,
        )
        # WAF logs only to destinations whose name starts with `aws-waf-logs-`; for a CloudWatch log group it
        # creates the log-delivery resource policy itself on PutLoggingConfiguration:
        # https://docs.aws.amazon.com/waf/latest/APIReference/API_LoggingConfiguration.html
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"aws-waf-logs-{args.resource_prefix}",
            retention_in_days=args.log_retention_days,
            opts=resource_options("log-group", args.protect, parent=self),
        )
        self.logging = aws.wafv2.WebAclLoggingConfiguration(
            f"{name}-logging",
            resource_arn=self.web_acl.arn,
            log_destination_configs=[self.log_group.arn],
            # Tenants' callers may send credentials of their own; they stay out of the firewall's logs.
            redacted_fields=[{"single_header": {"name": "authorization"}}, {"single_header": {"name": "cookie"}}],
            opts=child,
        )

        self.capacity = web_acl_capacity()
        self.web_acl_arn = self.web_acl.arn
        self.log_group_name = self.log_group.name
        self.register_outputs(
            {"webAclArn": self.web_acl_arn, "metricName": self.metric_name, "capacity": self.capacity}
        )
