"""A tenant shard's customers get their developer portal too (issue 27 §4): the platform exports its docs bucket and
route table (`portal`), and a shard writes only its own tenants' pages there, under its TenantSet."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.test_shards import project, shard
from whitelabel.api_definition import build_routes, route_of, route_record
from whitelabel.offline import run_program

OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2"
PORTAL = "whitelabel:docs_portal:TenantPortal"
PER_TENANT: dict[str, Any] = {
    "docs": {"perTenant": True},
    "branding": {"displayName": "Example Cloud", "supportEmail": "help@example.com"},
}


def test_a_route_crosses_stacks_as_plain_json_and_comes_back_the_same() -> None:
    for route in build_routes():
        assert route_of(json.loads(json.dumps(route_record(route)))) == route


def test_a_shards_tenants_get_their_pages_in_the_platforms_bucket(tmp_path: Path) -> None:
    customers = {"wayne": {"branding": {"displayName": "Wayne Enterprises", "primaryColor": "#112233"}}, "stark": {}}
    tmp = project(tmp_path, {"prod-a": shard(customers)}, prod=PER_TENANT)
    platform = run_program("prod", project_dir=tmp)
    exported = platform.outputs["portal"]
    result = run_program("prod-a", project_dir=tmp, platform_outputs=platform.outputs)
    portals = {r.name: r for r in result.of_type(PORTAL)}
    assert sorted(portals) == ["docs-stark.portal", "docs-wayne.portal"]
    (tenant_set,) = result.of_type("whitelabel:index:TenantSet")
    assert {p.parent for p in portals.values()} == {tenant_set.urn}
    objects = {o.inputs["key"]: o for o in result.of_type(OBJECT)}
    # Only this shard's tenants' pages, in the platform's bucket; the shared renderer stays the platform's.
    assert sorted(objects) == [
        "tenants/stark/index.html",
        "tenants/stark/openapi.json",
        "tenants/wayne/index.html",
        "tenants/wayne/openapi.json",
    ]
    assert {o.inputs["bucket"] for o in objects.values()} == {exported["bucket"]}
    page = objects["tenants/wayne/index.html"].inputs["content"]
    assert "Wayne Enterprises" in page and "#112233" in page
    document = json.loads(objects["tenants/stark/openapi.json"].inputs["content"])
    assert document["info"]["title"].startswith("Example Cloud")  # the platform's branding, inherited
    assert [s["url"] for s in document["servers"]] == ["https://stark.example.com"]
    # The same operations the platform's own tenants' documents list: the route table came through the export.
    platform_objects = {o.inputs["key"]: o for o in platform.of_type(OBJECT)}
    platform_tenant = next(k for k in platform_objects if k.endswith("/openapi.json") and k.startswith("tenants/"))
    assert sorted(document["paths"]) == sorted(json.loads(platform_objects[platform_tenant].inputs["content"])["paths"])


def test_without_per_tenant_pages_a_shard_writes_no_object(tmp_path: Path) -> None:
    tmp = project(tmp_path, {"prod-a": shard({"wayne": {}})})
    platform = run_program("prod", project_dir=tmp)
    assert "portal" not in platform.outputs
    result = run_program("prod-a", project_dir=tmp, platform_outputs=platform.outputs)
    assert result.of_type(OBJECT) == [] and result.of_type(PORTAL) == []
