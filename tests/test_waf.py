"""The web ACL in front of the stage (issue 9 §2, issue 14 §1 and §6), on the real program under the mock engine."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from whitelabel.api_definition import GATEWAY_RESPONSES, build_routes, definition_hash
from whitelabel.config import ConfigError, parse_settings
from whitelabel.offline import Registered, StackRun
from whitelabel.waf import (
    CUSTOM_KEY_WCU,
    FLOOD_MARGIN,
    MANAGED_GROUPS,
    RATE_RULE_WCU,
    WCU_INCLUDED,
    tier_window_ceiling,
    waf_limits,
    web_acl_capacity,
)

ROOT = Path(__file__).resolve().parent.parent
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
LOG_POLICY = "aws:cloudwatch/logResourcePolicy:LogResourcePolicy"
STAGE = "aws:apigateway/stage:Stage"
REST_API = "aws:apigateway/restApi:RestApi"
DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"

GROUPS = {g.name: g for g in MANAGED_GROUPS}


def _acl(run: StackRun) -> Registered:
    (acl,) = run.of_type(WEB_ACL)
    return acl


def _rules(run: StackRun) -> dict[str, dict[str, Any]]:
    return {rule["name"]: rule for rule in _acl(run).inputs["rules"]}


def _wcu_of(rule: dict[str, Any]) -> int:
    """A registered rule's capacity: the managed group's, or a rate rule's 2 plus 30 per custom key."""
    statement = rule["statement"]
    if "managedRuleGroupStatement" in statement:
        return GROUPS[statement["managedRuleGroupStatement"]["name"]].wcu
    rate = statement["rateBasedStatement"]
    return RATE_RULE_WCU + CUSTOM_KEY_WCU * len(rate.get("customKeys") or [])


@pytest.fixture(scope="module")
def counting() -> StackRun:
    from tests.conftest import customers_config, shared_run

    config = customers_config([{"name": "acme"}], "prod")
    # prod's highest tier (premium) floors perTenantLimit at 302,000; perIpLimit may go lower.
    config["whitelabel-gateway:waf"] = {"mode": "count", "perTenantLimit": 400_000, "perIpLimit": 100}
    return shared_run("prod", config)


def test_dev_has_no_firewall(dev: StackRun) -> None:
    assert [r for r in dev.custom if r.type.startswith("aws:wafv2/")] == []
    assert not [g for g in dev.of_type(LOG_GROUP) if str(g.inputs.get("name", "")).startswith("aws-waf-logs-")]
    assert "wafCapacity" not in dev.outputs and "webAclArn" not in dev.outputs
    (dashboard,) = dev.of_type(DASHBOARD)
    assert "AWS/WAFV2" not in dashboard.inputs["dashboardBody"]


def test_prod_has_one_regional_web_acl_allowing_by_default_with_metrics(prod: StackRun) -> None:
    acl = _acl(prod)
    assert acl.inputs["scope"] == "REGIONAL"
    assert acl.inputs["defaultAction"] == {"allow": {}}
    assert acl.inputs["name"] == "whitelabel-gateway-prod"
    assert acl.inputs["visibilityConfig"] == {
        "cloudwatchMetricsEnabled": True,
        "metricName": "whitelabel-gateway-prod",
        "sampledRequestsEnabled": True,
    }
    for rule in acl.inputs["rules"]:
        visibility = rule["visibilityConfig"]
        assert visibility["cloudwatchMetricsEnabled"] and visibility["sampledRequestsEnabled"], rule["name"]
        assert visibility["metricName"] == f"whitelabel-gateway-prod-{rule['name']}"
    assert prod.outputs["webAclArn"] == acl.outputs["arn"]


def test_rules_in_order_with_block_mode_actions(prod: StackRun) -> None:
    rules = _acl(prod).inputs["rules"]
    assert [(r["priority"], r["name"]) for r in rules] == list(
        enumerate(
            [
                "AWSManagedRulesAmazonIpReputationList",
                "per-ip-rate",
                "per-tenant-rate",
                "AWSManagedRulesAnonymousIpList",
                "AWSManagedRulesKnownBadInputsRuleSet",
                "AWSManagedRulesCommonRuleSet",
            ]
        )
    )
    by_name = _rules(prod)
    for name in (
        "AWSManagedRulesAmazonIpReputationList",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesCommonRuleSet",
    ):
        assert by_name[name]["overrideAction"] == {"none": {}}, name  # the group's own block actions
        assert by_name[name]["statement"]["managedRuleGroupStatement"] == {"vendorName": "AWS", "name": name}
    # It matches hosting providers' addresses, which server-to-server tenants use: it only counts.
    assert by_name["AWSManagedRulesAnonymousIpList"]["overrideAction"] == {"count": {}}
    for name in ("per-ip-rate", "per-tenant-rate"):
        assert by_name[name]["action"] == {
            "block": {"customResponse": {"responseCode": 429, "customResponseBodyKey": "rate-limited"}}
        }


