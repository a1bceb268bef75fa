"""Shared fixtures: the real program run under the mock engine with the committed stack files."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from whitelabel.offline import StackRun, run_program, stack_file_config


@pytest.fixture(scope="session")
def dev() -> StackRun:
    return run_program("dev")


@pytest.fixture(scope="session")
def prod() -> StackRun:
    return run_program("prod")


def customers_config(customers: list[dict[str, Any]], stack: str = "dev", **keys: Any) -> dict[str, Any]:
    """The stack file's config with `customers` replaced (and other project keys set)."""
    values = stack_file_config(stack)
    values["whitelabel-gateway:customers"] = customers
    for key, value in keys.items():
        values[f"whitelabel-gateway:{key}"] = value
    return values


@pytest.fixture
def run_with() -> Callable[..., StackRun]:
    """Run the program on the dev stack file with another customer list (and other keys)."""

    def run(customers: list[dict[str, Any]], stack: str = "dev", **keys: Any) -> StackRun:
        return run_program(stack, customers_config(customers, stack, **keys))

    return run


def inputs_by_urn(run: StackRun) -> dict[str, dict[str, Any]]:
    return {r.urn: r.inputs for r in run.resources}
