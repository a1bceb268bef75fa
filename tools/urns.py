"""The URNs a stack registers, and whether a newer program still claims every one of them.

    python -m tools.urns --stack dev --write tests/fixtures/urns-dev.json
    python -m tools.urns --stack dev --project-dir /tmp/old --source 06dc122 --write tests/fixtures/urns-dev.json
    python -m tools.urns --check tests/fixtures/urns-dev.json

A fixture holds, for one stack, the stack file's config and every resource the program registers under the
mock engine: its URN as the Pulumi engine computes it, type, parent URN and inputs (secrets hashed, file
assets by path and content hash). `--check` runs this tree's program on the fixture's config and reports
what an upgrade of a stack deployed from that program would do to the old URNs: each must be claimed by
exactly one new resource (its own URN or an alias, resolved the way the engine resolves them) and keep its
inputs. tests/test_upgrade_urns.py asserts the same, with an allow-list of input changes.

Why the engine's rules are re-implemented here: the mock monitor answers URNs of its own form (it keeps the
stack's type and only the parent's last type), and with alias specs (which the mock monitor announces it
supports) the Python SDK sends each resource's own aliases only; multiplying a parent's alias into its
children is the engine's job. Both follow pulumi/pulumi pkg/resource/deploy: `Deployment.generateURN`
("don't use the root stack type; otherwise, use the full qualified type") and the step generator's
`generateAliases`, `collapseAliasToUrn` and `inheritedChildAlias`; the rules as documented:
https://www.pulumi.com/docs/iac/concepts/options/aliases/ and
https://pkg.go.dev/github.com/pulumi/pulumi/sdk/v3/go/common/resource/urn
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi

from whitelabel.config import PROJECT
from whitelabel.offline import ROOT, AwsMocks, Registered, run_program, stack_file_config

STACK_TYPE = "pulumi:pulumi:Stack"
# How the SDK marks a secret inside a property map (pulumi.runtime.rpc: _special_sig_key / _special_secret_sig).
_SIG_KEY = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"


# -- URNs the engine's way ---------------------------------------------------------------------------------


def urn_parts(urn: str) -> tuple[str, str]:
    """(qualified type, name) of a URN: `urn:pulumi:<stack>::<project>::<A$B$type>::<name>`."""
    parts = urn.split("::", 3)
    return parts[2], parts[3]


def base_type(urn: str) -> str:
    """The resource's own type, the last element of the qualified type."""
    return urn_parts(urn)[0].split("$")[-1]


def new_urn(stack: str, project: str, parent_type: str, type_: str, name: str) -> str:
    """The engine's `resource.NewURN`: the parent's qualified type (if any), `$`, the type, then the name."""
    qualified = f"{parent_type}${type_}" if parent_type else type_
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


def create_urn(name: str, type_: str, parent: str, project: str, stack: str) -> str:
    """The engine's `resource.CreateURN`: with a parent, its URN up to the name, then `$type::name`."""
    if parent:
        return f"{parent[: parent.rfind('::')]}${type_}::{name}"
    return f"urn:pulumi:{stack}::{project}::{type_}::{name}"


def engine_urns(resources: Sequence[Registered], stack: str, project: str = PROJECT) -> dict[str, str]:
    """Each registered resource's mock URN → the URN the engine gives it (and the stack's, unchanged)."""
    by_mock = {r.urn: r for r in resources}
    found: dict[str, str] = {}

    def of(mock: str) -> str:
        if mock in found:
            return found[mock]
        resource = by_mock.get(mock)
        if resource is None:  # the stack itself: the mock monitor names it as the engine does
            return mock
        parent = resource.parent
        parent_type = ""
        if parent and urn_parts(parent)[0] != STACK_TYPE:
            parent_type = urn_parts(of(parent))[0]
        found[mock] = new_urn(stack, project, parent_type, resource.type, resource.name)
        return found[mock]

    for r in resources:
        of(r.urn)
    return found


