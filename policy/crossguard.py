"""The rules of `rules.py` as CrossGuard policies, every one mandatory (a violation fails preview and update).

Importing this module starts nothing; `__main__.py` hands `POLICIES` to a `PolicyPack`, which serves them.
"""

from __future__ import annotations

from typing import Any

import rules
from pulumi_policy import (
    EnforcementLevel,
    Policy,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

PACK_NAME = "whitelabel-gateway"


def resource_policy(rule: rules.ResourceRule) -> ResourceValidationPolicy:
    """A resource rule checked on each resource's inputs as the engine registers it."""

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        for message in rule.check(args.resource_type, args.props):
            report_violation(message, None)

    return ResourceValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
    )


def stack_policy(rule: rules.StackRule) -> StackValidationPolicy:
    """A stack rule checked on the whole graph (outputs, parents, property dependencies, protect)."""

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        for violation in rule.check([rules.from_policy_resource(r) for r in args.resources]):
            report_violation(violation.message, violation.urn)

    return StackValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
    )


POLICIES: list[Policy] = [
    *(resource_policy(rule) for rule in rules.RESOURCE_RULES),
    *(stack_policy(rule) for rule in rules.STACK_RULES),
]


def pack_arguments() -> dict[str, Any]:
    """What `__main__.py` passes to `PolicyPack`."""
    return {"name": PACK_NAME, "policies": POLICIES, "enforcement_level": EnforcementLevel.MANDATORY}
