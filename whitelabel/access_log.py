"""The stage's access-log format: one JSON line per request, the only place tenant identity meets traffic.

API Gateway's metrics have no tenant dimension (ApiName, Stage, Method, Resource only), so every
per-tenant view (Logs Insights queries, Contributor Insights rules, the dashboard's log widgets) reads
these fields. `FIELDS` is the contract: a query or rule may name only a key of `FIELDS`
(`tests/test_operations.py` checks every one of them).

Every value is a `$context` variable AWS lists for REST API access logging:
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-variables-for-access-logging.html
(`CONTEXT_VARIABLES` below; the TLS pair is documented on the security-policy page cited there).
API Gateway writes `-` for a variable that has no value in a request (for example `integrationLatency`
when the authorizer refused it), so every value is a quoted JSON string and numbers are converted in
the queries (`toNumber`), never assumed.
"""

from __future__ import annotations

import json
import re

# Access-log key → the `$context` variable API Gateway substitutes. Key names are what operators type
# in Logs Insights; keep them short, camelCase and stable (queries and rules depend on them).
FIELDS: dict[str, str] = {
    # Which request: both ids, as AWS recommends (clients can override requestId with a UUID;
    # extendedRequestId is API Gateway's own and what AWS Support asks for).
    "requestId": "$context.requestId",
    "extendedRequestId": "$context.extendedRequestId",
    "requestTime": "$context.requestTimeEpoch",
    "xrayTraceId": "$context.xrayTraceId",
    "stage": "$context.stage",
    # Who: the tenant authorizer's decision (context map) and the key its usage plan meters.
    "tenantId": "$context.authorizer.tenantId",
    "tier": "$context.authorizer.tier",
    "authorizerReason": "$context.authorizer.reason",
    "host": "$context.domainName",
    "apiKeyId": "$context.identity.apiKeyId",
    "ip": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "tlsVersion": "$context.tlsVersion",
    "cipherSuite": "$context.cipherSuite",
    # What: method and route (resourcePath is the route template, path the concrete request path).
    "method": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "path": "$context.path",
    "protocol": "$context.protocol",
    # Outcome: status, API Gateway's own error type (THROTTLED, QUOTA_EXCEEDED, ACCESS_DENIED, …) and size.
    "status": "$context.status",
    "errorType": "$context.error.responseType",
    "errorMessage": "$context.error.message",
    "responseLength": "$context.responseLength",
    # Where the time went: whole response, backend, authorizer.
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integration.latency",
    "integrationStatus": "$context.integration.status",
    "integrationError": "$context.integration.error",
    "authorizerStatus": "$context.authorizer.status",
    "authorizerLatency": "$context.authorizer.latency",
    "authorizerError": "$context.authorizer.error",
    "wafResponseCode": "$context.wafResponseCode",
}

# One line, no spaces: the stage setting takes the format verbatim and every byte is logged per request.
ACCESS_LOG_FORMAT = json.dumps(FIELDS, separators=(",", ":"))

