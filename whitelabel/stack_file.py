"""The stack file as the Pulumi engine hands it to the program: the project's keys read once, the stack name and
provider keys checked, the environment (its shards) consulted; `load_config` is the program's one entry."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from whitelabel.config_base import PROJECT, ConfigError, key_part, show
from whitelabel.config_limits import STAGE_NAME_RE
from whitelabel.config_rules import forgotten_path_rule, parse_settings
from whitelabel.environment import (
    Shard,
    check_environment,
    environment,
    needs_user_auth,
    platform_of,
    read_stack_files,
    stack_file,
)
from whitelabel.gateway_config import STRUCTURED_KEYS, TOP_LEVEL_KEYS, Settings, check_shard_keys
from whitelabel.names import check_names


def read_raw_config(values: Mapping[str, str]) -> dict[str, Any]:
    """Turn Pulumi's flat `project:key` → string map into key → parsed value for this project.

    Structured values arrive as JSON text (that is how the engine passes objects and lists).
    """
    raw: dict[str, Any] = {}
    prefix = f"{PROJECT}:"
    for full_key, text in values.items():
        if not full_key.startswith(prefix):
            continue
        key = full_key[len(prefix) :]
        value: Any = text
        # Scalars stay text: the model takes "true"/"false" for booleans and numeric text for numbers.
        if key in STRUCTURED_KEYS or key not in TOP_LEVEL_KEYS:
            try:
                value = json.loads(text)
            except (TypeError, ValueError):
                value = text
        raw[key] = value
    return raw


def check_stack_name(stack: str) -> None:
    """Refuse a stack name API Gateway would not take as a stage name."""
    if not STAGE_NAME_RE.match(stack):
        raise ConfigError(
            "stack",
            f"{show(stack)} is used as the API Gateway stage name: 1 to 128 letters, digits, '-' or '_';"
            " use another stack name",
        )


def engine_config_keys() -> set[str]:
    """Every `namespace:key` the engine passed to this program: the only use of the SDK's private config map.

    The SDK has no public call that lists config keys (`pulumi.Config` reads one named key), and a
    misspelt key must be refused, not ignored, so the names come from `pulumi.runtime.config.CONFIG`
    (and the `PULUMI_CONFIG` environment the SDK falls back to). If a new SDK keeps config elsewhere
    this raises at once, and `tests/test_config.py::test_the_sdk_still_keeps_config_where_we_list_it`
    fails, instead of every key silently looking unset.
    """
    from pulumi.runtime import config as runtime_config

    store = getattr(runtime_config, "CONFIG", None)
    current = store.get() if isinstance(store, ContextVar) else None
    if not isinstance(current, dict):
        raise RuntimeError(
            "pulumi.runtime.config.CONFIG is no longer a ContextVar holding the config map;"
            " update whitelabel.config.engine_config_keys for this Pulumi SDK"
        )
    return set(runtime_config.get_config_env()) | set(current)


# The aws provider's own config keys (`aws:<key>`), as pulumi-aws 7.51 reads them
# (`pulumi_aws/config/vars.py`; "Configuration options",
# https://www.pulumi.com/registry/packages/aws/installation-configuration/).
# tests/test_config.py compares this with the installed provider SDK.
AWS_CONFIG_KEYS = (
    "accessKey",
    "allowedAccountIds",
    "assumeRoleWithWebIdentity",
    "assumeRoles",
    "customCaBundle",
    "defaultTags",
    "ec2MetadataServiceEndpoint",
    "ec2MetadataServiceEndpointMode",
    "endpoints",
    "forbiddenAccountIds",
    "httpProxy",
    "httpsProxy",
    "ignoreTags",
    "insecure",
    "maxRetries",
    "noProxy",
    "profile",
    "region",
    "retryMode",
    "s3UsEast1RegionalEndpoint",
    "s3UsePathStyle",
    "secretKey",
    "sharedConfigFiles",
    "sharedCredentialsFiles",
    "skipCredentialsValidation",
    "skipMetadataApiCheck",
    "skipRegionValidation",
    "skipRequestingAccountId",
    "stsRegion",
    "tagPolicyCompliance",
    "token",
    "tokenBucketRateLimiterCapacity",
    "useDualstackEndpoint",
    "useFipsEndpoint",
    "userAgents",
)


def check_provider_keys(full_keys: Iterable[str]) -> None:
    """Refuse an `aws:` key that is a typo of a provider key (`aws:regoin`) or a path set without `--path`.

    An unknown key close to none is left to the provider: a newer pulumi-aws may read keys this list lacks.
    """
    for full_key in sorted(full_keys):
        namespace, _, key = full_key.partition(":")
        if namespace != "aws" or key in AWS_CONFIG_KEYS:
            continue
        rule = forgotten_path_rule(key, AWS_CONFIG_KEYS, namespace="aws:")
        if rule is not None:
            raise ConfigError(key, rule, namespace="aws")
        close = difflib.get_close_matches(key, AWS_CONFIG_KEYS, n=1, cutoff=0.6) if len(key) <= 100 else []
        if close:
            raise ConfigError(
                key_part(key, first=True),
                f"is not a key of the aws provider; did you mean `aws:{close[0]}`?",
                namespace="aws",
            )


def runtime_config() -> tuple[dict[str, str], set[str]]:
    """This stack's project config values (`project:key` → text) and every config key the engine passed."""
    import pulumi

    # Names from the one private listing; every value through the public `pulumi.Config`.
    project_config = pulumi.Config(PROJECT)
    values: dict[str, str] = {}
    keys = engine_config_keys()
    for full_key in keys:
        namespace, _, key = full_key.partition(":")
        value = project_config.get(key) if namespace == PROJECT else None
        if value is not None:
            values[full_key] = value
    return values, keys


