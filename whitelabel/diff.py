"""What `pulumi up` would do to a stack, from two runs of the program: the one as committed and the one now.

Pure logic over what the offline engine recorded (`whitelabel.offline.Registered`): resources are matched by
URN (or by an alias's URN), their inputs compared as the engine compares them, and each difference is a
create, update, replace or delete step. Outputs of other resources are unknown in a real preview but known
(and derived from names, so stable) in the mocks: a difference in them shows here as it would after the apply.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from whitelabel.offline import Registered

STACK_TYPE = "pulumi:pulumi:Stack"
# How the SDK marks a secret value in the properties it sends the engine (pulumi/pulumi, sdk/python/lib/pulumi/
# runtime/rpc.py: `_special_sig_key` and `_special_secret_sig`); the mock monitor hands inputs on that way.
SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
SECRET = "[secret]"

# The inputs (camelCase, as the engine sees them) whose change makes the provider replace the resource, for
# the resource types this program registers. pulumi-aws bridges the Terraform AWS provider, so these are the
# attributes that provider marks ForceNew (hashicorp/terraform-provider-aws, internal/service/<service>/
# <resource>.go; e.g. apigateway/domain_name.go: domain_name; route53/record.go: name and zone_id — a record's
# `type` is updated in place there; dynamodb/table_item.go: table_name, hash_key, range_key) and the
# "Update requires: Replacement" properties of the matching CloudFormation types
# (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-apigateway-usageplankey.html).
# `region` is the per-resource region of pulumi-aws 7: moving a resource to another region re-creates it
# (https://www.pulumi.com/registry/packages/aws/how-to-guides/enhanced-region-support/).
REPLACE_ON_CHANGE: Mapping[str, frozenset[str]] = {
    "aws:acm/certificate:Certificate": frozenset(
        {"domainName", "subjectAlternativeNames", "keyAlgorithm", "certificateAuthorityArn", "region"}
    ),
    "aws:acm/certificateValidation:CertificateValidation": frozenset(
        {"certificateArn", "validationRecordFqdns", "region"}
    ),
    "aws:apigateway/apiKey:ApiKey": frozenset({"value", "region"}),
    "aws:apigateway/basePathMapping:BasePathMapping": frozenset({"domainName", "domainNameId", "region"}),
    "aws:apigateway/deployment:Deployment": frozenset({"restApi", "triggers", "variables", "region"}),
    "aws:apigateway/domainName:DomainName": frozenset(
        {"domainName", "certificateBody", "certificateChain", "certificatePrivateKey", "region"}
    ),
    "aws:apigateway/integration:Integration": frozenset({"restApi", "resourceId", "httpMethod", "region"}),
    "aws:apigateway/integrationResponse:IntegrationResponse": frozenset(
        {"restApi", "resourceId", "httpMethod", "statusCode", "region"}
    ),
    "aws:apigateway/method:Method": frozenset({"restApi", "resourceId", "httpMethod", "region"}),
    "aws:apigateway/methodResponse:MethodResponse": frozenset(
        {"restApi", "resourceId", "httpMethod", "statusCode", "region"}
    ),
    "aws:apigateway/resource:Resource": frozenset({"restApi", "region"}),
    "aws:apigateway/response:Response": frozenset({"restApiId", "responseType", "region"}),
    "aws:apigateway/stage:Stage": frozenset({"restApi", "stageName", "region"}),
    "aws:apigateway/usagePlanKey:UsagePlanKey": frozenset({"keyId", "keyType", "usagePlanId", "region"}),
    "aws:cloudwatch/logGroup:LogGroup": frozenset({"name", "namePrefix", "region"}),
    "aws:dynamodb/table:Table": frozenset({"name", "region"}),
    "aws:dynamodb/tableItem:TableItem": frozenset({"tableName", "hashKey", "rangeKey", "region"}),
    "aws:iam/role:Role": frozenset({"name", "namePrefix", "path"}),
    "aws:lambda/function:Function": frozenset({"name", "region"}),
    "aws:route53/record:Record": frozenset({"name", "zoneId"}),
    "aws:s3/bucket:Bucket": frozenset({"bucket", "bucketPrefix", "region"}),
    "aws:wafv2/webAcl:WebAcl": frozenset({"name", "scope", "region"}),
    "aws:wafv2/webAclAssociation:WebAclAssociation": frozenset({"resourceArn", "webAclArn", "region"}),
}

Op = Literal["create", "update", "replace", "delete"]
SYMBOL: Mapping[Op, str] = {"create": "+", "update": "~", "replace": "+-", "delete": "-"}
ORDER: Mapping[Op, int] = {"create": 0, "update": 1, "replace": 2, "delete": 3}


@dataclass(frozen=True)
class PropertyChange:
    """One changed input, as a person reads it: secrets never shown, only that they changed."""

    path: str
    old: str
    new: str
    forces_replacement: bool = False

    def __str__(self) -> str:
        if SECRET in (self.old, self.new):
            text = f"{self.path}: {SECRET} changed"
        else:
            text = f"{self.path}: {self.old} → {self.new}"
        return text + ("  (forces replacement)" if self.forces_replacement else "")


@dataclass(frozen=True)
class Step:
    """What the engine would do to one resource."""

    op: Op
    urn: str
    type: str
    name: str
    component: str
    tenant: str | None
    changes: tuple[PropertyChange, ...] = ()
    protect: bool = False
    retain_on_delete: bool = False
    delete_before_replace: bool = False
    # Changed only because a resource it reads was replaced: its input is the new id, unknown until the apply.
    cascaded: bool = False

    def flags(self) -> list[str]:
        """What a person must know before running it: a refusal, a cloud resource left behind, the order."""
        flags = []
        if self.protect and self.op in ("replace", "delete"):
            flags.append("protected: `pulumi up` refuses this until the resource is unprotected")
        elif self.protect:
            flags.append("protected")
        if self.retain_on_delete and self.op in ("replace", "delete"):
            flags.append("retained: the old one stays in AWS, Pulumi only forgets it")
        elif self.retain_on_delete:
            flags.append("retained on delete")
        if self.op == "replace":
            flags.append("delete before replace" if self.delete_before_replace else "create before delete")
        return flags


@dataclass(frozen=True)
class Preview:
    """Every step, and how many resources stay as they are."""

    steps: tuple[Step, ...]
    unchanged: int

    @property
    def changes(self) -> bool:
        return bool(self.steps)

    def of(self, op: Op) -> list[Step]:
        return [s for s in self.steps if s.op == op]

    def names(self, op: Op) -> set[str]:
        return {s.name for s in self.steps if s.op == op}


def is_secret(value: Any) -> bool:
    """True when `value` is, or holds, a secret."""
    if isinstance(value, dict):
        if value.get(SECRET_SIG_KEY) == SECRET_SIG:
            return True
        return any(is_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(is_secret(v) for v in value)
    return False


def reveal(value: Any) -> Any:
    """`value` with its secret wrappers removed: the engine compares the plain values."""
    if isinstance(value, dict):
        if value.get(SECRET_SIG_KEY) == SECRET_SIG:
            return reveal(value.get("value"))
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v) for v in value]
    return value


def _whole(value: Any) -> Any:
    """Numbers as Pulumi shows them: the engine's wire format has only floats, so a TTL of 300 arrives as 300.0."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _whole(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_whole(v) for v in value]
    return value


