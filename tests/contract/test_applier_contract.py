"""Contract: the emulator holds exactly what the program registered for the contract stack (`tools/applier.py`),
read back from LocalStack and moto, so the HTTP cases elsewhere run against the program's own output."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tools.applier import IGNORED, SUBSTITUTED, Applied, ignored_reason, unsecret

pytestmark = pytest.mark.contract


def test_the_registry_holds_every_registered_item_and_nothing_else(contract: Applied, dynamodb: Any, aws: Any):
    [table] = contract.run.of_type("aws:dynamodb/table:Table")
    scanned = {i["hostname"]["S"]: i for i in dynamodb.scan(TableName=table.inputs["name"])["Items"]}
    registered = [
        json.loads(unsecret(r.inputs["item"])) for r in contract.run.of_type("aws:dynamodb/tableItem:TableItem")
    ]
    apigateway = aws("apigateway")
    # The mock engine's value of each API key (what a registered item holds) → that key's value in the emulator.
    real_value = {
        key.outputs["value"]: apigateway.get_api_key(apiKey=contract.id_of(key), includeValue=True)["value"]
        for key in contract.run.of_type("aws:apigateway/apiKey:ApiKey")
    }

    assert len(scanned) == len(registered) == 8
    for item in registered:
        # Exactly as registered, the key's value resolved as the engine resolves `ApiKey.value`.
        assert scanned[item["hostname"]["S"]] == {**item, "apiKey": {"S": real_value[item["apiKey"]["S"]]}}


def test_the_function_runs_with_its_registered_environment_and_the_substitutions_only(
    contract: Applied, aws: Any, dynamodb_endpoint: str
):
    [function] = contract.run.of_type("aws:lambda/function:Function")
    served = aws("lambda").get_function_configuration(FunctionName=function.inputs["name"])

    assert served["Environment"]["Variables"] == {
        **function.inputs["environment"]["variables"],
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_endpoint,
    }
    assert (served["Handler"], served["Runtime"], served["Timeout"], served["MemorySize"]) == (
        function.inputs["handler"],
        function.inputs["runtime"],
        int(function.inputs["timeout"]),
        int(function.inputs["memorySize"]),
    )


def test_every_registered_route_and_only_those_is_served(contract: Applied, aws: Any):
    served = aws("apigateway").get_resources(restApiId=contract.api_id, embed=["methods"], limit=500)["items"]
    by_id = {r.urn: r for r in contract.run.resources}

    def path_of(resource_urn: str) -> str:
        resource = by_id[resource_urn]
        parent = [
            r for r in contract.run.of_type("aws:apigateway/resource:Resource") if r.id == resource.inputs["parentId"]
        ]
        return (path_of(parent[0].urn) if parent else "") + "/" + resource.inputs["pathPart"]

    registered = {
        (path_of(next(r.urn for r in contract.run.resources if r.id == m.inputs["resourceId"])), m.inputs["httpMethod"])
        for m in contract.run.of_type("aws:apigateway/method:Method")
    }
    assert {(r["path"], method) for r in served for method in r.get("resourceMethods", {})} == registered
    authorizers = aws("apigateway").get_authorizers(restApiId=contract.api_id)["items"]
    [registered_authorizer] = contract.run.of_type("aws:apigateway/authorizer:Authorizer")
    assert [(a["type"], a["identitySource"], a.get("authorizerResultTtlInSeconds")) for a in authorizers] == [
        ("REQUEST", "method.request.header.Host", int(registered_authorizer.inputs["authorizerResultTtlInSeconds"]))
    ]


def test_what_was_not_created_is_only_what_the_applier_lists_with_a_reason(contract: Applied):
    skipped_types = {contract.run.by_urn()[urn].type for urn in contract.skipped}

    assert all(t in SUBSTITUTED or ignored_reason(t) for t in skipped_types)
    assert "aws:apigatewayv2/vpcLink:VpcLink" in skipped_types
    assert set(IGNORED) and all(contract.skipped.values())
