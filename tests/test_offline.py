"""The offline engine's speed switches change how a run is made, never what it records."""

from __future__ import annotations

import dataclasses
import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pulumi
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import deploy, shared_run
from whitelabel import offline
from whitelabel.offline import StackRun, record_source_positions, run_program


def _recorded(run: StackRun) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Everything a run recorded, comparable across runs: registered concurrently, so dependencies as sets;
    archives in outputs by what they hold."""
    resources = [
        {**dataclasses.asdict(r), "dependencies": sorted(r.dependencies), "outputs": offline._comparable(r.outputs)}
        for r in run.resources
    ]
    return sorted(resources, key=lambda r: r["urn"]), run.outputs


@contextmanager
def switched(switch: Callable[[bool], None], during: bool) -> Iterator[None]:
    """One of the harness's switches set to `during` for one test; the suite runs with the other (tests/conftest.py)."""
    switch(during)
    try:
        yield
    finally:
        switch(not during)


@pytest.fixture
def source_positions() -> Iterator[None]:
    """The SDK's stack walk on."""
    with switched(record_source_positions, True):
        yield


def test_a_run_without_source_positions_records_what_a_run_with_them_records(source_positions: None) -> None:
    # The session's run of dev was made without them (tests/conftest.py).
    assert _recorded(shared_run("dev")) == _recorded(run_program("dev"))


def test_without_source_positions_the_sdk_sends_none(source_positions: None, monkeypatch: pytest.MonkeyPatch) -> None:
    sent: dict[str, int] = {}
    register = offline.RecordingMonitor.RegisterResource

    def spy(self: offline.RecordingMonitor, request: Any) -> Any:
        sent[request.type] = len(request.stackTrace.frames)
        return register(self, request)

    monkeypatch.setattr(offline.RecordingMonitor, "RegisterResource", spy)

    class Thing(pulumi.ComponentResource):
        def __init__(self, name: str) -> None:
            # The SDK points at the frame below the third __init__: a component class's caller.
            super().__init__("test:index:Thing", name)

    def build() -> None:
        Thing("thing")

    deploy(build)
    assert sent["test:index:Thing"] > 0, "with positions on, the SDK sends the caller's frames"
    sent.clear()
    record_source_positions(False)
    deploy(build)
    assert sent == {"pulumi:pulumi:Stack": 0, "test:index:Thing": 0}


def test_shared_runs_are_one_run_per_stack_and_config() -> None:
    first = shared_run("dev")
    assert shared_run("dev") is first
    reordered = dict(reversed(list(offline.stack_file_config("dev").items())))
    # The order of the config's keys is part of it (the order of named customers is a test of its own).
    assert shared_run("dev", reordered) is not first
    assert shared_run("prod") is not first


def test_each_caller_of_the_stack_file_gets_its_own_copy() -> None:
    # The parsed stack file is kept per process: what one caller changes, at any depth, no other sees.
    first = offline.stack_file_config("dev")
    customers = first["whitelabel-gateway:customers"]
    assert customers["globex"] == {"dedicatedDomain": True}
    customers["globex"]["dedicatedDomain"] = False
    customers["initech"] = {}
    first["whitelabel-gateway:waf"]["enabled"] = True
    first["aws:region"] = "us-east-1"
    second = offline.stack_file_config("dev")
    assert second["whitelabel-gateway:customers"] == {"acme": {}, "globex": {"dedicatedDomain": True}}
    assert second["whitelabel-gateway:waf"]["enabled"] is False
    assert second["aws:region"] == "eu-west-1"
    assert second == offline.stack_file_text_config(offline.ROOT.joinpath("Pulumi.dev.yaml").read_text(), "x")