def _show(value: Any, limit: int = 70) -> str:
    text = "(none)" if value is None else json.dumps(_whole(value), sort_keys=True, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _as_document(value: Any) -> Any:
    """A JSON text (a policy, a registry item) as the object it holds, so its changed fields can be named."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _paths(old: Any, new: Any, path: str) -> Iterable[tuple[str, Any, Any]]:
    """The innermost differing places between two plain values."""
    old, new = _as_document(old), _as_document(new)
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            if old.get(key) != new.get(key):
                yield from _paths(old.get(key), new.get(key), f"{path}.{key}")
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for index, (a, b) in enumerate(zip(old, new, strict=True)):
            if a != b:
                yield from _paths(a, b, f"{path}[{index}]")
    else:
        yield path, old, new


def dynamodb_plain(value: Any) -> Any:
    """A DynamoDB attribute value (`{"S": "x"}`, `{"L": [...]}`, ...) as the plain value it holds."""
    if isinstance(value, dict) and len(value) == 1:
        ((tag, inner),) = value.items()
        if tag in ("S", "N", "B", "BOOL"):
            return inner
        if tag == "NULL":
            return None
        if tag == "L" and isinstance(inner, list):
            return [dynamodb_plain(v) for v in inner]
        if tag in ("SS", "NS", "BS"):
            return inner
        if tag == "M" and isinstance(inner, dict):
            return {k: dynamodb_plain(v) for k, v in inner.items()}
    return value


@dataclass(frozen=True)
class OpenSecret:
    """A secret input whose JSON object holds a secret among fields that are not: the fields shown in clear.

    plain: how to read one field's value (the registry item's are DynamoDB attribute values)."""

    shown: frozenset[str]
    plain: Callable[[Any], Any]


# The registry item (components/tenant_keys.py, whitelabel/tenancy.py `registry_item`) is secret as a whole
# because it carries the tenant's API key value (`apiKey`); its other attributes say what the stack file says in
# clear (name, tier, status, mTLS DNs, end-user auth). Only the fields listed are shown: one not listed (a new
# attribute) stays `[secret]` until it is named here, and any other secret input stays masked as a whole.
OPEN_SECRETS: Mapping[tuple[str, str], OpenSecret] = {
    ("aws:dynamodb/tableItem:TableItem", "item"): OpenSecret(
        frozenset(
            {
                "hostname",
                "tenantId",
                "tier",
                "status",
                "mtlsIssuers",
                "mtlsSubjects",
                "authIssuer",
                "authAudiences",
                "authTenantClaim",
            }
        ),
        dynamodb_plain,
    ),
}


def _strings(value: Any) -> Iterable[str]:
    """Every string a value holds (not its keys: `S` of `{"S": ...}` is no secret)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _open_secret(resource_type: str, key: str, before: Any, after: Any) -> list[tuple[str, str, str]] | None:
    """The changed fields of a secret input listed in `OPEN_SECRETS`, as (path, old, new) texts with the fields
    not shown in clear as `[secret]`; None (mask it whole) for any other secret, or one that is not a JSON object
    on both sides."""
    opened = OPEN_SECRETS.get((resource_type, key))
    old, new = _as_document(reveal(before)), _as_document(reveal(after))
    if opened is None or not isinstance(old, dict) or not isinstance(new, dict):
        return None
    fields = sorted(set(old) | set(new))
    # What the masked fields hold, on either side: never shown, even if a shown field came to contain it.
    hidden = {
        text for f in fields if f not in opened.shown for side in (old, new) for text in _strings(side.get(f)) if text
    }
    changes = []
    for field in fields:
        a, b = old.get(field), new.get(field)
        if a == b:
            continue
        path = f"{key}.{field}"
        if field not in opened.shown:
            changes.append((path, SECRET, SECRET))
            continue
        plain_a, plain_b = opened.plain(a), opened.plain(b)
        # Read plainly unless that hides the change (an attribute that changed only its type: "1" as S, then N).
        pairs = _paths(plain_a, plain_b, path) if plain_a != plain_b else _paths(a, b, path)
        for where, x, y in pairs:
            if any(h in s for h in hidden for s in (*_strings(x), *_strings(y))):
                changes.append((where, SECRET, SECRET))
            else:
                changes.append((where, _show(x), _show(y)))
    return changes


