"""Mutation testing (`make mutate`): how much of the authorizer handler and of the config-to-registry code the tests
catch, per file: killed, survived, timed out.

cosmic-ray (8.x) lists the mutants of each file (`cosmic-ray init`) and applies one at a time to the file on disk;
this driver runs them in throw-away copies of the repository (never in the working tree: an interrupted run
leaves no mutant behind), `--jobs` copies at a time, each mutant against the file's own unit tests and, with
`--contract`, against the contract suite too when the unit tests let it survive (the contract suite's Lambda
zips the mutated handler from the copy, so it runs the mutant). A timed-out run counts as caught, and is shown
apart. Mutants inside type annotations are not run: every file here has `from __future__ import annotations`, so
an annotation is never evaluated and such a mutant is equivalent (types are mypy's to check). Survivors, with
their diffs, are written to `build/mutation/<file>.txt`.

`--sample N` runs N mutants per file, spread evenly over cosmic-ray's list (a fixed choice): what CI runs, so the
machinery cannot rot without failing a build (`--check`).

`--survivors build/mutation/<file>.txt` runs only the mutants that report lists as survivors (named by operator and
occurrence in cosmic-ray's listing, which must still hold the same mutants: each one's diff is compared with the
report's first), then rewrites the report: its first line the file's figures with the re-run counted in (the earlier
run's killed plus those killed now), then the re-run's own line, then what still survives.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import attrs

# cosmic_ray's session database (SQLAlchemy) and its mutation machinery are imported where they are used: importing
# them costs about 0.6 s, paid by every test worker that collects tests/test_mutate.py, which needs neither.
from cosmic_ray.work_item import TestOutcome, WorkerOutcome, WorkItem, WorkResult

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ROOT / "build" / "mutation"
HANDLER = "functions/tenant_authorizer/handler.py"
# Each file mutated, with the unit tests that exercise it (what runs for every mutant).
TARGETS: dict[str, tuple[str, ...]] = {
    HANDLER: (
        "tests/test_authorizer_boundaries.py",
        "tests/test_authorizer_handler.py",
        "tests/test_authorizer_jwt.py",
        "tests/test_authorizer_jwks.py",
    ),
    "whitelabel/tenancy.py": (
        "tests/test_tenant_registry.py",
        "tests/test_pooled.py",
        "tests/test_auth_config.py",
        "tests/test_authorizer_handler.py",
    ),
    "components/tenant_keys.py": (
        "tests/test_tenant_keys_retier.py",
        "tests/test_tenant_registry.py",
        "tests/test_pooled.py",
        "tests/test_component_tenant_set.py",
        "tests/test_shards.py",
        # A re-tier (`previousTier`) and what prod protects while it lasts: the two files are slow, these two cases not.
        "tests/test_onboarding.py::test_previous_tier_keeps_the_old_key_metered_until_a_later_up_drops_it",
        "tests/test_protection.py::test_prod_releases_the_key_and_plan_key_of_a_tier_a_customer_is_leaving",
    ),
}
CONTRACT_TESTS = "tests/contract"
TIMEOUT_FLOOR_S = 60.0


@dataclass
class Tally:
    """One file's outcome."""

    path: str
    total: int
    killed: int = 0
    survived: int = 0
    timed_out: int = 0
    incompetent: int = 0
    in_annotations: int = 0
    survivors: list[str] = field(default_factory=list)

    @property
    def run(self) -> int:
        return self.killed + self.survived + self.timed_out + self.incompetent

    def line(self) -> str:
        caught = self.killed + self.timed_out
        score = f"{100 * caught / (caught + self.survived):.1f}%" if caught + self.survived else "-"
        return (
            f"{self.path}: {self.run} of {self.total} mutants run: killed {self.killed}, survived {self.survived}, "
            f"timed out {self.timed_out}, incompetent {self.incompetent}; caught {score}"
            f" ({self.in_annotations} in annotations not run)"
        )


_LINE = re.compile(
    r"^(?P<path>\S+): (?P<run>\d+) of (?P<total>\d+) mutants run: killed (?P<killed>\d+), "
    r"survived (?P<survived>\d+), timed out (?P<timed_out>\d+), incompetent (?P<incompetent>\d+); "
    r"caught \S+ \((?P<in_annotations>\d+) in annotations"
)
_SURVIVOR = re.compile(r"^--- (?P<operator>\S+) #(?P<occurrence>\d+) ---$", re.MULTILINE)