def test_rate_rules_key_on_ip_and_on_the_lowercased_host_over_five_minutes(prod: StackRun) -> None:
    rules = _rules(prod)
    # prod's premium tier: 500/s x 300 s + burst 1,000 = 151,000 in a window; twice that is the default.
    per_ip = rules["per-ip-rate"]["statement"]["rateBasedStatement"]
    assert per_ip == {"aggregateKeyType": "IP", "limit": 302_000, "evaluationWindowSec": 300}
    per_tenant = rules["per-tenant-rate"]["statement"]["rateBasedStatement"]
    assert per_tenant == {
        "aggregateKeyType": "CUSTOM_KEYS",
        # `ACME.example.com` and `acme.example.com` are one tenant, so one counter.
        "customKeys": [{"header": {"name": "Host", "textTransformations": [{"priority": 0, "type": "LOWERCASE"}]}}],
        "limit": 302_000,
        "evaluationWindowSec": 300,
    }


def test_count_mode_only_counts_and_takes_the_configured_limits(counting: StackRun) -> None:
    rules = _rules(counting)
    for group in MANAGED_GROUPS:
        assert rules[group.name]["overrideAction"] == {"count": {}}, group.name
        assert "action" not in rules[group.name]
    for name, limit in (("per-ip-rate", 100), ("per-tenant-rate", 400_000)):
        assert rules[name]["action"] == {"count": {}}
        assert rules[name]["statement"]["rateBasedStatement"]["limit"] == limit


def test_the_web_acl_is_associated_with_the_stage_by_its_arn(prod: StackRun) -> None:
    (association,) = prod.of_type(ASSOCIATION)
    (api,) = prod.of_type(REST_API)
    (stage,) = prod.of_type(STAGE)
    # The stage ARN has no account: arn:aws:apigateway:region::/restapis/api-id/stages/stage-name.
    expected = f"arn:aws:apigateway:eu-west-1::/restapis/{api.id}/stages/prod"
    assert stage.outputs["arn"] == expected
    assert association.inputs == {"resourceArn": expected, "webAclArn": _acl(prod).outputs["arn"]}


def test_logs_go_to_an_aws_waf_logs_group_with_the_stacks_retention(prod: StackRun) -> None:
    (group,) = [g for g in prod.of_type(LOG_GROUP) if str(g.inputs.get("name", "")).startswith("aws-waf-logs-")]
    assert group.inputs["name"] == "aws-waf-logs-whitelabel-gateway-prod"
    assert group.inputs["retentionInDays"] == 90  # prod's logRetentionDays
    (logging,) = prod.of_type(LOGGING)
    assert logging.inputs["resourceArn"] == _acl(prod).outputs["arn"]
    assert logging.inputs["logDestinationConfigs"] == [group.outputs["arn"]]
    assert logging.inputs["redactedFields"] == [
        {"singleHeader": {"name": "authorization"}},
        {"singleHeader": {"name": "cookie"}},
    ]


def test_wcu_of_the_deployed_rules_fits_the_base_price(prod: StackRun) -> None:
    deployed = sum(_wcu_of(rule) for rule in _acl(prod).inputs["rules"])
    # Common 700 + KnownBadInputs 200 + AmazonIpReputationList 25 + AnonymousIpList 50
    # + per-IP rate rule 2 + per-Host rate rule 2 + 30 (one custom key).
    assert deployed == web_acl_capacity() == 1009
    assert deployed <= WCU_INCLUDED


def test_waf_capacity_is_the_web_acls_computed_capacity_and_agrees_with_ours(prod: StackRun) -> None:
    acl = _acl(prod)
    # The export is the provider's computed attribute (the mocks count the registered rules as AWS would)...
    assert "capacity" not in acl.inputs
    assert prod.outputs["wafCapacity"] == acl.outputs["capacity"]
    # ...and our own figure, which the offline plan shows, is the same number.
    assert acl.outputs["capacity"] == web_acl_capacity()