# `$context` variables AWS lists for REST API access logging, as the page names them; `{property}`
# stands for one name the API defines (an authorizer context key, a Cognito claim, a header name).
# From "Variables for access logging for API Gateway":
# https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-variables-for-access-logging.html
# and its access-logging-only table (as in AWS's documentation source, awsdocs/amazon-api-gateway-developer-guide,
# doc_source/api-gateway-mapping-template-reference.md), plus `$context.tlsVersion` and `$context.cipherSuite`:
# "To monitor which TLS protocol and ciphers clients used ... use the $context.tlsVersion and
# $context.cipherSuite context variables in your access logs" (Choose a security policy for your custom domain,
# https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-custom-domain-tls-version.html).
CONTEXT_VARIABLES: frozenset[str] = frozenset(
    {
        "$context.accountId",
        "$context.apiId",
        "$context.authorize.error",
        "$context.authorize.latency",
        "$context.authorize.status",
        "$context.authorizer.claims.{property}",
        "$context.authorizer.error",
        "$context.authorizer.integrationLatency",
        "$context.authorizer.integrationStatus",
        "$context.authorizer.latency",
        "$context.authorizer.principalId",
        "$context.authorizer.{property}",
        "$context.authorizer.requestId",
        "$context.authorizer.status",
        "$context.authenticate.error",
        "$context.authenticate.latency",
        "$context.authenticate.status",
        "$context.awsEndpointRequestId",
        "$context.cipherSuite",
        "$context.domainName",
        "$context.domainPrefix",
        "$context.error.message",
        "$context.error.messageString",
        "$context.error.responseType",
        "$context.error.validationErrorString",
        "$context.extendedRequestId",
        "$context.httpMethod",
        "$context.identity.accountId",
        "$context.identity.apiKey",
        "$context.identity.apiKeyId",
        "$context.identity.caller",
        "$context.identity.cognitoAuthenticationProvider",
        "$context.identity.cognitoAuthenticationType",
        "$context.identity.cognitoIdentityId",
        "$context.identity.cognitoIdentityPoolId",
        "$context.identity.principalOrgId",
        "$context.identity.sourceIp",
        "$context.identity.user",
        "$context.identity.userAgent",
        "$context.identity.userArn",
        "$context.integration.error",
        "$context.integration.integrationStatus",
        "$context.integration.latency",
        "$context.integration.requestId",
        "$context.integration.status",
        "$context.integrationErrorMessage",
        "$context.integrationLatency",
        "$context.integrationStatus",
        "$context.path",
        "$context.protocol",
        "$context.requestId",
        "$context.requestOverride.header.{property}",
        "$context.requestOverride.path.{property}",
        "$context.requestOverride.querystring.{property}",
        "$context.requestTime",
        "$context.requestTimeEpoch",
        "$context.resourceId",
        "$context.resourcePath",
        "$context.responseLatency",
        "$context.responseLength",
        "$context.responseOverride.header.{property}",
        "$context.responseOverride.status",
        "$context.stage",
        "$context.status",
        "$context.tlsVersion",
        "$context.waf.error",
        "$context.waf.latency",
        "$context.waf.status",
        "$context.wafResponseCode",
        "$context.webaclArn",
        "$context.xrayTraceId",
    }
)

_VARIABLE_RE = re.compile(r"\$context(?:\.[A-Za-z0-9_-]+)+")
_PROPERTY_RE = re.compile(r"[A-Za-z0-9_-]+")


def context_variables(log_format: str) -> list[str]:
    """Every `$context.…` variable a format string uses, in order of appearance."""
    return _VARIABLE_RE.findall(log_format)


def is_documented(variable: str) -> bool:
    """True if `variable` is in `CONTEXT_VARIABLES` (a `{property}` entry matches one name)."""
    if variable in CONTEXT_VARIABLES:
        return True
    for entry in CONTEXT_VARIABLES:
        if "{property}" not in entry:
            continue
        prefix = entry.removesuffix("{property}")
        rest = variable.removeprefix(prefix)
        if variable.startswith(prefix) and _PROPERTY_RE.fullmatch(rest):
            return True
    return False


# Logs Insights query language words that are not field names (commands, operators, sort order).
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_QuerySyntax.html
_QUERY_WORDS = frozenset(
    {
        "fields",
        "filter",
        "stats",
        "sort",
        "limit",
        "display",
        "parse",
        "dedup",
        "by",
        "as",
        "and",
        "or",
        "not",
        "like",
        "in",
        "asc",
        "desc",
    }
)
_COMMENT_RE = re.compile(r"#[^\n]*")
_LITERAL_RE = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|/(?:[^/\\\n]|\\.)+/')
_TOKEN_RE = re.compile(r"[A-Za-z_@][A-Za-z0-9_@.]*(?:\s*\()?|\d[A-Za-z0-9_.]*")


def referenced_fields(query: str) -> set[str]:
    """The log fields a Logs Insights query reads (not functions, aliases it defines, literals or `@` fields).

    Used to check every saved query against `FIELDS`: a query naming a field the log lacks would
    silently return nothing in CloudWatch.
    """
    text = _LITERAL_RE.sub(" ", _COMMENT_RE.sub(" ", query))
    tokens = _TOKEN_RE.findall(text)
    aliases = {tokens[i + 1] for i, token in enumerate(tokens[:-1]) if token == "as"}
    fields: set[str] = set()
    for token in tokens:
        if token.endswith("(") or token[0].isdigit() or token.startswith("@"):
            continue
        if token.lower() in _QUERY_WORDS or token in aliases:
            continue
        fields.add(token)
    return fields
