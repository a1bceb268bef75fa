"""The rules across fields and entries, and the one-line shape of every refusal: `parse_settings` turns a raw
config into `Settings` or raises one `ConfigError` naming the key, the entry and the rule."""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import UnionType
from typing import Any, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    ValidationError,
)

from whitelabel.cloudfront import check_own_domain_edge
from whitelabel.config_base import ConfigError, FieldRuleError, key_part, show
from whitelabel.config_limits import CERTIFICATE_NAME_MAX, MTLS_TLS_POLICY, RESERVED_NAMES, RESERVED_SUBDOMAINS
from whitelabel.gateway_config import TOP_LEVEL_KEYS, Settings, model_of
from whitelabel.quotas import check_quotas
from whitelabel.tenant_config import CustomerAuth
from whitelabel.waf import check_waf


def _location(loc: tuple[int | str, ...]) -> str:
    key = ""
    for part in loc:
        key += f"[{part}]" if isinstance(part, int) else key_part(str(part), first=not key)
    return key


UNKNOWN_KEY_RULE = "is not a known key (check its spelling; README lists every key)"


def known_keys(parent: tuple[int | str, ...]) -> tuple[str, ...]:
    """The keys valid inside the entry at `parent` (a validation location; () is the top level)."""
    model: type[BaseModel] = Settings
    mapping_key_next = False
    for part in parent:
        if isinstance(part, int) or mapping_key_next:
            mapping_key_next = False  # a list index, or a mapping's own key (a tier name): same model
            continue
        field = next((f for n, f in model.model_fields.items() if (f.alias or n) == part), None)
        inner = model_of(field.annotation) if field is not None else None
        if field is None or inner is None:
            return ()
        # A tier's name, or a customer's (customers in the name form): the entry's own key.
        mapping_key_next = get_origin(field.annotation) in (dict, list)
        model = inner
    return tuple((f.alias or n) for n, f in model.model_fields.items())


def unknown_key_rule(key: str, known: tuple[str, ...]) -> str:
    """The rule for an unknown key, with the closest known key when one is close (a likely typo)."""
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6) if len(key) <= 100 else []
    if close:
        return f"is not a known key; did you mean `{close[0]}`? (README lists every key)"
    return UNKNOWN_KEY_RULE


def _given(value: Any) -> str:
    """The value a type rule refused, for the end of its line: `(not 'yes')`, `(it is empty)`."""
    return "(it is empty)" if value is None else f"(not {show(value)})"


# Pydantic's type errors in our words: "must be true or false", not "Input should be a valid boolean".
TYPE_RULES = {
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_parsing_size": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "string_type": "must be text",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
}
# Bounds, with the pydantic context key holding the bound.
BOUND_RULES = {
    "greater_than": ("gt", "must be greater than {}"),
    "greater_than_equal": ("ge", "must be at least {}"),
    "less_than": ("lt", "must be less than {}"),
    "less_than_equal": ("le", "must be at most {}"),
}


