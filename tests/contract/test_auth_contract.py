"""Contract: end-user authentication (issue 18) through the API, decided by the real tenant authorizer.

The auth contract stack (`AUTH_CONFIG`: stack-level `auth`, authorizer TTL 0, public prefix /docs) is run and
applied by `tools/applier.py`: its function (USER_AUTH on, PUBLIC_PREFIXES) with the registered code archive (the
handler and the bundled libraries), and the registry items exactly as the program registers them. acme and
globex set their own `auth` (the same issuer: the tenant claim tells their users apart); initech has
`auth: none`; hooli has none of its own and inherits the stack's.

What differs from AWS, and why:
- The issuer is a stand-in on 127.0.0.1 serving its discovery document and key set over plain http (the
  handler fetches plain http from a loopback address only; the config accepts only an https issuer, so the
  applier puts the stand-in's URL wherever the registered inputs name the config's: `Substitutions.urls`).
- The function's compiled library (cryptography) in the zip is built for Lambda's arm64; LocalStack runs the
  function with its own x86_64 Python 3.11. The emulator site puts a folder of x86_64 builds of the same pinned
  versions (this test environment's, checked against the pins below) ahead of the zip's own; PyJWT, pure
  Python, comes from the zip. The runtime differs from Lambda's in architecture (and Python version) only.
- The authorizer step is the emulator site's (see test_tenant_contract.py): every test asserts from its record
  that the function really ran for the request.
"""

from __future__ import annotations

import importlib.metadata
import json
import sys
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.stand_in import send_json, serve_on_loopback
from tools.applier import Applied
from whitelabel.function_bundle import REQUIREMENTS, locked_wheels, read_pins

from .conftest import EXTRA_CUSTOMERS, contract_config
from .test_tenant_contract import assert_our_body, header_values, no_backend_hit

sys.path.insert(0, str(next(p for p in locked_wheels() if p.name.startswith("pyjwt-"))))
import jwt
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

pytestmark = pytest.mark.contract

AUDIENCE = "gateway-client"
ISSUER = "https://idp.example.com/pool-1"
OWN_AUTH = {"issuer": ISSUER, "audiences": [AUDIENCE]}
# The contract stack with `auth` on for the stack; acme and globex set their own, initech opts out, hooli inherits.
AUTH_CONFIG = contract_config(
    prefix="auth",
    customers=[
        {"name": "acme", "auth": OWN_AUTH},
        {"name": "globex", "dedicatedDomain": True, "auth": OWN_AUTH},
        *[{**c, "auth": "none"} if c["name"] == "initech" else c for c in EXTRA_CUSTOMERS],
    ],
    auth={**OWN_AUTH, "publicPrefixes": ["/docs"]},
    authorizer={"cacheTtlSeconds": 0},
)
ACME = "acme.dev.example.com"
GLOBEX = "globex.dev.example.com"
HOOLI = "hooli.dev.example.com"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
# The compiled libraries the x86_64 folder takes from this environment; PyJWT stays the zip's.
COMPILED = ("cryptography", "cffi", "pycparser")


def jwk(key: Any, kid: str, alg: str) -> dict[str, Any]:
    algorithm = RSAAlgorithm if alg == "RS256" else ECAlgorithm
    return {**json.loads(algorithm.to_jwk(key.public_key())), "kid": kid, "alg": alg, "use": "sig"}


