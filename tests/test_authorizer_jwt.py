"""End-user tokens in the tenant authorizer: keys and tokens made here, every claim check and algorithm trap.

PyJWT is imported from the very wheel the function ships (functions/vendor/tenant_authorizer/, checked against
its lock by whitelabel.function_bundle); cryptography is the test environment's, the same pinned version.
"""

from __future__ import annotations

import base64
import json
import sys
import time
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from whitelabel.function_bundle import locked_wheels

sys.path.insert(0, str(next(p for p in locked_wheels() if p.name.startswith("pyjwt-"))))
import jwt  # from the locked wheel, put on the path just above
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from functions.tenant_authorizer import handler as authorizer

TABLE = "whitelabel-gateway-dev-tenants"
API = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5"
METHOD_ARN = f"{API}/dev/GET/service1/orders"
ISSUER = "https://idp.example.com/pool-1"
OTHER_ISSUER = "https://login.acme-corp.com"
AUDIENCE = "gateway-client"

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
OTHER_RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwk(key: Any, kid: str, alg: str) -> dict[str, Any]:
    algorithm = RSAAlgorithm if alg.startswith(("RS", "PS")) else ECAlgorithm
    value = json.loads(algorithm.to_jwk(key.public_key()))
    return {**value, "kid": kid, "alg": alg, "use": "sig"}


def item(hostname: str, tenant_id: str, issuer: str | None = ISSUER, claim: str | None = "custom:tenantId") -> dict:
    found: dict[str, Any] = {
        "hostname": {"S": hostname},
        "tenantId": {"S": tenant_id},
        "tier": {"S": "standard"},
        "status": {"S": "active"},
        "apiKey": {"S": f"{tenant_id}-key-0123456789abcdefghij"},
    }
    if issuer is not None:
        found["authIssuer"] = {"S": issuer}
        found["authAudiences"] = {"L": [{"S": AUDIENCE}]}
        if claim is not None:
            found["authTenantClaim"] = {"S": claim}
    return found


REGISTRY = {
    "acme.example.com": item("acme.example.com", "acme"),
    "globex.example.com": item("globex.example.com", "globex"),
    "initech.example.com": item("initech.example.com", "initech", issuer=None),
    "api.acme-corp.com": item("api.acme-corp.com", "acme", issuer=OTHER_ISSUER, claim=None),
}


class FakeDynamo:
    def get_item(self, TableName: str, Key: dict[str, Any]) -> dict[str, Any]:  # noqa: N803 (boto3's names)
        found = REGISTRY.get(Key["hostname"]["S"])
        return {"Item": found} if found is not None else {}


