"""Contract: `make smoke`'s request checks against the API in LocalStack, run as a user runs the tool.

The tool reads a stack file (the contract stack: dev plus a second shared customer, an own domain and a
suspended customer) and the outputs file of that stack as applied to the emulator, and sends its requests
to LocalStack's stage URL with each tenant's Host header (`--base-url`). The tenant authorizer is the real handler (see
`test_tenant_contract.py` for what is emulated); every test checks that it really ran, so a blanket 403
or 200 cannot pass. What LocalStack cannot answer here: the access log (no CloudWatch Logs), saved
queries, the web ACL, and mTLS (no TLS, no mTLS customer in the contract stack): those are
`tests/test_smoke.py`'s, with stubbed AWS.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tools import smoke
from tools.applier import Applied

from .conftest import STAGE, contract_config, contract_stack

pytestmark = pytest.mark.contract


@pytest.fixture(autouse=True)
def _fresh_authorizer(decisions: Any) -> None:
    decisions.reset()


def write_stack(tmp_path: Path, contract: Applied) -> tuple[Path, Path]:
    """The contract stack as its stack file, and its outputs as `pulumi stack output --json` would print them
    (the program's exports, with the emulator's ids)."""
    stack_file = tmp_path / f"Pulumi.{STAGE}.yaml"
    stack_file.write_text(yaml.safe_dump({"config": contract_config()}))
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(contract.outputs))
    return stack_file, outputs


def test_smoke_request_checks_pass_against_the_api(localstack, api, contract, backends, decisions, tmp_path, capsys):
    assert [c.name for c in contract_stack().customers if c.suspended] == ["umbrella"]
    stack_file, outputs = write_stack(tmp_path, contract)
    assert json.loads(outputs.read_text())["apiId"] == api

    status = smoke.main(
        [
            "--stack", STAGE,
            "--stack-file", str(stack_file),
            "--outputs", str(outputs),
            "--base-url", f"{localstack}/restapis/{api}/{STAGE}/_user_request_",
            "--only", "forged-header,unknown-host,suspended-tenant,mtls-bypass",
        ]
    )  # fmt: skip

    lines = capsys.readouterr().out.splitlines()
    assert status == 0, lines
    assert [line.split(":")[0] for line in lines] == [
        "PASS forged-header",
        "PASS unknown-host",
        "PASS suspended-tenant",
        "SKIP mtls-bypass",
    ], lines
    assert "the backend saw 'acme' only" in lines[0]
    assert "(unknown-host)" in lines[1]
    assert "umbrella.dev.example.com (umbrella) answered 403 (suspended)" in lines[2]
    # The backend really got the forged request, with the gateway's X-Tenant-Id only.
    [record] = backends["service2"].received
    assert [v for k, v in record["headers"] if k.lower() == "x-tenant-id"] == ["acme"]
    assert backends["service1"].received == []
    # The authorizer really decided each of them.
    outcomes = {d["identity"][0]: d["outcome"] for d in decisions.invoked(api)}
    assert outcomes.pop("acme.dev.example.com") == "allow"
    assert outcomes.pop("umbrella.dev.example.com") == "deny"
    [(unknown, outcome)] = outcomes.items()
    assert unknown.startswith("smoke-unknown-") and outcome == "deny"


def test_smoke_forged_header_fails_when_the_backend_sees_another_tenant(localstack, api, backends, decisions):
    # The deployed mapping cannot be broken from here; instead the tool is told the hostname belongs to
    # another tenant than the registry says, so the tenant the backend saw is not the one it expects.
    stack = smoke.stack_from(
        {
            "apiId": api,
            "stageName": STAGE,
            "tenants": {"not-acme": {"hostnames": ["acme.dev.example.com"], "status": "active"}},
        },
        contract_stack(),
        STAGE,
    )
    run = smoke.Smoke(stack, smoke.Http(f"{localstack}/restapis/{api}/{STAGE}/_user_request_", 35), None)

    [result] = run.run(["forged-header"])

    assert result.outcome == "FAIL", result.line()
    assert "the backend saw ['acme']" in result.detail
    assert len(decisions.invoked(api, "acme.dev.example.com")) == 1


def test_smoke_api_check_reads_the_api_back_through_read_only_clients(localstack, api):
    import boto3

    from .conftest import CREDENTIALS, dev_stack

    _, region = dev_stack()
    session = boto3.session.Session(region_name=region, **CREDENTIALS)
    stack = smoke.stack_from({"apiId": api, "stageName": STAGE}, contract_stack(), STAGE)
    run = smoke.Smoke(stack, smoke.Http(None), smoke.Clients(session, localstack))

    [result] = run.run(["api"])

    # The emulator's API keeps its execute-api endpoint (its stage URL is how these tests call it), so the
    # check reports exactly that, and it read the rest: a REGIONAL endpoint, as imported.
    assert result.outcome == "FAIL", result.line()
    assert result.detail.startswith("the execute-api endpoint is enabled"), result.detail
    assert "endpoint type" not in result.detail
