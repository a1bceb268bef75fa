"""The policy pack's rules as plain functions: no Pulumi import, so tests and `make policy` run them directly.

Resource rules take one resource's type token and properties (camelCase, as the engine and CrossGuard give them)
and return violation messages. Stack rules take the whole graph as `Resource`s and return `Violation`s; they
link resources by property dependencies (what CrossGuard's stack validation hands over, known in preview too)
and, where a graph has none (the mock engine's), by value (a child's `bucket` equal to the bucket's id).

`policy/crossguard.py` wraps each rule as a mandatory CrossGuard policy; `policy/__main__.py` serves them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# -- resource types (pulumi-aws 7) -----------------------------------------------------------------------------
LOAD_BALANCERS = (
    "aws:lb/loadBalancer:LoadBalancer",
    "aws:alb/loadBalancer:LoadBalancer",
    "aws:elb/loadBalancer:LoadBalancer",
)
BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
VERSIONING = ("aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2")
REST_API = "aws:apigateway/restApi:RestApi"
DOMAIN_NAME = "aws:apigateway/domainName:DomainName"
API_RESOURCE = "aws:apigateway/resource:Resource"
METHOD = "aws:apigateway/method:Method"
INTEGRATION = "aws:apigateway/integration:Integration"
METHOD_SETTINGS = "aws:apigateway/methodSettings:MethodSettings"
AUTHORIZER = "aws:apigateway/authorizer:Authorizer"
FUNCTION = "aws:lambda/function:Function"
STAGE = "aws:apigateway/stage:Stage"
API_KEY = "aws:apigateway/apiKey:ApiKey"
CERTIFICATE = "aws:acm/certificate:Certificate"
RECORD = "aws:route53/record:Record"
TABLE = "aws:dynamodb/table:Table"
WAF_ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"

# What protected production protects (whitelabel/protection.py): losing or replacing one hurts customers or data.
STATEFUL = (*BUCKETS, TABLE, CERTIFICATE, DOMAIN_NAME, REST_API, API_KEY, RECORD)

# Enhanced security policies of API Gateway custom domains all start so, and require an endpoint access mode
# (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-security-policies.html).
ENHANCED_POLICY_PREFIX = "SecurityPolicy_TLS13_"
MTLS_POLICY = "TLS_1_2"
# Edge-optimized APIs and domains take the enhanced `SecurityPolicy_*_EDGE` policies instead
# (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-security-policies-list.html).
ENHANCED_EDGE_PREFIX = "SecurityPolicy_"
EDGE_POLICY_SUFFIX = "_EDGE"
HOST_HEADER = "method.request.header.Host"
# End-user authentication (issue 18): the tenant authorizer's function runs with `USER_AUTH=on`, and its decision
# then depends on the bearer token in the Authorization header.
USER_AUTH_VARIABLE = "USER_AUTH"
TOKEN_HEADER = "method.request.header.Authorization"
# An authorizer without `authorizerResultTtlInSeconds` caches for API Gateway's default of 300 seconds
# (https://docs.aws.amazon.com/apigateway/latest/api/API_CreateAuthorizer.html).
DEFAULT_AUTHORIZER_TTL = 300
SSE_ALGORITHMS = ("AES256", "aws:kms", "aws:kms:dsse")


@dataclass(frozen=True)
class Resource:
    """One resource of a stack, as a stack rule sees it.

    props: the resource's properties (CrossGuard: outputs, or inputs where outputs are not known yet).
    property_dependencies: property → URNs of the resources its value came from.
    id: the resource's id where the graph has it (the mock engine's); CrossGuard gives none.
    """

    type: str
    name: str
    urn: str
    props: Mapping[str, Any]
    protect: bool = False
    property_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    id: str = ""


@dataclass(frozen=True)
class Violation:
    rule: str
    message: str
    urn: str | None = None


ResourceCheck = Callable[[str, Mapping[str, Any]], list[str]]
StackCheck = Callable[[Sequence[Resource]], list[Violation]]


@dataclass(frozen=True)
class ResourceRule:
    name: str
    description: str
    check: ResourceCheck


@dataclass(frozen=True)
class StackRule:
    name: str
    description: str
    check: StackCheck


# -- adapters ----------------------------------------------------------------------------------------------------
def from_policy_resource(resource: Any) -> Resource:
    """A CrossGuard `PolicyResource` (stack validation) as a `Resource`."""
    return Resource(
        type=resource.resource_type,
        name=resource.name,
        urn=resource.urn,
        props=resource.props,
        protect=bool(resource.opts.protect),
        property_dependencies={
            prop: tuple(dep.urn for dep in deps) for prop, deps in resource.property_dependencies.items()
        },
    )


def from_registered(resource: Any) -> Resource:
    """A resource the mock engine registered (`whitelabel.offline.Registered`) as a `Resource`."""
    return Resource(
        type=resource.type,
        name=resource.name,
        urn=resource.urn,
        props=resource.outputs,
        protect=resource.protect,
        id=resource.id,
    )


# -- links between resources -----------------------------------------------------------------------------------
def refers(child: Resource, prop: str, target: Resource) -> bool:
    """Whether `child.props[prop]` comes from `target` (its id, ARN or bucket name)."""
    deps = child.property_dependencies.get(prop)
    if deps:
        return target.urn in deps
    value = child.props.get(prop)
    if not isinstance(value, str) or not value:
        return False
    return value in (target.id, target.props.get("arn"), target.props.get("bucket"))


def _same_source(a: Resource, prop_a: str, b: Resource, prop_b: str) -> bool:
    deps_a, deps_b = a.property_dependencies.get(prop_a), b.property_dependencies.get(prop_b)
    if deps_a and deps_b:
        return set(deps_a) == set(deps_b)
    value = a.props.get(prop_a)
    return value is not None and value == b.props.get(prop_b)


def _of(resources: Iterable[Resource], *types: str) -> list[Resource]:
    return [r for r in resources if r.type in types]


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str | Mapping):
        return [value]
    return list(value)


# -- resource rules ----------------------------------------------------------------------------------------------
def internal_load_balancers(type_: str, props: Mapping[str, Any]) -> list[str]:
    """Backends sit behind internal load balancers only; the one way in is API Gateway's custom domains.

    ELB's default scheme is internet-facing, so `internal` must be set
    (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html).
    """
    if type_ in LOAD_BALANCERS and props.get("internal") is not True:
        return ["the load balancer is internet-facing: set internal=True (backends are reached through a VPC link)"]
    return []


def execute_api_disabled(type_: str, props: Mapping[str, Any]) -> list[str]:
    """A REST API's default `execute-api` endpoint would bypass the custom domains' TLS policy and mTLS."""
    if type_ == REST_API and props.get("disableExecuteApiEndpoint") is not True:
        return ["the REST API's execute-api endpoint is enabled: set disable_execute_api_endpoint=True"]
    return []


def _is_edge(props: Mapping[str, Any]) -> bool:
    """Whether a REST API or custom domain is edge-optimized (`endpointConfiguration.types` EDGE)."""
    endpoint = props.get("endpointConfiguration")
    types = endpoint.get("types") if isinstance(endpoint, Mapping) else None
    return types == "EDGE" or (isinstance(types, list) and "EDGE" in types)


def strict_tls(type_: str, props: Mapping[str, Any]) -> list[str]:
    """Custom domains and the REST API use an enhanced TLS 1.3 policy with endpoint access mode STRICT (SNI must
    match Host), or TLS_1_2: AWS allows mutual TLS only with it
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-custom-domain-tls-version.html).
    Whether a TLS_1_2 resource may be so needs the graph: `tls_1_2_only_with_mutual_tls`.

    Edge-optimized ones use an enhanced `SecurityPolicy_*_EDGE` policy with STRICT (there it means CloudFront's
    domain-fronting protection) and never a truststore: mutual TLS is Regional only (whitelabel/endpoints.py)."""
    if type_ not in (DOMAIN_NAME, REST_API):
        return []
    policy = props.get("securityPolicy")
    what = "custom domain" if type_ == DOMAIN_NAME else "REST API"
    edge = _is_edge(props)
    if edge and _has_truststore(props):
        return [f"the edge-optimized {what} has a mutual-TLS truststore: API Gateway does mutual TLS on Regional only"]
    enhanced = (
        (
            policy.startswith(ENHANCED_EDGE_PREFIX) and policy.endswith(EDGE_POLICY_SUFFIX)
            if edge
            else policy.startswith(ENHANCED_POLICY_PREFIX) and not policy.endswith(EDGE_POLICY_SUFFIX)
        )
        if isinstance(policy, str)
        else False
    )
    if enhanced:
        if props.get("endpointAccessMode") != "STRICT":
            return [f"the {what} uses {policy} without endpoint access mode STRICT"]
        return []
    if policy == MTLS_POLICY:
        return []
    wanted = f"{ENHANCED_EDGE_PREFIX}*{EDGE_POLICY_SUFFIX}" if edge else f"{ENHANCED_POLICY_PREFIX}*"
    return [f"the {what} uses security policy {policy!r}: use an enhanced {wanted} policy with STRICT"]


def _has_truststore(props: Mapping[str, Any]) -> bool:
    mtls = props.get("mutualTlsAuthentication")
    return isinstance(mtls, Mapping) and bool(mtls.get("truststoreUri"))


# -- stack rules -------------------------------------------------------------------------------------------------
def has_mtls_domain(resources: Sequence[Resource]) -> bool:
    """Whether any custom domain of the stack does mutual TLS (TLS_1_2 with a truststore)."""
    return any(
        d.props.get("securityPolicy") == MTLS_POLICY and _has_truststore(d.props) for d in _of(resources, DOMAIN_NAME)
    )


def tls_1_2_only_with_mutual_tls(resources: Sequence[Resource]) -> list[Violation]:
    """TLS_1_2 only where mutual TLS needs it: on a custom domain with a truststore, and on the REST API and the
    other domains only in a stack with such a domain. AWS allows mutual TLS only on TLS_1_2 domains, and "When you
    invoke that custom domain name, API Gateway uses the API's security policy to negotiate the TLS handshake"
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-custom-domain-tls-version.html), so
    the config then sets `tlsPolicy` TLS_1_2 for the whole stack."""
    rule = "tls-1-2-only-with-mutual-tls"
    if has_mtls_domain(resources):
        return []
    return [
        Violation(
            rule,
            f"{'custom domain' if r.type == DOMAIN_NAME else 'REST API'} {r.name}: uses {MTLS_POLICY} but no custom"
            " domain does mutual TLS: use an enhanced policy with STRICT",
            r.urn,
        )
        for r in _of(resources, DOMAIN_NAME, REST_API)
        if r.props.get("securityPolicy") == MTLS_POLICY
    ]


def s3_buckets_locked_down(resources: Sequence[Resource]) -> list[Violation]:
    """Every bucket has a public access block with all four settings on, default encryption, and a bucket policy
    denying requests without TLS (`aws:SecureTransport` false:
    https://repost.aws/knowledge-center/s3-bucket-policy-for-config-rule). In pulumi-aws 7 these are separate
    resources, so the rule reads the graph."""
    rule = "s3-buckets-private-encrypted-tls-only"
    violations: list[Violation] = []
    for bucket in _of(resources, *BUCKETS):
        blocks = [b for b in _of(resources, PUBLIC_ACCESS_BLOCK) if refers(b, "bucket", bucket)]
        flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
        if not any(all(b.props.get(f) is True for f in flags) for b in blocks):
            violations.append(
                Violation(rule, f"bucket {bucket.name}: no public access block with {', '.join(flags)}", bucket.urn)
            )
        encryptions = [e for e in _of(resources, *ENCRYPTION) if refers(e, "bucket", bucket)]
        if not any(_encrypts(e.props) for e in encryptions):
            violations.append(Violation(rule, f"bucket {bucket.name}: no default server-side encryption", bucket.urn))
        policies = [p for p in _of(resources, BUCKET_POLICY) if refers(p, "bucket", bucket)]
        if not any(_denies_insecure_transport(p.props.get("policy")) for p in policies):
            violations.append(
                Violation(rule, f"bucket {bucket.name}: no bucket policy denying aws:SecureTransport false", bucket.urn)
            )
    return violations


def _encrypts(props: Mapping[str, Any]) -> bool:
    for rule in _list(props.get("rules")):
        default = rule.get("applyServerSideEncryptionByDefault") if isinstance(rule, Mapping) else None
        if isinstance(default, Mapping) and default.get("sseAlgorithm") in SSE_ALGORITHMS:
            return True
    return False


def _denies_insecure_transport(policy: Any) -> bool:
    document = json.loads(policy) if isinstance(policy, str) else policy
    if not isinstance(document, Mapping):
        return False
    for statement in _list(document.get("Statement")):
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Deny":
            continue
        principal = statement.get("Principal")
        everyone = principal == "*" or (isinstance(principal, Mapping) and principal.get("AWS") == "*")
        actions = _list(statement.get("Action"))
        condition = statement.get("Condition")
        insecure = (
            isinstance(condition, Mapping)
            and isinstance(condition.get("Bool"), Mapping)
            and str(condition["Bool"].get("aws:SecureTransport")).lower() == "false"
        )
        targets = [str(t) for t in _list(statement.get("Resource"))]
        # The bucket (ListBucket and other bucket calls) and its objects (`<arn>/*`).
        covers = any(t.endswith("/*") for t in targets) and any(not t.endswith("/*") for t in targets)
        if everyone and ("s3:*" in actions or "*" in actions) and insecure and covers:
            return True
    return False


def tenant_authorizer_on_every_method(resources: Sequence[Resource]) -> list[Violation]:
    """Every method runs the tenant authorizer: authorization CUSTOM with an authorizer that is a REQUEST
    authorizer keyed on the Host header (one decision per tenant hostname)."""
    rule = "tenant-authorizer-on-every-method"
    tenant_authorizers = [
        a
        for a in _of(resources, AUTHORIZER)
        if a.props.get("type") == "REQUEST" and HOST_HEADER in str(a.props.get("identitySource") or "").split(",")
    ]
    violations = []
    for method in _of(resources, METHOD):
        if method.props.get("authorization") != "CUSTOM":
            violations.append(
                Violation(
                    rule,
                    f"method {method.name}: authorization is {method.props.get('authorization')!r}, not CUSTOM",
                    method.urn,
                )
            )
        elif not any(refers(method, "authorizerId", a) for a in tenant_authorizers):
            violations.append(
                Violation(
                    rule,
                    f"method {method.name}: its authorizer is not a REQUEST authorizer on {HOST_HEADER}",
                    method.urn,
                )
            )
    return violations


def has_user_auth(resources: Sequence[Resource]) -> bool:
    """Whether the stack has end-user authentication: a function whose environment sets USER_AUTH=on."""
    for function in _of(resources, FUNCTION):
        environment = function.props.get("environment")
        variables = environment.get("variables") if isinstance(environment, Mapping) else None
        if isinstance(variables, Mapping) and variables.get(USER_AUTH_VARIABLE) == "on":
            return True
    return False


def user_auth_decisions_per_token(resources: Sequence[Resource]) -> list[Violation]:
    """Where end-user authentication is on, every method runs a REQUEST authorizer whose cached decision cannot
    reach another token: its result TTL is 0, or the Authorization header is among its identity sources.

    API Gateway caches a REQUEST authorizer's policy per value of its identity sources for the TTL
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-use-lambda-authorizer.html): keyed on
    Host alone, one user's Allow would be served to every request for that host, with or without a token.
    """
    rule = "user-auth-decisions-per-token"
    if not has_user_auth(resources):
        return []
    request_authorizers = [a for a in _of(resources, AUTHORIZER) if a.props.get("type") == "REQUEST"]
    violations = []
    for method in _of(resources, METHOD):
        authorizer = next((a for a in request_authorizers if refers(method, "authorizerId", a)), None)
        if method.props.get("authorization") != "CUSTOM" or authorizer is None:
            violations.append(
                Violation(
                    rule, f"method {method.name}: end-user authentication needs the tenant authorizer", method.urn
                )
            )
            continue
        ttl = authorizer.props.get("authorizerResultTtlInSeconds")
        sources = str(authorizer.props.get("identitySource") or "").replace(" ", "").split(",")
        if (DEFAULT_AUTHORIZER_TTL if ttl is None else ttl) != 0 and TOKEN_HEADER not in sources:
            violations.append(
                Violation(
                    rule,
                    f"method {method.name}: authorizer {authorizer.name} caches decisions for {ttl}s without "
                    f"{TOKEN_HEADER} among its identity sources: one token's decision would answer another",
                    method.urn,
                )
            )
    return violations


def cached_methods_key_on_host(resources: Sequence[Resource]) -> list[Violation]:
    """Every method the stage cache serves declares the Host header and keys its integration's cache on it, so one
    tenant never receives another's cached response. A `*/*` setting caches GET methods (ANY ones counted too);
    a method path `~1a~1{b}/GET` caches that method
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-caching.html)."""
    rule = "cached-methods-key-on-host"
    settings = cached_method_settings(resources)
    if not settings:
        return []
    paths = _resource_paths(resources)
    violations = []
    for method in _of(resources, METHOD):
        path = next((paths[r.urn] for r in _of(resources, API_RESOURCE) if refers(method, "resourceId", r)), "/")
        verb = str(method.props.get("httpMethod"))
        if not any(
            _same_source(s, "restApi", method, "restApi") and _caches(str(s.props.get("methodPath")), path, verb)
            for s in settings
        ):
            continue
        parameters = method.props.get("requestParameters") or {}
        if HOST_HEADER not in parameters:
            violations.append(
                Violation(rule, f"cached method {verb} {path}: {HOST_HEADER} is not declared", method.urn)
            )
        integration = _integration_of(resources, method)
        keys = _list(integration.props.get("cacheKeyParameters")) if integration else []
        if HOST_HEADER not in keys:
            violations.append(
                Violation(rule, f"cached method {verb} {path}: its cache key lacks {HOST_HEADER}", method.urn)
            )
    return violations


def cached_method_settings(resources: Sequence[Resource]) -> list[Resource]:
    """The method settings that turn caching on."""
    return [
        s
        for s in _of(resources, METHOD_SETTINGS)
        if isinstance(s.props.get("settings"), Mapping) and s.props["settings"].get("cachingEnabled") is True
    ]


def _resource_paths(resources: Sequence[Resource]) -> dict[str, str]:
    """Each API resource's path (`/docs/{key+}`), from its path part and parent (the root when no resource is)."""
    api_resources = _of(resources, API_RESOURCE)
    paths: dict[str, str] = {}

    def path_of(resource: Resource, seen: frozenset[str]) -> str:
        if resource.urn not in paths:
            parent = next((p for p in api_resources if p.urn not in seen and refers(resource, "parentId", p)), None)
            prefix = path_of(parent, seen | {resource.urn}) if parent else ""
            paths[resource.urn] = f"{prefix}/{resource.props.get('pathPart')}"
        return paths[resource.urn]

    for resource in api_resources:
        path_of(resource, frozenset({resource.urn}))
    return paths


