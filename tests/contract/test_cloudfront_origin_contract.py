"""Contract: what CloudFront sends the origin for an own domain reaches the right tenant (issue 26 §7).

The stack is `examples/own-domains/Pulumi.own-domains.yaml` (`customDomains.via: cloudFront`), applied by
`tools/applier.py` like every contract stack: API, authorizer, registry items, as the program registers them.
CloudFront is not in LocalStack community (the applier lists its resources as ignored), so this case plays its part
from what the program registers for it:

1. The viewer-request function: its code is the registered `aws:cloudfront/function:Function`'s, run in node on a
   CloudFront Functions viewer-request event (the structure of "CloudFront Functions event structure",
   https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/functions-event-structure.html) whose Host is
   the customer's own domain, with an `X-Forwarded-Host` the client forged. It runs in a fresh `vm` context: no Node
   module, no `process`, as the CloudFront Functions runtime has none.
2. The origin request: Host is the registered origin, `{{tenant}}.<baseDomain>` with the distribution tenant's
   registered `tenant` parameter (CloudFront connects to the origin by its name and, as the origin request policy
   forwards no Host, sends that name as Host); every other header is the function's result, as the registered origin
   request policy, Managed-AllViewerExceptHostHeader, forwards "all headers in viewer requests" except Host
   (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-origin-request-policies.html).
3. That request goes to the applied stage with that Host (the suite's way to reach a custom domain here).

Then the backend stand-in sees the right `X-Tenant-Id`, the viewer's domain in `X-Forwarded-Host` (the forged one
gone), and the emulator's record shows the real authorizer allowed the subdomain's Host. Not proven: CloudFront's
own handling (TLS, SNI, the policies themselves), only that what it would send is served as the right tenant.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from typing import Any

import pytest

from tools.applier import Applied
from whitelabel.cloudfront import ALL_VIEWER_EXCEPT_HOST_POLICY_ID
from whitelabel.offline import Registered, stack_file_text_config

from .conftest import PROJECT, REPO

pytestmark = pytest.mark.contract

EXAMPLE = REPO / "examples" / "own-domains" / "Pulumi.own-domains.yaml"
VIEWER_DOMAIN = "api.umbrella.com"  # umbrella's own domain in the example
FORGED = "api.globex.net"  # another customer's own domain, sent by the client
NODE_TIMEOUT_S = 30.0

# Runs the registered code as CloudFront Functions would: `handler(event)` in a context of its own, bounded in time.
RUNNER = """
const vm = require('vm');
const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const sandbox = { event: input.event };
vm.runInNewContext(input.code + '\\n;__result = handler(event);', sandbox, { timeout: 1000 });
process.stdout.write(JSON.stringify(sandbox.__result));
"""


def node() -> str:
    found = shutil.which("node")
    if found is None:
        pytest.fail(
            "node is not on PATH: this contract case runs the CloudFront Function's code in node "
            "(Debian: apt-get install nodejs; .ci/run installs it)"
        )
    return found


def run_viewer_request(code: str, event: dict[str, Any]) -> dict[str, Any]:
    """The request the function returns for `event` (a viewer-request function returns the request)."""
    done = subprocess.run(
        [node(), "-e", RUNNER],
        input=json.dumps({"code": code, "event": event}),
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def viewer_request_event(edge: Applied, host: str, headers: dict[str, str]) -> dict[str, Any]:
    (group,) = edge.run.of_type("aws:cloudfront/connectionGroup:ConnectionGroup")
    (distribution,) = edge.run.of_type("aws:cloudfront/multitenantDistribution:MultitenantDistribution")
    return {
        "version": "1.0",
        "context": {
            # A multi-tenant distribution's event names its connection group's endpoint, not a distribution domain.
            "endpoint": group.outputs["routingEndpoint"],
            "distributionId": distribution.id,
            "eventType": "viewer-request",
            "requestId": "contract-viewer-request",
        },
        "viewer": {"ip": "198.51.100.7"},
        "request": {
            "method": "GET",
            "uri": "/service1/orders/7",
            "querystring": {},
            # Header names are lowercase in the event, as CloudFront passes them.
            "headers": {"host": {"value": host}, **{k.lower(): {"value": v} for k, v in headers.items()}},
            "cookies": {},
        },
    }


def tenant_of(edge: Applied, domain: str) -> Registered:
    (tenant,) = [
        t
        for t in edge.run.of_type("aws:cloudfront/distributionTenant:DistributionTenant")
        if {"domain": domain} in t.inputs["domains"]
    ]
    return tenant


def origin_host(edge: Applied, tenant: Registered) -> str:
    """The Host CloudFront sends the origin for `tenant`: the registered origin with its `tenant` parameter."""
    (distribution,) = edge.run.of_type("aws:cloudfront/multitenantDistribution:MultitenantDistribution")
    (origin,) = distribution.inputs["origins"]
    (parameter,) = tenant.inputs["parameters"]
    return str(origin["domainName"]).replace("{{" + parameter["name"] + "}}", parameter["value"])


def origin_headers(request: dict[str, Any]) -> dict[str, str]:
    """The headers CloudFront forwards to the origin: the function's request's, except Host (the registered origin
    request policy is Managed-AllViewerExceptHostHeader; the case asserts it)."""
    return {name: header["value"] for name, header in request["headers"].items() if name != "host"}


@pytest.fixture(scope="module")
def edge(serve: Callable[..., Applied]) -> Applied:
    """The own-domains example stack (via cloudFront), applied under its own name prefix."""
    config = stack_file_text_config(EXAMPLE.read_text(), EXAMPLE.name)
    config[f"{PROJECT}:namePrefix"] = "cfedge"
    return serve(config)


@pytest.fixture(autouse=True)
def _fresh_authorizer(decisions: Any) -> None:
    decisions.reset()


def header_values(record: dict[str, Any], name: str) -> list[str]:
    return [value for key, value in record["headers"] if key.lower() == name.lower()]


def test_what_cloudfront_sends_the_origin_reaches_the_right_tenant_with_the_viewers_domain(
    edge: Applied, call: Any, backends: dict[str, Any], decisions: Any
) -> None:
    (function,) = edge.run.of_type("aws:cloudfront/function:Function")
    (distribution,) = edge.run.of_type("aws:cloudfront/multitenantDistribution:MultitenantDistribution")
    # The function the distribution runs on viewer request is the one whose code runs here.
    assert distribution.inputs["defaultCacheBehavior"]["functionAssociations"] == [
        {"eventType": "viewer-request", "functionArn": function.outputs["arn"]}
    ]
    event = viewer_request_event(edge, VIEWER_DOMAIN, {"X-Forwarded-Host": FORGED, "Accept": "*/*"})

    request = run_viewer_request(str(function.inputs["code"]), event)

    assert request["headers"]["x-forwarded-host"] == {"value": VIEWER_DOMAIN}  # the forged one replaced
    assert request["headers"]["host"] == {"value": VIEWER_DOMAIN}  # read only on viewer request
    assert request["uri"] == "/service1/orders/7"

    assert distribution.inputs["defaultCacheBehavior"]["originRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_POLICY_ID
    tenant = tenant_of(edge, VIEWER_DOMAIN)
    host = origin_host(edge, tenant)
    assert host == "umbrella.dev.example.com"
    response = call(edge.api_id, request["method"], request["uri"], host, headers=origin_headers(request))

    assert response.status == 200, response.body
    [record] = backends["service1"].received
    assert header_values(record, "X-Tenant-Id") == ["umbrella"]
    assert header_values(record, "X-Forwarded-Host") == [VIEWER_DOMAIN]
    assert header_values(record, "X-Tenant-Domain") == [host]
    [decision] = decisions.invoked(edge.api_id, host)
    assert decision["outcome"] == "allow"
    assert decisions.invoked(edge.api_id, VIEWER_DOMAIN) == []  # API Gateway never sees the own domain as Host


def test_without_the_function_a_forged_forwarded_host_reaches_the_backend(
    edge: Applied, call: Any, backends: dict[str, Any], decisions: Any
) -> None:
    # Why backends trust X-Forwarded-Host only when it equals the tenant's own domain (docs "Own domains: two
    # edges"): a client calling the subdomain directly, not through CloudFront, sends what it likes. This is also
    # what the case above would see if the function did not overwrite the header.
    host = origin_host(edge, tenant_of(edge, VIEWER_DOMAIN))

    response = call(edge.api_id, "GET", "/service1/orders/7", host, headers={"X-Forwarded-Host": FORGED})

    assert response.status == 200, response.body
    [record] = backends["service1"].received
    assert header_values(record, "X-Tenant-Id") == ["umbrella"]
    assert header_values(record, "X-Forwarded-Host") == [FORGED]
    assert len(decisions.invoked(edge.api_id, host)) == 1