@dataclass
class Resolver:
    """Matches new registrations to old URNs in registration order, as the engine's step generator does.

    `olds` are the URNs in the stack's state. For each resource the engine looks up its own URN first,
    then its aliases; a resource found through an alias lends that old URN to its children's inherited
    aliases (`sg.aliases`).
    """

    stack: str
    olds: set[str]
    project: str = PROJECT
    via_alias: dict[str, str] = field(default_factory=dict)

    def candidates(self, urn: str, type_: str, name: str, parent: str, aliases: Iterable[dict[str, Any]]) -> list[str]:
        """The alias URNs the engine tries for a resource (`generateAliases`), `parent` in engine form."""
        result: list[str] = []
        own = [self._collapse(type_, name, parent, alias) for alias in aliases]
        for candidate in own:
            if candidate not in result:
                result.append(candidate)
        parent_alias = self.via_alias.get(parent)
        if parent and parent_alias is not None:
            parent_name = urn_parts(parent)[1]
            for child_type, child_name in [(type_, name), *((base_type(u), urn_parts(u)[1]) for u in own)]:
                inherited = self._inherited(child_type, child_name, parent_name, parent_alias)
                if inherited not in result:
                    result.append(inherited)
        return result

    def register(self, urn: str, type_: str, name: str, parent: str, aliases: Iterable[dict[str, Any]]) -> str | None:
        """The old URN this registration takes over (its own first, then its aliases), or None (a create)."""
        for candidate in [urn, *self.candidates(urn, type_, name, parent, aliases)]:
            if candidate in self.olds:
                if candidate != urn:
                    self.via_alias[urn] = candidate
                return candidate
        return None

    def _collapse(self, type_: str, name: str, parent: str, alias: dict[str, Any]) -> str:
        if alias.get("urn"):
            return str(alias["urn"])
        spec = alias["spec"]
        # No parent given means the current one; a given parent that was itself found through an alias
        # stands for its old URN, which is this resource's old parent.
        given = spec.get("parentUrn") or ""
        alias_parent = self.via_alias.get(given, given) if given else parent
        if spec.get("noParent") or (alias_parent and urn_parts(alias_parent)[0] == STACK_TYPE):
            alias_parent = ""
        return create_urn(
            spec.get("name") or name,
            spec.get("type") or type_,
            alias_parent,
            spec.get("project") or self.project,
            spec.get("stack") or self.stack,
        )

    def _inherited(self, child_type: str, child_name: str, parent_name: str, parent_alias: str) -> str:
        # `{parent}-role` children follow their parent's old name (the engine's naming-convention rule).
        alias_name = child_name
        if child_name.startswith(parent_name):
            alias_name = urn_parts(parent_alias)[1] + child_name[len(parent_name) :]
        return new_urn(self.stack, self.project, urn_parts(parent_alias)[0], child_type, alias_name)


# -- what a fixture records ----------------------------------------------------------------------------------


def plain(value: Any, project_dir: Path) -> Any:
    """Inputs as a fixture keeps them: secrets as a hash, file assets by project-relative path and content hash."""
    if isinstance(value, dict):
        if value.get(_SIG_KEY) == _SECRET_SIG:
            inner = json.dumps(plain(value.get("value"), project_dir), sort_keys=True)
            return {"secret": "sha256:" + hashlib.sha256(inner.encode()).hexdigest()}
        if set(value) == {"fileAsset"} or set(value) == {"fileArchive"}:
            ((kind, raw),) = value.items()
            path = Path(raw) if Path(raw).is_absolute() else project_dir / raw
            try:
                shown = str(path.resolve().relative_to(project_dir.resolve()))
            except ValueError:
                shown = str(raw)
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
            return {kind: shown, "sha256": digest}
        return {k: plain(v, project_dir) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v, project_dir) for v in value]
    return value


def translate_aliases(aliases: Iterable[dict[str, Any]], to_engine: Mapping[str, str]) -> list[dict[str, Any]]:
    """Alias options with the mock monitor's URNs (a parent given as a resource) in the engine's form."""
    translated: list[dict[str, Any]] = []
    for alias in aliases:
        if "urn" in alias:
            translated.append({"urn": to_engine.get(alias["urn"], alias["urn"])})
        else:
            spec = dict(alias["spec"])
            spec["parentUrn"] = to_engine.get(spec.get("parentUrn", ""), spec.get("parentUrn", ""))
            translated.append({"spec": spec})
    return translated


