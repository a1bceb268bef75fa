"""Benchmark of the tenant authorizer's handler: decision time in-process and cold import time.

Decision time: `handler.handler(event, None)` called `--calls` times in this process after a warm-up,
`perf_counter` around each call, its log line written to /dev/null (the JSON encoding stays in the cost):

- cache hit: the registry answer is in the handler's cache (the path of every request within
  `REGISTRY_CACHE_SECONDS` once API Gateway's own cache has missed);
- cache off, fake client: `REGISTRY_CACHE_SECONDS=0` and an in-process dict as the client: the handler's
  own work on every request (host rules, parsing the item, building the policy, the log line);
- cache off, botocore client: the same with a real botocore DynamoDB client answered by botocore's
  `Stubber` (parameter validation and botocore's event chain run; no HTTP, no signing, no network).
  A real GetItem adds the network round trip to DynamoDB on top of this.

Cold import: `import handler` in a fresh interpreter whose path starts at the handler's folder (as in
Lambda), `perf_counter` (wall) and `process_time` (CPU) around the import only, the median of
`--imports` runs, one after the other. Wall time is the goal's measure; on a loaded machine it counts
time spent waiting for a CPU, which the CPU column does not:

- outside Lambda: boto3 and botocore are imported, no client is built;
- as in Lambda: `AWS_LAMBDA_FUNCTION_NAME` is set, so the module also builds its DynamoDB client at
  import (what Lambda's init phase runs). Dummy region and credentials; nothing is contacted.

End-user authentication (issue 18), with the bundled PyJWT (the locked wheel's code) and this environment's
cryptography (the same pinned version, built for x86_64; the zip's own build is arm64):

- decision with a token, RS256 and ES256: `decide` for a tenant whose item names an issuer, a fresh bearer
  token each run signed outside the timed span, the issuer's key set already cached (`KeySets` with an
  in-memory fetch): signature and claim checks on every call;
- cold import with `USER_AUTH=on`, as in Lambda: the module also imports PyJWT and cryptography at init.

Goals (issue 8): decision p99 ≤ 5 ms, cold import ≤ 300 ms; with a token (issue 18): decision p99 ≤ 5 ms, cold
import ≤ 400 ms. This machine is not Lambda (different CPU, x86_64 here, Python of the project's virtualenv);
the figures are this machine's.

    python -m tools.bench_authorizer [--calls 10000] [--imports 5]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.stub import Stubber

from functions.tenant_authorizer import handler as authorizer
from whitelabel.function_bundle import unpacked_files

HANDLER_DIR = Path(authorizer.__file__).resolve().parent
TABLE = "bench-tenants"
HOST = "acme.example.com"
ITEM = {
    "hostname": {"S": HOST},
    "tenantId": {"S": "acme"},
    "tier": {"S": "standard"},
    "status": {"S": "active"},
    "apiKey": {"S": "bench-key-0123456789abcdefghij"},
}
EVENT: dict[str, Any] = {
    "type": "REQUEST",
    "methodArn": "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/dev/GET/orders/42",
    "resource": "/orders/{id}",
    "path": "/orders/42",
    "httpMethod": "GET",
    "headers": {"Host": HOST, "Accept": "*/*", "User-Agent": "bench", "X-Forwarded-For": "198.51.100.7"},
    "multiValueHeaders": {
        "Host": [HOST],
        "Accept": ["*/*"],
        "User-Agent": ["bench"],
        "X-Forwarded-For": ["198.51.100.7"],
    },
    "queryStringParameters": {},
    "multiValueQueryStringParameters": {},
    "pathParameters": {"id": "42"},
    "stageVariables": {},
    "requestContext": {"requestId": "bench", "stage": "dev", "apiId": "a1b2c3d4e5", "httpMethod": "GET"},
}
DECISION_GOAL_MS = 5.0
IMPORT_GOAL_MS = 300.0
AUTH_IMPORT_GOAL_MS = 400.0
ISSUER = "https://idp.example.com/bench"
AUDIENCE = "bench-client"
AUTH_ITEM = {
    **ITEM,
    "authIssuer": {"S": ISSUER},
    "authAudiences": {"L": [{"S": AUDIENCE}]},
    "authTenantClaim": {"S": "custom:tenantId"},
}
DUMMY_AWS = {
    "AWS_REGION": "eu-west-1",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_EC2_METADATA_DISABLED": "true",
}


@dataclass(frozen=True)
class Row:
    measure: str
    runs: int
    p50_ms: float
    p99_ms: float | None
    goal_ms: float | None  # None: shown for context, no goal
    cpu_ms: float | None = None  # imports: the interpreter's CPU time for the import (less sensitive to load)

    @property
    def met(self) -> bool:
        if self.goal_ms is None:
            return True
        return (self.p99_ms if self.p99_ms is not None else self.p50_ms) <= self.goal_ms


class DictClient:
    """GetItem over one in-memory item: no botocore on the path."""

    def get_item(self, TableName: str, Key: dict[str, Any]) -> dict[str, Any]:  # noqa: N803 (boto3's names)
        return {"Item": ITEM} if Key["hostname"]["S"] == HOST else {}


def percentile_ms(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index] * 1000


def time_decisions(registry: authorizer.Registry, calls: int, before_each: Callable[[], None] | None = None) -> Row:
    """`calls` timed calls of the entry point with `registry` as the container's registry."""
    authorizer._registry = registry
    samples: list[float] = []
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        for _ in range(min(calls, 200)):  # warm-up: caches, branch paths, lazily built botocore parts
            if before_each:
                before_each()
            authorizer.handler(EVENT, None)
        for _ in range(calls):
            if before_each:
                before_each()
            start = time.perf_counter()
            answer = authorizer.handler(EVENT, None)
            samples.append(time.perf_counter() - start)
    assert answer["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    return Row("", calls, percentile_ms(samples, 0.5), percentile_ms(samples, 0.99), DECISION_GOAL_MS)


def decision_rows(calls: int) -> list[Row]:
    hit = time_decisions(authorizer.Registry(TABLE, DictClient(), ttl_seconds=3600), calls)
    uncached = time_decisions(authorizer.Registry(TABLE, DictClient(), ttl_seconds=0), calls)

    client = boto3.client("dynamodb", region_name="eu-west-1", aws_access_key_id="bench", aws_secret_access_key="bench")
    expected = {"TableName": TABLE, "Key": {"hostname": {"S": HOST}}}
    with Stubber(client) as stub:
        botocore_row = time_decisions(
            authorizer.Registry(TABLE, client, ttl_seconds=0),
            calls,
            before_each=lambda: stub.add_response("get_item", {"Item": ITEM}, expected),
        )
        stub.assert_no_pending_responses()
    authorizer._registry = None
    # The Stubber's queueing runs outside the timed span (before_each), so only the call is measured.
    return [
        Row("decision, cache hit", hit.runs, hit.p50_ms, hit.p99_ms, hit.goal_ms),
        Row("decision, cache off, fake client", uncached.runs, uncached.p50_ms, uncached.p99_ms, uncached.goal_ms),
        Row(
            "decision, cache off, botocore client (Stubber, no network)",
            botocore_row.runs,
            botocore_row.p50_ms,
            botocore_row.p99_ms,
            None,
        ),
    ]


IMPORT_CODE = (
    "import os, sys, time; sys.path.insert(0, '.'); "
    "sys.path += [p for p in [os.environ.get('BENCH_BUNDLE')] if p]; "
    "t, c = time.perf_counter(), time.process_time(); import handler; "
    "print((time.perf_counter() - t) * 1000, (time.process_time() - c) * 1000)"
)


def bundle_folder() -> Path:
    """The unpacked bundle (the locked wheels' files), verified against the pins."""
    return unpacked_files()["jwt/__init__.py"].parent.parent


def jwt_module() -> Any:
    """PyJWT from the unpacked bundle (appended to the path: this environment's cryptography stays first)."""
    folder = str(bundle_folder())
    if folder not in sys.path:
        sys.path.append(folder)
    import jwt

    return jwt


def auth_decision_rows(calls: int) -> list[Row]:
    """`decide` with a bearer token for RS256 and ES256, the key set cached; tokens made outside the timed span."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    jwt = jwt_module()
    from jwt.algorithms import ECAlgorithm, RSAAlgorithm

    signers: dict[str, tuple[Any, Any]] = {
        "RS256": (rsa.generate_private_key(public_exponent=65537, key_size=2048), RSAAlgorithm),
        "ES256": (ec.generate_private_key(ec.SECP256R1()), ECAlgorithm),
    }
    keys_document = {
        "keys": [
            {**json.loads(kind.to_jwk(key.public_key())), "kid": alg, "alg": alg, "use": "sig"}
            for alg, (key, kind) in signers.items()
        ]
    }

    def fetch(url: str, deadline: float) -> Any:
        if url.endswith("/.well-known/openid-configuration"):
            return {"issuer": ISSUER, "jwks_uri": ISSUER + "/jwks.json"}
        return keys_document

    class AuthClient:
        def get_item(self, TableName: str, Key: dict[str, Any]) -> dict[str, Any]:  # noqa: N803 (boto3's names)
            return {"Item": AUTH_ITEM}

    registry = authorizer.Registry(TABLE, AuthClient(), ttl_seconds=3600)
    key_sets = authorizer.KeySets(fetch=fetch)
    rows = []
    for alg, (key, _) in signers.items():
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "user-1", "custom:tenantId": "acme", "exp": now + 3600}
        # One token per call (signing is the issuer's work, not the authorizer's): nothing is memoised across calls.
        events = []
        for i in range(min(calls, 200) + calls):
            token = jwt.encode({**claims, "jti": str(i)}, key, algorithm=alg, headers={"kid": alg})
            headers = {**EVENT["headers"], "Authorization": f"Bearer {token}"}
            events.append({**EVENT, "headers": headers, "multiValueHeaders": {k: [v] for k, v in headers.items()}})
        samples: list[float] = []
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
            for event in events[: min(calls, 200)]:
                authorizer.decide(event, registry, keys=key_sets)
            for event in events[min(calls, 200) :]:
                start = time.perf_counter()
                answer = authorizer.decide(event, registry, keys=key_sets)
                samples.append(time.perf_counter() - start)
        assert answer["context"]["userId"] == "user-1"
        assert key_sets.fetches == 1  # the key set was fetched once, then served from the cache
        rows.append(
            Row(
                f"decision with a token, {alg}, key set cached",
                calls,
                percentile_ms(samples, 0.5),
                percentile_ms(samples, 0.99),
                DECISION_GOAL_MS,
            )
        )
    return rows


def cold_import_ms(in_lambda: bool, user_auth: bool = False) -> tuple[float, float]:
    """One `import handler` in a fresh interpreter: wall and CPU time, in milliseconds.

    user_auth: `USER_AUTH=on`, the bundle's folder after this environment's site-packages (PyJWT from it).
    """
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONDONTWRITEBYTECODE": "1", **DUMMY_AWS}
    if in_lambda:
        env |= {"AWS_LAMBDA_FUNCTION_NAME": "tenant-authorizer", "TENANT_TABLE": TABLE}
    if user_auth:
        env |= {"USER_AUTH": "on", "BENCH_BUNDLE": str(bundle_folder())}
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_CODE],
        cwd=HANDLER_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    wall, cpu = done.stdout.split()
    return float(wall), float(cpu)


def import_rows(imports: int) -> list[Row]:
    rows = []
    for label, in_lambda, user_auth, goal in (
        ("cold import, outside Lambda (no client)", False, False, IMPORT_GOAL_MS),
        ("cold import, as in Lambda (client built)", True, False, IMPORT_GOAL_MS),
        ("cold import, as in Lambda with USER_AUTH (PyJWT + cryptography)", True, True, AUTH_IMPORT_GOAL_MS),
    ):
        samples = [cold_import_ms(in_lambda, user_auth) for _ in range(imports)]
        wall = statistics.median(wall for wall, _ in samples)
        cpu = statistics.median(cpu for _, cpu in samples)
        rows.append(Row(label, imports, wall, None, goal, cpu_ms=cpu))
    return rows


def markdown(rows: list[Row]) -> str:
    lines = [
        "| measure | runs | p50 / median (ms) | p99 (ms) | CPU, median (ms) | goal (ms) | met |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in rows:
        p99 = "" if row.p99_ms is None else f"{row.p99_ms:.3f}"
        if row.goal_ms is None:
            goal, met = "—", "—"
        else:
            goal = f"p99 ≤ {row.goal_ms:g}" if row.p99_ms is not None else f"≤ {row.goal_ms:g}"
            met = "yes" if row.met else "NO"
        cpu = "" if row.cpu_ms is None else f"{row.cpu_ms:.1f}"
        lines.append(f"| {row.measure} | {row.runs:,} | {row.p50_ms:.3f} | {p99} | {cpu} | {goal} | {met} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=10_000, help="timed decisions per row (default 10,000)")
    parser.add_argument("--imports", type=int, default=5, help="fresh interpreters per import row (default 5)")
    args = parser.parse_args(argv)

    rows = decision_rows(args.calls) + auth_decision_rows(args.calls) + import_rows(args.imports)
    print(
        f"Tenant authorizer handler on {platform.machine()}, Python {platform.python_version()}, "
        f"boto3 {boto3.__version__}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the start"
    )
    print()
    print(markdown(rows))
    return 0 if all(row.met for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
