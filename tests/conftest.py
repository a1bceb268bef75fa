"""Shared fixtures: the real program run under the mock engine with the committed stack files."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi
import pytest
from pulumi.runtime.sync_await import _sync_await

from whitelabel.offline import AwsMocks, Registered, StackRun, run_function, run_program, stack_file_config


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


@dataclass
class Deployed:
    """What one mock run of a component program registered, and what the program returned."""

    resources: list[Registered]
    value: Any

    def of_type(self, type_: str) -> list[Registered]:
        return sorted((r for r in self.resources if r.type == type_), key=lambda r: r.name)

    def named(self, name: str) -> Registered:
        (found,) = [r for r in self.resources if r.name == name]
        return found

    def by_urn(self, urn: str) -> Registered:
        (found,) = [r for r in self.resources if r.urn == urn]
        return found


def deploy(build: Callable[[], Any], stack: str = "dev") -> Deployed:
    """Run `build` as a Pulumi program under the offline mocks (preview off) and wait for every registration."""
    mocks = AwsMocks("eu-west-1")
    value, _ = run_function(build, stack, {}, mocks)
    return Deployed(mocks.registered, value)


def resolve(value: Any) -> Any:
    """The plain value of an Output (or a list of them) after a run."""
    return _sync_await(pulumi.Output.from_input(value).future())
