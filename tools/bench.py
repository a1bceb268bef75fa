"""Benchmark: the program under the mock engine beside plain resources on the same engine.

For each size N (shared customers) it measures, in the same run and on the same machine:

- program: wall time and peak memory of `run_program("dev", <dev stack file with N customers>)`;
- baseline: the same offline engine entry point (`whitelabel.offline.run_function`, which
  `run_program` uses for `__main__.py`: AwsMocks, RecordingMonitor, `set_mocks`, `run_pulumi_func`)
  running a small inline program that registers exactly as many resources as the program did, with
  no components: per customer the same four resources the program makes for a shared customer (alias
  record, API key, usage plan key, registry item built from the key's value), wired the same way to one
  custom domain, one usage plan and one table, and Route 53 alias records for the rest of the count;
- ratio = program time / baseline time, and time per customer.

Every measurement runs in a fresh subprocess (the Pulumi runtime keeps global state), program and
baseline interleaved so that load from other processes falls on both; the median of `--repeat`
runs is reported with its spread. Before the timed run, each subprocess runs the program once with
one customer: that imports the pulumi_aws modules the program uses (ec2, ecs, lb, … load lazily and
take over a second, once per process, whatever the number of customers), so program and baseline
are timed with the same modules loaded; that first run is reported apart as the cold start. Time is
`perf_counter` around the run only; memory is the subprocess's peak RSS (`ru_maxrss`), no
tracemalloc, so the timed pass is also the memory pass.

    python -m tools.bench [--sizes 10,100,1000,5000] [--repeat 3] [--markdown] [--json PATH]
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from whitelabel.config import PROJECT
from whitelabel.offline import ROOT, AwsMocks, StackRun, engine_config, run_function, run_program, stack_file_config
from whitelabel.tenancy import registry_item

STACK = "dev"
DEFAULT_SIZES = (10, 100, 1000, 5000)
# The zone the baseline's records live in: a literal, as the baseline makes no invoke.
BASELINE_ZONE_ID = "ZBENCHMARK0001"


# -- what is run ---------------------------------------------------------------------------------
def shared_customers(count: int) -> list[dict[str, Any]]:
    """`count` customers on the shared wildcard domain, named c00000, c00001, …"""
    return [{"name": f"c{index:05d}"} for index in range(count)]


def bench_config(customers: list[dict[str, Any]], stack: str = STACK) -> dict[str, Any]:
    """The stack file's config with its customer list replaced (as `tests.conftest.customers_config`)."""
    values = stack_file_config(stack)
    values[f"{PROJECT}:customers"] = customers
    return values


def run_customers(customers: list[dict[str, Any]], stack: str = STACK, **keys: Any) -> StackRun:
    """The real program (`__main__.py`) for `customers` on the offline engine (other project keys in `keys`)."""
    config = bench_config(customers, stack)
    config.update({f"{PROJECT}:{key}": value for key, value in keys.items()})
    return run_program(stack, config)


# The baseline's shared resources (custom domain, usage plan, table) and what it adds per customer.
BASELINE_FIXED = 3
BASELINE_PER_CUSTOMER = 4


def baseline_program(resources: int, customers: int = 0) -> Callable[[], None]:
    """A Pulumi program registering `resources` plain resources (no components).

    Per customer (of `customers`): an alias record, an API key, a usage plan key and a table item whose
    JSON is built from the key's value, as the program makes them; then alias records up to `resources`.
    """
    if resources < BASELINE_FIXED + BASELINE_PER_CUSTOMER * customers:
        raise ValueError(
            f"{resources} resources cannot hold the baseline's {BASELINE_FIXED} shared resources and "
            f"{BASELINE_PER_CUSTOMER} per customer for {customers} customers"
        )

    def program() -> None:
        domain = aws.apigateway.DomainName(
            "baseline-domain",
            domain_name="*.bench.example.com",
            regional_certificate_arn="arn:aws:acm:eu-west-1:123456789012:certificate/bench",
            endpoint_configuration=aws.apigateway.DomainNameEndpointConfigurationArgs(
                types="REGIONAL", ip_address_type="ipv4"
            ),
        )
        plan = aws.apigateway.UsagePlan(
            "baseline-plan",
            name="bench-standard",
            api_stages=[aws.apigateway.UsagePlanApiStageArgs(api_id="benchapi", stage="dev")],
            throttle_settings=aws.apigateway.UsagePlanThrottleSettingsArgs(rate_limit=50, burst_limit=100),
        )
        table = aws.dynamodb.Table(
            "baseline-table",
            name="bench-tenants",
            billing_mode="PAY_PER_REQUEST",
            hash_key="hostname",
            attributes=[aws.dynamodb.TableAttributeArgs(name="hostname", type="S")],
        )
        alias = [
            aws.route53.RecordAliasArgs(
                name=domain.regional_domain_name, zone_id=domain.regional_zone_id, evaluate_target_health=False
            )
        ]

        def record(index: int) -> None:
            aws.route53.Record(
                f"baseline-r{index:05d}-a",
                zone_id=BASELINE_ZONE_ID,
                name=f"r{index:05d}.bench.example.com",
                type="A",
                aliases=alias,
            )

        for index in range(customers):
            hostname = f"r{index:05d}.bench.example.com"
            record(index)
            key = aws.apigateway.ApiKey(f"baseline-r{index:05d}-api-key", name=f"bench-r{index:05d}", enabled=True)
            aws.apigateway.UsagePlanKey(
                f"baseline-r{index:05d}-plan-key", key_id=key.id, key_type="API_KEY", usage_plan_id=plan.id
            )
            item: pulumi.Output[str] = pulumi.Output.secret(
                key.value.apply(
                    functools.partial(_baseline_item, hostname, f"r{index:05d}"),
                )
            )
            aws.dynamodb.TableItem(f"baseline-{hostname}-item", table_name=table.name, hash_key="hostname", item=item)
        filled = BASELINE_FIXED + BASELINE_PER_CUSTOMER * customers
        for index in range(customers, customers + resources - filled):
            record(index)

    return program