@dataclass(frozen=True)
class Report:
    """A report of an earlier run: its file's figures (its first line) and its survivors, with their diffs."""

    tally: Tally
    survivors: dict[tuple[str, int], tuple[str, ...]]  # (operator, occurrence) -> the diff's changed lines


def changed_lines(diff: str) -> tuple[str, ...]:
    """The hunk headers and changed lines of a unified diff (not its file names, which name a throw-away copy)."""
    return tuple(
        line for line in diff.splitlines() if line.startswith(("@@", "-", "+")) and not line.startswith(("---", "+++"))
    )


def read_report(text: str) -> Report:
    """The figures and the survivors of a report this tool wrote; ValueError when it is not one."""
    first = _LINE.match(text.partition("\n")[0])
    if first is None:
        raise ValueError("its first line is not a per-file line of make mutate")
    number = {name: int(value) for name, value in first.groupdict().items() if name not in ("path", "run")}
    tally = Tally(
        first["path"],
        total=number["total"],
        killed=number["killed"],
        survived=number["survived"],
        timed_out=number["timed_out"],
        incompetent=number["incompetent"],
        in_annotations=number["in_annotations"],
    )
    marks = list(_SURVIVOR.finditer(text))
    survivors = {
        (mark["operator"], int(mark["occurrence"])): changed_lines(
            text[mark.end() : marks[index + 1].start() if index + 1 < len(marks) else len(text)]
        )
        for index, mark in enumerate(marks)
    }
    if len(survivors) != tally.survived:
        raise ValueError(f"it lists {len(survivors)} survivors where its first line counts {tally.survived}")
    return Report(tally, survivors)


def report_text(tally: Tally, rerun: str | None = None) -> str:
    """`build/mutation/<file>.txt`: the file's line, the re-run's line if any, then each survivor and its diff."""
    return tally.line() + ("" if rerun is None else "\n" + rerun) + "\n\n" + "\n".join(tally.survivors)


def counted_in(earlier: Tally, rerun: Tally) -> Tally:
    """The file's figures after `rerun` faced the survivors of `earlier`: what they killed now counts as killed."""
    return Tally(
        earlier.path,
        total=earlier.total,
        killed=earlier.killed + rerun.killed,
        survived=rerun.survived,
        timed_out=earlier.timed_out + rerun.timed_out,
        incompetent=earlier.incompetent + rerun.incompetent,
        in_annotations=earlier.in_annotations,
        survivors=rerun.survivors,
    )


