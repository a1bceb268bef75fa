"""`make bench-shards`: onboarding one tenant into a tenant shard of environments of 1,000 to 100,000 tenants
(shards of 1,000, `tenantDns: wildcard`; the tenants' tier perTenant or pooled), each in a fresh process under the
mock engine.

For each environment size: a project directory with the prod platform (`tenantDns: wildcard`) and size / 1,000 shard
stack files; the platform is run once here for its export; then a fresh process runs the last shard's `up` with one
more tenant (the environment check reading every stack file included) and reports its program time (wall and CPU:
the machine may be shared), peak RSS and the resources it registers, and separately the environment check's own time;
`load` is the 1-minute load average when the row finished. A perTenant environment over 10,000 API keys
is refused by that check before any resource: the row says so and reports the time to the refusal.

    python -m tools.bench_shards --sizes 1000,10000,100000 --key-mode perTenant
    python -m tools.bench_shards --sizes 1000,10000,100000 --key-mode pooled   # standard pooled, 10 pool keys
    python -m tools.bench_shards --sizes 10000 --key-mode pooled --own-domains  # every tenant an own domain

With --own-domains the platform serves own domains through CloudFront (`customDomains.via: cloudFront`) and every
shard tenant has one (`api.<name>.example.net`): the onboarded tenant's `up` adds its distribution tenant, and the
environment holds exactly `size` of them (the onboarded one included: 10,000 is CloudFront's quota per account).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from whitelabel.offline import ROOT, record_source_positions, run_program

SHARD_SIZE = 1_000
LINKED = ("__main__.py", "Pulumi.yaml", "components", "services", "whitelabel", "functions", "documents")
PLATFORM = "organization/whitelabel-gateway/prod"


def shard_file(index: int, tenants: int, own_domains: bool = False) -> str:
    customers: dict[str, dict[str, Any]] = {
        f"s{index:03d}-t{i:04d}": {"customDomain": f"api.s{index:03d}-t{i:04d}.example.net"} if own_domains else {}
        for i in range(tenants)
    }
    config = {
        "aws:region": "eu-west-1",
        "whitelabel-gateway:platform": PLATFORM,
        "whitelabel-gateway:customers": customers,
    }
    return yaml.safe_dump({"config": config}, default_flow_style=False)


# With --key-mode pooled the platform's `standard` tier (every shard tenant's) shares this many keys per stack.
POOL_KEYS = 10


def make_project(directory: Path, tenants: int, key_mode: str = "perTenant", own_domains: bool = False) -> str:
    """The environment's files; returns the stack that onboards (the last shard, holding one tenant more, or with
    own domains its last tenant: `tenants` own domains in all)."""
    for name in LINKED:
        (directory / name).symlink_to(ROOT / name)
    (directory / "Pulumi.dev.yaml").write_text((ROOT / "Pulumi.dev.yaml").read_text())
    prod = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())
    prod["config"]["whitelabel-gateway:tenantDns"] = "wildcard"
    if key_mode == "pooled":
        standard = prod["config"]["whitelabel-gateway:tiers"]["standard"]
        standard.update(keyMode="pooled", poolKeys=POOL_KEYS)
    if own_domains:
        prod["config"]["whitelabel-gateway:customDomains"] = {"via": "cloudFront"}
    (directory / "Pulumi.prod.yaml").write_text(yaml.safe_dump(prod))
    # The platform's export as its own `up` made it, before the shards filled the environment.
    outputs = run_program("prod", project_dir=directory).outputs
    (directory / "platform-outputs.json").write_text(json.dumps(outputs))
    count = tenants // SHARD_SIZE
    for index in range(count):
        extra = 1 if index == count - 1 and not own_domains else 0  # the onboarded tenant
        text = shard_file(index, SHARD_SIZE + extra, own_domains)
        (directory / f"Pulumi.prod-shard-{index:03d}.yaml").write_text(text)
    return f"prod-shard-{count - 1:03d}"


def peak_mib() -> float:
    """This process's peak RSS. Linux's `ru_maxrss` keeps the parent's peak across fork and exec, and the parent runs
    the platform's program (266 MiB here): every row read that. `VmHWM` is this process's own."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def worker(project: Path, stack: str, outputs_file: Path) -> dict[str, Any]:
    """One onboarding `up` of `stack` (in this fresh process), and the environment check alone after it."""
    from whitelabel.environment import check_environment, environment, project_raw, read_stack_files

    record_source_positions(True)  # as `pulumi up` runs it
    platform_outputs = json.loads(outputs_file.read_text())
    before = peak_mib()
    start, cpu_start = time.perf_counter(), time.process_time()
    refused = ""
    registered = 0
    try:
        run = run_program(stack, project_dir=project, platform_outputs=platform_outputs)
        registered = len(run.resources)
    except Exception as error:
        refused = str(error)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    peak = peak_mib()
    start = time.perf_counter()
    files = read_stack_files(project)
    env = environment(stack, project_raw(files[stack]), files)
    with contextlib.suppress(Exception):  # a refusal is timed like a pass
        check_environment(env, stack)
    check_seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "peak_mib": peak,
        "growth_mib": peak - before,
        "resources": registered,
        "refused": refused,
        "check_seconds": check_seconds,
        "files": len(files),
    }