def test_waf_capacity_follows_what_aws_reports_not_our_count(monkeypatch: pytest.MonkeyPatch) -> None:
    import whitelabel.offline as offline

    # Should AWS count differently from us (say, text transformations on a custom key), the export says AWS's.
    monkeypatch.setattr(offline, "rules_capacity", lambda rules: 1234)
    assert offline.run_program("prod").outputs["wafCapacity"] == 1234 != web_acl_capacity()


def test_the_operations_dashboard_shows_the_web_acls_blocked_requests(prod: StackRun) -> None:
    (dashboard,) = prod.of_type(DASHBOARD)
    body = json.loads(dashboard.inputs["dashboardBody"])
    metrics = [
        line
        for widget in body["widgets"]
        for line in widget.get("properties", {}).get("metrics", [])
        if "AWS/WAFV2" in line
    ]
    assert metrics and all("whitelabel-gateway-prod" in line for line in metrics)


def test_the_waf_can_be_turned_on_in_dev_and_off_in_prod(run_with: Callable[..., StackRun]) -> None:
    on = run_with([{"name": "acme"}], waf={"enabled": True})
    assert len(on.of_type(WEB_ACL)) == len(on.of_type(ASSOCIATION)) == len(on.of_type(LOGGING)) == 1
    off = run_with([{"name": "acme"}], stack="prod", waf={"enabled": False})
    assert [r for r in off.custom if r.type.startswith("aws:wafv2/")] == []


