"""The web application firewall in front of the stage: AWS managed rule groups, rate limits per tenant
hostname and per client IP, metrics on every rule, and logs in CloudWatch."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from whitelabel.config import Settings
from whitelabel.protection import resource_options
from whitelabel.waf import (
    EVALUATION_WINDOW_SECONDS,
    MANAGED_GROUPS,
    PER_IP_RULE,
    PER_TENANT_RULE,
    RATE_LIMITED_BODY,
    RATE_LIMITED_BODY_KEY,
    ManagedGroup,
    waf_limits,
    web_acl_capacity,
)


def _visibility(metric_name: str) -> Any:
    # Metrics in CloudWatch (AWS/WAFV2, per rule) and sampled requests in the console, on every rule.
    return {"cloudwatch_metrics_enabled": True, "metric_name": metric_name, "sampled_requests_enabled": True}


def web_acl_rules(block: bool, per_ip_limit: int, per_host_limit: int, metric_prefix: str) -> list[Any]:
    """The web ACL's rules as `wafv2.WebAcl` takes them, in priority order.

    block: managed groups act as AWS ships them (override none) and the rate rules answer 429 with our body;
        otherwise everything only counts, for tuning against real traffic.
    per_ip_limit, per_host_limit: requests per 5 minutes (`whitelabel.waf.waf_limits`).
    """
    rules: list[Any] = []
    for group in MANAGED_GROUPS[:1]:
        rules.append(_managed_rule(group, len(rules), block, metric_prefix))
    # Rate rules right after the reputation list: they count every request that reaches them.
    # Per IP: bounds one address across every Host, e.g. one that rotates Host values (each new one is a fresh
    # per-Host counter and an uncached tenant-authorizer call).
    rules.append(_rate_rule(PER_IP_RULE, len(rules), {"aggregate_key_type": "IP"}, per_ip_limit, block, metric_prefix))
    rules.append(
        _rate_rule(
            PER_TENANT_RULE,
            len(rules),
            {
                # One counter per tenant hostname. Host names are case-insensitive, so the key is the lowercased
                # Host: `ACME.example.com` and `acme.example.com` share one counter (a rate-based custom key
                # takes text transformations applied before aggregation: RateLimitHeader,
                # https://docs.aws.amazon.com/waf/latest/APIReference/API_RateLimitHeader.html).
                "aggregate_key_type": "CUSTOM_KEYS",
                "custom_keys": [
                    {"header": {"name": "Host", "text_transformations": [{"priority": 0, "type": "LOWERCASE"}]}}
                ],
            },
            per_host_limit,
            block,
            metric_prefix,
        )
    )
    for group in MANAGED_GROUPS[1:]:
        rules.append(_managed_rule(group, len(rules), block, metric_prefix))
    return rules


def _managed_rule(group: ManagedGroup, priority: int, block: bool, metric_prefix: str) -> dict[str, Any]:
    # `none` keeps the group's own actions (block); `count` turns every one of them into a count. Their blocks
    # carry no custom response, so API Gateway answers them with our WAF_FILTERED gateway response.
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
    # Too many requests is 429, so clients back off as they do for API Gateway's own throttling, with our
    # JSON body (a WAF custom response wins over API Gateway's gateway responses).
    custom_response = {"response_code": 429, "custom_response_body_key": RATE_LIMITED_BODY_KEY}
    action = {"block": {"custom_response": custom_response}} if block else {"count": {}}
    return {
        "name": name,
        "priority": priority,
        "action": action,
        "statement": {
            "rate_based_statement": {**key, "limit": limit, "evaluation_window_sec": EVALUATION_WINDOW_SECONDS}
        },
        "visibility_config": _visibility(f"{metric_prefix}-{name}"),
    }


def log_delivery_policy(log_group_arn: str) -> str:
    """The CloudWatch Logs resource policy that lets WAF's log delivery write to one log group, as AWS gives it
    for vended logs (principal delivery.logs.amazonaws.com, CreateLogStream/PutLogEvents on the group's streams,
    only for deliveries from this account and region):
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/AWS-logs-infrastructure-CWL.html

    log_group_arn: `arn:<partition>:logs:<region>:<account>:log-group:<name>` (no `:*`).
    """
    partition, region, account = (log_group_arn.split(":")[i] for i in (1, 3, 4))
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "WafLogDelivery",
                    "Effect": "Allow",
                    "Principal": {"Service": "delivery.logs.amazonaws.com"},
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": f"{log_group_arn}:log-stream:*",
                    "Condition": {
                        "StringEquals": {"aws:SourceAccount": account},
                        "ArnLike": {"aws:SourceArn": f"arn:{partition}:logs:{region}:{account}:*"},
                    },
                }
            ],
        },
        separators=(",", ":"),
    )


@dataclass(frozen=True)
class WafArgs:
    """Inputs of the WAF.

    resource_prefix: names the web ACL (and its CloudWatch metric), its log group (`aws-waf-logs-<prefix>`: WAF
        delivers only to log groups named so) and the log group's resource policy.
    stage_arn: `arn:aws:apigateway:<region>::/restapis/<api id>/stages/<stage>`, the stage to protect.
    block: `waf.mode: block`; False only counts.
    per_ip_limit, per_host_limit: the rate rules' limits, requests per 5 minutes.
    protect: protected production (`protectResources`): the WAF log group is retained on delete.
    """

    resource_prefix: str
    stage_arn: pulumi.Input[str]
    block: bool
    per_ip_limit: int
    per_host_limit: int
    log_retention_days: int
    protect: bool = False

    @classmethod
    def from_settings(cls, settings: Settings, prefix: str, stage_arn: pulumi.Input[str]) -> WafArgs:
        limits = waf_limits(settings)
        return cls(
            resource_prefix=prefix,
            stage_arn=stage_arn,
            block=settings.waf.mode == "block",
            per_ip_limit=limits.per_ip,
            per_host_limit=limits.per_host,
            log_retention_days=settings.log_retention_days,
            protect=settings.protect_resources,
        )


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
            rules=web_acl_rules(args.block, args.per_ip_limit, args.per_host_limit, args.resource_prefix),
            # Referenced by the rate rules' 429 (`custom_response_body_key`).
            custom_response_bodies=[
                {"key": RATE_LIMITED_BODY_KEY, "content": RATE_LIMITED_BODY, "content_type": "APPLICATION_JSON"}
            ],
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
        # WAF logs only to destinations whose name starts with `aws-waf-logs-`:
        # https://docs.aws.amazon.com/waf/latest/developerguide/logging-cw-logs.html
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"aws-waf-logs-{args.resource_prefix}",
            retention_in_days=args.log_retention_days,
            opts=resource_options("log-group", args.protect, parent=self),
        )
        # Without a policy that already lets log delivery write to the group, PutLoggingConfiguration adds a
        # statement to an account-wide resource policy (at most 10 per region, 5,120 characters each), which
        # fails in busy accounts. Ours names only this group, and logging waits for it; CloudWatch Logs adds
        # nothing when a policy already grants the delivery:
        # https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/AWS-logs-infrastructure-CWL.html
        self.log_policy = aws.cloudwatch.LogResourcePolicy(
            f"{name}-log-policy",
            policy_name=f"aws-waf-logs-{args.resource_prefix}",
            policy_document=self.log_group.arn.apply(log_delivery_policy),
            opts=child,
        )
        self.logging = aws.wafv2.WebAclLoggingConfiguration(
            f"{name}-logging",
            resource_arn=self.web_acl.arn,
            log_destination_configs=[self.log_group.arn],
            # Tenants' callers may send credentials of their own; they stay out of the firewall's logs.
            redacted_fields=[{"single_header": {"name": "authorization"}}, {"single_header": {"name": "cookie"}}],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.log_policy]),
        )

        # AWS's count of the deployed rules (the provider's computed `capacity`); `computed_capacity` is ours,
        # which the offline plan shows and a test holds equal to what the mocks report.
        self.capacity: pulumi.Output[int] = self.web_acl.capacity
        self.computed_capacity = web_acl_capacity()
        self.web_acl_arn = self.web_acl.arn
        self.log_group_name = self.log_group.name
        self.register_outputs(
            {"webAclArn": self.web_acl_arn, "metricName": self.metric_name, "capacity": self.capacity}
        )