class Issuers:
    """Discovery documents and key sets by URL, as the handler's fetch sees them; counts fetches; can go down."""

    def __init__(self) -> None:
        self.keys = {
            ISSUER: [jwk(RSA_KEY, "rsa-1", "RS256"), jwk(EC_KEY, "ec-1", "ES256")],
            OTHER_ISSUER: [jwk(RSA_KEY, "rsa-1", "RS256")],
        }
        self.urls: list[str] = []
        self.down = False

    def __call__(self, url: str, deadline: float) -> Any:
        self.urls.append(url)
        if self.down:
            raise authorizer.JwksUnavailableError(f"{url}: URLError")
        for issuer, keys in self.keys.items():
            if url == issuer + "/.well-known/openid-configuration":
                return {"issuer": issuer, "jwks_uri": issuer + "/jwks.json"}
            if url == issuer + "/jwks.json":
                return {"keys": keys}
        raise authorizer.JwksUnavailableError(f"{url}: HTTPError 404")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def token(key: Any = RSA_KEY, alg: str = "RS256", kid: str | None = "rsa-1", **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "user-7",
        "custom:tenantId": "acme",
        "scope": "orders.read orders.write",
        "iat": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    claims = {name: value for name, value in claims.items() if value is not None}
    headers = {} if kid is None else {"kid": kid}
    return jwt.encode(claims, key, algorithm=alg, headers=headers)


def event(
    host: str = "acme.example.com",
    authorization: str | None = None,
    path: str = "/service1/orders",
    resource: str | None = "/service1/{proxy+}",
) -> dict:
    """A REQUEST event: `path` as the client sent it, `resource` the route API Gateway matched (None: absent)."""
    headers = {"Host": host}
    if authorization is not None:
        headers["Authorization"] = authorization
    return {
        "type": "REQUEST",
        "methodArn": METHOD_ARN,
        **({} if resource is None else {"resource": resource}),
        "path": path,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "requestContext": {"requestId": "req-1"},
    }


@pytest.fixture
def issuers() -> Issuers:
    return Issuers()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def keys(issuers: Issuers, clock: Clock) -> authorizer.KeySets:
    return authorizer.KeySets(fetch=issuers, clock=clock)


def decide(request: dict, keys: authorizer.KeySets | None, public: tuple[str, ...] = ()) -> dict[str, Any]:
    registry = authorizer.Registry(TABLE, FakeDynamo(), ttl_seconds=0)
    return authorizer.decide(request, registry, keys=keys, public=public)


def refused(
    request: dict, keys: authorizer.KeySets | None, capsys: pytest.CaptureFixture[str], public: tuple[str, ...] = ()
) -> str:
    """The log reason of a request answered 401 (UnauthorizedError with API Gateway's exact message)."""
    with pytest.raises(authorizer.UnauthorizedError) as raised:
        decide(request, keys, public)
    assert str(raised.value) == "Unauthorized"
    last = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert (last["decision"], last["status"]) == ("deny", 401)
    return str(last["reason"])


def bearer(value: str) -> str:
    return f"Bearer {value}"


# -- allowed ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "alg", "kid"), [(RSA_KEY, "RS256", "rsa-1"), (EC_KEY, "ES256", "ec-1")])
def test_a_user_of_the_hosts_tenant_is_allowed_with_user_id_and_scopes(
    keys: authorizer.KeySets, key: Any, alg: str, kid: str
) -> None:
    answer = decide(event(authorization=bearer(token(key, alg, kid))), keys)
    assert answer["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert answer["context"]["tenantId"] == "acme"
    assert answer["context"]["userId"] == "user-7"
    assert answer["context"]["scopes"] == "orders.read orders.write"
    assert answer["usageIdentifierKey"] == "acme-key-0123456789abcdefghij"


def test_the_key_set_is_fetched_once_through_discovery_and_then_cached(
    keys: authorizer.KeySets, issuers: Issuers
) -> None:
    for _ in range(3):
        decide(event(authorization=bearer(token())), keys)
    assert issuers.urls == [ISSUER + "/.well-known/openid-configuration", ISSUER + "/jwks.json"]


def test_a_tenant_without_auth_needs_no_token_and_its_user_headers_are_marked(keys: authorizer.KeySets) -> None:
    answer = decide(event(host="initech.example.com"), keys)
    assert answer["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert answer["context"]["userId"] == "-" and answer["context"]["scopes"] == "-"


def test_a_user_without_scopes_gets_the_no_value_marker_and_sub_dash_is_refused(
    keys: authorizer.KeySets, capsys: pytest.CaptureFixture[str]
) -> None:
    # An empty context value maps to nothing, which would leave a client's X-User-Scopes in place.
    answer = decide(event(authorization=bearer(token(scope=None))), keys)
    assert (answer["context"]["userId"], answer["context"]["scopes"]) == ("user-7", "-")
    # `-` stands for "no verified user": a token claiming it as its subject is not one.
    assert refused(event(authorization=bearer(token(sub="-"))), keys, capsys) == "token-claims"


def test_an_api_without_end_user_auth_still_marks_the_user_headers() -> None:
    # USER_AUTH off (no key sets): the integrations map X-User-Id all the same, so the context must carry it.
    answer = decide(event(host="initech.example.com"), None)
    assert answer["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert (answer["context"]["userId"], answer["context"]["scopes"]) == ("-", "-")


def test_a_public_prefix_needs_no_token_but_a_sibling_route_does(
    keys: authorizer.KeySets, capsys: pytest.CaptureFixture[str]
) -> None:
    for resource in ["/docs/{key+}", "/docs"]:
        answer = decide(event(path="/docs/guide.pdf", resource=resource), keys, public=("/docs",))
        assert answer["policyDocument"]["Statement"][0]["Effect"] == "Allow"
        assert answer["context"]["userId"] == "-"
    with pytest.raises(authorizer.UnauthorizedError):
        decide(event(path="/docsx/guide.pdf", resource="/docsx/{proxy+}"), keys, public=("/docs",))


@pytest.mark.parametrize(
    "path",
    [
        "/docs/../service1/orders",
        "/docs/%2e%2e/service1/orders",
        "/docs%2F..%2Fservice1/orders",
        "/docs/..%2Fservice1/orders",
        "//docs/../service1/orders",
        "/docs",
        "/docs/",
    ],
)
def test_a_path_shaped_to_look_public_still_needs_a_token_on_a_private_route(
    keys: authorizer.KeySets, capsys: pytest.CaptureFixture[str], path: str
) -> None:
    # Whatever the client wrote, API Gateway matched /service1/{proxy+}: that integration is private.
    assert refused(event(path=path, resource="/service1/{proxy+}"), keys, capsys, ("/docs",)) == "token-missing"


def test_a_request_without_a_resource_is_never_public(
    keys: authorizer.KeySets, capsys: pytest.CaptureFixture[str]
) -> None:
    assert refused(event(path="/docs/guide.pdf", resource=None), keys, capsys, ("/docs",)) == "token-missing"


def test_a_prefix_inside_a_greedy_route_matches_nothing(
    keys: authorizer.KeySets, capsys: pytest.CaptureFixture[str]
) -> None:
    # /service1/health lies inside /service1/{proxy+}: the route is private, so its paths need a token.
    request = event(path="/service1/health", resource="/service1/{proxy+}")
    with pytest.raises(authorizer.UnauthorizedError):
        decide(request, keys, public=("/service1/health",))


def test_an_own_issuer_without_tenant_claim_identifies_the_tenant_by_issuer_alone(keys: authorizer.KeySets) -> None:
    mine = token(iss=OTHER_ISSUER, **{"custom:tenantId": None})
    answer = decide(event(host="api.acme-corp.com", authorization=bearer(mine)), keys)
    assert answer["policyDocument"]["Statement"][0]["Effect"] == "Allow"


def test_exp_and_nbf_are_allowed_a_small_leeway(keys: authorizer.KeySets) -> None:
    now = int(time.time())
    answer = decide(event(authorization=bearer(token(exp=now - 30, nbf=now + 30))), keys)
    assert answer["policyDocument"]["Statement"][0]["Effect"] == "Allow"


def within_one_second(decision: Any) -> Any:
    """`decision(second)` for the current whole second of the clock, again if the clock moved on meanwhile.

    PyJWT compares whole-second claims with the time it reads itself: a claim exactly at the leeway's edge is
    decided the same way only while the second does not change between the token and the check.
    """
    for _ in range(3):
        second = int(time.time())
        result = decision(second)
        if int(time.time()) == second:
            return result
    pytest.fail("the clock moved on to the next second three times in a row")


def test_the_leeway_is_exactly_60_seconds(keys: authorizer.KeySets, capsys: pytest.CaptureFixture[str]) -> None:
    def expired_ago(seconds: int) -> str:
        def decision(second: int) -> str:
            request = event(authorization=bearer(token(exp=second - seconds, iat=second - 600)))
            try:
                return str(decide(request, keys)["policyDocument"]["Statement"][0]["Effect"])
            except authorizer.UnauthorizedError:
                return json.loads(capsys.readouterr().out.splitlines()[-1])["reason"]

        return str(within_one_second(decision))

    assert expired_ago(59) == "Allow"
    assert expired_ago(60) == "token-expired"


def test_a_subject_sorting_before_the_no_user_marker_is_a_user(keys: authorizer.KeySets) -> None:
    # "+" sorts before "-": a phone number as `sub` is as good a subject as any other.
    answer = decide(event(authorization=bearer(token(sub="+4420794600"))), keys)

    assert answer["context"]["userId"] == "+4420794600"


def test_a_long_subject_and_scope_reach_the_backend_cut_to_256_and_1024_characters(
    keys: authorizer.KeySets, capsys: pytest.CaptureFixture[str]
) -> None:
    sub, scope = "u" * 300, " ".join(["orders.read"] * 100)

    answer = decide(event(authorization=bearer(token(sub=sub, scope=scope))), keys)

    assert (answer["context"]["userId"], answer["context"]["scopes"]) == (sub[:256], scope[:1024])
    assert json.loads(capsys.readouterr().out)["userId"] == sub[:256]


# -- refused: 401 ----------------------------------------------------------------------------------


def test_no_token_is_401(keys: authorizer.KeySets, capsys: pytest.CaptureFixture[str]) -> None:
    assert refused(event(), keys, capsys) == "token-missing"
    assert refused(event(authorization="Basic dXNlcjpwYXNz"), keys, capsys) == "token-missing"


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"exp": -120}, "token-expired"),
        ({"nbf": 120}, "token-not-yet-valid"),
        ({"iss": "https://evil.example.com"}, "token-issuer"),
        ({"aud": "another-client"}, "token-audience"),
        ({"exp": None}, "token-claims"),
        ({"aud": None}, "token-claims"),
        ({"sub": None}, "token-claims"),
    ],
)
def test_each_claim_check_refuses_with_its_reason(
    keys: authorizer.KeySets, capsys: pytest.CaptureFixture[str], claims: dict, reason: str
) -> None:
    # exp and nbf are seconds from when the test runs: taken at collection, they outlived the leeway in a long run.
    now = int(time.time())
    claims = {k: now + v if k in ("exp", "nbf") and v is not None else v for k, v in claims.items()}
    assert refused(event(authorization=bearer(token(**claims))), keys, capsys) == reason


