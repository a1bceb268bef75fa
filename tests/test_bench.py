"""The benchmark's pieces at tiny sizes: what it compares and what it prints (no timing asserted)."""

from __future__ import annotations

import functools
import json
from collections import Counter

import pytest

from tools import bench

DOMAIN = "aws:apigateway/domainName:DomainName"
RECORD = "aws:route53/record:Record"
MAPPING = "aws:apigateway/basePathMapping:BasePathMapping"


def test_baseline_registers_exactly_the_programs_resource_count_as_aliases_to_one_domain() -> None:
    program = bench.run_customers(bench.shared_customers(2))
    baseline = bench.run_baseline(len(program.resources), customers=2)

    assert len(baseline.resources) == len(program.resources)
    assert Counter(r.type for r in baseline.resources) == {DOMAIN: 1, RECORD: len(program.resources) - 1}
    domain = baseline.of_type(DOMAIN)[0]
    targets = {(r.inputs["aliases"][0]["name"], r.inputs["aliases"][0]["zoneId"]) for r in baseline.of_type(RECORD)}
    assert targets == {(domain.outputs["regionalDomainName"], domain.outputs["regionalZoneId"])}
    assert len({r.inputs["name"] for r in baseline.of_type(RECORD)}) == len(program.resources) - 1


def test_a_shared_customer_adds_one_record_and_a_dedicated_one_its_domain_mapping_and_record() -> None:
    added = bench.resources_per_customer(base=1)

    assert (added.shared, added.dedicated) == (1, 3)
    assert added.shared_types == {RECORD: 1}
    assert added.dedicated_types == {DOMAIN: 1, MAPPING: 1, RECORD: 1}


def test_the_table_has_one_row_per_size_with_the_programs_resource_counts() -> None:
    rows = bench.benchmark([1, 2, 3], repeat=1, runner=functools.partial(bench.measure_here, warm_up=False))

    # Each size registers what its program run registered: one alias record more per shared customer.
    counts = [rows[0].resources + n for n in range(3)]
    assert [r.resources for r in rows] == [r.program[0].resources for r in rows] == counts
    assert [s.resources for r in rows for s in r.baseline] == counts
    assert all(r.ratio == pytest.approx(r.program_s / r.baseline_s) for r in rows)
    lines = bench.markdown(rows).splitlines()
    assert lines[0].startswith("| customers | resources | program s | baseline s | ratio | peak MiB | ms/customer |")
    body = [line.strip("|").split("|") for line in lines[2:]]
    assert [(int(cells[0]), int(cells[1])) for cells in body] == list(zip([1, 2, 3], counts, strict=True))
    text = bench.report(rows, bench.PerCustomer(1, 1, 3, {}, {}), as_markdown=True)
    assert "t(2) / t(1)" in text and "t(3) / t(2)" in text
    assert "shared 1" in text and "dedicated 3" in text


def test_the_worker_prints_one_measurement_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(["--worker", "baseline", "--customers", "1", "--resources", "4"]) == 0

    sample = bench.Sample(**json.loads(capsys.readouterr().out.strip().splitlines()[-1]))
    assert sample.resources == 4
    assert sample.seconds > 0 and sample.peak_mib >= sample.growth_mib >= 0
    assert sample.cold_seconds > 0  # the warm-up ran before the timed run