class Issuer:
    """An OpenID issuer stand-in on 127.0.0.1: discovery document and key set; records each path asked for."""

    def __init__(self) -> None:
        issuer = self
        self.paths: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                issuer.paths.append(self.path)
                documents = {
                    "/.well-known/openid-configuration": {"issuer": issuer.url, "jwks_uri": issuer.url + "/jwks.json"},
                    "/jwks.json": {"keys": [jwk(RSA_KEY, "rsa-1", "RS256"), jwk(EC_KEY, "ec-1", "ES256")]},
                }
                found = documents.get(self.path)
                send_json(self, 200 if found else 404, found)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server, self.url = serve_on_loopback(Handler, "issuer-stand-in")

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def token(issuer: Issuer, tenant: str = "acme", alg: str = "RS256", sub: str = "alice", age: int = 0) -> str:
    """A signed token of `issuer` for a user of `tenant`, issued `age` seconds ago, valid for 600 s."""
    now = int(time.time()) - age
    claims = {
        "iss": issuer.url,
        "aud": AUDIENCE,
        "sub": sub,
        "custom:tenantId": tenant,
        "scope": "orders.read",
        "iat": now,
        "exp": now + 600,
    }
    key, kid = (RSA_KEY, "rsa-1") if alg == "RS256" else (EC_KEY, "ec-1")
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    stand_in = Issuer()
    yield stand_in
    stand_in.stop()


@pytest.fixture(scope="module")
def x86_64_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with this environment's builds of the pinned compiled libraries (links, nothing downloaded)."""
    pins = {pin.name: pin.version for pin in read_pins(REQUIREMENTS.read_text())}
    folder = tmp_path_factory.mktemp("x86_64-site")
    for name in COMPILED:
        distribution = importlib.metadata.distribution(name)
        assert distribution.version == pins[name], f"{name} {distribution.version} here, {pins[name]} pinned"
        tops = (distribution.read_text("top_level.txt") or name).split()
        for file in distribution.files or ():
            top = file.parts[0]
            if top in tops or (top.startswith(tuple(tops)) and top.endswith(".so")) or top.startswith("_cffi_backend"):
                link = folder / top
                if not link.exists():
                    link.symlink_to(Path(str(distribution.locate_file(top))))
    assert (folder / "cryptography").is_symlink()
    return folder


@pytest.fixture(scope="module")
def auth_stack(serve, issuer, x86_64_site) -> Applied:
    """The auth contract stack applied, the issuer's URL served by the stand-in."""
    return serve(
        AUTH_CONFIG,
        urls={ISSUER: issuer.url},
        # Emulator only: the x86_64 builds of the pinned compiled libraries, ahead of the zip's arm64 ones.
        function_environment={"EMULATOR_EXTRA_SITE": str(x86_64_site)},
    )


@pytest.fixture(scope="module")
def auth_api(auth_stack: Applied, documents) -> str:
    return auth_stack.api_id


@pytest.fixture(autouse=True)
def _fresh_authorizer(decisions: Any) -> None:
    decisions.reset()


def outcomes(decisions: Any, api: str, host: str) -> list[str]:
    return [d["outcome"] for d in decisions.invoked(api, host)]


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_an_acme_user_reaches_the_backend_as_itself(call, auth_api, backends, decisions, issuer, alg):
    response = call(auth_api, "GET", "/service1/orders", ACME, headers=bearer(token(issuer, alg=alg)))

    assert response.status == 200, response.body
    [record] = backends["service1"].received
    assert header_values(record, "X-User-Id") == ["alice"]
    assert header_values(record, "X-User-Scopes") == ["orders.read"]
    assert header_values(record, "X-Tenant-Id") == ["acme"]
    assert outcomes(decisions, auth_api, ACME) == ["allow"]
    # The key set came from the stand-in, through its discovery document.
    assert {"/.well-known/openid-configuration", "/jwks.json"} <= set(issuer.paths)


def test_an_acme_token_on_globex_is_403_and_reaches_nothing(call, auth_api, backends, decisions, issuer):
    response = call(auth_api, "GET", "/service1/orders", GLOBEX, headers=bearer(token(issuer, tenant="acme")))

    assert response.status == 403, response.body
    assert_our_body(response, "forbidden", reason="wrong-tenant")
    assert no_backend_hit(backends)
    assert outcomes(decisions, auth_api, GLOBEX) == ["deny"]