def snapshot(
    stack: str, config: Mapping[str, Any], resources: Sequence[Registered], project_dir: Path = ROOT
) -> dict[str, Any]:
    """The fixture document of one run, resources in registration order."""
    to_engine = engine_urns(resources, stack)
    return {
        "stack": stack,
        "project": PROJECT,
        "stackFile": dict(config),
        "resources": [
            {
                "urn": to_engine[r.urn],
                "type": r.type,
                "name": r.name,
                "parent": to_engine.get(r.parent, r.parent),
                "custom": r.custom,
                "inputs": plain(r.inputs, project_dir),
                "aliases": translate_aliases(getattr(r, "alias_specs", ()), to_engine),
            }
            for r in resources
        ],
    }


class AliasAwareMocks(AwsMocks):
    """The offline mocks, answering an aliased resource with its old identity.

    The engine keeps an aliased resource's ID and outputs from the state; the offline mocks derive both
    from the resource's name. Answering under the old name keeps what dependents read back (ARNs, IDs)
    as it was, so a rename with an alias does not show up as changed inputs of every dependent.
    """

    def __init__(self, region: str, stack: str, olds: set[str]) -> None:
        super().__init__(region)
        self.resolver = Resolver(stack, set(olds))
        self.to_engine: dict[str, str] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        meta: dict[str, Any] = getattr(self.pending, "meta", {})
        mock_parent = meta.get("parent", "")
        parent = self.to_engine.get(mock_parent, mock_parent)
        parent_type = urn_parts(parent)[0] if parent and urn_parts(parent)[0] != STACK_TYPE else ""
        urn = new_urn(self.resolver.stack, PROJECT, parent_type, args.typ, args.name)
        self.to_engine[meta.get("urn", "")] = urn
        aliases = translate_aliases(meta.get("alias_specs", ()), self.to_engine)
        old = self.resolver.register(urn, args.typ, args.name, parent, aliases)
        if old is None or old == urn:
            return super().new_resource(args)
        as_old = copy.copy(args)
        as_old.name = urn_parts(old)[1]
        answered = super().new_resource(as_old)
        self.registered[-1].name = args.name
        return answered


def run_current(fixture: Mapping[str, Any], project_dir: Path = ROOT) -> dict[str, Any]:
    """This tree's program on the fixture's stack-file config, as a fixture document (aliases included)."""
    stack, config = fixture["stack"], fixture["stackFile"]
    olds = {r["urn"] for r in fixture["resources"]}
    mocks = AliasAwareMocks(str(config.get("aws:region", "eu-west-1")), stack, olds)
    run = run_program(stack, config, project_dir=project_dir, mocks=mocks)
    return snapshot(stack, config, run.resources, project_dir)


# -- the check -------------------------------------------------------------------------------------------------


@dataclass
class Report:
    """What an upgrade from the fixture's program to the new one does to the old URNs."""

    claimed_by: dict[str, list[str]]  # old URN → new URNs that take it over
    lost: list[str]  # old URNs nothing claims: the engine deletes them
    changed: dict[tuple[str, str], tuple[Any, Any]]  # (old URN, input) → (old value, new value), not allowed
    retyped: dict[str, tuple[str, str]]  # old URN → (old type, new type)
    stale_allowed: list[tuple[str, str]]  # allow-list entries that match no change
    created: list[str]  # new URNs that claim nothing

    @property
    def problems(self) -> list[str]:
        lines: list[str] = []
        for old in self.lost:
            same_type = [u for u in self.created if base_type(u) == base_type(old)]
            hint = f" (created instead, same type: {', '.join(same_type)})" if same_type else ""
            lines.append(f"no new resource claims {old}: the engine would delete it{hint}")
        for old, news in self.claimed_by.items():
            if len(news) > 1:
                lines.append(f"{old} is claimed by {len(news)} new resources: {', '.join(news)}")
        for old, (was, now) in self.retyped.items():
            lines.append(f"{old} changes type {was} → {now}")
        for (old, key), (was, now) in self.changed.items():
            lines.append(f"{old} input {key!r} changed: {_short(was)} → {_short(now)}")
        for old, key in self.stale_allowed:
            lines.append(f"allow-list entry ({old}, {key!r}) matches no change: remove it")
        return lines