def sample(items: Sequence[WorkItem], count: int | None) -> list[WorkItem]:
    """`count` items spread evenly over `items` in cosmic-ray's order (operator, occurrence), or all of them."""
    ordered = sorted(items, key=lambda w: (w.mutations[0].operator_name, w.mutations[0].occurrence))
    if count is None or count >= len(ordered):
        return ordered
    return [ordered[(index * len(ordered)) // count] for index in range(count)]


Position = tuple[int, int]


def annotation_spans(source: str) -> list[tuple[Position, Position]]:
    """(start, end) of every annotation in `source`, as (line, column) with lines from 1, as cosmic-ray counts."""
    spans = []
    for node in ast.walk(ast.parse(source)):
        found: list[ast.expr | None] = []
        if isinstance(node, ast.arg):
            found.append(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            found.append(node.annotation)
        for expr in found:
            if expr is not None and expr.end_lineno is not None and expr.end_col_offset is not None:
                spans.append(((expr.lineno, expr.col_offset), (expr.end_lineno, expr.end_col_offset)))
    return spans


def in_annotation(item: WorkItem, spans: Sequence[tuple[Position, Position]]) -> bool:
    start = tuple(item.mutations[0].start_pos)
    return any(first <= start < last for first, last in spans)


def workspace(into: Path) -> Path:
    """A copy of the repository's tracked files (what a clone has) at `into`."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            target = into / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return into


def test_command(copy: Path, tests: Sequence[str], contract: bool) -> str:
    """The command cosmic-ray runs for a mutant in `copy` (it splits it with shlex; `sh -c` gives `cd` and `&&`)."""
    pytest = f"{sys.executable} -m pytest -x -q -p no:cacheprovider"
    steps = [f"cd {copy}", f"{pytest} {' '.join(tests)}"]
    if contract:
        steps.append(f"{pytest} {CONTRACT_TESTS}")
    return f"sh -c '{' && '.join(steps)}'"


def baseline(command: str) -> float:
    """Run the unmutated tests once; their time (seconds). Stops the run when they fail."""
    started = time.monotonic()
    done = subprocess.run(command, shell=True, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"the tests fail without any mutant, so nothing can be measured:\n{done.stdout[-3000:]}")
    return time.monotonic() - started


def init_session(copy: Path, path: str, db_path: Path) -> None:
    config = copy / "cosmic-ray.toml"
    config.write_text(
        "[cosmic-ray]\n"
        f'module-path = "{path}"\n'
        "timeout = 60.0\n"
        "excluded-modules = []\n"
        'test-command = "false"\n'
        "[cosmic-ray.distributor]\n"
        'name = "local"\n'
    )
    subprocess.run(
        [str(Path(sys.executable).with_name("cosmic-ray")), "init", str(config), str(db_path)],
        cwd=copy,
        check=True,
        capture_output=True,
    )


def same_mutant(source: str, item: WorkItem, changes: tuple[str, ...]) -> bool:
    """Whether `item` applied to `source` changes the lines an earlier report recorded for it (`changes`)."""
    import cosmic_ray.plugins
    from cosmic_ray.mutating import mutate_code

    mutation = item.mutations[0]
    mutated = mutate_code(source, cosmic_ray.plugins.get_operator(mutation.operator_name)(), mutation.occurrence)
    if mutated is None:
        return False
    diff = difflib.unified_diff(source.split("\n"), mutated.split("\n"), lineterm="")
    return changed_lines("\n".join(diff)) == changes


def pick(items: Sequence[WorkItem], source: str, survivors: dict[tuple[str, int], tuple[str, ...]]) -> list[WorkItem]:
    """The items an earlier report lists as survivors; ValueError unless each is still the mutant it recorded."""
    chosen = [item for item in items if (item.mutations[0].operator_name, item.mutations[0].occurrence) in survivors]
    found = {(item.mutations[0].operator_name, item.mutations[0].occurrence): item for item in chosen}
    moved = [
        f"{operator} #{occurrence}"
        for (operator, occurrence), changes in survivors.items()
        if (operator, occurrence) not in found or not same_mutant(source, found[operator, occurrence], changes)
    ]
    if moved:
        raise ValueError(
            f"the file changed since the report: {', '.join(moved[:5])}{' …' if len(moved) > 5 else ''} "
            "no longer name the mutants it recorded (run the whole file)"
        )
    return sample(chosen, None)


def mutate_file(
    path: str,
    copies: Sequence[Path],
    count: int | None,
    contract: bool,
    survivors: dict[tuple[str, int], tuple[str, ...]] | None = None,
) -> Tally:
    """Every (or `count`, or the listed `survivors`) mutant of `path`, each in one of `copies`, in a cosmic-ray
    session."""
    from cosmic_ray.mutating import mutate_and_test
    from cosmic_ray.work_db import WorkDB, use_db

    db_path = copies[0] / f"{Path(path).stem}.sqlite"
    init_session(copies[0], path, db_path)
    env_contract = {"LOCALSTACK_PYTHON": str(ROOT / ".localstack-venv" / "bin" / "python")}
    os.environ.update(env_contract)  # the contract suite in a copy uses this checkout's LocalStack
    commands = {copy: test_command(copy, TARGETS[path], contract) for copy in copies}
    timeout = max(TIMEOUT_FLOOR_S, 3 * baseline(commands[copies[0]]))
    lock = threading.Lock()
    with use_db(str(db_path), WorkDB.Mode.open) as db:
        source = (copies[0] / path).read_text()
        spans = annotation_spans(source)
        items = [item for item in db.work_items if not in_annotation(item, spans)]
        chosen = sample(items, count) if survivors is None else pick(items, source, survivors)
        total = len(items) if survivors is None else len(chosen)
        tally = Tally(path, total=total, in_annotations=db.num_work_items - len(items))
        free = list(copies)

        def run(item: WorkItem) -> None:
            with lock:
                copy = free.pop()
            try:
                mutations = [attrs.evolve(m, module_path=copy / path) for m in item.mutations]
                result = mutate_and_test(mutations, commands[copy], timeout)
            finally:
                with lock:
                    free.append(copy)
            with lock:
                db.set_result(item.job_id, result)
                count_result(tally, item, result)

        with ThreadPoolExecutor(max_workers=len(copies)) as pool:
            list(pool.map(run, chosen))
    return tally


def count_result(tally: Tally, item: WorkItem, result: WorkResult) -> None:
    if result.worker_outcome == WorkerOutcome.NO_TEST:
        tally.total -= 1  # cosmic-ray found nothing to change at that occurrence
    elif result.worker_outcome != WorkerOutcome.NORMAL or result.test_outcome == TestOutcome.INCOMPETENT:
        tally.incompetent += 1
    elif result.test_outcome == TestOutcome.KILLED:
        if result.output == "timeout":
            tally.timed_out += 1
        else:
            tally.killed += 1
    else:
        tally.survived += 1
        mutation = item.mutations[0]
        tally.survivors.append(f"--- {mutation.operator_name} #{mutation.occurrence} ---\n{result.diff}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make mutate", description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", default=list(TARGETS), help=f"of {', '.join(TARGETS)}")
    parser.add_argument("--sample", type=int, help="this many mutants per file, a fixed spread (CI)")
    parser.add_argument("--jobs", type=int, default=1, help="mutants run at once, each in its own copy")
    parser.add_argument("--contract", action="store_true", help="also the contract suite for unit survivors")
    parser.add_argument("--check", action="store_true", help="fail unless every mutant run got a verdict")
    parser.add_argument(
        "--survivors", type=Path, metavar="REPORT", help="only the survivors an earlier report of one file lists"
    )
    args = parser.parse_args(argv)
    unknown = [f for f in args.files if f not in TARGETS]
    if unknown:
        parser.error(f"no tests are listed for {unknown}: add them to TARGETS in tools/mutate.py")
    earlier = None
    if args.survivors is not None:
        try:
            earlier = read_report(args.survivors.read_text())
        except (OSError, ValueError) as error:
            parser.error(f"--survivors {args.survivors}: {error}")
        if args.sample is not None or args.files != [earlier.tally.path]:
            parser.error(f"--survivors {args.survivors} re-runs {earlier.tally.path} alone (name it; no --sample)")
    REPORTS.mkdir(parents=True, exist_ok=True)
    failed = False
    with tempfile.TemporaryDirectory(prefix="mutate-") as scratch:
        copies = [workspace(Path(scratch) / f"copy-{index}") for index in range(max(1, args.jobs))]
        for path in args.files:
            started = time.monotonic()
            try:
                listed = None if earlier is None else earlier.survivors
                tally = mutate_file(path, copies, args.sample, args.contract, listed)
            except ValueError as error:
                parser.error(f"--survivors {args.survivors}: {error}")
            took = f"({time.monotonic() - started:.0f} s)"
            # A sample's report goes beside, not over, a whole run's: `--survivors` re-runs from the whole one.
            report = REPORTS / ("sample" if args.sample is not None else "") / f"{Path(path).stem}.txt"
            report.parent.mkdir(parents=True, exist_ok=True)
            if earlier is None:
                print(f"{tally.line()} {took}", flush=True)
                report.write_text(report_text(tally))
            else:
                whole = counted_in(earlier.tally, tally)
                rerun = f"re-run of the {tally.total} survivors of {args.survivors}: {tally.line().partition(': ')[2]}"
                print(f"{rerun} {took}\n{whole.line()}", flush=True)
                report.write_text(report_text(whole, rerun))
            expected = tally.total if args.sample is None else min(args.sample, tally.total)
            if args.check and (tally.incompetent or tally.run != expected or not tally.killed + tally.timed_out):
                print(f"  check failed: {expected} expected verdicts, see {report}", flush=True)
                failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