def _caches(method_path: str, path: str, verb: str) -> bool:
    encoded, _, setting_verb = method_path.rpartition("/")
    if encoded == "*" and setting_verb == "*":
        return verb in ("GET", "ANY")
    path_matches = encoded == "*" or encoded.replace("~1", "/") == path
    return path_matches and setting_verb in ("*", verb)


def _integration_of(resources: Sequence[Resource], method: Resource) -> Resource | None:
    integrations = _of(resources, INTEGRATION)
    for integration in integrations:
        if method.urn in integration.property_dependencies.get("httpMethod", ()):
            return integration
    return next(
        (
            i
            for i in integrations
            if _same_source(i, "resourceId", method, "resourceId")
            and i.props.get("httpMethod") == method.props.get("httpMethod")
        ),
        None,
    )


def is_protected_production(resources: Sequence[Resource]) -> bool:
    """Whether the stack runs with `protectResources`: the policy pack cannot read stack config, so it reads the
    flag's effects, any protected resource or a DynamoDB table with deletion protection."""
    return any(r.protect for r in resources) or any(
        t.props.get("deletionProtectionEnabled") is True for t in _of(resources, TABLE)
    )


def protected_production(resources: Sequence[Resource]) -> list[Violation]:
    """In a stack with protectResources: the stage has a WAF web ACL, the stateful resources are protected,
    tables have deletion protection and point-in-time recovery, buckets are versioned."""
    rule = "protected-production"
    if not is_protected_production(resources):
        return []
    violations = []
    associations = _of(resources, WAF_ASSOCIATION)
    for stage in _of(resources, STAGE):
        if not any(refers(a, "resourceArn", stage) for a in associations):
            violations.append(Violation(rule, f"stage {stage.name}: no WAF web ACL is associated with it", stage.urn))
    for resource in _of(resources, *STATEFUL):
        if not resource.protect:
            violations.append(Violation(rule, f"{resource.type} {resource.name} is not protected", resource.urn))
    for table in _of(resources, TABLE):
        recovery = table.props.get("pointInTimeRecovery")
        if table.props.get("deletionProtectionEnabled") is not True or not (
            isinstance(recovery, Mapping) and recovery.get("enabled") is True
        ):
            violations.append(
                Violation(rule, f"table {table.name}: needs deletion protection and point-in-time recovery", table.urn)
            )
    for bucket in _of(resources, *BUCKETS):
        versioned = any(
            refers(v, "bucket", bucket)
            and isinstance(v.props.get("versioningConfiguration"), Mapping)
            and v.props["versioningConfiguration"].get("status") == "Enabled"
            for v in _of(resources, *VERSIONING)
        )
        if not versioned:
            violations.append(Violation(rule, f"bucket {bucket.name}: versioning is not enabled", bucket.urn))
    return violations