def property_changes(resource_type: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[PropertyChange]:
    """The changed inputs of one resource; a secret input shows as `[secret]`, never its value (of one listed in
    `OPEN_SECRETS`, only its secret fields)."""
    replacing = REPLACE_ON_CHANGE.get(resource_type, frozenset())
    changes: list[PropertyChange] = []
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key), new.get(key)
        if reveal(before) == reveal(after):
            continue
        forces = key in replacing
        if is_secret(before) or is_secret(after):
            opened = _open_secret(resource_type, key, before, after)
            if opened is None:
                changes.append(PropertyChange(key, SECRET, SECRET, forces))
            else:
                changes.extend(PropertyChange(path, a, b, forces) for path, a, b in opened)
            continue
        for path, a, b in _paths(before, after, key):
            changes.append(PropertyChange(path, _show(a), _show(b), forces))
    return changes


# The component package's own components (components/white_label_gateway.py, components/tenant_set.py): they
# wrap the concerns (gateway, tenant domains, keys, ...), so grouping by them would put nearly every resource in
# one group. A resource is grouped under the outermost component below them.
PACKAGE_TYPES = frozenset({"whitelabel:index:WhiteLabelGateway", "whitelabel:index:TenantSet"})


def top_component(resource: Registered, by_urn: Mapping[str, Registered]) -> Registered | None:
    """The outermost component that `resource` belongs to, not counting `PACKAGE_TYPES` (a direct child of one of
    those belongs to it); None at the top."""
    node, top = resource, None
    while node is not None and node.type != STACK_TYPE:
        if not node.custom and (top is None or node.type not in PACKAGE_TYPES):
            top = node
        node = by_urn.get(node.parent)  # type: ignore[assignment]
    return top