def load_settings() -> Settings:
    """Read this stack's config from the Pulumi runtime and validate it (and the stack name)."""
    return load_config()[0]


def load_config() -> tuple[Settings, dict[str, Any]]:
    """This stack's validated settings and its config as the stack file says it (key → value): the program maps
    the latter to the component's args by one rule (`component_args.args_of_config`)."""
    import pulumi

    values, keys = runtime_config()

    try:
        check_stack_name(pulumi.get_stack())
        check_provider_keys(keys)
        raw = read_raw_config(values)
        settings = parse_settings(raw)
        # Every name built from the stack name and namePrefix fits AWS's limit for its kind (issue 14).
        check_names(settings, pulumi.get_project(), pulumi.get_stack())
        # Its shards' customers, hostnames and quotas, from the stack files beside it (docs "Tenant shards").

        env = environment(pulumi.get_stack(), raw, read_stack_files(Path.cwd()))
        check_environment(env, pulumi.get_stack())
        if needs_user_auth(env) and not settings.user_auth:
            # A shard's tenant with an issuer of its own: the platform's authorizer runs end-user authentication for
            # it (issue 23 §2), as `auth.enabled` would; its TTL rule was checked with the shard's customers.
            settings = settings.model_copy(update={"auth": settings.auth.model_copy(update={"enabled": True})})
            raw = {**raw, "auth": {**(raw.get("auth") or {}), "enabled": True}}
        return settings, raw
    except ConfigError as error:
        # RunError: the engine prints the one line, no traceback, and nothing has been created.
        raise pulumi.RunError(str(error)) from None


def load_shard() -> Shard | None:
    """This stack's config from the Pulumi runtime if it is a tenant shard (it sets `platform`), checked against
    its environment before any resource; None for a platform stack (`load_settings` reads those)."""
    import pulumi

    values, keys = runtime_config()
    raw = read_raw_config(values)
    if "platform" not in raw:
        return None
    stack = pulumi.get_stack()
    try:
        check_stack_name(stack)
        check_provider_keys(keys)
        platform = platform_of(stack, raw)
        check_shard_keys(raw, stack_file(platform))
        env = environment(stack, raw, read_stack_files(Path.cwd()))
        check_environment(env, stack)
        return Shard(stack, str(raw["platform"]), env.member(stack).settings, env, raw)
    except ConfigError as error:
        # RunError: the engine prints the one line, no traceback, and nothing has been created.
        raise pulumi.RunError(str(error)) from None
