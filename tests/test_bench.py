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
API_KEY = "aws:apigateway/apiKey:ApiKey"
PLAN_KEY = "aws:apigateway/usagePlanKey:UsagePlanKey"
PLAN = "aws:apigateway/usagePlan:UsagePlan"
ITEM = "aws:dynamodb/tableItem:TableItem"
TABLE = "aws:dynamodb/table:Table"


def test_baseline_registers_the_programs_count_with_its_per_customer_resources() -> None:
    program = bench.run_customers(bench.shared_customers(2))
    baseline = bench.run_baseline(len(program.resources), customers=2)

    assert len(baseline.resources) == len(program.resources)
    assert all(r.custom for r in baseline.resources)  # plain resources: no components
    counts = Counter(r.type for r in baseline.resources)
    assert {t: counts[t] for t in (DOMAIN, PLAN, TABLE, API_KEY, PLAN_KEY, ITEM)} == {
        DOMAIN: 1,
        PLAN: 1,
        TABLE: 1,
        API_KEY: 2,
        PLAN_KEY: 2,
        ITEM: 2,
    }
    assert counts[RECORD] == len(program.resources) - 9
    domain = baseline.of_type(DOMAIN)[0]
    targets = {(r.inputs["aliases"][0]["name"], r.inputs["aliases"][0]["zoneId"]) for r in baseline.of_type(RECORD)}
    assert targets == {(domain.outputs["regionalDomainName"], domain.outputs["regionalZoneId"])}
    assert len({r.inputs["name"] for r in baseline.of_type(RECORD)}) == counts[RECORD]
    # Wired as the program wires a customer: plan key to key and plan, item from the key's value.
    plan = baseline.of_type(PLAN)[0]
    keys = {k.name: k for k in baseline.of_type(API_KEY)}
    plan_key = baseline.named("baseline-r00000-plan-key")
    assert plan_key.inputs["keyId"] == keys["baseline-r00000-api-key"].id
    assert plan_key.inputs["usagePlanId"] == plan.id
    item = json.loads(baseline.named("baseline-r00000.bench.example.com-item").inputs["item"]["value"])
    assert item["apiKey"] == {"S": keys["baseline-r00000-api-key"].outputs["value"]}


def test_the_baseline_refuses_a_count_too_small_for_its_customers() -> None:
    with pytest.raises(ValueError, match="cannot hold"):
        bench.baseline_program(10, customers=2)


def test_a_shared_customer_adds_a_record_key_plan_key_and_item_and_a_dedicated_one_its_domain_too() -> None:
    added = bench.resources_per_customer(base=1)

    tenant = {API_KEY: 1, PLAN_KEY: 1, ITEM: 1}
    assert (added.shared, added.dedicated, added.wildcard_shared) == (4, 6, 3)
    assert added.shared_types == {RECORD: 1, **tenant}
    assert added.dedicated_types == {DOMAIN: 1, MAPPING: 1, RECORD: 1, **tenant}
    assert added.wildcard_shared_types == tenant


def test_the_table_has_one_row_per_size_with_the_programs_resource_counts() -> None:
    rows = bench.benchmark([1, 2, 3], repeat=1, runner=functools.partial(bench.measure_here, warm_up=False))

    # Each size registers what its program run registered: four resources more per shared customer.
    counts = [rows[0].resources + 4 * n for n in range(3)]
    assert [r.resources for r in rows] == [r.program[0].resources for r in rows] == counts
    assert [s.resources for r in rows for s in r.baseline] == counts
    assert all(r.ratio == pytest.approx(r.program_s / r.baseline_s) for r in rows)
    lines = bench.markdown(rows).splitlines()
    assert lines[0].startswith("| customers | resources | program s | baseline s | ratio | peak MiB | ms/customer |")
    body = [line.strip("|").split("|") for line in lines[2:]]
    assert [(int(cells[0]), int(cells[1])) for cells in body] == list(zip([1, 2, 3], counts, strict=True))
    text = bench.report(rows, bench.PerCustomer(1, 4, 6, {}, {}, 3, {}), as_markdown=True)
    assert "t(2) / t(1)" in text and "t(3) / t(2)" in text
    assert "shared 4" in text and "dedicated 6" in text and "wildcard, shared 3" in text


def test_the_worker_prints_one_measurement_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(["--worker", "baseline", "--customers", "1", "--resources", "9"]) == 0

    sample = bench.Sample(**json.loads(capsys.readouterr().out.strip().splitlines()[-1]))
    assert sample.resources == 9
    assert sample.seconds > 0 and sample.peak_mib >= sample.growth_mib >= 0
    assert sample.cold_seconds > 0  # the warm-up ran before the timed run
