"""`make mutate`'s driver, without running a mutant: what it mutates and with which tests, the fixed sample CI runs,
which mutants it leaves out as equivalent (annotations), and the line it prints per file."""

from __future__ import annotations

import difflib

import pytest
from cosmic_ray import work_item
from cosmic_ray.work_item import MutationSpec, WorkerOutcome, WorkItem, WorkResult

from tools.mutate import (
    TARGETS,
    Tally,
    annotation_spans,
    count_result,
    counted_in,
    in_annotation,
    pick,
    read_report,
    report_text,
    sample,
)
from whitelabel.offline import ROOT


def item(operator: str, occurrence: int, line: int = 1, column: int = 0) -> WorkItem:
    spec = MutationSpec("m.py", operator, occurrence, (line, column), (line, column + 1))
    return WorkItem.single(f"{operator}-{occurrence}", spec)


def test_every_mutated_file_and_each_of_its_tests_exists():
    assert set(TARGETS) == {
        "functions/tenant_authorizer/handler.py",
        "whitelabel/tenancy.py",
        "components/tenant_keys.py",
    }
    for path, tests in TARGETS.items():
        assert (ROOT / path).is_file() and tests, path
        for test in tests:
            file, _, case = test.partition("::")
            assert (ROOT / file).is_file(), test
            assert not case or f"def {case}(" in (ROOT / file).read_text(), test
        # Annotations are skipped as equivalent only because they are never evaluated.
        assert "from __future__ import annotations" in (ROOT / path).read_text(), path


def test_the_sample_is_a_fixed_even_spread_whatever_the_listing_order():
    items = [item(op, n) for op in ("b", "a") for n in range(10)]

    chosen = sample(items, 4)

    assert [(w.mutations[0].operator_name, w.mutations[0].occurrence) for w in chosen] == [
        ("a", 0),
        ("a", 5),
        ("b", 0),
        ("b", 5),
    ]
    assert chosen == sample(list(reversed(items)), 4)
    assert len(sample(items, None)) == len(sample(items, 50)) == 20


def test_mutants_inside_annotations_are_told_apart_from_code():
    source = (
        "def f(a: int | None, b=1 | 2) -> str | None:\n"  # line 1
        "    x: int | None = a or b\n"  # line 2
        "    return str(x | 1)\n"  # line 3
    )
    spans = annotation_spans(source)

    assert in_annotation(item("BitOr", 0, 1, 13), spans)  # `int | None` of a
    assert in_annotation(item("BitOr", 1, 1, 38), spans)  # the return annotation
    assert in_annotation(item("BitOr", 2, 2, 11), spans)  # x's annotation
    assert not in_annotation(item("BitOr", 3, 1, 25), spans)  # the default `1 | 2` is code
    assert not in_annotation(item("BitOr", 4, 3, 17), spans)  # `x | 1` is code


def test_the_line_per_file_counts_a_timeout_as_caught():
    tally = Tally("whitelabel/tenancy.py", total=10, killed=7, survived=2, timed_out=1, in_annotations=3)

    assert tally.line() == (
        "whitelabel/tenancy.py: 10 of 10 mutants run: killed 7, survived 2, timed out 1, incompetent 0; "
        "caught 80.0% (3 in annotations not run)"
    )


SOURCE = "LIMIT = 16384\nTTL = 30 if mode == 'cached' else 0\n"


def survived(tally: Tally, operator: str, occurrence: int, mutated: str) -> None:
    """Count a survivor as the driver does, with the diff cosmic-ray would give (file names of a throw-away copy)."""
    diff = difflib.unified_diff(
        SOURCE.split("\n"), mutated.split("\n"), "a//tmp/copy-0/m.py", "b//tmp/copy-0/m.py", lineterm=""
    )
    result = WorkResult(
        output="",
        diff="\n".join(["--- mutation diff ---", *diff]),
        test_outcome=work_item.TestOutcome.SURVIVED,
        worker_outcome=WorkerOutcome.NORMAL,
    )
    count_result(tally, item(operator, occurrence), result)


def test_a_rerun_of_the_survivors_runs_only_those_and_counts_what_it_kills_into_the_file():
    first = Tally("m.py", total=5, killed=2, timed_out=1, in_annotations=1)
    survived(first, "core/NumberReplacer", 1, SOURCE.replace("16384", "16383"))
    survived(first, "core/ReplaceComparisonOperator_Eq_NotEq", 0, SOURCE.replace("==", "!="))
    report = read_report(report_text(first))
    listing = [item("core/NumberReplacer", n) for n in range(4)] + [item("core/ReplaceComparisonOperator_Eq_NotEq", 0)]

    chosen = pick(listing, SOURCE, report.survivors)

    assert report.tally.line() == first.line()
    assert [(w.mutations[0].operator_name, w.mutations[0].occurrence) for w in chosen] == [
        ("core/NumberReplacer", 1),
        ("core/ReplaceComparisonOperator_Eq_NotEq", 0),
    ]
    # The re-run kills one of the two: the file now counts 3 killed, 1 survivor, and its report lists that one only.
    rerun = Tally("m.py", total=2, killed=1)
    survived(rerun, "core/ReplaceComparisonOperator_Eq_NotEq", 0, SOURCE.replace("==", "!="))
    whole = counted_in(report.tally, rerun)
    assert whole.line() == (
        "m.py: 5 of 5 mutants run: killed 3, survived 1, timed out 1, incompetent 0; caught 80.0% "
        "(1 in annotations not run)"
    )
    again = read_report(report_text(whole, "re-run of the 2 survivors of build/mutation/m.txt: ..."))
    assert again.tally.line() == whole.line()
    assert list(again.survivors) == [("core/ReplaceComparisonOperator_Eq_NotEq", 0)]


def test_a_rerun_refuses_a_report_whose_mutants_the_file_no_longer_has():
    first = Tally("m.py", total=4, killed=3)
    survived(first, "core/NumberReplacer", 1, SOURCE.replace("16384", "16383"))
    report = read_report(report_text(first))
    listing = [item("core/NumberReplacer", n) for n in range(4)]

    with pytest.raises(ValueError, match="core/NumberReplacer #1"):
        pick(listing, SOURCE.replace("16384", "8192"), report.survivors)  # the same occurrence, another mutant
    with pytest.raises(ValueError, match="core/NumberReplacer #1"):
        pick(listing[:1], SOURCE, report.survivors)  # gone from the listing
    with pytest.raises(ValueError, match="first line"):
        read_report("not a report\n")