def test_a_blank_subject_is_refused(keys: authorizer.KeySets, capsys: pytest.CaptureFixture[str]) -> None:
    assert refused(event(authorization=bearer(token(sub="   "))), keys, capsys) == "token-claims"


def test_a_claim_pyjwt_refuses_otherwise_is_token_invalid(
    keys: authorizer.KeySets, capsys: pytest.CaptureFixture[str]
) -> None:
    # An `iat` that is not a number: a token PyJWT refuses with no more specific error than its base one.
    assert refused(event(authorization=bearer(token(iat="yesterday"))), keys, capsys) == "token-invalid"


def test_another_authorization_scheme_is_no_token(keys: authorizer.KeySets, capsys: pytest.CaptureFixture[str]) -> None:
    assert refused(event(authorization=f"Digest {token()}"), keys, capsys) == "token-missing"


def test_a_bearer_token_may_be_16384_characters_and_no_longer() -> None:
    def bearer_of(length: int) -> str | None:
        return authorizer.bearer_token(event(authorization=bearer("t" * length)))

    assert bearer_of(16384) == "t" * 16384
    assert bearer_of(16385) is None


def test_a_key_published_for_one_algorithm_does_not_verify_another(
    keys: authorizer.KeySets, issuers: Issuers, capsys: pytest.CaptureFixture[str]
) -> None:
    # rsa-1 is published for RS256: an RS384 token signed by the very same private key is still refused.
    assert issuers.keys[ISSUER][0]["alg"] == "RS256"

    assert refused(event(authorization=bearer(token(RSA_KEY, "RS384", "rsa-1"))), keys, capsys) == "token-algorithm"


