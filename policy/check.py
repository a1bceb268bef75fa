"""`make policy`: every rule of the pack over the whole graph of each stack, as the mock engine registers it.

Run from the project folder: `python -m policy.check [--stack dev --stack prod]`. Exit status 1 on any violation.
The graph is the real program with the committed stack files (`whitelabel.offline.run_program`), so this is what
`pulumi preview --policy-pack policy` would judge, without a cloud or the Pulumi CLI.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import rules

from whitelabel.offline import run_program

STACKS = ("dev", "prod")


def check_stack(stack: str) -> tuple[list[rules.Resource], list[rules.Violation]]:
    """(resources checked, violations) of one stack."""
    run = run_program(stack)
    resources = [rules.from_registered(r) for r in run.custom]
    return resources, rules.check_graph(resources)


def not_applicable(rule: str, resources: list[rules.Resource]) -> str | None:
    """Why a rule had nothing to judge in this stack (so an "ok" is not read as more than it is)."""
    if rule == "protected-production" and not rules.is_protected_production(resources):
        return "not a protectResources stack"
    if rule == "cached-methods-key-on-host" and not rules.cached_method_settings(resources):
        return "no method is cached"
    if rule == "tls-1-2-only-with-mutual-tls" and not any(
        r.props.get("securityPolicy") == rules.MTLS_POLICY for r in resources
    ):
        return f"nothing uses {rules.MTLS_POLICY}"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", action="append", help="a stack file to check (default: dev and prod)")
    stacks = parser.parse_args(argv).stack or list(STACKS)
    names = [r.name for r in rules.RESOURCE_RULES] + [r.name for r in rules.STACK_RULES]
    print(f"policy pack: {len(rules.RESOURCE_RULES)} resource rules, {len(rules.STACK_RULES)} stack rules, mandatory")
    failed = False
    for stack in stacks:
        resources, violations = check_stack(stack)
        print(f"{stack}: {len(resources)} resources, {len(violations)} violations")
        for name in names:
            mine = [v for v in violations if v.rule == name]
            why = not_applicable(name, resources)
            print(f"  {'FAIL' if mine else 'ok  '} {name}{f' (n/a: {why})' if why else ''}")
            for violation in mine:
                print(f"       {violation.message}  [{violation.urn}]")
        failed = failed or bool(violations)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
