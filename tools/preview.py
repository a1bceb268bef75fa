"""Offline preview: what `pulumi up --stack <stack>` would change, shown without a cloud or the Pulumi CLI.

Runs the real `__main__.py` under the mock engine twice: with `Pulumi.<stack>.yaml` as committed
(`git show HEAD:Pulumi.<stack>.yaml`, or the file given with --base) standing for the stack's last state,
and with the file as it is now. Prints each create, update (changed properties, secrets masked; a registry
item's changed attributes, only its API key masked), replace and delete, grouped by tenant and component, with
what is protected or retained.

    python -m tools.preview --stack dev [--base path/to/Pulumi.dev.yaml]
    python -m tools.preview --stack-file examples/own-domain-move/1-prepare/Pulumi.move.yaml \
        --base examples/own-domain-move/0-before/Pulumi.move.yaml

Exit status, as `terraform plan -detailed-exitcode`: 0 no change, 2 changes, 1 error (`make preview` exits 0
for changes too: a change is not an error, and make would print its error line for a 2).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pulumi

from whitelabel import diff
from whitelabel.config import ConfigError, check_stack_name, parse_settings, read_raw_config
from whitelabel.offline import ROOT, StackFileError, StackRun, run_program, stack_file_config, stack_file_text_config

NO_CHANGES, ERROR, CHANGES = 0, 1, 2


class PreviewError(Exception):
    """The preview could not be made; the message is its one line."""


def committed_config(stack: str, project_dir: Path = ROOT, path: str | None = None) -> dict[str, Any] | None:
    """The `config:` block of `Pulumi.<stack>.yaml` (or of `path`, relative to the project) at HEAD, or None when
    HEAD has no such file (a new stack)."""
    path = path or f"Pulumi.{stack}.yaml"
    shown = subprocess.run(
        ["git", "show", f"HEAD:{path}"], cwd=project_dir, capture_output=True, text=True, check=False
    )
    if shown.returncode != 0:
        listed = subprocess.run(
            ["git", "ls-tree", "--name-only", "HEAD", path],
            cwd=project_dir,
            capture_output=True,
            text=True,
            check=False,
        )
        if listed.returncode == 0 and not listed.stdout.strip():
            return None
        raise PreviewError(f"git show HEAD:{path}: {shown.stderr.strip() or 'failed'}")
    return stack_file_text_config(shown.stdout, f"HEAD:{path}")


def file_config(path: Path) -> dict[str, Any]:
    """The `config:` block of a stack file given by path."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise PreviewError(f"no base stack file: {path}") from None
    return stack_file_text_config(text, str(path))


def tenant_tokens(runs: Sequence[StackRun]) -> dict[str, list[str]]:
    """Tenant → the names its resources carry (its name, its hostnames, its own domain), over every run."""
    tokens: dict[str, list[str]] = {}
    for run in runs:
        settings = parse_settings(read_raw_config(run.config), root=ROOT)
        for customer in settings.customers:
            names = tokens.setdefault(customer.name, [])
            for token in (customer.name, settings.fqdn(customer), customer.custom_domain):
                if token and token not in names:
                    names.append(token)
    return tokens


def _run(stack: str, config: Mapping[str, Any], which: str) -> StackRun:
    try:
        return run_program(stack, config=config)
    except (pulumi.RunError, ConfigError) as error:
        raise PreviewError(f"{which}: {error}") from None


def stack_of(stack_file: Path) -> str:
    """The stack a stack file is for: `Pulumi.<stack>.yaml` names it."""
    name = stack_file.name
    if not (name.startswith("Pulumi.") and name.endswith(".yaml")):
        raise PreviewError(f"{stack_file}: a stack file is named Pulumi.<stack>.yaml")
    return name.removeprefix("Pulumi.").removesuffix(".yaml")


def preview(stack: str, base: Path | None = None, stack_file: Path | None = None) -> tuple[diff.Preview, str]:
    """The steps from the base config to the working tree's, and the title naming both.

    stack_file: a stack file outside the project directory (an example) instead of `Pulumi.<stack>.yaml`; its name
        names the stack, and its base is the same file at HEAD unless `base` is given.
    """
    if stack_file is not None:
        stack = stack_of(stack_file)
    check_stack_name(stack)
    current_path = stack_file if stack_file is not None else ROOT / f"Pulumi.{stack}.yaml"
    label = str(stack_file) if stack_file is not None else f"Pulumi.{stack}.yaml"
    try:
        current = file_config(stack_file) if stack_file is not None else stack_file_config(stack)
    except (FileNotFoundError, PreviewError):
        raise PreviewError(f"no stack file: {current_path}") from None
    if base is not None:
        base_config: dict[str, Any] | None = file_config(base)
        base_name = str(base)
    else:
        relative = current_path.resolve().relative_to(ROOT).as_posix() if stack_file is not None else None
        base_config = committed_config(stack, path=relative)
        base_name = f"HEAD:{relative or label}"
    new = _run(stack, current, label)
    runs = [new]
    old_resources: list[Any] = []
    if base_config is None:
        base_name = "nothing (the stack file is not in HEAD: a new stack)"
    else:
        old = _run(stack, base_config, base_name)
        runs.append(old)
        old_resources = old.resources
    title = f"Preview of stack {stack}: {label} (working tree) against {base_name}"
    return diff.diff(old_resources, new.resources, tenant_tokens(runs)), title


def compare(old: StackRun, new: StackRun) -> diff.Preview:
    """The steps from one run of the program (the last state) to another."""
    return diff.diff(old.resources, new.resources, tenant_tokens([new, old]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--stack", default="dev", help="stack whose Pulumi.<stack>.yaml to preview (default: dev)")
    parser.add_argument(
        "--base", type=Path, default=None, help="stack file standing for the last state (default: the one at HEAD)"
    )
    parser.add_argument(
        "--stack-file",
        type=Path,
        default=None,
        help="preview this stack file (Pulumi.<stack>.yaml, its name names the stack) instead, such as an example",
    )
    args = parser.parse_args(argv)
    try:
        result, title = preview(args.stack, args.base, args.stack_file)
    except (PreviewError, ConfigError, StackFileError) as error:
        print(f"error: {error}", file=sys.stderr)
        return ERROR
    print(diff.render(result, title))
    return CHANGES if result.changes else NO_CHANGES


if __name__ == "__main__":
    sys.exit(main())
