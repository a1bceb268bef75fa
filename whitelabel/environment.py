"""The environment view: a platform stack and the tenant shards whose `platform` names it, read from every
`Pulumi.<stack>.yaml` of the project directory (where `pulumi config set` writes), checked as one.

Pure functions (no Pulumi import): the program checks its own stack against the others before any resource,
`make shards` prints the same view. AWS's quotas are per account and region (per hosted zone for records), and
every stack of an environment deploys into the platform's account, region and zone, so they are counted over the
platform and all its shards.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from whitelabel.config_base import PROJECT, ConfigError, key_part
from whitelabel.config_rules import parse_settings
from whitelabel.gateway_config import Settings, check_shard_keys, platform_stack
from whitelabel.quotas import Usage, usage

STACK_FILE_PREFIX, STACK_FILE_SUFFIX = "Pulumi.", ".yaml"
# The keys of `Usage` that are AWS quotas, with the `quotas.*` setting that holds each limit and AWS's name.
QUOTAS = (
    ("api_keys", "api_keys", "API keys per account per Region"),
    ("records", "records_per_zone", "Records per hosted zone"),
    ("custom_domains", "custom_domains", "Custom domain names per account per Region"),
    ("usage_plans", "usage_plans", "Usage plans per account per Region"),
    ("certificates", "certificates", "Number of ACM certificates"),
    # CloudFront SaaS Manager's, per account (whitelabel/quotas.py: CLOUDFRONT_QUOTAS): a shard's own-domain
    # customers are distribution tenants of the platform's distribution.
    ("distribution_tenants", "distribution_tenants", "Distribution tenants per AWS account"),
    ("multitenant_distributions", "multitenant_distributions", "Multi-tenant distributions per AWS account"),
    ("connection_groups", "connection_groups", "Connection groups per AWS account"),
)


def stack_file(stack: str) -> str:
    return f"{STACK_FILE_PREFIX}{stack}{STACK_FILE_SUFFIX}"


def project_raw(config: Mapping[str, Any]) -> dict[str, Any]:
    """A stack file's `config:` block as the project's key → value (what `read_raw_config` makes of the engine's)."""
    start = f"{PROJECT}:"
    return {key[len(start) :]: value for key, value in config.items() if key.startswith(start)}


def read_stack_files(project_dir: Path) -> dict[str, dict[str, Any]]:
    """Every stack file of the project directory: stack name → its `config:` block (all namespaces)."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(project_dir.glob(f"{STACK_FILE_PREFIX}*{STACK_FILE_SUFFIX}")):
        stack = path.name[len(STACK_FILE_PREFIX) : -len(STACK_FILE_SUFFIX)]
        # The C loader when PyYAML was built with it (a shard file holds up to thousands of customers).
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        document = yaml.load(path.read_text(), Loader=loader) or {}
        config = document.get("config") if isinstance(document, dict) else None
        if isinstance(config, dict):
            found[stack] = config
    return found


@dataclass(frozen=True)
class Member:
    """One stack of the environment: its settings (a shard's: the platform's with the shard's customers)."""

    stack: str
    settings: Settings
    shard: bool

    @property
    def file(self) -> str:
        return stack_file(self.stack)


@dataclass(frozen=True)
class Environment:
    """A platform stack and its shards: `members[0]` is the platform."""

    platform: str
    members: tuple[Member, ...]

    @property
    def shards(self) -> tuple[Member, ...]:
        return self.members[1:]

    def member(self, stack: str) -> Member:
        return next(m for m in self.members if m.stack == stack)


def platform_of(stack: str, raw: Mapping[str, Any]) -> str:
    """The environment's platform stack of a stack: its `platform`'s stack, or itself."""
    reference = raw.get("platform")
    if reference is None:
        return stack
    try:
        return platform_stack(reference)
    except ValueError as error:
        raise ConfigError("platform", str(error)) from None


def environment(stack: str, own: Mapping[str, Any], files: Mapping[str, Mapping[str, Any]]) -> Environment:
    """The environment of `stack` whose project config is `own` (the engine's, not its file), with the other
    stacks' config from `files` (stack → `config:` block). Raises one `ConfigError` for a broken shard file."""
    platform = platform_of(stack, own)
    raws = {name: project_raw(config) for name, config in files.items() if name != stack}
    raws[stack] = dict(own)
    if platform not in raws:
        raise ConfigError(
            "platform",
            f"names stack {platform!r} but {stack_file(platform)} is not in the project directory: every stack file"
            ' there is the environment\'s view (docs "Tenant shards"); run from the project directory',
        )
    platform_raw = raws[platform]
    if "platform" in platform_raw:
        raise ConfigError("platform", f"names {stack_file(platform)}, itself a shard: name its platform stack")
    shards = sorted(name for name, raw in raws.items() if name != platform and _platform_quietly(name, raw) == platform)
    members = [Member(platform, _settings(platform, platform_raw, stack), shard=False)]
    base = {key: value for key, value in platform_raw.items() if key != "customers"}
    for name in shards:
        raw = raws[name]
        check_or_name_file = _in_file(name, stack)
        try:
            check_shard_keys(raw, stack_file(platform))
            settings = parse_settings({**base, "customers": raw["customers"]})
        except ConfigError as error:
            if not error.key.startswith("customers"):
                # A platform key's rule broken by the shard's customers (a TTL with an auth tenant): name both files.
                error = ConfigError(
                    error.key,
                    f"{error.rule} (a key of {stack_file(platform)}, with the customers of {stack_file(name)})",
                )
                raise error from None
            raise check_or_name_file(error) from None
        members.append(Member(name, settings, shard=True))
    return Environment(platform, tuple(members))


def _platform_quietly(stack: str, raw: Mapping[str, Any]) -> str | None:
    """Another file's platform stack; a broken `platform` there is that stack's error, not this one's."""
    try:
        return platform_of(stack, raw)
    except ConfigError:
        return None


def _in_file(name: str, stack: str) -> Callable[[ConfigError], ConfigError]:
    def named(error: ConfigError) -> ConfigError:
        # This stack's own errors name its key; another file's say which file holds them.
        return error if name == stack else ConfigError(error.key, f"{error.rule} (in {stack_file(name)})")

    return named


def _settings(name: str, raw: Mapping[str, Any], stack: str) -> Settings:
    try:
        return parse_settings(raw)
    except ConfigError as error:
        raise _in_file(name, stack)(error) from None


def check_environment(env: Environment, stack: str) -> None:
    """Refuse what `stack` would collide with across the environment, in one line naming the key and the other
    stack file: a customer name or hostname another stack holds, or a quota the environment would exceed."""
    own = env.member(stack)
    names: dict[str, str] = {}
    hosts: dict[str, str] = {}
    for member in env.members:
        if member.stack == stack:
            continue
        for customer in member.settings.customers:
            names[customer.name] = member.file
            for host in _hostnames(member.settings, customer):
                hosts[host] = member.file
    for customer in own.settings.customers:
        key = f"customers{key_part(customer.name)}"
        other = names.get(customer.name)
        if other is not None:
            raise ConfigError(
                key,
                f"customer {customer.name!r} is also in {other}: a customer lives in one stack of the environment;"
                f' to move it, remove it from {other} and `pulumi up` that stack first (docs "Tenant shards")',
            )
        for host in _hostnames(own.settings, customer):
            other = hosts.get(host)
            if other is not None:
                # The registry item is keyed by hostname: two stacks writing it means the one that drops it later
                # deletes the other's item (a delete is by key), and the tenant is refused.
                raise ConfigError(
                    key,
                    f"hostname {host!r} is also served by {other}: one registry item per hostname; remove it there"
                    ' and `pulumi up` that stack first (docs "Tenant shards")',
                )
    _check_identities(env, own)
    for quota, used, limit, field in _counts(env):
        if used > limit:
            others = [m.file for m in env.members if m.stack != stack]
            shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
            raise ConfigError(
                "customers" if field != "usage_plans" else "tiers",
                f"the environment of {stack_file(env.platform)} needs {used:,} of '{quota}' (limit {limit:,})"
                f" with {shown}: {field.replace('_', ' ')} are counted over the platform and all its shards;"
                f" serve more customers from another account or region, or raise the quota (quotas.*) after AWS does",
            )


def _check_identities(env: Environment, own: Member) -> None:
    """What tells tenants apart holds across stacks as within one (issue 23 §2): a client-certificate issuer DN two
    customers accept needs disjoint subject DNs on both, and a token issuer two customers share needs a tenant
    claim on both; the same rules `parse_settings` applies within a stack, over every other stack file."""
    # Only customers that share an issuer DN or a token issuer with one of ours can break either rule: index the other
    # stacks' customers by both once (in the environment's order, so the first conflict named is the same), instead of
    # comparing every pair, which at 1,000 customers a shard in an environment of 10,000 took seconds per `up`.
    others: list[tuple[Member, Any, Any]] = []
    by_dn: dict[str, list[int]] = {}
    by_issuer: dict[str, list[int]] = {}
    for member in env.members:
        if member.stack == own.stack:
            continue
        for other in member.settings.customers:
            theirs = member.settings.auth_of(other)
            index = len(others)
            others.append((member, other, theirs))
            for dn in other.mtls_issuers:
                by_dn.setdefault(dn, []).append(index)
            if theirs is not None:
                by_issuer.setdefault(theirs.issuer, []).append(index)
    for customer in own.settings.customers:
        key = f"customers{key_part(customer.name)}"
        mine = own.settings.auth_of(customer)
        candidates = {i for dn in customer.mtls_issuers for i in by_dn.get(dn, ())}
        if mine is not None:
            candidates.update(by_issuer.get(mine.issuer, ()))
        for index in sorted(candidates):
            member, other, theirs = others[index]
            shared = set(customer.mtls_issuers) & set(other.mtls_issuers)
            subjects_apart = (
                customer.mtls_subjects
                and other.mtls_subjects
                and not set(customer.mtls_subjects) & set(other.mtls_subjects)
            )
            if shared and not subjects_apart:
                raise ConfigError(
                    f"{key}.mtlsIssuers",
                    f"{sorted(shared)[0]!r} is also accepted for customer {other.name!r} in {member.file}: a"
                    " certificate issued for one would be accepted for the other; give each customer its own"
                    " issuer, or disjoint mtlsSubjects to both",
                )
            if (
                mine is not None
                and theirs is not None
                and mine.issuer == theirs.issuer
                and None in (mine.tenant_claim, theirs.tenant_claim)
            ):
                raise ConfigError(
                    f"{key}.auth.tenantClaim",
                    f"is needed on both: customer {other.name!r} in {member.file} shares the issuer"
                    f" {mine.issuer!r}, and without a tenant claim a user of one would be let into the other",
                )


def needs_user_auth(env: Environment) -> bool:
    """Whether any tenant of the environment's shards needs end-user authentication from the platform's authorizer."""
    return any(m.settings.auth_of(c) is not None for m in env.shards for c in m.settings.customers)


def check_platform_serves(shard: Shard, export: Mapping[str, Any]) -> None:
    """Refuse, naming both stacks, a shard tenant with end-user authentication or mutual TLS that the platform as
    deployed (its `platform` export) cannot serve: its authorizer without USER_AUTH, or caching decisions."""
    served, ttl = export.get("user_auth"), export.get("authorizer_cache_ttl_seconds")
    platform = f"platform stack {shard.platform!r}"
    for customer in shard.settings.customers:
        key = f"customers{key_part(customer.name)}"
        if shard.settings.auth_of(customer) is not None and served is not True:
            raise ConfigError(
                f"{key}.auth",
                f"needs end-user authentication, which the {platform} has not deployed (its export says"
                f" user_auth {'is unset' if served is None else 'false'}): `pulumi up` the platform first (it turns"
                f" authentication on for its shards' tenants), then stack {shard.stack!r}",
            )
        needs_zero = shard.settings.auth_of(customer) is not None or customer.mtls_truststore is not None
        if needs_zero and ttl != 0:
            raise ConfigError(
                f"{key}.{'auth' if shard.settings.auth_of(customer) is not None else 'mtlsTruststore'}",
                f"needs the {platform} to cache no authorizer decision (authorizer.cacheTtlSeconds 0; its export"
                f" says {ttl!r}): set it in {stack_file(shard.environment.platform)}, `pulumi up` the platform"
                f" first, then stack {shard.stack!r}",
            )


def _hostnames(settings: Settings, customer: Any) -> tuple[str, ...]:
    """Every hostname a customer claims: served ones, and its own domain before validation too (its certificate)."""
    names = settings.hostnames(customer)
    return (*names, *(own for own in settings.own_domains(customer) if own not in names))


def share(member: Member) -> Usage:
    """What one stack adds to the environment's quotas: the platform all of its usage, a shard its tenants'."""
    if not member.shard:
        return usage(member.settings)
    empty = usage(replace_customers(member.settings, []))
    full = usage(member.settings)
    added = Usage(**{f: getattr(full, f) - getattr(empty, f) for f in _COUNTED})
    # Each shard's TenantSet makes its own pool keys for every pooled tier (no key value crosses stacks), so they
    # count once per shard, not only once for the platform (issue 23 §5).
    return Usage(
        **{
            **{f: getattr(added, f) for f in _COUNTED},
            "api_keys": added.api_keys + full.pool_keys,
            "pool_keys": full.pool_keys,
        }
    )


_COUNTED = (
    "custom_domains",
    "records",
    "certificates",
    "dedicated",
    "own_domains",
    "api_keys",
    "usage_plans",
    "distribution_tenants",
    "multitenant_distributions",
    "connection_groups",
)


def replace_customers(settings: Settings, customers: list[Any]) -> Settings:
    # No re-validation: the settings were validated with more customers, fewer break no rule counted here.
    return settings.model_copy(update={"customers": customers})


def _counts(env: Environment) -> list[tuple[str, int, int, str]]:
    shares = [share(member) for member in env.members]
    quotas = env.members[0].settings.quotas
    return [
        (quota, sum(getattr(s, field) for s in shares), getattr(quotas, limit), field) for field, limit, quota in QUOTAS
    ]


def headroom(env: Environment) -> list[tuple[str, int, int]]:
    """(AWS's quota name, used by the environment, limit) for each quota counted over it."""
    return [(quota, used, limit) for quota, used, limit, _ in _counts(env)]


@dataclass(frozen=True)
class Shard:
    """A tenant shard's checked config: its platform (as `platform` names it) and its customers' settings."""

    stack: str
    platform: str
    settings: Settings
    environment: Environment
    # The shard's config as its stack file says it (key → value): its customers become the TenantSet's tenants.
    raw: Mapping[str, Any] = dataclasses.field(default_factory=dict)
