"""`make mutate`'s driver, without running a mutant: what it mutates and with which tests, the fixed sample CI runs,
which mutants it leaves out as equivalent (annotations), and the line it prints per file."""

from __future__ import annotations

from cosmic_ray.work_item import MutationSpec, WorkItem

from tools.mutate import TARGETS, Tally, annotation_spans, in_annotation, sample
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