def test_a_signature_by_another_key_is_refused(keys: authorizer.KeySets, capsys: pytest.CaptureFixture[str]) -> None:
    assert refused(event(authorization=bearer(token(OTHER_RSA_KEY))), keys, capsys) == "token-signature"


def test_alg_none_is_refused(keys: authorizer.KeySets, capsys: pytest.CaptureFixture[str]) -> None:
    unsigned = token(None, "none")
    assert refused(event(authorization=bearer(unsigned)), keys, capsys) == "token-algorithm"


def test_hmac_signed_with_the_public_key_is_refused(
    keys: authorizer.KeySets, capsys: pytest.CaptureFixture[str]
) -> None:
    # The classic confusion: HS256 with the issuer's public key (which anyone can fetch) as the secret.
    public_pem = json.dumps(jwk(RSA_KEY, "rsa-1", "RS256")).encode()
    header = {"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}
    body = {"iss": ISSUER, "aud": AUDIENCE, "sub": "u", "custom:tenantId": "acme", "exp": int(time.time()) + 60}

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    import hashlib
    import hmac

    signing = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(body).encode())}"
    signature = b64(hmac.new(public_pem, signing.encode(), hashlib.sha256).digest())
    assert refused(event(authorization=bearer(f"{signing}.{signature}")), keys, capsys) == "token-algorithm"