def measure(tenants: int, key_mode: str = "perTenant", own_domains: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        stack = make_project(project, tenants, key_mode, own_domains)
        outputs_file = project / "platform-outputs.json"
        command = [sys.executable, "-m", "tools.bench_shards", "--worker", str(project), stack, str(outputs_file)]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False, env=dict(os.environ))
        if done.returncode != 0:
            raise RuntimeError(done.stderr[-4000:])
        return {"tenants": tenants, **json.loads(done.stdout.strip().splitlines()[-1])}


def close_idle_event_loops() -> None:
    """Close the event loops the platform runs above left open. Pulumi's mock monitor serializes in executor threads,
    each with an event loop of its own that nothing closes (`_sync_await` in pulumi/runtime/mocks.py); left to the
    collector at exit, one was at times finalized after its own self-pipe socket and printed "Exception ignored in
    BaseEventLoop.__del__ ... Invalid file descriptor: -1" (3 of 10 own-domain runs once the program set a larger
    first GC generation). `pulumi up` closes its one loop itself."""
    for loop in [o for o in gc.get_objects() if isinstance(o, asyncio.BaseEventLoop)]:
        if not loop.is_closed() and not loop.is_running():
            loop.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench_shards", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="environment sizes (tenants)")
    parser.add_argument("--key-mode", choices=("perTenant", "pooled"), default="perTenant", help="the tenants' tier")
    parser.add_argument("--own-domains", action="store_true", help="every tenant an own domain through CloudFront")
    parser.add_argument("--worker", nargs=3, metavar=("PROJECT", "STACK", "OUTPUTS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(Path(args.worker[0]), args.worker[1], Path(args.worker[2]))))
        return 0
    columns = ("environment tenants", "stack files", "shard up s", "CPU s", "peak MiB", "resources", "env check s")
    print("| " + " | ".join((*columns, "result", "load")) + " |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |")
    for size in (int(s) for s in args.sizes.split(",")):
        row = measure(size, args.key_mode, args.own_domains)
        result = "onboarded" if not row["refused"] else "refused: " + row["refused"].split(": ", 2)[-1][:90]
        print(
            f"| {row['tenants']:,} | {row['files']} | {row['seconds']:.2f} | {row['cpu_seconds']:.2f} |"
            f" {row['peak_mib']:.0f} | {row['resources']:,} | {row['check_seconds']:.2f} | {result} |"
            f" {os.getloadavg()[0]:.2f} |",
            flush=True,
        )
    close_idle_event_loops()
    return 0


if __name__ == "__main__":
    sys.exit(main())
