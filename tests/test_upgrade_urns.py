"""Upgrade in place: a dev or prod stack deployed from 06dc122 keeps every resource under this program.

The fixtures (tests/fixtures/urns-<stack>.json, written by `python -m tools.urns` from 06dc122 and its stack
files) hold what that program registered. This tree's program runs on the same stack-file config; every old
URN must be claimed by exactly one new resource, by its URN or an alias resolved as the engine resolves it
(a parent's alias carries over to its children), and keep its inputs but for the allow-list below.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pulumi
import pytest

from tools.urns import STACK_TYPE, AliasAwareMocks, Report, check, run_current, snapshot
from whitelabel.offline import ROOT, run_function

STACKS = ("dev", "prod")
FIXTURES = ROOT / "tests" / "fixtures"


def _urn(stack: str, path: str) -> str:
    return f"urn:pulumi:{stack}::whitelabel-gateway::{path}"


_QUERIES = (
    "latency-by-tenant",
    "refused-by-host",
    "requests-and-error-rate-by-tenant",
    "tenant-recent-errors",
    "top-tenants-by-traffic",
)
_OPS = "whitelabel:operations:Operations$aws:cloudwatch"
_GATEWAY = "whitelabel:gateway:Gateway$aws:apigateway"
_WEB_ACL = "whitelabel:waf:Waf$aws:wafv2/webAcl:WebAcl::waf-web-acl"
_AUTHORIZER = "whitelabel:tenant_authorizer:TenantAuthorizer$aws:lambda"

# (old URN, input) → why merged work changed it on purpose, from the commit that did. Each is an update in
# place except the Deployment's triggers, which make the new deployment every API change makes (README).
ALLOWED: dict[tuple[str, str], str] = {
    **{
        (_urn(stack, f"{_OPS}/queryDefinition:QueryDefinition::operations-query-{query}"), "queryString"): (
            "6c776c7: saved queries use only documented Logs Insights commands and functions"
        )
        for stack in STACKS
        for query in _QUERIES
    },
    **{
        (_urn(stack, f"{_OPS}/dashboard:Dashboard::operations-dashboard"), "dashboardBody"): (
            "6c776c7: the dashboard's log widgets run the saved queries, rewritten with documented functions only; "
            "0ec10d7: a widget for the saved query refused-tokens-by-tenant (issue 18); "
            "issue 23: a row for the tenant authorizer (Lambda Errors labelled as holding every 401, its failures, "
            "concurrency and throttles) and the alarm list without authorizer-errors"
        )
        for stack in STACKS
    },
    **{
        (_urn(stack, f"{_GATEWAY}/stage:Stage::gateway-stage"), "accessLogSettings"): (
            "da9b635: the access log keeps client text out of the JSON line (issue 14)"
        )
        for stack in STACKS
    },
    **{
        (_urn(stack, f"{_GATEWAY}/deployment:Deployment::gateway-deployment"), "triggers"): (
            "598e39e: the WAF_FILTERED gateway response joins the API definition, so the API is redeployed; "
            "ec200e5: the user headers join the integrations' parameters (issue 18)"
        )
        for stack in STACKS
    },
    **{
        (_urn(stack, f"{_GATEWAY}/response:Response::gateway-response-unauthorized"), field): (
            "issue 23 §5: the 401 says a bearer token is missing or invalid and challenges with "
            "WWW-Authenticate: Bearer (an update in place of the gateway response)"
        )
        for stack in STACKS
        for field in ("responseParameters", "responseTemplates")
    },
    (_urn("prod", _WEB_ACL), "rules"): (
        "598e39e: WAF rate limits derived from the tiers, per-Host key lowercased, rate-rule 429s with our JSON body"
    ),
    (_urn("prod", _WEB_ACL), "customResponseBodies"): "598e39e: the rate rules' 429 answers carry our JSON body",
    **{
        (_urn(stack, f"{_AUTHORIZER}/function:Function::tenant-authorizer-function"), "code"): (
            "e06f5f4, d600a9b: the tenant authorizer checks mutual-TLS customers' certificate issuers (issue 14); "
            "fd4f86c, ec200e5: it verifies end-user JWTs and returns userId/scopes on every Allow (issue 18)"
        )
        for stack in STACKS
    },
    **{
        (_urn(stack, f"{_GATEWAY}/integration:Integration::gateway-integration-{route}"), "requestParameters"): (
            "e06f5f4: X-Tenant-Domain is the hostname the authorizer matched, not the client's Host (issue 14); "
            "ec200e5: X-User-Id and X-User-Scopes from the authorizer's context (issue 18)"
        )
        for stack in STACKS
        for route in ("service1-any", "service1-proxy-any", "service2-any", "service2-proxy-any")
    },
}


# Old URN → why merged work deletes it on purpose (docs "Operating it" says so to the operator). Nothing else may
# be lost: a deleted resource here is a resource gone from a deployed stack.
REMOVED: dict[str, str] = {
    _urn(stack, f"{_OPS}/metricAlarm:MetricAlarm::operations-alarm-authorizer-errors"): (
        "issue 23: the alarm on the authorizer's Lambda Errors paged on every 401 (a raised 'Unauthorized' is a "
        "Lambda error); authorizer-failures (access log) and authorizer-error-decisions (its log) replace it"
    )
    for stack in STACKS
}


def allowed_for(stack: str) -> dict[tuple[str, str], str]:
    return {key: why for key, why in ALLOWED.items() if key[0].startswith(f"urn:pulumi:{stack}::")}


def removed_for(stack: str) -> set[str]:
    return {urn for urn in REMOVED if urn.startswith(f"urn:pulumi:{stack}::")}


def _message(report: Report) -> str:
    return "an upgrade from 06dc122 would not keep every resource:\n  " + "\n  ".join(report.problems)


@pytest.fixture(scope="module", params=STACKS)
def upgrade(request: pytest.FixtureRequest) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fixture of one stack and this program's run on the fixture's stack-file config (once per module)."""
    fixture = json.loads((FIXTURES / f"urns-{request.param}.json").read_text())
    return fixture, run_current(fixture)