def _rule(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        loc = tuple(error["loc"])
        return unknown_key_rule(str(loc[-1]), known_keys(loc[:-1]))
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return "must be a mapping of keys to values"
    if kind in TYPE_RULES:
        return f"{TYPE_RULES[kind]} {_given(error.get('input'))}"
    if kind in BOUND_RULES:
        bound, rule = BOUND_RULES[kind]
        limit = ctx.get(bound)
        shown = f"{limit:g}" if isinstance(limit, float) else limit  # 0, not 0.0
        return f"{rule.format(shown)} {_given(error.get('input'))}"
    if kind == "literal_error":
        return f"must be {ctx.get('expected')} {_given(error.get('input'))}"
    message = str(error["msg"]).removeprefix("Value error, ")
    # Any other pydantic rule (a new one after an upgrade) still reads as a rule of ours.
    return message.replace("Input should be", "must be").replace("should be", "must be")


CUSTOMERS_RULE = (
    "must be a mapping from customer name to its keys, or a list of customer entries (either may be empty: {} or [])"
)


def customer_entries(customers: Any) -> list[Any]:
    """`customers` in the list form: in the mapping form each entry's `name` is its key, and an empty entry
    (`acme: {}`, or `acme: null` as `pulumi config set --path 'customers.acme.<key>'` may leave it) is a
    customer with every default."""
    if not isinstance(customers, Mapping):
        return list(customers)
    return [
        {**(entry or {}), "name": str(name)} if entry is None or isinstance(entry, Mapping) else entry
        for name, entry in customers.items()
    ]


def _customer_entry_keys(customers: Mapping[Any, Any]) -> list[str]:
    """The error key of each entry of the mapping form (`customers.acme`), checking each entry's shape."""
    keys = []
    for name, entry in customers.items():
        key = f"customers{key_part(str(name))}"
        if entry is not None and not isinstance(entry, Mapping):
            raise ConfigError(key, "must be a mapping of the customer's keys (it may be empty: {})")
        if entry and "name" in entry and entry["name"] != str(name):
            raise ConfigError(
                f"{key}.name",
                f"{show(entry['name'])} differs from the entry's key {show(str(name))}: in the mapping form the key"
                " is the name (leave name out)",
            )
        keys.append(key)
    return keys


_ENTRY_RE = re.compile(r"\bcustomers\[(\d+)\]")


def _by_name(error: ConfigError, entry_keys: list[str]) -> ConfigError:
    """The error with `customers[i]` said as the mapping form's `customers.<name>`: the entry the operator
    wrote. The name is the entry's key there, so `customers[i].name` is the entry itself."""

    def entry(match: re.Match[str]) -> str:
        return entry_keys[int(match[1])]

    key = _ENTRY_RE.sub(entry, re.sub(r"^(customers\[\d+\])\.name\Z", r"\1", error.key), count=1)
    return ConfigError(key, _ENTRY_RE.sub(entry, error.rule))


# A key such as `customers[4].name` or `waf.enabled`: what `pulumi config set` without `--path` stores.
PATH_LIKE_RE = re.compile(r"^([A-Za-z0-9_-]+)[.\[][A-Za-z0-9_.\[\]-]{1,120}\Z")


def forgotten_path_rule(key: str, known: tuple[str, ...], namespace: str = "") -> str | None:
    """The rule for a key that is a path into a known key, set without `--path`; None for any other key.

    namespace: written before the key in the commands (`aws:`); our own keys need none.
    """
    match = PATH_LIKE_RE.match(key)
    if match is None or match[1] not in known:
        return None
    return (
        f"is not a known key; it looks like a path: use pulumi config set --path '{namespace}{key}' <value>"
        f" (and remove this one: pulumi config rm '{namespace}{key}')"
    )


def parse_settings(raw: Mapping[str, Any], *, root: Path | None = None) -> Settings:
    """Validate raw config values (key → parsed value) into `Settings`, or raise one `ConfigError`.

    root: the project directory `docs.folder` is resolved in (default: the working directory, as Pulumi runs
    the program there).
    """
    for key in raw:
        if key not in TOP_LEVEL_KEYS:
            rule = forgotten_path_rule(key, TOP_LEVEL_KEYS)
            shown = key if rule is not None else key_part(key, first=True)
            raise ConfigError(shown, rule or unknown_key_rule(key, TOP_LEVEL_KEYS))
    customers = raw.get("customers")
    entry_keys: list[str] | None = None  # the mapping form's entry keys, in the list form's order
    if isinstance(customers, Mapping):
        entry_keys = _customer_entry_keys(customers)
        raw = {**raw, "customers": customer_entries(customers)}
    elif "customers" in raw and not isinstance(customers, list):
        raise ConfigError("customers", CUSTOMERS_RULE)
    else:
        for index, entry in enumerate(customers or []):
            if not isinstance(entry, Mapping):
                raise ConfigError(f"customers[{index}]", "must be a mapping with at least a name")
    try:
        return _validate(raw, root)
    except ConfigError as error:
        if entry_keys is None:
            raise
        raise _by_name(error, entry_keys) from None


def _union_members(annotation: Any) -> list[Any]:
    """The members other than None of a field that is a union of two or more (`'none' | CustomerAuth`), else []."""
    if get_origin(annotation) not in (Union, UnionType):
        return []
    members = [member for member in get_args(annotation) if member is not type(None)]
    return members if len(members) > 1 else []


@dataclass(frozen=True)
class _Located:
    """A validation error's location in the reader's terms (see `_locate`)."""

    loc: tuple[int | str, ...]
    fits: bool  # every union on the way was refused for the member the given value's kind chose
    or_mapping: bool  # the last union on the way also takes a mapping, which the value was not


def _locate(loc: tuple[int | str, ...], raw: Mapping[str, Any]) -> _Located:
    """`loc` without the union members pydantic names in it: `customers[2].auth.CustomerAuth.issuer` is
    `customers[2].auth.issuer` to whoever wrote the config. A union's value is refused once per member; the member
    its kind chose (a mapping: the model; anything else: the others) is the refusal that explains it."""
    model: type[BaseModel] | None = Settings
    value: Any = raw
    union: tuple[list[Any], Any] | None = None
    entry_next = False
    kept: list[int | str] = []
    fits, or_mapping = True, False
    for part in loc:
        if union is not None:
            # Right after a union field, pydantic names the member the error is about: not a key of the config.
            members, given = union
            union = None
            member = next((m for m in members if isinstance(m, type) and m.__name__ == part), None)
            fits = fits and (member is not None) == isinstance(given, Mapping)
            or_mapping = member is None and any(model_of(m) is not None for m in members)
            model = member if member is not None and issubclass(member, BaseModel) else None
            continue
        kept.append(part)
        if model is None:
            continue
        if isinstance(part, int) or entry_next:
            # A list's index, or a mapping's own key (a tier's name): the entry, of the same model.
            entry_next = False
            if isinstance(value, Mapping) or (isinstance(value, list) and isinstance(part, int) and part < len(value)):
                value = value[part]  # type: ignore[index]
            continue
        field = next((f for n, f in model.model_fields.items() if (f.alias or n) == part), None)
        value = value.get(part) if isinstance(value, Mapping) else None
        if field is None:
            model = None
            continue
        members = _union_members(field.annotation)
        if members:
            union = (members, value)
            continue
        model = model_of(field.annotation)
        entry_next = get_origin(field.annotation) in (dict, list)
    return _Located(tuple(kept), fits, or_mapping)


def _validate(raw: Mapping[str, Any], root: Path | None) -> Settings:
    """`parse_settings` once `customers` is in the list form."""
    try:
        settings = Settings.model_validate(raw, context={"project_dir": root})
    except ValidationError as exc:
        located = [(error, _locate(tuple(error["loc"]), raw)) for error in exc.errors()]
        candidates = [pair for pair in located if pair[1].fits] or located
        # A misspelt key also makes the key it meant "missing": report the typo, the cause.
        error, where = next((pair for pair in candidates if pair[0]["type"] == "extra_forbidden"), candidates[0])
        first: dict[str, Any] = {**error, "loc": where.loc}
        loc = where.loc
        cause = (first.get("ctx") or {}).get("error")
        if isinstance(cause, FieldRuleError):
            loc = (*loc, cause.field)
        if where.or_mapping and first["type"] == "literal_error":
            # `auth: true`: the literal is one of two forms, the other a mapping of keys.
            ctx = first.get("ctx") or {}
            first["ctx"] = {**ctx, "expected": f"{ctx.get('expected')} or a mapping of keys"}
        # A model-level rule (no field) is reported against its entry.
        raise ConfigError(_location(loc) or "config", _rule(first)) from None
    _check_customers(settings)

    check_quotas(settings)

    check_waf(settings)
    check_own_domain_edge(settings)
    return settings


def _check_customers(settings: Settings) -> None:
    names: dict[str, int] = {}
    subdomains: dict[str, int] = {}
    custom_domains: dict[str, int] = {}
    for index, customer in enumerate(settings.customers):
        where = f"customers[{index}]"
        if customer.name in names:
            raise ConfigError(
                f"{where}.name",
                f"{customer.name!r} is already used by customers[{names[customer.name]}]; names must be unique",
            )
        names[customer.name] = index
        if customer.name in RESERVED_NAMES:
            raise ConfigError(
                f"{where}.name",
                f"{customer.name!r} is reserved: the platform names its own resources with it; choose another name"
                " (set subdomain to keep the address)",
            )
        sub_key = f"{where}.subdomain" if customer.subdomain_ is not None else f"{where}.name"
        if customer.subdomain in RESERVED_SUBDOMAINS:
            raise ConfigError(
                sub_key,
                f"{customer.subdomain!r} is reserved by the platform ({', '.join(sorted(RESERVED_SUBDOMAINS))}); "
                "set a different subdomain",
            )
        if customer.subdomain in subdomains:
            raise ConfigError(
                sub_key,
                f"subdomain {customer.subdomain!r} is already used by customers[{subdomains[customer.subdomain]}]; "
                "subdomains must be unique",
            )
        subdomains[customer.subdomain] = index
        fqdn = settings.fqdn(customer)
        if len(fqdn) > 253:
            raise ConfigError(sub_key, f"{fqdn!r} is longer than the 253 characters a DNS name may have")
        if customer.custom_domain is not None:
            domain = customer.custom_domain
            if domain == settings.base_domain or domain.endswith("." + settings.base_domain):
                raise ConfigError(
                    f"{where}.customDomain",
                    f"{domain!r} lies inside baseDomain {settings.base_domain!r}; "
                    "use subdomain (and dedicatedDomain) for names we own",
                )
            if len(domain) > CERTIFICATE_NAME_MAX:
                raise ConfigError(
                    f"{where}.customDomain",
                    f"{domain!r} is {len(domain)} characters; an ACM certificate name may have {CERTIFICATE_NAME_MAX}",
                )
            if domain in custom_domains:
                raise ConfigError(
                    f"{where}.customDomain", f"{domain!r} is already used by customers[{custom_domains[domain]}]"
                )
            custom_domains[domain] = index
        if customer.mtls_truststore is not None and not settings.endpoint.mutual_tls:
            raise ConfigError(
                f"{where}.mtlsTruststore",
                f"is not possible with endpointType {settings.endpoint_type}: API Gateway does mutual TLS on Regional"
                " custom domains only; use endpointType REGIONAL for a mutual-TLS customer",
            )
        if customer.mtls_truststore is not None and settings.tls_policy != MTLS_TLS_POLICY:
            raise ConfigError(
                f"{where}.mtlsTruststore",
                f"needs tlsPolicy {MTLS_TLS_POLICY}: AWS allows mutual TLS only on {MTLS_TLS_POLICY} domains, and"
                f" the API's policy (now {show(settings.tls_policy)}) negotiates the handshake of every domain"
                " mapped to it",
            )
    _check_mutual_tls(settings)
    _check_auth(settings)
    wildcard = f"*.{settings.base_domain}"
    if len(wildcard) > CERTIFICATE_NAME_MAX:
        raise ConfigError(
            "baseDomain",
            f"the certificate name {wildcard!r} is {len(wildcard)} characters; ACM allows {CERTIFICATE_NAME_MAX}",
        )
    zone = settings.hosted_zone
    if settings.base_domain != zone and not settings.base_domain.endswith("." + zone):
        raise ConfigError("hostedZone", f"{zone!r} must be baseDomain {settings.base_domain!r} or a parent of it")


def _check_mutual_tls(settings: Settings) -> None:
    """Rules across customers with mutual TLS: certificates that tell them apart, decisions never cached."""
    accepted: dict[str, list[int]] = {}
    for index, customer in enumerate(settings.customers):
        for dn in customer.mtls_issuers:
            accepted.setdefault(dn, []).append(index)
    for dn, indices in accepted.items():
        for earlier, later in itertools.combinations(indices, 2):  # every pair, not only neighbours
            first, second = settings.customers[earlier], settings.customers[later]
            # One issuer for two customers is safe only when subject DNs tell their certificates apart.
            if not (first.mtls_subjects and second.mtls_subjects) or set(first.mtls_subjects) & set(
                second.mtls_subjects
            ):
                raise ConfigError(
                    f"customers[{later}].mtlsIssuers",
                    f"{show(dn)} is also accepted for customers[{earlier}]: a certificate issued for one would be"
                    " accepted for the other; give each customer its own issuer, or disjoint mtlsSubjects to both",
                )
    mtls = [index for index, customer in enumerate(settings.customers) if customer.mtls_truststore is not None]
    if mtls and settings.authorizer.cache_ttl_seconds != 0:
        raise ConfigError(
            "authorizer.cacheTtlSeconds",
            f"must be 0 while customers[{mtls[0]}] has mtlsTruststore: API Gateway caches one decision per Host"
            " header, so an Allow earned with a client certificate would be reused for requests without one"
            " (and a Deny would lock the certificate's holder out) for that many seconds",
        )


def _check_auth(settings: Settings) -> None:
    """Rules of end-user authentication: audiences known, tenants told apart, decisions never cached."""
    if settings.auth.issuer is not None and not settings.auth.audiences:
        raise ConfigError("auth.audiences", "is required with auth.issuer: list the token audiences (client ids)")
    by_issuer: dict[str, list[int]] = {}
    for index, customer in enumerate(settings.customers):
        resolved = settings.auth_of(customer)
        if isinstance(customer.auth, CustomerAuth) and resolved is None:
            raise ConfigError(f"customers[{index}].auth.issuer", "is required: auth.issuer is not set for the stack")
        if resolved is None:
            continue
        if not resolved.audiences:
            raise ConfigError(f"customers[{index}].auth.audiences", "is required: no audiences for this issuer")
        by_issuer.setdefault(resolved.issuer, []).append(index)
    for issuer, indices in by_issuer.items():
        for index in indices:
            if len(indices) > 1 and settings.auth_of(settings.customers[index]).tenant_claim is None:  # type: ignore[union-attr]
                other = next(i for i in indices if i != index)
                raise ConfigError(
                    f"customers[{index}].auth.tenantClaim",
                    f"may be null only for an issuer of its own, but customers[{other}] shares {show(issuer)}:"
                    " without a tenant claim a user of one would be let into the other",
                )
    authenticated = [i for i, c in enumerate(settings.customers) if settings.auth_of(c) is not None]
    if authenticated and settings.authorizer.cache_ttl_seconds != 0:
        raise ConfigError(
            "authorizer.cacheTtlSeconds",
            f"must be 0 while customers[{authenticated[0]}] has end-user authentication: API Gateway caches one"
            " decision per Host header, so one user's Allow would be served to requests with another token or none",
        )