def tenant_of(name: str, component: str, tenants: Mapping[str, Sequence[str]]) -> str | None:
    """The tenant a resource is for: its name is `<component>-<token>-<role>` (or `<component>-<name>.<tier>-<role>`
    for a tenant's per-tier key), where token is one of the tenant's names (its name, a hostname). The longest
    match wins, so `acme-eu` is not `acme`."""
    rest = name.removeprefix(f"{component}-") if component else name
    best: tuple[int, str] | None = None
    for tenant, tokens in tenants.items():
        for token in tokens:
            if token and rest.startswith((f"{token}-", f"{token}.")) and (best is None or len(token) > best[0]):
                best = (len(token), tenant)
    return best[1] if best else None


def diff(
    old: Sequence[Registered],
    new: Sequence[Registered],
    tenants: Mapping[str, Sequence[str]] | None = None,
) -> Preview:
    """The steps that take a stack from `old` (its last state) to `new` (the program now).

    tenants: tenant name → the tokens its resources are named by (name, hostnames), old and new together.
    Only cloud resources are steps: components hold no state in AWS.
    """
    tenants = tenants or {}
    old_by_urn = {r.urn: r for r in old}
    new_by_urn = {r.urn: r for r in new}
    old_all, new_all = old_by_urn, new_by_urn
    matched: set[str] = set()
    steps: list[Step] = []
    unchanged = 0

    def placed(resource: Registered, index: Mapping[str, Registered]) -> tuple[str, str | None]:
        top = top_component(resource, index)
        component = f"{top.name} ({top.type})" if top is not None else "(stack)"
        return component, tenant_of(resource.name, top.name if top is not None else "", tenants)

    for resource in new:
        if not resource.custom:
            continue
        before = old_by_urn.get(resource.urn) or next(
            (old_by_urn[a] for a in resource.aliases if a in old_by_urn), None
        )
        component, tenant = placed(resource, new_all)
        if before is None:
            steps.append(
                Step(
                    "create",
                    resource.urn,
                    resource.type,
                    resource.name,
                    component,
                    tenant,
                    protect=resource.protect,
                    retain_on_delete=resource.retain_on_delete,
                )
            )
            continue
        matched.add(before.urn)
        changes = property_changes(resource.type, before.inputs, resource.inputs)
        replace_keys = set(resource.replace_on_changes)
        changes = [
            PropertyChange(c.path, c.old, c.new, True)
            if c.path.split(".")[0].split("[")[0] in replace_keys or "*" in replace_keys
            else c
            for c in changes
        ]
        if not changes:
            unchanged += 1
            continue
        op: Op = "replace" if any(c.forces_replacement for c in changes) else "update"
        steps.append(
            Step(
                op,
                resource.urn,
                resource.type,
                resource.name,
                component,
                tenant,
                tuple(changes),
                # Deleting the old one is decided by its state: its protect and retain flags.
                protect=before.protect if op == "replace" else resource.protect,
                retain_on_delete=before.retain_on_delete if op == "replace" else resource.retain_on_delete,
                delete_before_replace=resource.delete_before_replace,
            )
        )

    steps = _cascade(steps, new, new_all, placed)
    unchanged -= sum(1 for s in steps if s.cascaded)

    for resource in old:
        if resource.custom and resource.urn not in matched and resource.urn not in new_by_urn:
            component, tenant = placed(resource, old_all)
            steps.append(
                Step(
                    "delete",
                    resource.urn,
                    resource.type,
                    resource.name,
                    component,
                    tenant,
                    protect=resource.protect,
                    retain_on_delete=resource.retain_on_delete,
                )
            )
    return Preview(tuple(steps), unchanged)