def test_every_old_urn_is_claimed_by_exactly_one_new_resource(upgrade: tuple[dict[str, Any], dict[str, Any]]) -> None:
    fixture, current = upgrade
    report = check(fixture, current, allowed_for(fixture["stack"]))
    shared = [old for old, news in report.claimed_by.items() if len(news) > 1]
    removed = removed_for(fixture["stack"])
    # Exactly the removals listed: an entry that no longer matches a deletion is removed from the list too.
    assert not (set(report.lost) ^ removed or shared), _message(report)
    assert set(report.claimed_by) == {r["urn"] for r in fixture["resources"]} - removed


def test_kept_resources_keep_their_inputs_but_for_the_allow_list(
    upgrade: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    fixture, current = upgrade
    report = check(fixture, current, allowed_for(fixture["stack"]))
    # An entry that no longer matches a change is removed, so the list says only what is true.
    assert not (report.changed or report.retyped or report.stale_allowed), _message(report)


def test_the_fixtures_hold_engine_urns_of_the_program_as_deployed() -> None:
    for stack in STACKS:
        fixture = json.loads((FIXTURES / f"urns-{stack}.json").read_text())
        assert fixture["source"] == "06dc122" and fixture["stack"] == stack
        urns = {r["urn"] for r in fixture["resources"]}
        assert len(urns) == len(fixture["resources"]) > 150
        stack_urn = _urn(stack, f"{STACK_TYPE}::whitelabel-gateway-{stack}")
        for r in fixture["resources"]:
            # The engine's form: no stack type in the chain, the parent's whole chain before the type.
            assert "pulumi:pulumi:Stack$" not in r["urn"]
            assert r["parent"] == stack_urn or r["parent"] in urns
            parent_chain = "" if r["parent"] == stack_urn else r["parent"].split("::")[2] + "$"
            assert r["urn"] == _urn(stack, f"{parent_chain}{r['type']}::{r['name']}")
        secrets = [r for r in fixture["resources"] if "secret" in json.dumps(r["inputs"])]
        assert secrets and "9e58" not in json.dumps(secrets)  # the tenants' items: key values hashed


def test_a_resource_renamed_without_an_alias_in_the_real_program_is_reported(
    upgrade: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    fixture, current = upgrade
    renamed = json.loads(json.dumps(current))
    # The reference program's stage: `whitelabel-gateway-stage`, which the gateway's alias maps to `gateway-stage`.
    (stage,) = [r for r in renamed["resources"] if r["name"] == "whitelabel-gateway-stage"]
    new = stage["urn"]
    stage["urn"], stage["name"] = new.replace("-gateway-stage", "-gateway-main-stage"), "whitelabel-gateway-main-stage"
    report = check(fixture, renamed, allowed_for(fixture["stack"]))
    old = _urn(fixture["stack"], f"{_GATEWAY.rpartition('$')[0]}$aws:apigateway/stage:Stage::gateway-stage")
    assert set(report.lost) - removed_for(fixture["stack"]) == {old}
    assert f"no new resource claims {old}: the engine would delete it (created instead, same type: {stage['urn']})" in (
        report.problems
    )


# -- the checker itself, on tiny programs run under the same machinery -----------------------------------------


class Box(pulumi.ComponentResource):
    """A component with a queue and a policy that reads the queue's ID, as our components' children do."""

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("test:index:Box", name, None, opts)
        queue = pulumi.CustomResource(
            "aws:sqs/queue:Queue", f"{name}-queue", {"delaySeconds": 0}, pulumi.ResourceOptions(parent=self)
        )
        pulumi.CustomResource(
            "aws:sqs/queuePolicy:QueuePolicy",
            f"{name}-policy",
            {"queueUrl": queue.id},
            pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({})


class Outer(pulumi.ComponentResource):
    def __init__(self, name: str) -> None:
        super().__init__("test:index:Outer", name, None)
        self.register_outputs({})


def _run(build: Callable[[], None], before: dict[str, Any] | None = None) -> dict[str, Any]:
    """A program's fixture document; with `before`, answered as the engine would upgrading from it."""
    olds = {r["urn"] for r in before["resources"]} if before else set()
    mocks = AliasAwareMocks("eu-west-1", "dev", olds)
    run_function(build, "dev", {}, mocks)
    return snapshot("dev", {}, mocks.registered)


@pytest.fixture(scope="module")
def deployed() -> dict[str, Any]:
    """The tiny program as deployed: component `box` with `box-queue` and `box-policy`."""

    def build() -> None:
        Box("box")

    return _run(build)


def test_checker_reports_a_child_renamed_without_an_alias(deployed: dict[str, Any]) -> None:
    def build() -> None:
        # The queue's name changes ("box-queue" → "box-fifo"), nothing says what it was.
        component = pulumi.ComponentResource("test:index:Box", "box")
        pulumi.CustomResource(
            "aws:sqs/queue:Queue", "box-fifo", {"delaySeconds": 0}, pulumi.ResourceOptions(parent=component)
        )

    report = check(deployed, _run(build, deployed))
    old = _urn("dev", "test:index:Box$aws:sqs/queue:Queue::box-queue")
    assert old in report.lost
    assert any(line.startswith(f"no new resource claims {old}") and "box-fifo" in line for line in report.problems)


def test_checker_accepts_a_rename_with_an_alias_and_keeps_dependents_inputs(deployed: dict[str, Any]) -> None:
    def build() -> None:
        class Renamed(pulumi.ComponentResource):
            def __init__(self, name: str) -> None:
                super().__init__("test:index:Box", name, None)
                queue = pulumi.CustomResource(
                    "aws:sqs/queue:Queue",
                    f"{name}-fifo",
                    {"delaySeconds": 0},
                    pulumi.ResourceOptions(parent=self, aliases=[pulumi.Alias(name=f"{name}-queue")]),
                )
                pulumi.CustomResource(
                    "aws:sqs/queuePolicy:QueuePolicy",
                    f"{name}-policy",
                    {"queueUrl": queue.id},
                    pulumi.ResourceOptions(parent=self),
                )

        Renamed("box")

    report = check(deployed, _run(build, deployed))
    assert report.problems == []
    old = _urn("dev", "test:index:Box$aws:sqs/queue:Queue::box-queue")
    assert report.claimed_by[old] == [_urn("dev", "test:index:Box$aws:sqs/queue:Queue::box-fifo")]


def test_checker_applies_a_moved_parents_alias_to_its_children(deployed: dict[str, Any]) -> None:
    """Issue 16's shape: the component moves under a new parent and is renamed; only it carries an alias."""

    def build() -> None:
        outer = Outer("wlg")
        Box("wlg-box", opts=pulumi.ResourceOptions(parent=outer, aliases=[pulumi.Alias(name="box", parent=None)]))

    moved = _run(build, deployed)
    # The SDK sends no alias for the children: the engine multiplies the parent's alias into them.
    (queue,) = [r for r in moved["resources"] if r["name"] == "wlg-box-queue"]
    assert queue["aliases"] == []
    report = check(deployed, moved)
    assert report.problems == []
    assert report.claimed_by[_urn("dev", "test:index:Box$aws:sqs/queue:Queue::box-queue")] == [
        _urn("dev", "test:index:Outer$test:index:Box$aws:sqs/queue:Queue::wlg-box-queue")
    ]

    def build_without_alias() -> None:
        Box("wlg-box", opts=pulumi.ResourceOptions(parent=Outer("wlg")))

    assert len(check(deployed, _run(build_without_alias, deployed)).lost) == 3


def test_checker_reports_two_resources_claiming_one_old_urn(deployed: dict[str, Any]) -> None:
    old = _urn("dev", "test:index:Box$aws:sqs/queue:Queue::box-queue")

    def build() -> None:
        Box("box")
        pulumi.CustomResource(
            "aws:sqs/queue:Queue", "spare", {"delaySeconds": 0}, pulumi.ResourceOptions(aliases=[old])
        )

    report = check(deployed, _run(build, deployed))
    # Registration order decides which of the two the engine refuses; either way it is an error.
    assert sorted(report.claimed_by[old]) == sorted([old, _urn("dev", "aws:sqs/queue:Queue::spare")])
    assert any(line.startswith(f"{old} is claimed by 2 new resources") for line in report.problems)


def test_checker_reports_changed_inputs_unless_allowed_and_stale_allowances(deployed: dict[str, Any]) -> None:
    def build() -> None:
        component = pulumi.ComponentResource("test:index:Box", "box")
        pulumi.CustomResource(
            "aws:sqs/queue:Queue", "box-queue", {"delaySeconds": 5}, pulumi.ResourceOptions(parent=component)
        )
        pulumi.CustomResource(
            "aws:sqs/queuePolicy:QueuePolicy",
            "box-policy",
            {"queueUrl": "box-queue-" + "0" * 8},
            pulumi.ResourceOptions(parent=component),
        )

    changed = _run(build, deployed)
    queue = _urn("dev", "test:index:Box$aws:sqs/queue:Queue::box-queue")
    policy = _urn("dev", "test:index:Box$aws:sqs/queuePolicy:QueuePolicy::box-policy")
    report = check(deployed, changed)
    assert set(report.changed) == {(queue, "delaySeconds"), (policy, "queueUrl")}
    allowed = {(queue, "delaySeconds"): "slower", (policy, "queueUrl"): "moved", (queue, "fifoQueue"): "never"}
    report = check(deployed, changed, allowed)
    assert report.changed == {}
    assert report.problems == [f"allow-list entry ({queue}, 'fifoQueue') matches no change: remove it"]
