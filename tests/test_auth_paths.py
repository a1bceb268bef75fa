"""End-user authentication and mutual TLS on every path (issue 23 §1, §2): the registry items the program, the
components and a shard register carry the stack's `auth` for inheriting customers, an override completed by it,
nothing for `auth: none`; a platform serves its shards' tenants or they are refused naming both stacks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components.args import TenantSetArgs, WhiteLabelGatewayArgs
from components.tenant_set import ComponentArgsError, TenantSet
from components.white_label_gateway import WhiteLabelGateway
from tests.conftest import Deployed, customers_config, deploy
from tests.test_component_tenant_set import PLATFORM
from tests.test_shards import PLATFORM as PLATFORM_STACK
from tests.test_shards import project, shard, write_shard
from tests.test_tenant_registry import SECRET_SIG, SECRET_SIG_VALUE
from whitelabel.config import parse_settings
from whitelabel.environment import Environment, Member, check_environment, environment, share
from whitelabel.offline import StackRun, run_program

ISSUER = "https://idp.example.org/pool-1"
OTHER = "https://login.globex.example"
STACK_AUTH = {"issuer": ISSUER, "audiences": ["portal"], "tenantClaim": "tenant"}
ITEM = "aws:dynamodb/tableItem:TableItem"
FUNCTION = "aws:lambda/function:Function"


def items(resources: list[Any]) -> dict[str, dict[str, Any]]:
    """Registry item by hostname, as the program registered it (the `item` input: secret JSON)."""
    found = {}
    for item in (r for r in resources if r.type == ITEM):
        value = item.inputs["item"]
        if isinstance(value, dict) and value.get(SECRET_SIG) == SECRET_SIG_VALUE:
            value = value["value"]
        parsed = json.loads(value)
        found[parsed["hostname"]["S"]] = parsed
    return found


def auth_of(item: dict[str, Any]) -> tuple[str | None, list[str] | None, str | None]:
    issuer = item.get("authIssuer", {}).get("S")
    audiences = [a["S"] for a in item["authAudiences"]["L"]] if "authAudiences" in item else None
    return issuer, audiences, item.get("authTenantClaim", {}).get("S")


def function_environment(resources: list[Any]) -> dict[str, str]:
    (function,) = [r for r in resources if r.type == FUNCTION]
    return dict(function.inputs["environment"]["variables"])


CUSTOMERS = {
    "acme": {},  # inherits the stack's auth
    "initech": {"auth": "none"},
    "globex": {"auth": {"issuer": OTHER}},  # audiences and claim inherited
    "hooli": {"auth": {"audiences": ["hooli-app"]}},  # the stack's issuer, its own audience
}


@pytest.fixture(scope="module")
def program() -> StackRun:
    config = customers_config([], auth=STACK_AUTH, authorizer={"cacheTtlSeconds": 0})
    config["whitelabel-gateway:customers"] = CUSTOMERS
    return run_program("dev", config)


def test_the_program_registers_the_stacks_auth_for_a_customer_that_inherits_it(program: StackRun) -> None:
    found = items(program.resources)
    # The finding of issue 23 §1: acme's item was {apiKey, hostname, status, tenantId, tier}.
    assert auth_of(found["acme.dev.example.com"]) == (ISSUER, ["portal"], "tenant")
    assert auth_of(found["initech.dev.example.com"]) == (None, None, None)
    # An override completed by the stack's values, the stack's claim kept (it was replaced by custom:tenantId).
    assert auth_of(found["globex.dev.example.com"]) == (OTHER, ["portal"], "tenant")
    assert auth_of(found["hooli.dev.example.com"]) == (ISSUER, ["hooli-app"], "tenant")
    assert function_environment(program.resources)["USER_AUTH"] == "on"


def test_the_program_exports_what_a_shard_must_respect(program: StackRun) -> None:
    export = program.outputs["platform"]
    assert export["user_auth"] is True and export["authorizer_cache_ttl_seconds"] == 0
    assert export["auth"]["issuer"] == ISSUER and export["auth"]["tenant_claim"] == "tenant"


def test_without_auth_nothing_changes_for_the_committed_stacks(dev: StackRun) -> None:
    assert all(auth_of(item) == (None, None, None) for item in items(dev.resources).values())
    assert "USER_AUTH" not in function_environment(dev.resources)
    assert dev.outputs["platform"]["user_auth"] is False


GATEWAY_ARGS: dict[str, Any] = {
    "base_domain": "example.com",
    "stage_name": "live",
    "name_prefix": "pkg-live",
    "backends": {"web": {"kind": "HTTP", "url": "https://origin.example.com"}},
}


def test_the_component_gives_its_tenant_set_the_stacks_auth() -> None:
    args = WhiteLabelGatewayArgs(  # type: ignore[typeddict-item]
        **GATEWAY_ARGS,
        tenants=[{"name": "acme"}, {"name": "initech", "auth": "none"}, {"name": "globex", "auth": {"issuer": OTHER}}],
        auth={"issuer": ISSUER, "audiences": ["portal"]},
        authorizer={"cache_ttl_seconds": 0},
    )
    deployed = deploy(lambda: WhiteLabelGateway("wl", args))
    found = items(deployed.resources)
    assert auth_of(found["acme.example.com"]) == (ISSUER, ["portal"], "custom:tenantId")
    assert auth_of(found["initech.example.com"]) == (None, None, None)
    assert auth_of(found["globex.example.com"]) == (OTHER, ["portal"], "custom:tenantId")


def tenant_set(tenants: list[dict[str, Any]], **more: Any) -> Deployed:
    args = TenantSetArgs(**{**PLATFORM, "tenants": tenants, **more})  # type: ignore[typeddict-item]
    return deploy(lambda: TenantSet("more", args))


SERVED = {"auth": {"issuer": ISSUER, "audiences": ["portal"]}, "user_auth": True, "authorizer_cache_ttl_seconds": 0}


def test_a_tenant_set_resolves_its_tenants_auth_from_the_platforms() -> None:
    deployed = tenant_set([{"name": "wayne"}, {"name": "stark", "auth": {"audiences": ["stark"]}}], **SERVED)
    found = items(deployed.resources)
    assert auth_of(found["wayne.example.com"]) == (ISSUER, ["portal"], "custom:tenantId")
    assert auth_of(found["stark.example.com"]) == (ISSUER, ["stark"], "custom:tenantId")


@pytest.mark.parametrize(
    ("tenants", "platform", "message"),
    [
        # The platform's function does not run end-user authentication, or nobody says whether it does.
        ([{"name": "wayne"}], {**SERVED, "user_auth": False}, r"tenants\[0\]\.auth: .*off \(user_auth false\)"),
        ([{"name": "wayne"}], {"auth": SERVED["auth"]}, r"tenants\[0\]\.auth: .*not known \(user_auth unset\)"),
        # It caches decisions per Host.
        (
            [{"name": "wayne"}],
            {**SERVED, "authorizer_cache_ttl_seconds": 300},
            r"tenants\[0\]\.auth: needs the platform's authorizer_cache_ttl_seconds to be 0 \(it is 300 s\)",
        ),
        (
            [
                {"name": "a"},
                {
                    "name": "b",
                    "dedicated_domain": True,
                    "mtls_truststore": "s3://truststores/b.pem",
                    "mtls_issuers": ["CN=B CA"],
                },
            ],
            {"tls_policy": "TLS_1_2"},
            r"tenants\[1\]\.mtls_truststore: .*\(it is not known\)",
        ),
    ],
)
def test_a_tenant_set_refuses_a_tenant_its_platform_cannot_serve(
    tenants: list[dict[str, Any]], platform: dict[str, Any], message: str
) -> None:
    with pytest.raises(ComponentArgsError, match=r"^TenantSet more: " + message):
        tenant_set(tenants, **platform)


# -- shards -------------------------------------------------------------------------------------------------------

AUTH_PLATFORM = {"auth": STACK_AUTH, "authorizer": {"cacheTtlSeconds": 0}}


def test_a_shards_tenants_inherit_the_platforms_auth(tmp_path: Path) -> None:
    tmp = project(tmp_path, {"prod-a": shard({"wayne": {}, "stark": {"auth": "none"}})}, prod=AUTH_PLATFORM)
    platform = run_program("prod", project_dir=tmp)
    result = run_program("prod-a", project_dir=tmp, platform_outputs=platform.outputs)
    found = items(result.resources)
    assert auth_of(found["wayne.example.com"]) == (ISSUER, ["portal"], "tenant")
    assert auth_of(found["stark.example.com"]) == (None, None, None)


def test_a_platform_turns_authentication_on_for_its_shards_tenants(tmp_path: Path) -> None:
    # No customer of the platform has auth; a shard's has its own issuer: the platform's function must check tokens.
    own = {"issuer": OTHER, "audiences": ["w"]}
    tmp = project(tmp_path, {"prod-a": shard({"wayne": {"auth": own}})}, prod={"authorizer": {"cacheTtlSeconds": 0}})
    platform = run_program("prod", project_dir=tmp)
    assert function_environment(platform.resources)["USER_AUTH"] == "on"
    assert platform.outputs["platform"]["user_auth"] is True
    result = run_program("prod-a", project_dir=tmp, platform_outputs=platform.outputs)
    assert auth_of(items(result.resources)["wayne.example.com"]) == (OTHER, ["w"], "custom:tenantId")


def test_a_shard_tenant_the_deployed_platform_cannot_serve_is_refused_naming_both_stacks(tmp_path: Path) -> None:
    own = {"issuer": OTHER, "audiences": ["w"]}
    tmp = project(tmp_path, {}, prod={"authorizer": {"cacheTtlSeconds": 0}})
    before = run_program("prod", project_dir=tmp)  # deployed before the shard's auth tenant existed
    assert before.outputs["platform"]["user_auth"] is False
    write_shard(tmp, "prod-a", shard({"wayne": {"auth": own}}))
    with pytest.raises(
        pulumi.RunError,
        match=r"^whitelabel-gateway:customers\.wayne\.auth: needs end-user authentication, which the platform stack"
        rf" '{PLATFORM_STACK}' has not deployed .*`pulumi up` the platform first .*then stack 'prod-a'",
    ):
        run_program("prod-a", project_dir=tmp, platform_outputs=before.outputs)


def test_a_shard_auth_tenant_with_a_caching_platform_is_refused_naming_both_files(tmp_path: Path) -> None:
    tmp = project(tmp_path, {"prod-a": shard({"wayne": {"auth": {"issuer": OTHER, "audiences": ["w"]}}})})
    with pytest.raises(
        pulumi.RunError,
        match=r"^whitelabel-gateway:authorizer\.cacheTtlSeconds: must be 0 .*\(a key of Pulumi\.prod\.yaml, with the"
        r" customers of Pulumi\.prod-a\.yaml\)",
    ):
        run_program("prod", project_dir=tmp)


def test_the_shard_reads_a_secret_platform_export(tmp_path: Path) -> None:
    tmp = project(tmp_path, {"prod-a": shard({"wayne": {}})}, prod=AUTH_PLATFORM)
    platform = run_program("prod", project_dir=tmp)
    secret = {SECRET_SIG: SECRET_SIG_VALUE, "value": platform.outputs["platform"]}
    result = run_program("prod-a", project_dir=tmp, platform_outputs={**platform.outputs, "platform": secret})
    assert auth_of(items(result.resources)["wayne.example.com"]) == (ISSUER, ["portal"], "tenant")


def test_the_sdks_synchronous_read_the_shard_program_relies_on_exists() -> None:
    # __main__.py reads the platform's export with the SDK's `_sync_await` (no public synchronous read exists);
    # uv.lock pins the SDK, and this fails when a locked release drops it.
    from pulumi.runtime.sync_await import _sync_await

    assert callable(_sync_await)


# -- identities and quotas across the environment (pure) -----------------------------------------------------------

BASE = {"baseDomain": "example.com", "authorizer": {"cacheTtlSeconds": 0}, "tlsPolicy": "TLS_1_2"}


def mtls(issuers: list[str], subjects: list[str] | None = None) -> dict[str, Any]:
    return {
        "dedicatedDomain": True,
        "mtlsTruststore": "s3://truststores/ca.pem",
        "mtlsIssuers": issuers,
        **({"mtlsSubjects": subjects} if subjects else {}),
    }


def env_of(platform: dict[str, Any], shard_customers: dict[str, Any]) -> Environment:
    files = {"prod": {f"whitelabel-gateway:{k}": v for k, v in platform.items()}}
    files["prod-a"] = {"whitelabel-gateway:platform": PLATFORM_STACK, "whitelabel-gateway:customers": shard_customers}
    return environment("prod-a", {"platform": PLATFORM_STACK, "customers": shard_customers}, files)


def test_an_mtls_issuer_another_stacks_customer_accepts_is_refused() -> None:
    env = env_of({**BASE, "customers": {"acme": mtls(["CN=Shared CA"])}}, {"wayne": mtls(["CN=Shared CA"])})
    with pytest.raises(Exception, match=r"customers\.wayne\.mtlsIssuers: 'CN=Shared CA' is also accepted for"
                       r" customer 'acme' in Pulumi\.prod\.yaml"):  # fmt: skip
        check_environment(env, "prod-a")
    # Disjoint subjects on both tell the certificates apart, as within one stack.
    apart = env_of(
        {**BASE, "customers": {"acme": mtls(["CN=Shared CA"], ["CN=acme"])}},
        {"wayne": mtls(["CN=Shared CA"], ["CN=wayne"])},
    )
    check_environment(apart, "prod-a")


def test_an_issuer_shared_across_stacks_needs_a_tenant_claim_on_both() -> None:
    alone = {"issuer": OTHER, "audiences": ["x"], "tenantClaim": None}
    env = env_of({**BASE, "customers": {"acme": {"auth": alone}}}, {"wayne": {"auth": alone}})
    with pytest.raises(Exception, match=r"customers\.wayne\.auth\.tenantClaim: is needed on both: customer 'acme' in"):
        check_environment(env, "prod-a")
    claimed = {"issuer": OTHER, "audiences": ["x"]}
    check_environment(
        env_of({**BASE, "customers": {"acme": {"auth": claimed}}}, {"wayne": {"auth": claimed}}), "prod-a"
    )


def test_each_shards_pool_keys_count_against_the_environments_api_keys() -> None:
    tiers = {"standard": {"rateLimit": 50, "burstLimit": 100}, "free": {"rateLimit": 5, "burstLimit": 10,
             "keyMode": "pooled", "poolKeys": 3}}  # fmt: skip
    settings = parse_settings({**BASE, "tiers": tiers, "customers": {"wayne": {"tier": "free"}, "stark": {}}})
    shard_share = share(Member("prod-a", settings, shard=True))
    # stark's own key, and the 3 pool keys of `free` this shard's TenantSet makes (they were cancelled out).
    assert (shard_share.api_keys, shard_share.pool_keys) == (1 + 3, 3)


# -- what a config user reads (issue 23 §6) -------------------------------------------------------------------------


def test_an_arg_path_said_as_the_stack_files_key() -> None:
    from whitelabel.component_args import config_key

    keys = ["customers.acme", "customers.globex"]
    assert config_key("tenants[1].auth.audiences", keys) == "customers.globex.auth.audiences"
    assert config_key("tenants[0].mtls_truststore", ["customers[0]"]) == "customers[0].mtlsTruststore"
    assert config_key("waf.per_tenant_limit", keys) == "waf.perTenantLimit"
    assert config_key("authorizer.cache_ttl_seconds", keys) == "authorizer.cacheTtlSeconds"


def test_a_component_refusal_reaches_a_config_user_in_the_stack_files_words(monkeypatch: pytest.MonkeyPatch) -> None:
    # A rule only a component knows (here forced): the program says it as the key of Pulumi.dev.yaml, by name.
    from components import tenant_set
    from whitelabel.component_args import ArgError

    def refuse(settings: Any, user_auth: Any, ttl: Any) -> None:
        raise ArgError("tenants[1].auth.audiences", "is required: no audiences for this issuer")

    monkeypatch.setattr(tenant_set, "check_platform_serves", refuse)
    with pytest.raises(pulumi.RunError) as raised:
        run_program("dev")
    assert (
        str(raised.value)
        == "whitelabel-gateway:customers.globex.auth.audiences: is required: no audiences for this issuer"
    )
