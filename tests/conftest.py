"""Shared fixtures: the real program run under the mock engine with the committed stack files, one run per
(stack, config) a session (`shared_run`); `make unit` runs the test files on one worker per core, so a test
writes only under tmp_path."""

from __future__ import annotations

import gc
import json
from collections import Counter
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pytest
from pulumi.runtime.sync_await import _sync_await

from tools import dashboard as dashboard_tool
from tools import preview as preview_tool
from whitelabel.offline import (
    ROOT,
    AwsMocks,
    Registered,
    StackRun,
    acyclic_unknowns_check,
    inline_monitor_calls,
    record_source_positions,
    run_function,
    run_program,
    stack_file_config,
)


def pytest_configure(config: pytest.Config) -> None:
    # Until the tests start (below), importing the SDK, pulumi_aws and the test modules makes objects that live to
    # the end: at the default threshold of 700 the collector would look at them again and again.
    gc.set_threshold(50_000, 20, 20)
    # No test reads a resource's source position; not walking the stack for it records the same resources.
    record_source_positions(False)
    # The SDK's Unknowns check leaves a reference cycle per call; the same check without one (whitelabel/offline.py).
    acyclic_unknowns_check(True)
    # The SDK's calls to the mock monitor in the event loop's thread, not handed to a pool thread each.
    inline_monitor_calls(True)


# A test process runs the cyclic collector only when what the tests left grows past this many container objects
# (gc.get_count()[0]: allocated and not freed since the last collection). A program run's garbage is mostly freed by
# reference counting; its cycles (about 4,200 objects a dev run, see whitelabel/offline.py) wait for a collection.
# Collecting after every test cost more than keeping them: measured (`make unit`, two runs of each, alternating, on
# the 2-core machine) 77.6-78.2 s of CPU and 43.6-43.9 s wall collecting, 73.2-74.2 s and 41.0-41.4 s not, with
# 1.0 GB the largest worker (0.68 GB collecting). What outlives a test is frozen, so a collection something else
# asks for (pytest's at the end, Hypothesis's) has only the newest objects to look at. `make unit`'s workers stay
# under the bound; the one process of `make test` collects everything when it reaches it, which bounds its memory as
# the suite grows.
GC_BOUND_OBJECTS = 6_000_000


def pytest_collection_finish(session: pytest.Session) -> None:
    # What importing the SDK, pulumi_aws and the test modules made lives until the end: out of every collection.
    gc.collect()
    gc.freeze()
    gc.disable()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    try:
        return (yield)
    finally:
        if gc.get_count()[0] > GC_BOUND_OBJECTS:
            gc.unfreeze()
            gc.collect()
        gc.freeze()


# The test files that take longest, in seconds (`make unit` on the 2-core machine, 2026-12-07; authorizer_jwks mostly
# waits on its deadlines). `make unit` hands whole files to its two workers in collection order
# (--no-loadscope-reorder), one file to whichever worker is free: these go first, so the files handed out last are
# short ones and both workers finish at about the same time. A file missing here, or a stale number, costs only
# balance: the other files follow, most tests first (pytest-xdist's own order).
LONGEST_FILES = {
    "test_onboarding.py": 12.4,
    "test_preview.py": 5.5,
    "test_config_properties.py": 4.0,
    "test_own_domains_cloudfront.py": 3.8,
    "test_own_domain_move.py": 3.1,
    "test_names.py": 2.9,
    "test_authorizer_jwks.py": 2.8,
    "test_bench.py": 2.6,
    "test_pooled.py": 2.6,
    "test_applier.py": 2.5,
    "test_authorizer_handler.py": 2.4,
    "test_makefile.py": 2.2,
    "test_readme.py": 2.1,
}


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Only in a worker of a parallel run: one process (`make test`, the contract suite) keeps pytest's order.
    # trylast: after pytest has grouped each file's tests by their module-scoped parameters; a stable sort by file
    # keeps that order inside each file.
    if not hasattr(config, "workerinput"):
        return
    per_file = Counter(item.path for item in items)
    items.sort(key=lambda item: (-LONGEST_FILES.get(item.path.name, 0), -per_file[item.path]))


# Reports handed back by the workers of a parallel run (`make unit`), printed after the tests.
_WORKER_REPORTS: list[str] = []


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """pytest-xdist: a worker finished; keep the report lines it handed back (its own prints are not shown)."""
    _WORKER_REPORTS.extend(getattr(node, "workeroutput", {}).get("reports", []))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for line in _WORKER_REPORTS:
        terminalreporter.write_line(line)


# One StackRun per (stack, config) for the whole session, filled by `shared_run`.
_RUNS: dict[str, StackRun] = {}


def shared_run(stack: str, values: Mapping[str, Any] | None = None) -> StackRun:
    """The program's run for `stack` on `values` (the stack file's config if None), run once per session.

    Tests that read the same config read the same run: treat it as read-only (`copy.deepcopy` before changing
    it). A test whose point is that two runs agree (determinism) calls `run_program` itself.
    """
    values = stack_file_config(stack) if values is None else values
    # Not sort_keys: the order of customers (a list, or a mapping by name) is part of the config under test.
    key = json.dumps([stack, values])
    if key not in _RUNS:
        _RUNS[key] = run_program(stack, values)
    return _RUNS[key]


def shared_program(stack: str, config: Mapping[str, Any] | None = None, **options: Any) -> StackRun:
    """`run_program` (the same arguments) as a tool run inside a test calls it (`share_tool_runs`): the session's run
    (`shared_run`) when the call is this project's program on a config and nothing more, a run of its own for
    anything else (an edit, another project directory, mocks, a platform's outputs)."""
    if options.get("project_dir", ROOT) == ROOT and all(
        value is None for key, value in options.items() if key != "project_dir"
    ):
        return shared_run(stack, config)
    return run_program(stack, config, **options)


@pytest.fixture
def share_tool_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tools a test runs in-process (`make preview`'s, `make dashboard`'s) take the session's run of a config the
    suite has run already, instead of running the program on it again: the same program on the same config registers
    the same resources (tests/test_offline.py compares two runs of dev, and of prod, resource by resource). A test
    whose point is a fresh run (determinism, a patched program) does not use this."""
    for tool in (preview_tool, dashboard_tool):
        monkeypatch.setattr(tool, "run_program", shared_program)


@pytest.fixture(scope="session")
def dev() -> StackRun:
    return shared_run("dev")


@pytest.fixture(scope="session")
def prod() -> StackRun:
    return shared_run("prod")


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
        return shared_run(stack, customers_config(customers, stack, **keys))

    return run


def inputs_by_urn(run: StackRun) -> dict[str, dict[str, Any]]:
    return {r.urn: r.inputs for r in run.resources}


def name_diff(before: StackRun, after: StackRun) -> tuple[list[str], list[str], list[str]]:
    """What `pulumi up` from `before` to `after` would do, by resource name: (created, deleted, updated), sorted."""
    old, new = inputs_by_urn(before), inputs_by_urn(after)

    def name(urn: str) -> str:
        return urn.rsplit("::", 1)[1]

    return (
        sorted(name(u) for u in new.keys() - old.keys()),
        sorted(name(u) for u in old.keys() - new.keys()),
        sorted(name(u) for u in old.keys() & new.keys() if old[u] != new[u]),
    )


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
