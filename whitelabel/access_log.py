"""The stage's access-log format: one JSON line per request, the only place tenant identity meets traffic.

API Gateway's metrics have no tenant dimension (ApiName, Stage, Method, Resource only), so every
per-tenant view (Logs Insights queries, Contributor Insights rules, the dashboard's log widgets) reads
these fields. `FIELDS` is the contract: a query or rule may name only a key of `FIELDS`
(`tests/test_operations.py` checks every one of them).

Every value is a `$context` variable AWS lists for REST API access logging:
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-variables-for-access-logging.html
(`CONTEXT_VARIABLES` below; the TLS pair is documented on the security-policy page cited there).
API Gateway writes `-` for a variable that has no value in a request (for example `integrationLatency`
when the authorizer refused it), so every value is a quoted JSON string, never a bare number.

API Gateway substitutes a variable as plain text: it does not escape it. One `"` in a value that sits
between quotes ends the string early, and the line is no longer JSON: it drops out of every query, both
Contributor Insights rules and the throttling metric filter, and `","tenantId":"victim` would even write
another tenant's key. So a variable goes into the line only if its form is bounded (`BOUNDED`: ids,
numbers, enumerations, addresses, our own authorizer's values) or if AWS documents it as already quoted
(`QUOTED`, written without quotes around it); the variables that carry text a client chooses
(`CLIENT_TEXT`) stay out, each with the reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

# Access-log key → the `$context` variable API Gateway substitutes. Key names are what operators type
# in Logs Insights; keep them short, camelCase and stable (queries and rules depend on them).
FIELDS: dict[str, str] = {
    # Which request: API Gateway's own id (what AWS Support asks for). `$context.requestId` is out: a
    # client can override it (see CLIENT_TEXT).
    "extendedRequestId": "$context.extendedRequestId",
    "requestTime": "$context.requestTimeEpoch",
    "xrayTraceId": "$context.xrayTraceId",
    "stage": "$context.stage",
    # Who: the tenant authorizer's decision (context map) and the key its usage plan meters. The host is
    # the registry hostname the authorizer matched (normalised, from config), not the client's Host header.
    "tenantId": "$context.authorizer.tenantId",
    "tier": "$context.authorizer.tier",
    "authorizerReason": "$context.authorizer.reason",
    "host": "$context.authorizer.hostname",
    "apiKeyId": "$context.identity.apiKeyId",
    "ip": "$context.identity.sourceIp",
    "tlsVersion": "$context.tlsVersion",
    "cipherSuite": "$context.cipherSuite",
    # What: method and route (resourcePath is the route template of the API definition, not the path the
    # client sent).
    "method": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "protocol": "$context.protocol",
    # Outcome: status, API Gateway's own error type (THROTTLED, QUOTA_EXCEEDED, ACCESS_DENIED, …), its
    # message (the quoted form) and size.
    "status": "$context.status",
    "errorType": "$context.error.responseType",
    "errorMessage": "$context.error.messageString",
    "responseLength": "$context.responseLength",
    # Where the time went: whole response, backend, authorizer.
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integration.latency",
    "integrationStatus": "$context.integration.status",
    "authorizerStatus": "$context.authorizer.status",
    "authorizerLatency": "$context.authorizer.latency",
    "wafResponseCode": "$context.wafResponseCode",
}

# "$context.error.messageString: The quoted value of $context.error.message, namely
# "$context.error.message"" (the access-logging page above; also in AWS's documentation source,
# awsdocs/amazon-api-gateway-developer-guide, doc_source/api-gateway-mapping-template-reference.md). It is
# what AWS's default gateway-response template writes as a JSON value (`{"message":$context.error.messageString}`),
# so the format puts it in the line as a value of its own, with no quotes around it.
QUOTED: frozenset[str] = frozenset({"$context.error.messageString"})

# Variables whose value a client writes, or which carry free text the page does not bound. Quoting them
# cannot help (API Gateway does not escape), and no quoted form exists, so they are not logged.
# Quotes are from the access-logging page above.
CLIENT_TEXT: dict[str, str] = {
    "$context.identity.userAgent": "the User-Agent header of the API caller: any text the client sends",
    "$context.path": "the request path as the client sent it",
    "$context.domainName": "'the full domain name used to invoke the API ... the same as the incoming Host "
    "header': the wildcard custom domain serves any label the client puts in Host",
    "$context.domainPrefix": "the first label of $context.domainName (the client's Host header)",
    "$context.requestId": "'Clients can override this request ID'; $context.extendedRequestId is API Gateway's own",
    "$context.error.message": "free text that can quote the request; $context.error.messageString is its quoted form",
    "$context.authorizer.error": "the error message returned from an authorizer: free text (a function "
    "error can carry the method ARN, which holds the request path)",
    "$context.integration.error": "the error message returned from an integration: free text, no quoted form",
    "$context.integrationErrorMessage": "free text, no quoted form",
    "$context.error.validationErrorString": "a detailed validation error message about the client's request",
    "$context.identity.apiKey": "the API key the client sent (a secret as well)",
    "$context.identity.caller": "a principal identifier; not bounded by the page",
    "$context.identity.user": "a principal identifier; not bounded by the page",
}

# Variables logged between quotes, and why nothing a client sends can put a `"`, `\` or control
# character in them. The authorizer's values come from functions/tenant_authorizer (tenantId and tier
# from registry items Pulumi writes from validated config: LABEL_RE / TIER_RE in whitelabel/config.py;
# hostname normalised to a DNS name; reason one of a fixed set).
BOUNDED: dict[str, str] = {
    "$context.extendedRequestId": "an id API Gateway generates",
    "$context.requestTimeEpoch": "a number",
    "$context.xrayTraceId": "an X-Ray trace id API Gateway generates",
    "$context.stage": "our stage name (STAGE_NAME_RE)",
    "$context.authorizer.tenantId": "a customer name from config",
    "$context.authorizer.tier": "a tier name from config",
    # The handler's Deny contexts only (functions/tenant_authorizer/handler.py `decide`): a fixed set. A 401
    # (no or an invalid token) is the function's "Unauthorized" error, which carries no context: `-` here.
    "$context.authorizer.reason": "unknown-host, suspended or wrong-tenant",
    "$context.authorizer.hostname": "a registry hostname the authorizer matched (letters, digits, '-', '.')",
    "$context.identity.apiKeyId": "the id of an API key Pulumi created",
    "$context.identity.sourceIp": "'the source IP address of the immediate TCP connection making the request to "
    "the API Gateway endpoint': an address that API Gateway writes, never a client's text, with either endpoint "
    "type (with EDGE the connection reaches API Gateway through its own distribution: which address is reported "
    "there is not checked here, README 'Edge-optimized endpoints'); the page's X-Forwarded-For warning is about "
    "trusting the address, not its shape",
    "$context.tlsVersion": "a TLS version name",
    "$context.cipherSuite": "a cipher suite name",
    "$context.httpMethod": "'DELETE, GET, HEAD, OPTIONS, PATCH, POST, and PUT'",
    "$context.resourcePath": "'the path to your resource': a route template of the API definition "
    "(whitelabel.api_definition.build_routes), not the client's path",
    "$context.protocol": "the request protocol, for example HTTP/1.1",
    "$context.status": "a status code",
    "$context.error.responseType": "a GatewayResponse type (an enumeration)",
    "$context.responseLength": "a number",
    "$context.responseLatency": "a number",
    "$context.integration.latency": "a number",
    "$context.integration.status": "a status code",
    "$context.authorizer.status": "a status code",
    "$context.authorizer.latency": "a number",
    "$context.wafResponseCode": "WAF_ALLOW or WAF_BLOCK",
}


def log_format(fields: Mapping[str, str]) -> str:
    """One JSON object on one line: each value quoted, except the `QUOTED` variables API Gateway quotes itself.

    No spaces: the stage setting takes the format verbatim and every byte is logged per request.
    """
    members = [
        json.dumps(key) + ":" + (variable if variable in QUOTED else json.dumps(variable))
        for key, variable in fields.items()
    ]
    return "{" + ",".join(members) + "}"


ACCESS_LOG_FORMAT = log_format(FIELDS)

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


# The Logs Insights query language, as AWS documents it. Only these words may appear in a saved query.
# Commands: "CloudWatch Logs Insights language query syntax",
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_QuerySyntax.html (its command table).
QUERY_COMMANDS = frozenset(
    {
        "addtotals",
        "anomaly",
        "diff",
        "display",
        "fields",
        "filter",
        "filterIndex",
        "limit",
        "parse",
        "pattern",
        "sort",
        "stats",
        "unmask",
    }
)
# Words of those commands that are not fields: aliases (`as`), grouping (`by`), the Boolean operators,
# `like` (regular expressions and substrings in `filter`) and sort order; same page.
QUERY_KEYWORDS = frozenset({"as", "by", "and", "or", "not", "like", "asc", "desc"})
# Functions, table by table, from "Boolean, comparison, numeric, datetime, and other functions",
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_QuerySyntax-operations-functions.html
# (numeric operations, general, string and datetime functions) and the stats command's aggregation
# functions (as in AWS's documentation source, awsdocs/amazon-cloudwatch-logs-user-guide,
# doc_source/CWL_QuerySyntax.md, "Aggregation Functions in the Stats Command"). Functions added to the
# reference later (JSON, IP address) are left out until someone checks their names against it.
QUERY_FUNCTIONS = frozenset(
    {
        # numeric operations
        "abs",
        "ceil",
        "floor",
        "greatest",
        "least",
        "log",
        "sqrt",
        # general functions
        "ispresent",
        "coalesce",
        # string functions
        "isempty",
        "isblank",
        "concat",
        "ltrim",
        "rtrim",
        "trim",
        "strlen",
        "toupper",
        "tolower",
        "substr",
        "replace",
        "strcontains",
        # datetime functions
        "datefloor",
        "dateceil",
        "bin",
        # aggregation functions in the stats command
        "avg",
        "count",
        "count_distinct",
        "max",
        "min",
        "pct",
        "stddev",
        "sum",
    }
)
_QUERY_WORDS = frozenset(word.lower() for word in QUERY_COMMANDS | QUERY_KEYWORDS)
_COMMENT_RE = re.compile(r"#[^\n]*")
_LITERAL_RE = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|/(?:[^/\\\n]|\\.)+/')
_TOKEN_RE = re.compile(r"[A-Za-z_@][A-Za-z0-9_@.]*(?:\s*\()?|\d[A-Za-z0-9_.]*")


def _tokens(text: str) -> list[str]:
    return _TOKEN_RE.findall(text)


def _without_comments_and_literals(query: str) -> str:
    return _LITERAL_RE.sub(" ", _COMMENT_RE.sub(" ", query))


def query_problems(query: str) -> list[str]:
    """What in a Logs Insights query is not in AWS's reference: undocumented commands and functions, and
    a `stats` that computes over an alias it defines itself.

    An alias of a stats command exists only once that command has run, so `stats count(*) as n, 100 * e / n`
    reads a field no log event has. Later commands (`sort`) may use the alias.
    """
    problems: list[str] = []
    for command in _without_comments_and_literals(query).split("|"):
        tokens = _tokens(command)
        if not tokens:
            problems.append("an empty command")
            continue
        name = tokens[0].rstrip("( ")
        if name not in QUERY_COMMANDS:
            problems.append(f"{name!r} is not a documented command")
        for token in tokens[1:]:
            if token.endswith("(") and token.rstrip("( ") not in QUERY_FUNCTIONS:
                problems.append(f"{token.rstrip('( ')}() is not a documented function")
        if name == "stats":
            defined = [tokens[i + 1] for i, token in enumerate(tokens[:-1]) if token == "as"]
            read = [token for i, token in enumerate(tokens) if i == 0 or tokens[i - 1] != "as"]
            problems += [f"stats computes over its own alias {alias!r}" for alias in defined if alias in read]
    return problems


def referenced_fields(query: str) -> set[str]:
    """The log fields a Logs Insights query reads (not functions, aliases it defines, literals or `@` fields).

    Used to check every saved query against `FIELDS`: a query naming a field the log lacks would
    silently return nothing in CloudWatch.
    """
    tokens = _tokens(_without_comments_and_literals(query))
    aliases = {tokens[i + 1] for i, token in enumerate(tokens[:-1]) if token == "as"}
    fields: set[str] = set()
    for token in tokens:
        if token.endswith("(") or token[0].isdigit() or token.startswith("@"):
            continue
        if token.lower() in _QUERY_WORDS or token in aliases:
            continue
        fields.add(token)
    return fields