def _baseline_item(hostname: str, tenant: str, api_key: str) -> str:
    return json.dumps(registry_item(hostname, tenant, "standard", False, api_key), sort_keys=True)


def run_baseline(resources: int, customers: int) -> StackRun:
    """The baseline for a program run with `customers` customers that registered `resources` resources.

    The engine gets the same config as the program (the baseline reads none of it).
    """
    config = bench_config(shared_customers(customers))
    mocks = AwsMocks(str(config.get("aws:region", "eu-west-1")))
    # The engine entry point `run_program` uses for `__main__.py`: the same engine overhead.
    run_function(baseline_program(resources, customers), STACK, engine_config(config), mocks)
    return StackRun(stack=STACK, resources=mocks.registered, outputs={})


# -- measuring ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Sample:
    """One measurement: seconds of the run, resources it registered, memory of the process (MiB)."""

    seconds: float
    resources: int
    peak_mib: float  # peak RSS of the process (ru_maxrss), interpreter and Pulumi SDK included
    growth_mib: float  # peak RSS minus the RSS before the timed run started
    cold_seconds: float = 0.0  # the warm-up: the program with one customer, first run in the process


# kind ("program" or "baseline"), customers, resources (baseline only) → a Sample.
Runner = Callable[[str, int, int], Sample]


def _maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def measure_here(kind: str, customers: int, resources: int = 0, *, warm_up: bool = True) -> Sample:
    """Run one measurement in this process (what the subprocess worker does; the tests use it directly).

    warm_up: first run the program with one customer (untimed), so the SDK modules it uses are loaded.
    """
    cold = 0.0
    if warm_up:
        start = time.perf_counter()
        run_customers(shared_customers(1))
        cold = time.perf_counter() - start
    before = _maxrss_mib()
    start = time.perf_counter()
    if kind == "program":
        run = run_customers(shared_customers(customers))
    elif kind == "baseline":
        run = run_baseline(resources, customers)
    else:
        raise ValueError(f"unknown measurement {kind!r}")
    seconds = time.perf_counter() - start
    peak = _maxrss_mib()
    return Sample(
        seconds=seconds, resources=len(run.resources), peak_mib=peak, growth_mib=peak - before, cold_seconds=cold
    )


