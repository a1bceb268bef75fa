"""The component package's args checked with the program's config model: one mapping args → raw config, and the
way back from a config key to the arg path a refusal names.

Pure functions on plain dicts (what Pulumi's component provider hands a component): no Pulumi import. The
config model (`whitelabel.config.parse_settings`) stays the one validator, so a component refuses exactly what
a stack file would, in the same one-line shape, naming the arg (`tenants[0].tier`) instead of the key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any

from whitelabel.api_definition import PRIVATE_KINDS, Backend, BackendKind, backend_problems
from whitelabel.config_base import ConfigError
from whitelabel.config_rules import customer_entries, parse_settings
from whitelabel.gateway_config import Settings
from whitelabel.names import KINDS, gateway_names

# Args that are not config keys: what the component wires to resources itself (or checks below).
NOT_CONFIG = frozenset(
    {
        "adopt_program_stack",
        "authorizer_cache_ttl_seconds",
        "backends",
        "certificate_arn",
        "name_prefix",
        "own_domain_connection_group_id",
        "own_domain_distribution_id",
        "own_domain_routing_endpoint",
        "pooled_tiers",
        "registry_table_name",
        "rest_api_id",
        "stage_name",
        "usage_plan_ids",
        "user_auth",
        "vpc_link_security_group_id",
        "vpc_link_subnet_ids",
        "wildcard_domain_name",
        "wildcard_domain_zone_id",
    }
)
# Arg → config key where the name differs by more than its case.
RENAMED = {"tenants": "customers"}
# Maps whose keys are names given by the user (tier names), not arg names: their keys are kept as they are.
NAMED_ENTRIES = frozenset({"tiers"})

# The fields each backend kind needs, by arg name.
BACKEND_FIELDS: dict[BackendKind, tuple[str, ...]] = {
    BackendKind.ALB: ("load_balancer_arn", "load_balancer_dns_name", "port"),
    BackendKind.NLB: ("load_balancer_arn", "load_balancer_dns_name", "port"),
    BackendKind.HTTP: ("url",),
    BackendKind.LAMBDA: ("function_name", "function_invoke_arn"),
    BackendKind.S3: ("bucket_name",),
}
BACKEND_ARGS = frozenset(
    {"kind", "prefix", "description", "key_prefix", "read_role_arn", "per_tenant", "shared_files", "documents"}
) | {field for fields in BACKEND_FIELDS.values() for field in fields}


class ArgError(ValueError):
    """A component arg breaks a rule: `<arg path>: <rule>`, one line."""

    def __init__(self, path: str, rule: str) -> None:
        super().__init__(f"{path}: {rule}")
        self.path = path
        self.rule = rule


def camel(name: str) -> str:
    """`per_tenant_limit` → `perTenantLimit` (the config's spelling of an arg)."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def plain(value: Any) -> Any:
    """An enum member as its value (the provider host may hand either)."""
    return value.value if isinstance(value, Enum) else value


def raw_config(args: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The raw config (camelCase keys, as a stack file holds it) of `args`, and config key part → arg name.

    Keys in `NOT_CONFIG` are left out; `tenants` becomes `customers` (in the list form), enum members their values.
    """
    names: dict[str, str] = {}

    def key(arg: str) -> str:
        config_key = RENAMED.get(arg, camel(arg))
        names[config_key] = arg
        return config_key

    def convert(value: Any, named: bool = False) -> Any:
        if isinstance(value, Mapping):
            if named:
                return {k: convert(v) for k, v in value.items()}
            return {key(str(k)): convert(v, str(k) in NAMED_ENTRIES) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [convert(v) for v in value]
        return plain(value)

    raw = {key(k): convert(v, k in NAMED_ENTRIES) for k, v in args.items() if k not in NOT_CONFIG}
    for entry in raw.get("customers") or []:
        if isinstance(entry, dict) and isinstance(entry.get("auth"), Mapping):
            entry["auth"] = _auth_config(entry["auth"])
    return raw, names


# A tenant's `auth: {off: true}` (the schema has no string-or-object union) is the config's `auth: none`.
AUTH_OFF = "none"


def _auth_config(auth: Mapping[str, Any]) -> Any:
    if auth.get("off") is True:
        return AUTH_OFF
    return {k: v for k, v in auth.items() if k != "off"}


# Config keys that are not the component's: the reference services' (services/), the program's own (the stack
# name prefix it computes, a shard's platform, the docs portal's default brand). Every other key of a stack file is a
# `WhiteLabelGatewayArgs` key.
PROGRAM_KEYS = frozenset({"branding", "docs", "namePrefix", "network", "platform", "service1", "service2"})


def snake(name: str) -> str:
    """`perTenantLimit` → `per_tenant_limit` (the arg's spelling of a config key; `camel` is the way back)."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", lambda m: "_" + m[1].lower(), name)


def args_of_config(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A stack file's config (key → value, as `read_raw_config` gives it) as the component's args, by one rule for
    every key: camelCase → snake_case, `customers` → `tenants` (the mapping form as the list, each entry named),
    user-given names (tier names) kept, values as they are. `PROGRAM_KEYS` are left out. The inverse of
    `raw_config`, so nothing set in the file is lost on the way: the component validates what the file says.
    """
    inverse = {config: arg for arg, config in RENAMED.items()}

    def convert(value: Any, named: bool = False) -> Any:
        if isinstance(value, Mapping):
            if named:
                return {k: convert(v) for k, v in value.items()}
            return {inverse.get(str(k)) or snake(str(k)): convert(v, str(k) in NAMED_ENTRIES) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [convert(v) for v in value]
        return value

    args: dict[str, Any] = {}
    for key, value in raw.items():
        if key in PROGRAM_KEYS:
            continue
        arg = inverse.get(key) or snake(key)
        if arg == "tenants":
            value = customer_entries(value) if isinstance(value, Mapping) else value
        args[arg] = convert(value, arg in NAMED_ENTRIES)
    for tenant in args.get("tenants") or []:
        if isinstance(tenant, dict) and tenant.get("auth") == AUTH_OFF:
            tenant["auth"] = {"off": True}
    return args


_INDEX = re.compile(r"(\[[^\]]*\])+$")


def arg_path(config_key: str, names: Mapping[str, str]) -> str:
    """A config error's key as the arg path: `customers[0].tier` → `tenants[0].tier`,
    `waf.perTenantLimit` → `waf.per_tenant_limit`; parts that are not arg names (a tier's name) stay."""
    parts = []
    for part in config_key.split("."):
        index = _INDEX.search(part)
        head, tail = (part[: index.start()], index.group(0)) if index else (part, "")
        parts.append(names.get(head, head) + tail)
    return ".".join(parts)


_ARG_INDEX = re.compile(r"^tenants\[(\d+)\]")


def config_key(path: str, customer_keys: Sequence[str]) -> str:
    """An arg path as the stack file's key, the way back of `arg_path`: `tenants[1].auth.tenant_claim` →
    `customers.globex.auth.tenantClaim` (customer_keys: each customer's key as the stack file writes it, in the
    args' order: `customers.globex`, or `customers[1]` in the list form), `waf.per_tenant_limit` → `waf.perTenantLimit`.
    """
    inverse = {arg: key for key, arg in RENAMED.items()}
    match = _ARG_INDEX.match(path)
    head, rest = "", path
    if match is not None and int(match[1]) < len(customer_keys):
        head, rest = customer_keys[int(match[1])], path[match.end() :]
    parts = []
    for part in rest.split(".") if rest else []:
        index = _INDEX.search(part)
        name, tail = (part[: index.start()], index.group(0)) if index else (part, "")
        parts.append((inverse.get(name) or camel(name)) + tail if name else tail)
    return ".".join(p for p in [head, *parts] if p)


def settings_of(args: Mapping[str, Any], extra: Mapping[str, Any] | None = None) -> Settings:
    """`args` validated by the config model, or ArgError naming the arg path.

    extra: raw config the caller adds (a TenantSet's stand-in tiers).
    """
    raw, names = raw_config(args)
    raw.update(extra or {})
    try:
        return parse_settings(raw)
    except ConfigError as error:
        raise ArgError(arg_path(error.key, names), error.rule) from None


# `<project>-<stack>` in the program: a stack name may hold capitals and '_' (it is the stage name, STAGE_NAME_RE).
NAME_PREFIX_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,62})\Z")


def check_name_prefix(value: Any) -> None:
    """A name prefix starts names unique per account and region: letters, digits, '-' and '_', at most 63."""
    if not isinstance(value, str) or not NAME_PREFIX_RE.match(value):
        raise ArgError(
            "name_prefix", f"{value!r} must be 1 to 63 letters, digits, '-' or '_', starting with a letter or digit"
        )


def check_names(settings: Settings, prefix: str, stage: str) -> None:
    """Refuse, as ArgError naming `name_prefix` (or `stage_name` when the prefix is not the part too long), a name
    the component would build that AWS refuses (`whitelabel.names`: the program's table of limits).
    """
    for name in gateway_names(settings, prefix, stage):
        if name.fits:
            continue
        limit = name.limit
        assert limit is not None  # a name that does not fit has a limit
        over = len(name.value) - limit
        kind = KINDS[name.kind]
        head = f"{kind.what} {name.value!r} is {len(name.value)} characters, AWS allows {limit} ({kind.source})"
        if prefix in name.value and len(prefix) > over:
            raise ArgError("name_prefix", f"{head}: use a name_prefix of at most {len(prefix) - over} characters")
        raise ArgError("stage_name", f"{head}: use a stage_name of at most {max(len(stage) - over, 1)} characters")


def backend_entries(backends: Mapping[str, Mapping[str, Any]]) -> list[Backend]:
    """The route-table entries of `backends` (name → BackendArgs), or ArgError naming `backends.<name>.<field>`.

    Each backend has a known kind and the fields of its kind; together they pass `backend_problems` (names,
    prefixes that do not collide or nest, key prefixes for S3 only).
    """
    if not backends:
        raise ArgError("backends", "give at least one backend")
    entries = []
    for name, backend in backends.items():
        where = f"backends.{name}"
        unknown = sorted(set(backend) - BACKEND_ARGS)
        if unknown:
            raise ArgError(f"{where}.{unknown[0]}", "is not a backend arg (check its spelling)")
        try:
            kind = BackendKind(plain(backend.get("kind")))
        except ValueError:
            kinds = ", ".join(k.value for k in BackendKind)
            raise ArgError(f"{where}.kind", f"{backend.get('kind')!r} is not a backend kind: one of {kinds}") from None
        for field in BACKEND_FIELDS[kind]:
            if backend.get(field) is None:
                raise ArgError(f"{where}.{field}", f"a {kind.value} backend needs it")
        for field in sorted(set(backend) - set(BACKEND_FIELDS[kind]) - {"kind", "prefix", "description"}):
            if backend.get(field) is not None and field not in _ALSO.get(kind, ()):
                raise ArgError(f"{where}.{field}", f"is not an arg of a {kind.value} backend")
        url = backend.get("url")
        if isinstance(url, str) and not url.startswith(("http://", "https://")):
            raise ArgError(f"{where}.url", f"{url!r} must start with http:// or https://")
        entries.append(
            Backend(
                name,
                backend.get("prefix") or name,
                kind,
                backend.get("description") or kind.value,
                backend.get("key_prefix") or "",
                bool(backend.get("per_tenant")),
                tuple(backend.get("shared_files") or ()),
                tuple(backend.get("documents") or ()),
            )
        )
    problems = backend_problems(entries)
    if problems:
        path, _, rule = problems[0].partition(": ")
        raise ArgError(path, rule)
    return entries


# Optional fields of a kind beyond the ones it needs.
_ALSO: dict[BackendKind, tuple[str, ...]] = {
    BackendKind.S3: ("key_prefix", "read_role_arn", "per_tenant", "shared_files", "documents")
}


def check_vpc_link(backends: Sequence[Backend], args: Mapping[str, Any]) -> None:
    """ALB and NLB backends are reached through the API's VPC link: its subnets and security group are needed."""
    private = [b.name for b in backends if b.kind in PRIVATE_KINDS]
    if not private:
        return
    for field in ("vpc_link_subnet_ids", "vpc_link_security_group_id"):
        if args.get(field) is None:
            raise ArgError(field, f"backends {', '.join(private)} are reached through the VPC link: give it")