KNOWN_AFTER_APPLY = "(known after the apply)"


def _identities(resource: Registered) -> set[str]:
    """The values of a resource that a replacement changes and other resources take as inputs (id, ARNs)."""
    values = {resource.id} if resource.id else set()
    values |= {v for k, v in resource.outputs.items() if isinstance(v, str) and k in ("arn", "id") and len(v) >= 8}
    return values


def _cascade(steps: list[Step], new: Sequence[Registered], index: Mapping[str, Registered], placed: Any) -> list[Step]:
    """Add the resources that take a replaced resource's id or ARN as an input: the mocks give the new one the
    same id, but AWS does not, so the engine updates (or, for a replace-on-change input, replaces) them too."""
    by_urn = {s.urn: s for s in steps}
    queue = [s.urn for s in steps if s.op == "replace"]
    while queue:
        replaced = index[queue.pop()]
        identities = _identities(replaced)
        for resource in new:
            if not resource.custom or replaced.urn not in resource.dependencies:
                continue
            keys = sorted(k for k, v in resource.inputs.items() if any(i in json.dumps(v) for i in identities))
            if not keys:
                continue
            forcing = REPLACE_ON_CHANGE.get(resource.type, frozenset()) | set(resource.replace_on_changes)
            added = tuple(PropertyChange(k, _show(resource.inputs[k]), KNOWN_AFTER_APPLY, k in forcing) for k in keys)
            existing = by_urn.get(resource.urn)
            known = {c.path for c in existing.changes} if existing else set()
            added = tuple(c for c in added if c.path not in known)
            if not added:
                continue
            changes = (existing.changes if existing else ()) + added
            op: Op = "replace" if any(c.forces_replacement for c in changes) else "update"
            component, tenant = placed(resource, index)
            step = Step(
                op,
                resource.urn,
                resource.type,
                resource.name,
                component,
                tenant,
                changes,
                protect=resource.protect,
                retain_on_delete=resource.retain_on_delete,
                delete_before_replace=resource.delete_before_replace,
                cascaded=existing.cascaded if existing else True,
            )
            by_urn[resource.urn] = step
            if op == "replace" and (existing is None or existing.op != "replace"):
                queue.append(resource.urn)
    order = [s.urn for s in steps] + [u for u in by_urn if u not in {s.urn for s in steps}]
    return [by_urn[u] for u in order]


def render(preview: Preview, title: str) -> str:
    """The preview as text: counts, then steps grouped by tenant, then by component."""
    counts = ", ".join(f"{len(preview.of(op))} to {op}" for op in ("create", "update", "replace", "delete"))
    lines = [title, f"  {counts}; {preview.unchanged} unchanged"]
    if not preview.changes:
        lines.append("\nNo changes: `pulumi up` would leave every resource as it is.")
        return "\n".join(lines)
    groups: dict[str | None, dict[str, list[Step]]] = defaultdict(lambda: defaultdict(list))
    for step in preview.steps:
        groups[step.tenant][step.component].append(step)
    order = sorted(t for t in groups if t is not None) + ([None] if None in groups else [])
    width = max(len(s.type) for s in preview.steps)
    for tenant in order:
        lines.append(f"\n{'Tenant ' + tenant if tenant else 'Shared (no single tenant)'}:")
        for component in sorted(groups[tenant]):
            lines.append(f"  {component}")
            for step in sorted(groups[tenant][component], key=lambda s: (ORDER[s.op], s.type, s.name)):
                flags = step.flags()
                note = f"  [{'; '.join(flags)}]" if flags else ""
                lines.append(f"    {SYMBOL[step.op]:<2} {step.op:<7} {step.type:<{width}}  {step.name}{note}")
                lines.extend(f"          {change}" for change in step.changes)
    return "\n".join(lines)