def test_no_token_is_401_on_a_protected_route_and_200_on_a_public_prefix(
    call, auth_api, backends, decisions, documents
):
    refused = call(auth_api, "GET", "/service1/orders", ACME)
    public = call(auth_api, "GET", "/docs", ACME)

    assert refused.status == 401, refused.body
    body = assert_our_body(refused, "unauthorized")
    assert "bearer token" in body["message"]
    assert refused.headers["WWW-Authenticate"] == "Bearer"  # the UNAUTHORIZED gateway response's challenge
    assert public.status == 200, public.body
    assert public.body.startswith(b"<")  # the docs page, from S3 (no stand-in is involved)
    assert no_backend_hit(backends)
    assert outcomes(decisions, auth_api, ACME) == ["unauthorized", "allow"]


def test_an_expired_token_is_401_and_reaches_nothing(call, auth_api, backends, decisions, issuer):
    # Expired an hour ago, well beyond the handler's clock leeway.
    response = call(auth_api, "GET", "/service1/orders", ACME, headers=bearer(token(issuer, age=4200)))
    fresh = call(auth_api, "GET", "/service1/orders", ACME, headers=bearer(token(issuer)))

    assert response.status == 401, response.body
    assert fresh.status == 200, fresh.body
    assert len(backends["service1"].received) == 1  # the fresh one only
    assert outcomes(decisions, auth_api, ACME) == ["unauthorized", "allow"]


def test_a_forged_user_id_is_overwritten_by_the_verified_one(call, auth_api, backends, decisions, issuer):
    forged = {"X-User-Id": "mallory", "X-User-Scopes": "admin", **bearer(token(issuer))}

    response = call(auth_api, "GET", "/service2/profile", ACME, headers=forged)

    assert response.status == 200, response.body
    [record] = backends["service2"].received
    assert header_values(record, "X-User-Id") == ["alice"]
    assert header_values(record, "X-User-Scopes") == ["orders.read"]
    assert outcomes(decisions, auth_api, ACME) == ["allow"]


def test_a_forged_user_id_never_reaches_a_tenant_without_auth(call, auth_api, backends, decisions):
    # initech has `auth: none`: no token needed, and the authorizer's `-` (no verified user) overwrites the
    # client's value. With "" it did not: the emulator's mapping skips an empty value and the forged one passed.
    host = "initech.dev.example.com"
    forged = {"X-User-Id": "mallory", "X-User-Scopes": "admin"}
    response = call(auth_api, "GET", "/service1/orders", host, headers=forged)

    assert response.status == 200, response.body
    [record] = backends["service1"].received
    assert header_values(record, "X-User-Id") == ["-"]
    assert header_values(record, "X-User-Scopes") == ["-"]
    assert header_values(record, "X-Tenant-Id") == ["initech"]
    assert outcomes(decisions, auth_api, host) == ["allow"]


def test_the_registry_items_carry_each_customers_issuer_as_registered(auth_stack, issuer):
    items = auth_stack.items()

    for host in (ACME, GLOBEX):
        assert items[host]["authIssuer"] == {"S": issuer.url}, items[host]
        assert items[host]["authAudiences"] == {"L": [{"S": AUDIENCE}]}
    assert "authIssuer" not in items["initech.dev.example.com"]  # `auth: none`


def test_a_customer_inheriting_the_stacks_auth_refuses_a_request_without_a_token(
    call, auth_stack, auth_api, backends, decisions, issuer
):
    # hooli sets no `auth` of its own: the stack's applies, so without a token its routes answer 401 (TTL 0: every
    # request runs the function). Its registered item must carry the stack's issuer (issue 23 §1: it did not, and
    # requests without a token were allowed).
    assert auth_stack.items()[HOOLI]["authIssuer"] == {"S": issuer.url}
    refused = call(auth_api, "GET", "/service1/orders", HOOLI)
    allowed = call(auth_api, "GET", "/service1/orders", HOOLI, headers=bearer(token(issuer, tenant="hooli")))

    assert outcomes(decisions, auth_api, HOOLI) == ["unauthorized", "allow"]
    assert refused.status == 401, refused.body
    assert allowed.status == 200, allowed.body
    [record] = backends["service1"].received
    assert header_values(record, "X-User-Id") == ["alice"]