def test_a_mock_answer_serialised_without_the_event_loop_is_what_the_sdk_serialises(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The harness runs the mock monitor's serialisation of plain answers directly (`_mock_sync_await`): the same
    # resources, inputs, outputs and exports as through the SDK's own `_sync_await`.
    direct = shared_run("prod")
    monkeypatch.setattr(offline, "_mock_sync_await", offline._sync_await)
    through_sdk = run_program("prod")

    def seen(run: StackRun) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
        # Sorted: registrations reach the monitor from worker threads, in no fixed order.
        # Assets (a function's code) compare by identity: by what they hold.
        found = ((r.urn, r.inputs, offline._comparable(r.outputs)) for r in run.resources)
        return sorted(found, key=lambda seen: seen[0])

    assert seen(direct) == seen(through_sdk)
    assert direct.outputs == through_sdk.outputs


def test_an_answer_that_is_not_plain_data_is_serialised_by_the_sdk() -> None:
    plain = {"arn": "arn:aws:s3:::b", "tags": {"a": "b"}, "ports": [80, 443], "on": True, "none": None}
    assert offline._mock_sync_await(offline.rpc.serialize_properties(plain, {})) == offline._sync_await(
        offline.rpc.serialize_properties(plain, {})
    )
    waiting = {"arn": pulumi.Output.from_input("arn:aws:s3:::b"), "tags": {"a": "b"}}
    assert not offline._plain(waiting)
    serialised = offline._mock_sync_await(offline.rpc.serialize_properties(waiting, {}))
    assert dict(serialised) == {"arn": "arn:aws:s3:::b", "tags": {"a": "b"}}


@pytest.fixture
def sdk_unknowns_check() -> Iterator[None]:
    """The SDK's own Unknowns check."""
    with switched(offline.acyclic_unknowns_check, False):
        yield


UNKNOWN = pulumi.output.Unknown()
# What an Output's value can hold: plain data, Unknowns anywhere in it, and dicts and lists shared or nested.
values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=3) | st.just(UNKNOWN),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=2), inner, max_size=4),
    max_leaves=20,
)


@given(values)
def test_the_acyclic_unknowns_check_answers_as_the_sdks(value: Any) -> None:
    assert offline.contains_unknowns(value) is offline._SDK_CONTAINS_UNKNOWNS(value)
    shared = [value, {"again": value}, value]
    assert offline.contains_unknowns(shared) is offline._SDK_CONTAINS_UNKNOWNS(shared)


def test_the_acyclic_unknowns_check_ends_on_a_cycle_and_finds_an_unknown_behind_it() -> None:
    looped: list[Any] = [1]
    looped.append({"back": looped})
    assert offline.contains_unknowns(looped) is offline._SDK_CONTAINS_UNKNOWNS(looped) is False
    looped.append([UNKNOWN])
    assert offline.contains_unknowns(looped) is offline._SDK_CONTAINS_UNKNOWNS(looped) is True


def test_the_acyclic_unknowns_check_leaves_no_garbage_where_the_sdks_leaves_a_cycle_per_call() -> None:
    value = {"a": [1, {"b": "c"}], "d": None}
    enabled = gc.isenabled()
    gc.disable()
    gc.freeze()  # what earlier tests left is not this test's: only what the calls below make is collected
    try:
        for _ in range(10):
            offline.contains_unknowns(value)
        assert gc.collect() == 0
        for _ in range(10):
            offline._SDK_CONTAINS_UNKNOWNS(value)
        assert gc.collect() >= 10 * 2  # at least each call's function and its cell
    finally:
        gc.unfreeze()
        if enabled:
            gc.enable()


def test_a_run_with_the_sdks_unknowns_check_records_what_a_run_with_the_acyclic_one_records(
    sdk_unknowns_check: None,
) -> None:
    assert offline.rpc.contains_unknowns is offline._SDK_CONTAINS_UNKNOWNS
    # The session's run of prod was made with the acyclic check.
    assert _recorded(run_program("prod")) == _recorded(shared_run("prod"))


@pytest.fixture
def pooled_monitor_calls() -> Iterator[None]:
    """The SDK's calls to the mock monitor in pool threads."""
    with switched(offline.inline_monitor_calls, False):
        yield


def test_a_run_with_monitor_calls_in_pool_threads_records_what_an_inline_run_records(
    pooled_monitor_calls: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: set[str] = set()
    register = offline.RecordingMonitor.RegisterResource

    def spy(self: offline.RecordingMonitor, request: Any) -> Any:
        threads.add(threading.current_thread().name)
        return register(self, request)

    monkeypatch.setattr(offline.RecordingMonitor, "RegisterResource", spy)
    pooled = run_program("prod")
    assert threads and all(name.startswith("mock-monitor") for name in threads)
    # The session's run of prod was made inline, in the event loop's thread.
    assert _recorded(pooled) == _recorded(shared_run("prod"))
    threads.clear()
    offline.inline_monitor_calls(True)
    deploy(lambda: pulumi.ComponentResource("test:index:Thing", "thing"))
    assert threads == {threading.current_thread().name}