RESOURCE_RULES: tuple[ResourceRule, ...] = (
    ResourceRule("no-internet-facing-load-balancer", "Load balancers are internal.", internal_load_balancers),
    ResourceRule(
        "execute-api-endpoint-disabled", "The REST API's execute-api endpoint is disabled.", execute_api_disabled
    ),
    ResourceRule(
        "strict-tls",
        "Custom domains and the REST API use an enhanced TLS policy (the _EDGE ones on edge) with STRICT, or TLS_1_2"
        " (for mutual TLS, Regional only).",
        strict_tls,
    ),
)

STACK_RULES: tuple[StackRule, ...] = (
    StackRule(
        "tls-1-2-only-with-mutual-tls",
        "TLS_1_2 (on the REST API or a custom domain) only in a stack with a mutual-TLS custom domain.",
        tls_1_2_only_with_mutual_tls,
    ),
    StackRule(
        "s3-buckets-private-encrypted-tls-only",
        "S3 buckets block public access, encrypt by default and deny requests without TLS.",
        s3_buckets_locked_down,
    ),
    StackRule(
        "tenant-authorizer-on-every-method",
        "Every method runs the tenant authorizer (CUSTOM, a REQUEST authorizer on the Host header).",
        tenant_authorizer_on_every_method,
    ),
    StackRule(
        "user-auth-decisions-per-token",
        "Where end-user authentication is on, every method runs the tenant authorizer with a result TTL of 0 or the"
        " Authorization header among its identity sources.",
        user_auth_decisions_per_token,
    ),
    StackRule(
        "cached-methods-key-on-host",
        "Every cached method declares the Host header and keys its cache on it.",
        cached_methods_key_on_host,
    ),
    StackRule(
        "protected-production",
        "With protectResources: WAF on the stage; stateful resources protected, recoverable and versioned.",
        protected_production,
    ),
)


def check_graph(resources: Sequence[Resource]) -> list[Violation]:
    """Every rule over one stack's resources."""
    violations = [
        Violation(rule.name, message, resource.urn)
        for resource in resources
        for rule in RESOURCE_RULES
        for message in rule.check(resource.type, resource.props)
    ]
    for stack_rule in STACK_RULES:
        violations += stack_rule.check(resources)
    return violations
