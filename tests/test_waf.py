"""The web ACL in front of the stage (issue 9 §2), on the real program under the mock engine."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from components.waf import (
    CUSTOM_KEY_WCU,
    MANAGED_GROUPS,
    RATE_RULE_WCU,
    WCU_INCLUDED,
    web_acl_capacity,
)
from whitelabel.config import ConfigError, parse_settings
from whitelabel.offline import Registered, StackRun

ROOT = Path(__file__).resolve().parent.parent
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
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
    from tests.conftest import customers_config
    from whitelabel.offline import run_program

    config = customers_config([{"name": "acme"}], "prod")
    config["whitelabel-gateway:waf"] = {"mode": "count", "perTenantLimit": 500, "perIpLimit": 100}
    return run_program("prod", config)


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
        assert by_name[name]["action"] == {"block": {"customResponse": {"responseCode": 429}}}


def test_rate_rules_key_on_ip_and_on_the_host_header_over_five_minutes(prod: StackRun) -> None:
    rules = _rules(prod)
    per_ip = rules["per-ip-rate"]["statement"]["rateBasedStatement"]
    assert per_ip == {"aggregateKeyType": "IP", "limit": 1000, "evaluationWindowSec": 300}
    per_tenant = rules["per-tenant-rate"]["statement"]["rateBasedStatement"]
    assert per_tenant == {
        "aggregateKeyType": "CUSTOM_KEYS",
        "customKeys": [{"header": {"name": "Host", "textTransformations": [{"priority": 0, "type": "NONE"}]}}],
        "limit": 2000,
        "evaluationWindowSec": 300,
    }


def test_count_mode_only_counts_and_takes_the_configured_limits(counting: StackRun) -> None:
    rules = _rules(counting)
    for group in MANAGED_GROUPS:
        assert rules[group.name]["overrideAction"] == {"count": {}}, group.name
        assert "action" not in rules[group.name]
    for name, limit in (("per-ip-rate", 100), ("per-tenant-rate", 500)):
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
    assert prod.outputs["wafCapacity"] == 1009
    assert deployed <= WCU_INCLUDED


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
