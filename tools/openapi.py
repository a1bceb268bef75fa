"""Write the API's OpenAPI document (Swagger 2.0 with API Gateway's extensions) for a stack, without a cloud.

Runs the real `__main__.py` with `Pulumi.<stack>.yaml` under the mock engine (like `make plan`), takes the
values the gateway deploys into the route table (origins, VPC link, load balancers, docs role) and builds
the document from `build_routes()` with `whitelabel.openapi`. Ids and DNS names are the mock engine's
stand-ins; after a real `pulumi up` they are AWS's.

    python -m tools.openapi --stack dev                      # → build/openapi-dev.json
    python -m tools.openapi --stack prod --out api.json
"""

from __future__ import annotations

import argparse
import contextlib
import runpy
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime.sync_await import _sync_await

from components.gateway import Gateway
from components.white_label_gateway import WhiteLabelGateway
from tools import cli
from whitelabel.api_definition import definition_hash
from whitelabel.offline import ROOT, AwsMocks, engine_config, run_function, stack_file_config
from whitelabel.openapi import DeployedValues, build_document, render


def openapi_document(stack: str, config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The OpenAPI document of `stack` as the real program would deploy it.

    config: replaces the stack file's config (as in `whitelabel.offline.run_program`).
    """
    values = dict(stack_file_config(stack) if config is None else config)
    mocks = AwsMocks(str(values.get("aws:region", "eu-west-1")))

    def program() -> Any:
        with contextlib.chdir(ROOT):
            if str(ROOT) not in sys.path:
                sys.path.insert(0, str(ROOT))
            # The program's own module namespace holds the components it created; the gateway is found by type.
            return gateway_of(runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__"))

    gateway, _ = run_function(program, stack, engine_config(values), mocks)
    resolved = _resolve(gateway.definition_values)
    # The routes the gateway built from its backends, not the default table: the document is that API.
    routes = gateway.routes
    return build_document(
        routes,
        DeployedValues.from_gateway(resolved),
        title=gateway.rest_api_name,
        # The deployment trigger's hash: the same version means the same deployed definition.
        version=definition_hash(routes, resolved)[:12],
    )


def gateway_of(namespace: Mapping[str, Any]) -> Gateway:
    """The one `Gateway` of a program's module namespace: a `WhiteLabelGateway`'s, or one built directly."""
    found = [v.gateway if isinstance(v, WhiteLabelGateway) else v for v in namespace.values()]
    gateways = [v for v in found if isinstance(v, Gateway)]
    if len(gateways) != 1:
        raise ValueError(f"the program built {len(gateways)} gateways; the OpenAPI document is of exactly one")
    return gateways[0]


def _resolve(output: pulumi.Output[Any]) -> Any:
    return _sync_await(output.future())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="dev", help="stack whose Pulumi.<stack>.yaml to use (default: dev)")
    parser.add_argument("--out", type=Path, help="file to write (default: build/openapi-<stack>.json)")
    args = parser.parse_args(argv)
    out: Path = args.out or Path("build") / f"openapi-{args.stack}.json"
    try:
        document = cli.load(openapi_document, args.stack)
    except cli.StackError as failure:
        return failure.report()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(document))
    operations = sum(len(methods) for methods in document["paths"].values())
    print(f"wrote {out}: {len(document['paths'])} paths, {operations} operations (stack {args.stack})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
