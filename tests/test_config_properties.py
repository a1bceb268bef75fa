"""Property tests of the config contract (issue 11).

Generated configs, valid and invalid, go through `parse_settings` (the validation the program runs) and
must keep the contract: either the config is valid (and, for a sample, the real program runs to the end
under the mock engine), or it stops with exactly one line `whitelabel-gateway:<key>: <rule>` naming a key
of README's "Config reference", before any resource is registered. The reference table is parsed from
README.md, so README and the model cannot drift apart unnoticed.

Examples per run: profile "ci" (every commit, bounded) or "fuzz" (`make fuzz`), chosen by the
HYPOTHESIS_PROFILE environment variable. The number of cases each run generated is printed at the end.
"""

from __future__ import annotations

import copy
import json
import math
import os
import random
import re
from collections import Counter
from collections.abc import Iterator
from typing import Annotated, Any, Literal, get_args, get_origin

import pulumi
import pytest
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from whitelabel.config_base import ConfigError
from whitelabel.config_limits import API_KEYS_MAX, LOG_RETENTION_DAYS, RESERVED_SUBDOMAINS
from whitelabel.config_rules import customer_entries, known_keys, parse_settings
from whitelabel.gateway_config import Settings, model_of
from whitelabel.offline import ROOT, AwsMocks, engine_config, run_program
from whitelabel.services_config import FARGATE_MEMORY
from whitelabel.stack_file import read_raw_config

settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    database=None,
    derandomize=True,  # the same cases on every commit: a red CI is reproducible, never flaky
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
settings.register_profile("fuzz", settings.get_profile("ci"), max_examples=5_000, derandomize=False)
PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
# Running the whole program costs ~1 s a case: a bounded sample of the valid and invalid configs.
PROGRAM_PROFILE = settings(PROFILE, max_examples=max(4, PROFILE.max_examples // 50))
# A refused config stops the program within ~20 ms: a larger sample of those.
REFUSED_PROGRAM_PROFILE = settings(PROFILE, max_examples=max(10, PROFILE.max_examples // 8))

PREFIX = "whitelabel-gateway:"
CASES: Counter[str] = Counter()


# -- README's config reference, and the model -----------------------------------------------------------


def reference_table() -> dict[str, tuple[str, str, str]]:
    """The config reference's rows (docs/reference/config.md, generated from the model's docstrings by
    tools/docs.py): key → (type, default, rule); a row naming two keys gives both."""
    text = (ROOT / "docs" / "reference" / "config.md").read_text(encoding="utf-8")
    section = text.split("\n# Config reference\n", 1)[1]
    rows: dict[str, tuple[str, str, str]] = {}
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        assert len(cells) == 4, f"README config reference row with {len(cells)} cells: {line}"
        keys = re.findall(r"`([^`]+)`", cells[0])
        types = cells[1].split(", ") if len(keys) > 1 else [cells[1]]
        defaults = re.findall(r"`([^`]+)`", cells[2]) if len(keys) > 1 else [cells[2]]
        for index, key in enumerate(keys):
            assert key not in rows, f"README lists {key} twice"
            kind = types[index] if len(types) == len(keys) else cells[1]
            default = f"`{defaults[index]}`" if len(keys) > 1 else defaults[0]
            rows[key] = (kind, default, cells[3])
    return rows


REFERENCE = reference_table()


def model_fields(model: type[BaseModel] = Settings, prefix: str = "") -> Iterator[tuple[str, Any, bool]]:
    """Every key of the model as README spells it (`customers.<name>.tier`, `tiers.<name>.rateLimit`), with
    its field and whether it holds further keys."""
    for name, field in model.model_fields.items():
        key = prefix + (field.alias or name)
        if key == "customers.<name>.name":
            continue  # README's form: the name is the entry's key (`customers.<name>`)
        inner = model_of(field.annotation)
        yield key, field, inner is not None
        if inner is None:
            continue
        if get_origin(field.annotation) is list:
            # Customers: a mapping name → entry in README (a list of entries with `name` works too).
            yield f"{key}.<name>", field, True
            yield from model_fields(inner, f"{key}.<name>.")
        elif get_origin(field.annotation) is dict:
            yield from model_fields(inner, f"{key}.<name>.")
        else:
            yield from model_fields(inner, f"{key}.")


def base_types(annotation: Any) -> set[Any]:
    """The types a field holds, without `None` and `Annotated` wrappers: `Int | None` → {int}."""
    if get_origin(annotation) is Annotated:
        return base_types(get_args(annotation)[0])
    if annotation is type(None):
        return set()
    origin = get_origin(annotation)
    if origin is not None and origin not in (list, tuple, dict, Literal):
        return set().union(*(base_types(arg) for arg in get_args(annotation)))
    return {annotation}


LEAVES = {key: field for key, field, nested in model_fields() if not nested}
CONTAINERS = {key for key, _, nested in model_fields() if nested}
SECTIONS = {key for key in CONTAINERS if "[" not in key and "<" not in key}


# An unknown or odd key part is shown quoted in an error: `quotas["."]`, `tiers["Gold Tier"]`.
QUOTED = r'\["(?:[^"\\]|\\.)*"\]'


def normalise(key: str) -> str:
    """`customers[3].tier` and `customers.acme.tier` → `customers.<name>.tier` (`customers[3].name` →
    `customers.<name>`: README's key for the name); `tiers.gold.rateLimit` → `tiers.<name>.rateLimit`."""
    entry = rf"^customers(?:\[\d+\]|\.[A-Za-z0-9_-]+|{QUOTED})"
    key = re.sub(rf"{entry}\.name\Z", "customers.<name>", key)
    key = re.sub(entry, "customers.<name>", key)
    key = re.sub(r"\[\d+\]", "[i]", key)
    return re.sub(rf"^tiers(?:\.[A-Za-z0-9_-]+|{QUOTED})", "tiers.<name>", key)


def named_key(key: str) -> bool:
    """The error's key is a key of README's reference, or an entry of one (`customers[2]`, `tiers.gold`,
    an item of a list such as `network.zoneIds[1]`)."""
    norm = normalise(key)
    if norm in REFERENCE:
        return True
    parent = re.sub(r"(\[i\]|\.<name>)$", "", norm)
    return parent != norm and parent in REFERENCE


def unknown_key_under_reference(key: str) -> bool:
    """An unknown key's error names it where it was found: under a section or entry README describes."""
    norm = normalise(key)
    parent = re.sub(rf"(?:^|\.)[A-Za-z0-9_-]+$|{QUOTED}$", "", norm)
    assert parent != norm, f"{key!r} does not end in a key"
    parent = re.sub(r"\[i\]$", "", parent)
    if parent == "":
        return True
    return parent in SECTIONS or any(k.startswith(parent + ".") or k.startswith(parent + "[i].") for k in REFERENCE)


# -- what every outcome must look like ------------------------------------------------------------------


def check_contract(raw: dict[str, Any]) -> Settings | None:
    """Run the program's validation on `raw`; assert the contract; the settings when valid."""
    try:
        valid = parse_settings(raw, root=ROOT)
    except ConfigError as error:
        message = str(error)
        note(f"refused: {message[:300]}")
        assert message == f"{PREFIX}{error.key}: {error.rule}"
        assert message.isprintable(), "the error must be one printable line"
        assert len(message) <= 1_000, f"a {len(message)}-character error line"
        assert error.rule and not error.rule.startswith(" ")
        assert str(ROOT) not in message, "no path of this machine in an error"
        assert "should be" not in error.rule and "should match" not in error.rule, "pydantic's words, not ours"
        if "looks like a path" in error.rule:
            assert re.split(r"[.\[]", error.key)[0] in REFERENCE, f"a path into no key: {error.key!r}"
            CASES["refused: forgotten --path"] += 1
        elif error.rule.startswith("is not a known key"):
            assert unknown_key_under_reference(error.key), f"unknown key reported at {error.key!r}"
            CASES["refused: unknown key"] += 1
        else:
            assert named_key(error.key), f"{error.key!r} is not a key of README's config reference"
            CASES[f"refused: {normalise(error.key)}"] += 1
        CASES["refused"] += 1
        return None
    CASES["valid"] += 1
    check_values_are_deployable(valid)
    return valid


INT32_MAX = 2**31 - 1


def check_values_are_deployable(valid: Settings) -> None:
    """What a valid config holds can be sent to AWS: finite numbers within AWS's 32-bit integers, strings
    on one printable line."""

    def walk(value: Any, where: str) -> None:
        if isinstance(value, bool) or value is None:
            return
        if isinstance(value, int):
            assert -INT32_MAX <= value <= INT32_MAX, f"{where} = {value} does not fit AWS's 32-bit integers"
        elif isinstance(value, float):
            assert math.isfinite(value) and value <= INT32_MAX, f"{where} = {value} is not a finite number AWS takes"
        elif isinstance(value, str):
            assert value.isprintable(), f"{where} = {value!r} holds a control character"
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(key, f"{where}.<key>")
                walk(item, f"{where}.{key}")
        elif isinstance(value, list | tuple):
            for index, item in enumerate(value):
                walk(item, f"{where}[{index}]")

    walk(valid.model_dump(by_alias=True), "config")


# -- valid configs, built to satisfy every rule ---------------------------------------------------------

LABEL = st.from_regex(r"\A[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?\Z").filter(lambda s: s not in RESERVED_SUBDOMAINS)
TIER = st.from_regex(r"\A[a-z][a-z0-9-]{0,8}\Z")
IMAGES = st.sampled_from(
    [
        "public.ecr.aws/nginx/nginx:stable-alpine",
        "nginx",
        "nginx:1.27",
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app:v1",
        "localhost:5000/app@sha256:" + "a" * 64,
    ]
)


def cli(value: Any, draw: st.DrawFn) -> Any:
    """The value as YAML gives it, or as the string `pulumi config set --path` stores."""
    if draw(st.booleans()):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if isinstance(value, int | float) else value


@st.composite
def valid_configs(draw: st.DrawFn, for_program: bool = False) -> dict[str, Any]:
    """A config that breaks no rule; `for_program`: also one the mock region (3 zones) can place."""
    base = draw(st.sampled_from(["example.com", "dev.example.com", "a-b.example.org"]))
    raw: dict[str, Any] = {"baseDomain": base}
    if draw(st.booleans()):
        raw["hostedZone"] = base if base.count(".") == 1 else base.split(".", 1)[1]

    tier_names = draw(st.lists(TIER, min_size=1, max_size=3, unique=True))
    if draw(st.booleans()) or tier_names != ["standard"]:
        tiers = {}
        for name in tier_names:
            tier: dict[str, Any] = {
                "rateLimit": cli(draw(st.floats(0.5, 10_000, allow_nan=False)), draw),
                "burstLimit": cli(draw(st.integers(0, 5_000)), draw),
            }
            if draw(st.booleans()):
                tier["quota"] = {
                    "limit": cli(draw(st.integers(1, 10**9)), draw),
                    "period": draw(st.sampled_from(["DAY", "WEEK", "MONTH"])),
                }
            tiers[name] = tier
        raw["tiers"] = tiers
        raw["defaultTier"] = draw(st.sampled_from(tier_names))

    names = draw(st.lists(LABEL, max_size=5, unique=True))
    subdomains = draw(st.lists(LABEL, min_size=len(names), max_size=len(names), unique=True))
    by_name = draw(st.booleans())  # README's form, `customers.<name>.<key>`, or the list of entries
    customers = []
    for index, name in enumerate(names):
        customer: dict[str, Any] = {"name": name}
        if draw(st.booleans()):
            customer["subdomain"] = subdomains[index]
        if draw(st.booleans()):
            customer["dedicatedDomain"] = cli(draw(st.booleans()), draw)
        if draw(st.booleans()):
            customer["customDomain"] = f"api.{name}-own.net"
            customer["customDomainValidated"] = cli(draw(st.booleans()), draw)
        if draw(st.booleans()):
            customer["tier"] = draw(st.sampled_from(tier_names))
        if draw(st.booleans()):
            customer["suspended"] = cli(draw(st.booleans()), draw)
        customers.append(customer)
    # Subdomains default to names: keep the two sets apart so they never collide.
    used = [c.get("subdomain", c["name"]) for c in customers]
    assume(len(set(used)) == len(used))
    raw["customers"] = customers
    if by_name:
        # The name is the key; an entry may repeat it, and an entry with no keys may be `null`.
        entries = {}
        for c in customers:
            entry = {k: v for k, v in c.items() if k != "name" or draw(st.booleans())}
            entries[c["name"]] = entry or draw(st.sampled_from([{}, None]))
        raw["customers"] = entries

    zones = draw(st.integers(2, 3 if for_program else 6))
    network: dict[str, Any] = {
        "availabilityZones": cli(zones, draw),
        "natGateways": cli(draw(st.integers(1, zones)), draw),
    }
    if draw(st.booleans()):
        network["cidr"] = draw(st.sampled_from(["10.0.0.0/16", "10.20.0.0/20", "172.16.0.0/18"]))
    if draw(st.booleans()):
        network["zoneIds"] = draw(st.permutations([f"euw1-az{i}" for i in range(1, 4 if for_program else 7)]))[:zones]
    raw["network"] = network

    cpu = draw(st.sampled_from(sorted(FARGATE_MEMORY)))
    raw["service1"] = {
        "image": draw(IMAGES),
        "cpu": cli(cpu, draw),
        "memory": cli(draw(st.sampled_from(FARGATE_MEMORY[cpu])), draw),
        "port": cli(draw(st.integers(1, 65535)), draw),
        "desiredCount": cli(draw(st.integers(0, 100)), draw),
        "healthCheckPath": draw(st.sampled_from(["/", "/healthz", "/status/ok"])),
    }
    low = draw(st.integers(0, 10))
    high = draw(st.integers(max(low, 1), 20))
    service2: dict[str, Any] = {"minSize": cli(low, draw), "maxSize": cli(high, draw)}
    if draw(st.booleans()):
        service2["desiredCapacity"] = cli(draw(st.integers(low, high)), draw)
    service2["instanceType"] = draw(st.sampled_from(["t3.micro", "t4g.small", "m7i.large"]))
    service2["port"] = cli(draw(st.integers(1, 65535)), draw)
    raw["service2"] = service2
    raw["docs"] = {
        "folder": draw(st.sampled_from(["documents", "./documents", "documents/"])),
        "versioning": cli(draw(st.booleans()), draw),
    }
    raw["logRetentionDays"] = cli(draw(st.sampled_from(LOG_RETENTION_DAYS)), draw)
    raw["throttle"] = {
        "rateLimit": cli(draw(st.floats(1, 10_000, allow_nan=False)), draw),
        "burstLimit": cli(draw(st.integers(1, 5_000)), draw),
    }
    raw["dualStack"] = cli(draw(st.booleans()), draw)
    raw["quotas"] = {"apiKeys": cli(draw(st.integers(len(customers) or 1, API_KEYS_MAX)), draw)}
    for key in ("manageAccountLogging", "protectResources", "tracing"):
        if draw(st.booleans()):
            raw[key] = cli(draw(st.booleans()), draw)
    if draw(st.booleans()):
        raw["namePrefix"] = draw(st.from_regex(r"\A[a-z][a-z0-9-]{0,20}[a-z0-9]\Z"))
    raw["tenantDns"] = draw(st.sampled_from(["perCustomer", "wildcard"]))
    raw["authorizer"] = {
        "cacheTtlSeconds": cli(draw(st.integers(0, 3600)), draw),
        "registryCacheSeconds": cli(draw(st.integers(0, 300)), draw),
    }
    if draw(st.booleans()):
        raw["alarms"] = {
            "serverErrorRatePercent": cli(draw(st.floats(0.1, 100)), draw),
            "latencyP99Ms": cli(draw(st.integers(1, 60_000)), draw),
            "email": draw(st.lists(st.sampled_from(["ops@example.com", "a@b.io"]), unique=True)),
        }
    return raw


# -- invalid configs: a valid one, then one mistake a person could make ---------------------------------

JUNK_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(-(2**70), 2**70)
    | st.floats()  # NaN and ±infinity too: YAML has .nan and .inf
    | st.text(max_size=40)
    | st.text(st.characters(codec="utf-8"), min_size=1, max_size=20)
    | st.sampled_from(["", " ", "\n", "true", "False", "0", "-1", "1e400", "NaN", "../../etc/passwd", "s3://"])
)


def _nested(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)


JUNK = st.recursive(JUNK_SCALARS, _nested, max_leaves=12)
HUGE = st.builds(
    lambda c, n: c * n, st.sampled_from(["a", "é", "\u0000", "-", "/", "漢", "\U0001f600"]), st.integers(250, 100_000)
)


def concrete_paths(raw: dict[str, Any]) -> list[tuple[str, ...]]:
    """Every README key instantiated in `raw` (each customer's, each tier's), as paths of dict keys/indexes."""
    paths: list[tuple[Any, ...]] = []
    for key in REFERENCE:
        parts = re.split(r"\.|(?=\[i\])", key)
        expanded: list[tuple[Any, ...]] = [()]
        for part in parts:
            if part == "[i]":
                expanded = [(*p, i) for p in expanded for i in range(len(_get(raw, p) or []))]
            elif part == "<name>":
                expanded = [(*p, name) for p in expanded for name in _names(_get(raw, p))]
            else:
                expanded = [(*p, part) for p in expanded]
        paths.extend(expanded)
    return paths


def _names(node: Any) -> Iterator[Any]:
    """The entries of a `<name>` part: a mapping's keys, a list's indexes (customers' list form); an unset
    `tiers` stands for its default tier."""
    if isinstance(node, list):
        return iter(range(len(node)))
    return iter(node or {"standard": 0})


def _entries(raw: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The path of each customer entry, in either form."""
    return [("customers", name) for name in _names(raw["customers"])] if raw["customers"] else []


def _add_customer(raw: dict[str, Any], entry: dict[str, Any]) -> None:
    """Add a customer in the form the config already uses (a mapping keeps `name` only as its key)."""
    if isinstance(raw["customers"], dict):
        raw["customers"][entry["name"]] = {k: v for k, v in entry.items() if k != "name"}
    else:
        raw["customers"].append(entry)


def _get(raw: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        if isinstance(part, int):
            raw = raw[part] if isinstance(raw, list) and part < len(raw) else None
        else:
            raw = raw.get(part) if isinstance(raw, dict) else None
    return raw


def _set(raw: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    node: Any = raw
    for part in path[:-1]:
        node = node[part] if isinstance(part, int) else node.setdefault(part, {})
    node[path[-1]] = value


def misspell(key: str, draw: st.DrawFn) -> str:
    i = draw(st.integers(0, max(len(key) - 1, 0)))
    kind = draw(st.sampled_from(["drop", "swap", "double", "case", "suffix"]))
    if kind == "drop" and len(key) > 1:
        return key[:i] + key[i + 1 :]
    if kind == "swap" and i + 1 < len(key):
        return key[:i] + key[i + 1] + key[i] + key[i + 2 :]
    if kind == "double":
        return key[:i] + key[i] + key[i:]
    if kind == "case":
        return key.swapcase()
    return key + "s"


def edge_values(key: str, current: Any, draw: st.DrawFn) -> Any:
    """A value at the edge of what the key's type takes: bounds, infinities, look-alike text."""
    types = base_types(LEAVES[key].annotation) if key in LEAVES else set()
    if int in types or float in types:
        return draw(
            st.sampled_from(
                [
                    -1,
                    0,
                    2**31,
                    2**63,
                    10**100,
                    -(10**100),
                    5.5,
                    1e308,
                    "0x10",
                    " 5",
                    "5 ",
                    "1_000",
                    "٣",
                    "1e3",
                    math.inf,
                    -math.inf,
                    math.nan,
                    "inf",
                    "-Infinity",
                    "nan",
                    "1e400",
                    "+7",
                    "7.0",
                    7.0,
                ]
            )
        )
    text = current if isinstance(current, str) else "x"
    suffix = draw(st.sampled_from(["\n", "\r\n", " ", "\t", "\x00", "\u00e9", "\u200b", "\x85", "\u2028"]))
    return draw(st.sampled_from([text + suffix, suffix + text, text.upper(), text + "." + text, text * 300]))


MISTAKES = [
    "edge value",
    "wrong type",
    "junk value",
    "huge string",
    "unknown key",
    "misspelt key",
    "nested junk",
    "duplicate",
    "missing",
]


@st.composite
def mistaken_configs(draw: st.DrawFn) -> tuple[str, str | None, dict[str, Any]]:
    """(kind of mistake, README key it touched if any, config) from a valid config and one mistake."""
    # The mistake is chosen first: a large example that overruns Hypothesis's buffer is finished with
    # the simplest choices, which would otherwise always be the first kind at the first key.
    kind = draw(st.sampled_from(MISTAKES))
    pick = random.Random(draw(st.integers(0, 2**32)))  # where it goes: uniform over README's keys
    raw = copy.deepcopy(draw(valid_configs()))
    paths = [p for p in concrete_paths(raw) if p]
    if kind in ("edge value", "wrong type", "junk value", "huge string"):
        path = pick.choice(paths)
        if kind == "edge value":
            value = edge_values(_readme_key(path), _get(raw, path), draw)
        elif kind == "wrong type":
            value = draw(st.sampled_from([True, False, 0, 1, -1, 3.5, "x", [], {}, None, [1], {"a": 1}]))
        elif kind == "huge string":
            value = draw(HUGE)
        else:
            value = draw(JUNK)
        if not _parent_exists(raw, path):
            path = path[:1]
        _set(raw, path, value)
        touched = _readme_key(path)
    elif kind in ("unknown key", "misspelt key"):
        # Not `customers` itself: in the name form any key there is a customer's name, not an unknown key.
        parents = [()] + [p for p in paths if isinstance(_get(raw, p), dict) and p != ("customers",)]
        parents += [p for p in _entries(raw) if isinstance(_get(raw, p), dict)]
        parent = pick.choice(parents)
        node = _get(raw, parent)
        known = known_keys(parent)
        if kind == "misspelt key":
            name = misspell(pick.choice(sorted(known)), draw)
        else:
            name = draw(st.text(min_size=1, max_size=30) | HUGE)
        assume(name not in known)
        node[name] = draw(JUNK)
        touched = None
    elif kind == "nested junk":
        section = pick.choice(sorted(SECTIONS))
        raw[section] = draw(JUNK)
        touched = section
    elif kind == "duplicate":
        choice = draw(st.sampled_from(["customer", "subdomain", "customDomain", "zoneIds", "email"]))
        customers = customer_entries(raw["customers"])
        if choice == "customer" or not customers:
            first = copy.deepcopy(customers[0]) if customers else {"name": "acme"}
            if isinstance(raw["customers"], dict):
                # Keys cannot repeat: the name form's duplicate is an entry naming another customer.
                raw["customers"].setdefault(first["name"], {})
                raw["customers"]["zz-other"] = first
            else:
                raw["customers"] += [first, copy.deepcopy(first)]
        elif choice == "subdomain":
            _add_customer(raw, {"name": "zz-other", "subdomain": customers[0].get("subdomain", customers[0]["name"])})
        elif choice == "customDomain":
            _add_customer(raw, {"name": "zz-other", "customDomain": "api.shared-own.net"})
            _add_customer(raw, {"name": "zz-other2", "customDomain": "api.shared-own.net"})
        elif choice == "zoneIds":
            raw["network"]["zoneIds"] = ["euw1-az1"] * int(raw["network"]["availabilityZones"])
        else:
            raw["alarms"] = {"email": ["ops@example.com", "ops@example.com"]}
        touched = None
    else:  # missing
        # In the name form the name is the entry's key: nothing to leave out.
        names = [(*p, "name") for p in _entries(raw) if isinstance(_get(raw, p), dict) and "name" in _get(raw, p)]
        path = pick.choice([("baseDomain",), ("customers",), *names])
        parent = _get(raw, path[:-1])
        if path[-1] in parent:
            del parent[path[-1]]
        touched = _readme_key(path)
    return kind, touched, raw


def _parent_exists(raw: dict[str, Any], path: tuple[Any, ...]) -> bool:
    return isinstance(_get(raw, path[:-1]), dict | list) or len(path) == 1


def _readme_key(path: tuple[Any, ...]) -> str:
    key = ""
    for part in path:
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
    return normalise(key)


# -- the properties (key and kind drawn before the large valid config, so they stay uniform) ---------------


@pytest.fixture(scope="module", autouse=True)
def _report_cases(request: pytest.FixtureRequest) -> Iterator[None]:
    CASES.clear()
    yield
    total = CASES["valid"] + CASES["refused"]
    lines = [f"config properties: {total} generated configs ({CASES['valid']} valid, {CASES['refused']} refused)"]
    lines.append("  " + ", ".join(f"{k}={v}" for k, v in sorted(CASES.items()) if k not in ("valid", "refused")))
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    worker_output = getattr(request.config, "workeroutput", None)
    if worker_output is not None:
        # A worker of `make unit` (pytest-xdist): its output is not shown; tests/conftest.py prints it at the end.
        worker_output.setdefault("reports", []).extend(lines)
    elif capture is not None:
        with capture.global_and_fixture_disabled():
            print("\n" + "\n".join(lines))
    else:
        print("\n".join(lines))


def test_readme_reference_and_model_name_the_same_keys() -> None:
    # Every key an error can name: the leaves and the sections and lists holding them.
    described = set(LEAVES) | SECTIONS | {"customers", "customers.<name>", "tiers", "tiers.<name>.quota"}
    assert described - set(REFERENCE) == set(), "keys of the model missing from README's config reference"
    assert set(REFERENCE) - set(LEAVES) - CONTAINERS == set(), "README lists keys the model does not have"


def test_readme_reference_gives_each_key_its_type_and_default() -> None:
    for key, field in LEAVES.items():
        kind, default, _ = REFERENCE[key]
        (base,) = base_types(field.annotation)
        if get_origin(base) is Literal:
            assert all(f"`{v}`" in kind for v in get_args(base)), f"{key}: README type {kind!r}"
        else:
            word = {bool: "boolean", int: "integer", float: "number", str: "string"}.get(base)
            if word is None:
                word = "list" if get_origin(base) in (list, tuple) else "mapping"
            assert kind.startswith(word), f"{key}: README says {kind!r}, the model holds {word}"
        assert ("required" in kind) == field.is_required(), f"{key}: README type {kind!r} on required"
        if field.is_required():
            continue
        literal = re.fullmatch(r"`([^`]*)`", default)
        value = field.get_default(call_default_factory=True)
        if literal is None or literal[1] in REFERENCE or literal[1] == "name":
            # `—`, `unset`, or the default is another key's value: the model has no value of its own.
            assert value is None or literal is not None, f"{key}: README default {default!r}, model {value!r}"
            continue
        shown = json.dumps(value) if not isinstance(value, str) else value
        if isinstance(value, float) and value.is_integer():
            shown = str(int(value))
        assert literal[1] in (shown, str(value)), f"{key}: README default {default!r}, model {value!r}"


@PROFILE
@given(valid_configs())
def test_valid_configs_are_accepted(raw: dict[str, Any]) -> None:
    assert check_contract(raw) is not None


@PROFILE
@given(mistaken_configs())
def test_a_mistake_is_refused_in_one_line_naming_a_reference_key(case: tuple[str, str | None, dict[str, Any]]) -> None:
    kind, touched, raw = case
    note(f"{kind} at {touched}")
    CASES[f"mistake: {kind}"] += 1
    valid = check_contract(raw)
    if kind in ("unknown key", "misspelt key", "duplicate"):
        assert valid is None, f"a {kind} was accepted"


def place(raw: dict[str, Any], key: str, seed: int) -> tuple[Any, ...] | None:
    """A concrete path for README `key` in `raw` (an existing customer, an existing tier), or None."""
    rnd = random.Random(seed)
    path: tuple[Any, ...] = ()
    for part in re.split(r"\.|(?=\[i\])", key):
        node = _get(raw, path) if path else raw
        if part == "[i]":
            if not isinstance(node, list) or not node:
                return None
            path += (rnd.randrange(len(node)),)
        elif part == "<name>":
            if isinstance(node, list) and node:  # customers in the list form
                path += (rnd.randrange(len(node)),)
                continue
            if not isinstance(node, dict) or not node:
                return None
            path += (rnd.choice(sorted(node)),)
        else:
            path += (part,)
    parent = _get(raw, path[:-1]) if len(path) > 1 else raw
    if parent is None and len(path) == 2 and path[0] in SECTIONS:
        return path  # an unset section: `_set` creates it
    return path if isinstance(parent, dict) else None


NUMBER_KEYS = sorted(k for k, f in LEAVES.items() if {int, float} & base_types(f.annotation))


@PROFILE
@given(st.sampled_from(NUMBER_KEYS), st.booleans(), st.integers(0, 2**32), valid_configs())
def test_a_boolean_where_a_number_belongs_is_refused_at_that_key(
    key: str, flag: bool, seed: int, raw: dict[str, Any]
) -> None:
    path = place(raw, key, seed)
    assume(path is not None)
    assert path is not None
    _set(raw, path, flag)
    with pytest.raises(ConfigError) as caught:
        parse_settings(raw, root=ROOT)
    assert normalise(caught.value.key) == key
    assert caught.value.rule == f"{flag!r} is a boolean; a number is expected here"
    CASES["refused: boolean as number"] += 1


@PROFILE
@given(st.sampled_from(sorted(LEAVES)), st.integers(0, 2**32), st.data(), valid_configs())
def test_edge_values_at_every_key_are_refused_or_deployable(
    key: str, seed: int, data: st.DataObject, raw: dict[str, Any]
) -> None:
    path = place(raw, key, seed)
    assume(path is not None)
    assert path is not None
    value = edge_values(key, _get(raw, path), data.draw)
    note(f"{key} = {value!r}"[:300])
    _set(raw, path, value)
    CASES["mistake: edge value"] += 1
    check_contract(raw)


@PROGRAM_PROFILE
@given(valid_configs(for_program=True))
def test_a_sample_of_valid_configs_runs_the_real_program(raw: dict[str, Any]) -> None:
    values = {"aws:region": "eu-west-1", **{f"{PREFIX}{k}": v for k, v in raw.items()}}
    run = run_program("dev", values)
    assert run.resources, "the program registered nothing"
    CASES["program runs (valid)"] += 1


@REFUSED_PROGRAM_PROFILE
@given(mistaken_configs())
def test_a_sample_of_mistakes_stops_the_real_program_before_any_resource(
    case: tuple[str, str | None, dict[str, Any]],
) -> None:
    _, _, raw = case
    values = {"aws:region": "eu-west-1", **{f"{PREFIX}{k}": v for k, v in raw.items()}}
    # What the engine hands the program (strings; objects as JSON), read back as the program reads it.
    assume(check_contract(read_raw_config(engine_config(values))) is None)
    mocks = AwsMocks("eu-west-1")
    with pytest.raises(pulumi.RunError) as caught:
        run_program("dev", values, mocks=mocks)
    message = str(caught.value)
    assert message.startswith(PREFIX) and message.isprintable()
    assert mocks.registered == []
    CASES["program runs (refused)"] += 1