def check(
    fixture: Mapping[str, Any], current: Mapping[str, Any], allowed: Mapping[tuple[str, str], str] | None = None
) -> Report:
    """Compare a new run (`current`, a document from `snapshot`) with the fixture of the deployed program."""
    allowed = allowed or {}
    olds = {r["urn"]: r for r in fixture["resources"]}
    resolver = Resolver(str(fixture["stack"]), set(olds), str(fixture.get("project", PROJECT)))
    claimed_by: dict[str, list[str]] = {}
    created: list[str] = []
    pairs: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for new in current["resources"]:
        taken = resolver.register(new["urn"], new["type"], new["name"], new["parent"], new.get("aliases", ()))
        if taken is None:
            created.append(new["urn"])
            continue
        claimed_by.setdefault(taken, []).append(new["urn"])
        pairs.append((olds[taken], new))
    changed: dict[tuple[str, str], tuple[Any, Any]] = {}
    retyped: dict[str, tuple[str, str]] = {}
    seen_allowed: set[tuple[str, str]] = set()
    for old, new in pairs:
        if not old["custom"]:
            continue
        if old["type"] != new["type"]:
            retyped[old["urn"]] = (old["type"], new["type"])
        for key in sorted(set(old["inputs"]) | set(new["inputs"])):
            was, now = old["inputs"].get(key), new["inputs"].get(key)
            if was == now:
                continue
            if (old["urn"], key) in allowed:
                seen_allowed.add((old["urn"], key))
            else:
                changed[(old["urn"], key)] = (was, now)
    return Report(
        claimed_by=claimed_by,
        lost=sorted(set(olds) - set(claimed_by)),
        changed=changed,
        retyped=retyped,
        stale_allowed=sorted(set(allowed) - seen_allowed),
        created=created,
    )


def _short(value: Any, limit: int = 160) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- running another checkout ------------------------------------------------------------------------------

# Run in that checkout's own interpreter process, so its modules (not this tree's) build the program; it hands
# back only what every version of `Registered` has.
_DUMP = """
import json, sys
from whitelabel.offline import run_program
run = run_program(sys.argv[1])
keys = ("urn", "type", "name", "parent", "custom", "inputs")
json.dump([{k: getattr(r, k) for k in keys} for r in run.resources], sys.stdout, default=str)
"""


def record(stack: str, project_dir: Path = ROOT) -> dict[str, Any]:
    """The fixture document of `project_dir`'s program on its own `Pulumi.<stack>.yaml`."""
    config = stack_file_config(stack, project_dir)
    if project_dir.resolve() == ROOT.resolve():
        return snapshot(stack, config, run_program(stack).resources)
    done = subprocess.run(
        [sys.executable, "-c", _DUMP, stack],
        cwd=project_dir,
        env={**os.environ, "PYTHONPATH": str(project_dir)},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"error: the program in {project_dir} did not run:\n{done.stderr.strip()}")
    resources = [Registered(**r, outputs={}) for r in json.loads(done.stdout)]
    return snapshot(stack, config, resources, project_dir)


def write(document: Mapping[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.urns", description=__doc__.split("\n")[0])
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--project-dir", type=Path, default=ROOT, help="another checkout of the program to record")
    parser.add_argument("--source", help="what the recorded program is (a commit), kept in the fixture")
    parser.add_argument("--write", type=Path, help="write the fixture here (default: print it)")
    parser.add_argument("--check", type=Path, help="run this tree's program against a fixture and report")
    args = parser.parse_args(argv)
    if args.check:
        fixture = json.loads(args.check.read_text())
        report = check(fixture, run_current(fixture))
        for line in report.problems:
            print(line)
        moved = sorted(old for old, news in report.claimed_by.items() if news != [old])
        print(
            f"{len(fixture['resources'])} old URNs: {len(report.claimed_by)} claimed ({len(moved)} through an "
            f"alias), {len(report.lost)} lost; {len(report.created)} new resources; {len(report.problems)} problems"
        )
        return 1 if report.problems else 0
    document = record(args.stack, args.project_dir)
    if args.source:
        document["source"] = args.source
    if args.write:
        write(document, args.write)
        print(f"{len(document['resources'])} resources of stack {args.stack} written to {args.write}")
    else:
        print(json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