def test_an_rsa_key_id_named_by_an_es256_token_is_refused(
    keys: authorizer.KeySets, capsys: pytest.CaptureFixture[str]
) -> None:
    assert refused(event(authorization=bearer(token(EC_KEY, "ES256", "rsa-1"))), keys, capsys) == "token-algorithm"


def test_garbage_and_no_kid_are_401(keys: authorizer.KeySets, capsys: pytest.CaptureFixture[str]) -> None:
    assert refused(event(authorization="Bearer not.a.jwt"), keys, capsys) == "token-malformed"
    assert refused(event(authorization=bearer(token(kid=None))), keys, capsys) == "token-no-key-id"


def test_a_401_is_one_deny_line_and_the_entry_point_raises_it_with_a_one_frame_traceback(
    keys: authorizer.KeySets, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import traceback

    monkeypatch.setenv("USER_AUTH", "on")
    monkeypatch.setattr(authorizer, "_registry", authorizer.Registry(TABLE, FakeDynamo(), ttl_seconds=0))
    monkeypatch.setattr(authorizer, "_key_sets", keys)

    with pytest.raises(authorizer.UnauthorizedError) as raised:
        authorizer.handler(event(authorization="Bearer not.a.jwt"), None)

    captured = capsys.readouterr()
    [line] = [json.loads(text) for text in captured.out.splitlines()]
    assert line.items() >= {"decision": "deny", "status": 401, "reason": "token-malformed", "tenantId": "acme"}.items()
    assert "Traceback" not in captured.out + captured.err
    # Lambda's runtime logs a raised error with its traceback: for a 401 that is the entry point's frame alone,
    # with no chained exception, not the way through decide and the token checks.
    error = raised.value
    frames = [frame.name for frame in traceback.extract_tb(error.__traceback__)]
    assert frames[-1] == "handler" and not {"decide", "_decide", "verify_token"} & set(frames)
    assert error.__cause__ is None and error.__suppress_context__


def test_the_entry_point_without_user_auth_refuses_a_tenant_that_asks_for_users(
    keys: authorizer.KeySets, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # USER_AUTH is not "on": no key set is used, even one the container already holds, so a valid token gets 401.
    monkeypatch.delenv("USER_AUTH", raising=False)
    monkeypatch.setattr(authorizer, "_registry", authorizer.Registry(TABLE, FakeDynamo(), ttl_seconds=0))
    monkeypatch.setattr(authorizer, "_key_sets", keys)

    with pytest.raises(authorizer.UnauthorizedError):
        authorizer.handler(event(authorization=bearer(token())), None)

    assert json.loads(capsys.readouterr().out)["reason"] == "auth-not-deployed"


def test_the_container_keeps_one_key_set_cache_from_its_first_use(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(authorizer, "_key_sets", None)

    first = authorizer.key_sets()

    assert isinstance(first, authorizer.KeySets)
    assert authorizer.key_sets() is first


def test_a_tenant_with_auth_is_refused_when_the_deployment_has_no_key_sets(capsys: pytest.CaptureFixture[str]) -> None:
    # A registry item that asks for a user on a function deployed without USER_AUTH fails closed.
    assert refused(event(authorization=bearer(token())), None, capsys) == "auth-not-deployed"


# -- refused: 403 ----------------------------------------------------------------------------------


def test_a_valid_token_of_another_tenant_is_403_with_reason_wrong_tenant(
    keys: authorizer.KeySets, capsys: pytest.CaptureFixture[str]
) -> None:
    answer = decide(event(host="globex.example.com", authorization=bearer(token())), keys)
    statement = answer["policyDocument"]["Statement"][0]
    assert statement["Effect"] == "Deny"
    assert answer["context"]["reason"] == "wrong-tenant"
    assert "usageIdentifierKey" not in answer and "userId" not in answer["context"]
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["reason"] == "wrong-tenant"


def test_a_token_without_the_tenant_claim_is_403(keys: authorizer.KeySets) -> None:
    answer = decide(event(authorization=bearer(token(**{"custom:tenantId": None}))), keys)
    assert answer["policyDocument"]["Statement"][0]["Effect"] == "Deny"


def test_the_reasons_a_deny_carries_to_the_access_log_are_the_bounded_set(keys: authorizer.KeySets) -> None:
    # whitelabel/access_log.py logs `$context.authorizer.reason` between quotes only because its values are ours.
    from whitelabel.access_log import BOUNDED

    bounded = BOUNDED["$context.authorizer.reason"]
    denies = [
        decide(event(host="globex.example.com", authorization=bearer(token())), keys),
        decide(event(authorization=bearer(token(**{"custom:tenantId": None}))), keys),
        decide(event(host="nobody.example.com", authorization=bearer(token())), keys),
        decide(event(host="bad host", authorization=bearer(token())), keys),
    ]
    reasons = {answer["context"]["reason"] for answer in denies}
    assert reasons == {"wrong-tenant", "unknown-host"}
    assert all(reason in bounded for reason in reasons)
    # A 401 is the function's "Unauthorized" error: no context, so the access log's reason is `-` for it.
    with pytest.raises(authorizer.UnauthorizedError):
        decide(event(), keys)


# -- the key set: refresh, rate limit, outage ------------------------------------------------------


def test_an_unknown_kid_refetches_the_key_set_and_then_verifies(
    keys: authorizer.KeySets, issuers: Issuers, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    decide(event(authorization=bearer(token())), keys)
    rotated = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    issuers.keys[ISSUER].append(jwk(rotated, "rsa-2", "RS256"))
    # Within the rate limit the new kid is not fetched for: 401, no request to the issuer.
    assert refused(event(authorization=bearer(token(rotated, kid="rsa-2"))), keys, capsys) == "token-unknown-key"
    assert len(issuers.urls) == 2
    clock.now += authorizer.JWKS_REFETCH_SECONDS
    answer = decide(event(authorization=bearer(token(rotated, kid="rsa-2"))), keys)
    assert answer["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert len(issuers.urls) == 4


def test_forged_kids_cause_at_most_one_fetch_per_interval(
    keys: authorizer.KeySets, issuers: Issuers, capsys: pytest.CaptureFixture[str]
) -> None:
    decide(event(authorization=bearer(token())), keys)
    for n in range(20):
        refused(event(authorization=bearer(token(kid=f"forged-{n}"))), keys, capsys)
    assert len(issuers.urls) == 2


def test_an_unreachable_key_set_fails_closed_with_an_error(
    keys: authorizer.KeySets, issuers: Issuers, capsys: pytest.CaptureFixture[str]
) -> None:
    issuers.down = True
    with pytest.raises(authorizer.JwksUnavailableError):
        decide(event(authorization=bearer(token())), keys)
    last = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert (last["decision"], last["status"], last["reason"]) == ("error", 500, "jwks-unavailable")


def test_a_discovery_document_for_another_issuer_is_not_trusted(issuers: Issuers, clock: Clock) -> None:
    def lying(url: str, deadline: float) -> Any:
        answer = issuers(url, deadline)
        return {**answer, "issuer": "https://evil.example.com"} if "openid-configuration" in url else answer

    with pytest.raises(authorizer.JwksUnavailableError):
        authorizer.KeySets(fetch=lying, clock=clock).key(ISSUER, "rsa-1")


def test_an_unavailable_key_sets_error_is_logged_up_to_300_characters(
    issuers: Issuers, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    def failing(url: str, deadline: float) -> Any:
        raise authorizer.JwksUnavailableError("e" * 400)

    with pytest.raises(authorizer.JwksUnavailableError):
        decide(event(authorization=bearer(token())), authorizer.KeySets(fetch=failing, clock=clock))

    assert json.loads(capsys.readouterr().out)["error"] == "e" * 300


def test_a_stale_key_sets_refresh_error_is_logged_up_to_300_characters(
    issuers: Issuers, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    def failing_later(url: str, deadline: float) -> Any:
        if clock.now > 1000.0:
            raise authorizer.JwksUnavailableError("e" * 400)
        return issuers(url, deadline)

    keys = authorizer.KeySets(fetch=failing_later, clock=clock)
    decide(event(authorization=bearer(token())), keys)
    clock.now += authorizer.JWKS_CACHE_SECONDS
    capsys.readouterr()

    decide(event(authorization=bearer(token())), keys)

    line = json.loads(capsys.readouterr().out)
    assert (line["decision"], line["jwks"], line["jwksError"]) == ("allow", "stale", "e" * 300)


def test_a_public_prefix_matches_a_resource_equal_to_it(keys: authorizer.KeySets) -> None:
    # The prefix comes from PUBLIC_PREFIXES and the resource from the event: equal strings, never the same object.
    resource = "".join(["/do", "cs"])
    (prefix,) = authorizer.public_prefixes('["/docs"]')

    assert authorizer.is_public(resource, (prefix,))


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://idp.example.com/.well-known/openid-configuration", True),
        ("http://127.0.0.1:8080/jwks.json", True),
        ("http://localhost:9/x", True),
        ("http://idp.example.com/jwks.json", False),
        ("http://127.0.0.1.evil.example/jwks.json", False),
        ("http://user@idp.example.com@127.0.0.1/", True),
        ("file:///etc/passwd", False),
        ("ftp://idp.example.com/", False),
        (None, False),
    ],
)
def test_only_https_or_loopback_http_is_fetched(url: Any, allowed: bool) -> None:
    assert authorizer.url_allowed(url) is allowed


def test_fetch_refuses_plain_http_to_a_remote_host_without_connecting() -> None:
    with pytest.raises(authorizer.JwksUnavailableError, match="https"):
        authorizer.fetch_json("http://idp.example.com/.well-known/openid-configuration", time.monotonic() + 5)


def test_an_item_with_audiences_but_no_issuer_is_invalid() -> None:
    bad = {**item("x.example.com", "x", issuer=None), "authAudiences": {"L": [{"S": "a"}]}}
    with pytest.raises(authorizer.InvalidItemError):
        authorizer.parse_item("x.example.com", bad)


def test_items_without_auth_parse_as_before() -> None:
    tenant = authorizer.parse_item("initech.example.com", REGISTRY["initech.example.com"])
    assert tenant.auth_issuer is None and tenant.auth_audiences == () and tenant.auth_tenant_claim is None