@pytest.mark.parametrize(
    ("waf", "key"),
    [
        ({"mode": "deny"}, "waf.mode"),
        ({"perTenantLimit": 5}, "waf.perTenantLimit"),
        ({"perTenantLimit": 2000}, "waf.perTenantLimit"),
        ({"perIpLimit": 2_000_000_001}, "waf.perIpLimit"),
        ({"enabled": "yes"}, "waf.enabled"),
        ({"perIpLimt": 10}, "waf.perIpLimt"),
    ],
)
def test_waf_settings_aws_would_refuse_stop_in_one_line(waf: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings({"baseDomain": "example.com", "customers": [], "waf": waf}, root=ROOT)
    assert caught.value.key == key
    assert "\n" not in str(caught.value)


# -- limits derived from the tiers (issue 14 §1) ------------------------------------------------------------------

PREMIUM = {"standard": {"rateLimit": 50, "burstLimit": 100}, "premium": {"rateLimit": 500, "burstLimit": 1000}}


def _settings(waf: dict[str, Any], tiers: dict[str, Any] | None = None) -> Any:
    raw: dict[str, Any] = {"baseDomain": "example.com", "customers": [], "waf": waf}
    if tiers is not None:
        raw["tiers"] = tiers
    return parse_settings(raw, root=ROOT)


def test_default_limits_follow_the_highest_tier_with_the_margin() -> None:
    assert tier_window_ceiling(500, 1000) == 151_000
    limits = waf_limits(_settings({}, PREMIUM))
    assert (limits.per_host, limits.per_ip, limits.highest_tier) == (302_000, 302_000, "premium")
    assert FLOOD_MARGIN == 2
    # The default tier alone (50/s, burst 100): 2 x (15,000 + 100).
    assert waf_limits(_settings({})).per_host == 30_200
    # A faster tier raises both defaults with it.
    faster = waf_limits(_settings({}, {**PREMIUM, "platinum": {"rateLimit": 2000, "burstLimit": 4000}}))
    assert (faster.per_host, faster.per_ip, faster.highest_tier) == (1_208_000, 1_208_000, "platinum")


def test_a_per_host_limit_that_would_refuse_a_tenant_within_its_tier_is_refused_in_one_line() -> None:
    with pytest.raises(ConfigError) as caught:
        _settings({"perTenantLimit": 301_999}, PREMIUM)
    line = str(caught.value)
    assert caught.value.key == "waf.perTenantLimit"
    assert "\n" not in line and "302,000" in line and "'premium'" in line
    # At the floor, above it, and in count mode the same rule holds; a disabled WAF's leftover key is ignored.
    assert _settings({"perTenantLimit": 302_000}, PREMIUM).waf.per_tenant_limit == 302_000
    with pytest.raises(ConfigError):
        _settings({"mode": "count", "perTenantLimit": 2000}, PREMIUM)
    assert _settings({"enabled": False, "perTenantLimit": 2000}, PREMIUM).waf.per_tenant_limit == 2000


def test_an_explicit_lower_per_ip_limit_is_the_operators_choice(run_with: Callable[..., StackRun]) -> None:
    limits = waf_limits(_settings({"perIpLimit": 1000}, PREMIUM))
    assert (limits.per_host, limits.per_ip) == (302_000, 1000)
    run = run_with([{"name": "acme"}], stack="prod", waf={"perIpLimit": 1000, "perTenantLimit": 500_000})
    rules = _rules(run)
    assert rules["per-ip-rate"]["statement"]["rateBasedStatement"]["limit"] == 1000
    assert rules["per-tenant-rate"]["statement"]["rateBasedStatement"]["limit"] == 500_000


# -- responses (issue 14 §6) -----------------------------------------------------------------------------------


def test_rate_rule_blocks_answer_our_json_body(prod: StackRun) -> None:
    bodies = {b["key"]: b for b in _acl(prod).inputs["customResponseBodies"]}
    assert set(bodies) == {"rate-limited"}
    assert bodies["rate-limited"]["contentType"] == "APPLICATION_JSON"
    body = json.loads(bodies["rate-limited"]["content"])
    # Same `error` as API Gateway's THROTTLED response, so clients back off alike; `reason` tells them apart.
    assert body == {"error": "throttled", "reason": "rate-limit", "message": "Too many requests; slow down and retry"}
    referenced = {
        rule["action"]["block"]["customResponse"]["customResponseBodyKey"]
        for rule in _acl(prod).inputs["rules"]
        if "block" in rule.get("action", {})
    }
    assert referenced == set(bodies)


def test_managed_rule_blocks_get_the_waf_filtered_gateway_response_and_it_redeploys(prod: StackRun) -> None:
    (filtered,) = [r for r in GATEWAY_RESPONSES if r.response_type == "WAF_FILTERED"]
    assert filtered.status_code == "403"
    template = filtered.response_templates["application/json"]
    body = json.loads(template.replace("$context.requestId", "r-1"))
    assert body == {
        "error": "forbidden",
        "reason": "firewall",
        "message": "The firewall refused this request",
        "requestId": "r-1",
    }
    responses = prod.of_type("aws:apigateway/response:Response")
    deployed = [r for r in responses if r.inputs["responseType"] == "WAF_FILTERED"]
    assert len(deployed) == 1 and deployed[0].inputs["responseTemplates"] == filtered.response_templates
    # The deployment trigger covers it: the definition without it hashes differently.
    without = tuple(r for r in GATEWAY_RESPONSES if r.response_type != "WAF_FILTERED")
    assert definition_hash(build_routes(), {}) != definition_hash(build_routes(), {}, without)


# -- logging resource policy (issue 14 §6) ---------------------------------------------------------------------


def test_logging_waits_for_our_own_resource_policy_scoped_to_the_waf_log_group(prod: StackRun) -> None:
    (group,) = [g for g in prod.of_type(LOG_GROUP) if str(g.inputs.get("name", "")).startswith("aws-waf-logs-")]
    (policy,) = prod.of_type(LOG_POLICY)
    (acl,) = prod.of_type(WEB_ACL)
    assert policy.parent == acl.parent  # a child of the Waf component
    assert policy.inputs["policyName"] == "aws-waf-logs-whitelabel-gateway-prod"
    document = json.loads(policy.inputs["policyDocument"])
    (statement,) = document["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "delivery.logs.amazonaws.com"}
    assert sorted(statement["Action"]) == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert statement["Resource"] == f"{group.outputs['arn']}:log-stream:*"
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "123456789012"},
        "ArnLike": {"aws:SourceArn": "arn:aws:logs:eu-west-1:123456789012:*"},
    }
    (logging,) = prod.of_type(LOGGING)
    assert policy.urn in logging.dependencies


def test_dev_without_waf_has_no_log_resource_policy(dev: StackRun) -> None:
    assert dev.of_type(LOG_POLICY) == []


def test_the_offline_plan_shows_the_rate_limits_and_the_capacity(prod: StackRun, dev: StackRun) -> None:
    from tools import plan

    text = plan.render(prod)
    assert "WAF rate limits: per Host 302,000 and per IP 302,000 requests per 5 minutes;" in text
    assert "; 1,009 WCU (1,500 in the base price)" in text
    dev_text = plan.render(dev)
    assert "WAF: off" in dev_text and "WAF rate limits" not in dev_text