def measure_in_subprocess(kind: str, customers: int, resources: int = 0) -> Sample:
    """Run one measurement in a fresh interpreter: no runtime state or warm caches carried over."""
    command = [sys.executable, "-m", "tools.bench", "--worker", kind, "--customers", str(customers)]
    command += ["--resources", str(resources)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{kind} with {customers} customers failed:\n{done.stderr[-4000:]}")
    return Sample(**json.loads(done.stdout.strip().splitlines()[-1]))


@dataclass
class Row:
    """Every measurement of one size, and what the table shows of them."""

    customers: int
    resources: int
    program: list[Sample] = field(default_factory=list)
    baseline: list[Sample] = field(default_factory=list)

    @property
    def program_s(self) -> float:
        return statistics.median(s.seconds for s in self.program)

    @property
    def baseline_s(self) -> float:
        return statistics.median(s.seconds for s in self.baseline)

    @property
    def ratio(self) -> float:
        return self.program_s / self.baseline_s

    @property
    def ratios(self) -> list[float]:
        """Per repeat: program and baseline measured back to back."""
        return [p.seconds / b.seconds for p, b in zip(self.program, self.baseline, strict=True)]

    @property
    def peak_mib(self) -> float:
        return statistics.median(s.peak_mib for s in self.program)

    @property
    def growth_mib(self) -> float:
        return statistics.median(s.growth_mib for s in self.program)

    @property
    def cold_s(self) -> float:
        return statistics.median(s.cold_seconds for s in [*self.program, *self.baseline])

    @property
    def ms_per_customer(self) -> float:
        return 1000 * self.program_s / self.customers


def benchmark(
    sizes: Sequence[int],
    repeat: int,
    runner: Runner = measure_in_subprocess,
    progress: Callable[[str], None] | None = None,
    repeat_for: Callable[[int], int] | None = None,
) -> list[Row]:
    """Measure every size `repeat` times (or `repeat_for(size)`), program and baseline interleaved."""
    rows = []
    for size in sizes:
        row: Row | None = None
        for attempt in range(repeat_for(size) if repeat_for else repeat):
            program = runner("program", size, 0)
            row = row or Row(customers=size, resources=program.resources)
            if program.resources != row.resources:
                raise RuntimeError(f"{size} customers registered {program.resources}, then {row.resources}")
            baseline = runner("baseline", size, row.resources)
            if baseline.resources != row.resources:
                raise RuntimeError(f"the baseline registered {baseline.resources} resources, not {row.resources}")
            row.program.append(program)
            row.baseline.append(baseline)
            if progress:
                progress(
                    f"  {size} customers, run {attempt + 1}: program {program.seconds:.2f} s, "
                    f"baseline {baseline.seconds:.2f} s ({row.resources} resources each)"
                )
        assert row is not None, "at least one repeat"
        rows.append(row)
    return rows


@dataclass(frozen=True)
class PerCustomer:
    """Resources one more customer adds, counted on the program's registrations."""

    base: int
    shared: int
    dedicated: int
    shared_types: dict[str, int]
    dedicated_types: dict[str, int]
    wildcard_shared: int = 0  # a shared customer with `tenantDns: wildcard` (no record of its own)
    wildcard_shared_types: dict[str, int] = field(default_factory=dict)


def _added_types(before: StackRun, after: StackRun) -> dict[str, int]:
    old = {r.urn for r in before.resources}
    added: dict[str, int] = {}
    for r in after.resources:
        if r.urn not in old:
            added[r.type] = added.get(r.type, 0) + 1
    return added


def resources_per_customer(base: int = 10) -> PerCustomer:
    """Run the program with `base` shared customers, with one more shared, and with one dedicated added;
    and the same shared onboarding with `tenantDns: wildcard`."""
    customers = shared_customers(base)
    before = run_customers(customers)
    shared = run_customers([*customers, {"name": "zshared"}])
    dedicated = run_customers([*customers, {"name": "zdedicated", "dedicatedDomain": True}])
    wildcard_before = run_customers(customers, tenantDns="wildcard")
    wildcard_shared = run_customers([*customers, {"name": "zshared"}], tenantDns="wildcard")
    return PerCustomer(
        base=base,
        shared=len(shared.resources) - len(before.resources),
        dedicated=len(dedicated.resources) - len(before.resources),
        shared_types=_added_types(before, shared),
        dedicated_types=_added_types(before, dedicated),
        wildcard_shared=len(wildcard_shared.resources) - len(wildcard_before.resources),
        wildcard_shared_types=_added_types(wildcard_before, wildcard_shared),
    )


# -- reporting ---------------------------------------------------------------------------------
def _spread(values: Sequence[float], digits: int = 2) -> str:
    return f"{min(values):.{digits}f}–{max(values):.{digits}f}" if len(values) > 1 else "(1 run)"


def markdown(rows: Sequence[Row]) -> str:
    """The README table: one row per size, medians."""
    lines = [
        "| customers | resources | program s | baseline s | ratio | peak MiB | ms/customer |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r.customers:,} | {r.resources:,} | {r.program_s:.2f} | {r.baseline_s:.2f} | {r.ratio:.2f} "
            f"| {r.peak_mib:.0f} | {r.ms_per_customer:.2f} |"
        )
    return "\n".join(lines)


def details(rows: Sequence[Row]) -> str:
    """Spread over repeats, memory growth during the run, and the marginal cost of a customer."""
    lines = [
        "| customers | runs | program s (min–max) | baseline s (min–max) | ratio per run (min–max) "
        "| RSS growth MiB | marginal ms/customer | marginal baseline ms/resource | cold start s |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    previous: Row | None = None
    for r in rows:
        marginal = marginal_base = "–"
        if previous is not None:
            marginal = f"{1000 * (r.program_s - previous.program_s) / (r.customers - previous.customers):.2f}"
            marginal_base = f"{1000 * (r.baseline_s - previous.baseline_s) / (r.resources - previous.resources):.2f}"
        lines.append(
            f"| {r.customers:,} | {len(r.program)} | {_spread([s.seconds for s in r.program])} "
            f"| {_spread([s.seconds for s in r.baseline])} | {_spread(r.ratios)} | {r.growth_mib:.0f} "
            f"| {marginal} | {marginal_base} | {r.cold_s:.2f} |"
        )
        previous = r
    return "\n".join(lines)


def growth_lines(rows: Sequence[Row]) -> list[str]:
    """Time ratio between consecutive sizes beside the customer ratio (linear growth: equal)."""
    lines = []
    for a, b in itertools.pairwise(rows):
        lines.append(
            f"t({b.customers:,}) / t({a.customers:,}) = {b.program_s / a.program_s:.2f} "
            f"for {b.customers / a.customers:g}× the customers "
            f"(baseline {b.baseline_s / a.baseline_s:.2f} for {b.resources / a.resources:.2f}× the resources)"
        )
    return lines


def report(rows: Sequence[Row], per_customer: PerCustomer, *, as_markdown: bool) -> str:
    """Everything the command prints after measuring."""
    target = [r for r in rows if r.customers == 1000]
    verdict = []
    if target:
        ok = target[0].ratio <= 1.3
        verdict.append(f"Target ratio <= 1.3 at 1,000 customers: {target[0].ratio:.2f} ({'met' if ok else 'NOT met'}).")
    text = [
        markdown(rows) if as_markdown else _plain(markdown(rows)),
        "",
        "Baseline: plain resources on the same engine, no components, as many as the program registered (the "
        "resources column, components included): per customer an alias record, an API key, a usage plan key "
        "and a secret table item built from the key's value (what the program makes for a shared customer), "
        "one custom domain, usage plan and table, and alias records for the rest.",
        "Times: median of the runs, perf_counter around the run in a fresh subprocess per measurement, "
        "program and baseline back to back, each after the same warm-up (the program with one customer, "
        "which loads the pulumi_aws modules it uses). Cold start below: that warm-up, a one-off cost per "
        "process. peak MiB: ru_maxrss of the program's subprocess (Python, the Pulumi SDK and the warm-up "
        "included); RSS growth below: peak minus RSS before the timed run.",
        "",
        details(rows) if as_markdown else _plain(details(rows)),
        "",
        *growth_lines(rows),
        "",
        f"Resources per customer (added to {per_customer.base} shared customers): "
        f"shared {per_customer.shared} ({_types(per_customer.shared_types)}), "
        f"dedicated {per_customer.dedicated} ({_types(per_customer.dedicated_types)}); "
        f"with tenantDns wildcard, shared {per_customer.wildcard_shared} "
        f"({_types(per_customer.wildcard_shared_types)}).",
        *verdict,
    ]
    return "\n".join(text)


def _types(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {t.split(':')[-1]}" for t, n in sorted(counts.items()))


def _plain(table: str) -> str:
    """A markdown table without its separator line, columns aligned, for a terminal."""
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in table.splitlines()]
    cells = [cells[0], *cells[2:]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in cells)


def _parse_sizes(text: str) -> list[int]:
    sizes = [int(part) for part in text.split(",") if part.strip()]
    if not sizes or any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError("sizes are positive customer counts, such as 10,100,1000")
    return sizes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=_parse_sizes, default=list(DEFAULT_SIZES), help="customer counts")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size; the median is reported")
    parser.add_argument(
        "--repeat-large", type=int, default=None, metavar="N", help="runs for sizes above 1,000 (default: --repeat)"
    )
    parser.add_argument("--markdown", action="store_true", help="print README-ready markdown tables")
    parser.add_argument("--json", metavar="PATH", help="also write every measurement as JSON")
    parser.add_argument("--worker", choices=("program", "baseline"), help=argparse.SUPPRESS)
    parser.add_argument("--customers", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--resources", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        print(json.dumps(asdict(measure_here(args.worker, args.customers, args.resources))))
        return 0

    def repeat_for(size: int) -> int:
        return args.repeat_large if args.repeat_large and size > 1000 else args.repeat

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    progress(f"Measuring {', '.join(map(str, args.sizes))} customers on {os.cpu_count()} CPUs …")
    rows = benchmark(args.sizes, args.repeat, progress=progress, repeat_for=repeat_for)
    per_customer = resources_per_customer()
    print(report(rows, per_customer, as_markdown=args.markdown))
    if args.json:
        document = {
            "rows": [
                {**asdict(r), "program_s": r.program_s, "baseline_s": r.baseline_s, "ratio": r.ratio} for r in rows
            ],
            "per_customer": asdict(per_customer),
        }
        with open(args.json, "w") as handle:
            json.dump(document, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
