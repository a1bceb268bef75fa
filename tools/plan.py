"""Offline plan: what `pulumi up --stack <stack>` would create, shown without a cloud or the Pulumi CLI.

Runs the real `__main__.py` with `Pulumi.<stack>.yaml` under the mock engine and prints resources
by component, the customer endpoint table and the route table.

    python -m tools.plan --stack dev
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict

import pulumi

from whitelabel.api_definition import build_routes, route_table
from whitelabel.offline import StackRun, run_program


def _component_of(run: StackRun) -> dict[str, str]:
    """URN → the name of the top-level component it belongs to."""
    by_urn = run.by_urn()
    owners: dict[str, str] = {}
    for resource in run.resources:
        node = resource
        while node.parent in by_urn and by_urn[node.parent].parent in by_urn:
            node = by_urn[node.parent]
        top = by_urn.get(node.parent) if resource.custom else node
        owners[resource.urn] = f"{top.name} ({top.type})" if top else "(stack)"
    return owners


def render(run: StackRun) -> str:
    """The plan as text for a person."""
    lines: list[str] = []
    owners = _component_of(run)
    groups: dict[str, Counter[str]] = defaultdict(Counter)
    for resource in run.custom:
        groups[owners[resource.urn]][resource.type] += 1
    total = len(run.custom)
    lines.append(f"Stack {run.stack}: {total} AWS resources in {len(groups)} components")
    for component in sorted(groups):
        counts = groups[component]
        lines.append(f"\n  {component}: {sum(counts.values())}")
        for type_, count in sorted(counts.items()):
            lines.append(f"    {count:>4}  {type_}")

    endpoints = run.outputs.get("customerEndpoints") or {}
    dedicated = run.outputs.get("dedicatedDomains") or {}
    handoff = run.outputs.get("customDomainHandoff") or {}
    lines.append(f"\nCustomer endpoints ({len(endpoints)}):")
    width = max((len(n) for n in endpoints), default=8)
    for name in sorted(endpoints):
        kind = "dedicated domain" if name in dedicated else "shared wildcard domain"
        extra = ""
        if name in handoff:
            extra = f"; own domain {handoff[name]['domain']} ({handoff[name]['status']})"
        lines.append(f"  {name:<{width}}  {endpoints[name]:<45} {kind}{extra}")

    lines.append("\nRoutes (every customer subdomain):")
    for method, path, target in route_table(build_routes()):
        lines.append(f"  {method:<4} {path:<22} → {target}")
    lines.append(f"\nStage: {run.outputs.get('stageName')}   Docs bucket: {run.outputs.get('docsBucket')}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="dev", help="stack whose Pulumi.<stack>.yaml to plan (default: dev)")
    args = parser.parse_args(argv)
    try:
        run = run_program(args.stack)
    except FileNotFoundError as error:
        print(f"error: no stack file: {error.filename}", file=sys.stderr)
        return 2
    except pulumi.RunError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(render(run))
    return 0


if __name__ == "__main__":
    sys.exit(main())
