"""EMULATION of API Gateway's Lambda authorizer step for REST APIs, added to LocalStack's REST handler chain.

Emulator only (the contract tests); nothing here ships. LocalStack 4.12 community stores a CUSTOM
method's authorizer but never calls it, so without this step a `REQUEST` authorizer would not run at all
(and with `apiKeySource: AUTHORIZER` every request would get LocalStack's 403 for a missing key). This
module does what AWS documents for that step and nothing else; every step before (routing) and after it
(LocalStack's API-key check against the usage plans, the request and integration mappings, the
integration) stays LocalStack's. How AWS does it, and what this emulation does:

- A method with `authorizationType: CUSTOM` and a `REQUEST` authorizer: each identity source
  (`method.request.header.<name>`, `method.request.querystring.<name>`, `stageVariables.<name>`,
  `context.<name>`) is read; if one is missing or empty, 401 UNAUTHORIZED without calling the function.
  https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-use-lambda-authorizer.html
- The function gets the REQUEST event (type, methodArn, resource, path, httpMethod, headers,
  multiValueHeaders, query string and path parameters, stageVariables, requestContext), invoked
  synchronously through LocalStack's own Lambda service (so the real handler runs, in LocalStack's
  executor, with its own environment).
  https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-input.html
- Its output (principalId, policyDocument, context, usageIdentifierKey) is cached per API, stage,
  authorizer and identity-source values for `authorizerResultTtlInSeconds` (300 when unset, 0 = no cache);
  the cached policy is evaluated again for each request's method ARN. Errors are not cached.
  https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html
- The policy is evaluated against the method ARN
  (`arn:aws:execute-api:<region>:<account>:<api>/<stage>/<METHOD>/<path>`): an explicit Deny or no
  matching Allow is 403 ACCESS_DENIED ("... with an explicit deny" / "User is not authorized to access
  this resource"): https://repost.aws/knowledge-center/api-gateway-403-error-lambda-authorizer
- The function's error "Unauthorized" is 401 UNAUTHORIZED; any other function error, a timeout, a
  failed invocation or an output that is not a valid authorizer response is 500 with
  `x-amzn-ErrorType: AuthorizerConfigurationException`, i.e. the AUTHORIZER_CONFIGURATION_ERROR gateway
  response (`{"message": null}` by default), which is what API Gateway answers in these cases (AWS's
  response-type table describes AUTHORIZER_FAILURE too, without saying when it is used; our gateway
  responses give both the same body):
  https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html
- Context values (strings, numbers, booleans only) become strings in `$context.authorizer.<key>`, with
  `$context.authorizer.principalId`: for parameter mappings and for gateway-response templates (also on
  a Deny, so a 403 body can say why). `usageIdentifierKey` becomes the request's API key
  (`$context.identity.apiKey`) for LocalStack's own API-key and usage-plan check (`apiKeySource:
  AUTHORIZER`). https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-key-source.html

- Mutual TLS: on a custom domain with a truststore, API Gateway validates the client's certificate in the
  TLS handshake and forwards it to the authorizer as `requestContext.identity.clientCert` (clientCertPem,
  subjectDN, issuerDN, serialNumber, validity.notBefore/notAfter); without one there is no `clientCert`.
  https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-mutual-tls.html
  LocalStack terminates no TLS with client certificates, so here a TEST-ONLY request header,
  `X-Emulator-Client-Cert` (the clientCert object as JSON), stands for "the TLS handshake presented this
  certificate and the domain's truststore accepted it": this step removes the header from the request
  (neither the function's headers nor the backend see it) and puts its object at
  `requestContext.identity.clientCert`. Nothing outside the emulator knows this header; the handler reads
  only what AWS sends.

Not emulated: TOKEN and Cognito authorizers (a method using one gets a 500), authorizer credentials
(an invoke role), and AWS's own limit on the authorizer's run time (the function's timeout, enforced by
the local-process executor, bounds it here).

So that a test can tell the authorizer really ran (a blanket 403 or 200 would otherwise pass), every
decision is recorded and served at `GET /_emulator/authorizer/decisions` (a JSON list of
`{apiId, authorizerId, identity, methodArn, invoked, outcome, error}`; `invoked` is false for a cache
hit, `error` is the function's `errorType: errorMessage` when it failed);
`DELETE` there forgets the decisions and empties the cache (the emulator's FlushStageAuthorizersCache).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time

from localstack.aws.connect import connect_to
from localstack.http import Request, Response
from localstack.services.apigateway.next_gen.execute_api import handlers
from localstack.services.apigateway.next_gen.execute_api.api import RestApiGatewayHandler
from localstack.services.apigateway.next_gen.execute_api.gateway_response import (
    AccessDeniedError,
    AuthorizerConfigurationError,
    UnauthorizedError,
)
from localstack.services.apigateway.next_gen.execute_api.header_utils import build_multi_value_headers
from localstack.services.apigateway.next_gen.execute_api.helpers import get_lambda_function_arn_from_invocation_uri
from localstack.services.edge import ROUTER
from localstack.utils.aws.arns import extract_region_from_arn, get_partition
from localstack.utils.aws.client_types import ServicePrincipal

LOG = logging.getLogger(__name__)

DEFAULT_TTL_S = 300
# Test-only stand-in for a client certificate presented in the TLS handshake (see the module docstring).
CLIENT_CERT_HEADER = "X-Emulator-Client-Cert"
DECISIONS_PATH = "/_emulator/authorizer/decisions"
EXPLICIT_DENY = "User is not authorized to access this resource with an explicit deny"
IMPLICIT_DENY = "User is not authorized to access this resource"
# Context variables that are not part of the request's context as the authorizer sees it.
NOT_IN_REQUEST_CONTEXT = {"authorizer", "error", "requestOverride", "responseOverride"}

_lock = threading.Lock()
_cache: dict[tuple, tuple[float, dict]] = {}
_decisions: list[dict] = []


def _record(
    context, authorizer: dict, identity: tuple, method_arn: str, invoked: bool, outcome: str, error: str = ""
) -> None:
    with _lock:
        _decisions.append(
            {
                "apiId": context.api_id,
                "authorizerId": authorizer.get("id"),
                "identity": list(identity),
                "methodArn": method_arn,
                "invoked": invoked,
                "outcome": outcome,
                "error": error,
            }
        )


def _identity_values(identity_source: str, context) -> tuple[str, ...] | None:
    """The identity-source values in order, or None when one is missing or empty (API Gateway's 401)."""
    request = context.invocation_request
    values = []
    for source in (s.strip() for s in identity_source.split(",") if s.strip()):
        value = None
        if source.startswith("method.request.header."):
            value = request["headers"].get(source.removeprefix("method.request.header."))
        elif source.startswith("method.request.querystring."):
            value = request["query_string_parameters"].get(source.removeprefix("method.request.querystring."))
        elif source.startswith("stageVariables."):
            value = (context.stage_variables or {}).get(source.removeprefix("stageVariables."))
        elif source.startswith("context."):
            value = context.context_variables.get(source.removeprefix("context."))
        if value is None or str(value) == "":
            return None
        values.append(str(value))
    return tuple(values)


def _method_arn(context) -> str:
    request = context.invocation_request
    return (
        f"arn:{get_partition(context.region)}:execute-api:{context.region}:{context.account_id}:"
        f"{context.api_id}/{context.stage}/{request['http_method']}{request['path']}"
    )


def _request_event(context, method_arn: str) -> dict:
    request = context.invocation_request
    headers = request["headers"]
    request_context = {k: v for k, v in context.context_variables.items() if k not in NOT_IN_REQUEST_CONTEXT}
    return {
        "type": "REQUEST",
        "methodArn": method_arn,
        "resource": context.resource["path"],
        "path": request["path"],
        "httpMethod": request["http_method"],
        "headers": {key: value for key, value in headers.items()},  # the last value of a repeated header
        "multiValueHeaders": dict(build_multi_value_headers(headers)),
        "queryStringParameters": request["query_string_parameters"] or {},
        "multiValueQueryStringParameters": request["multi_value_query_string_parameters"] or {},
        "pathParameters": request.get("path_parameters") or {},
        "stageVariables": context.stage_variables or {},
        "requestContext": request_context,
    }


def _invoke(context, authorizer: dict, event: dict) -> tuple[dict | None, str, str]:
    """Call the authorizer function; (its output, "", "") or (None, why it failed, the error it reported)."""
    function_arn = get_lambda_function_arn_from_invocation_uri(authorizer["authorizerUri"])
    source_arn = (
        f"arn:{get_partition(context.region)}:execute-api:{context.region}:{context.account_id}:"
        f"{context.api_id}/authorizers/{authorizer['id']}"
    )
    client = connect_to(region_name=extract_region_from_arn(function_arn)).lambda_
    try:
        result = client.request_metadata(service_principal=ServicePrincipal.apigateway, source_arn=source_arn).invoke(
            FunctionName=function_arn, Payload=json.dumps(event).encode(), InvocationType="RequestResponse"
        )
        payload = result["Payload"].read()
    except Exception as error:
        LOG.warning("authorizer %s: invoking %s failed: %s", authorizer["id"], function_arn, error)
        return None, "invoke-failed", str(error)
    if result.get("FunctionError"):
        try:
            error = json.loads(payload)
            message, kind = error.get("errorMessage"), error.get("errorType")
        except (ValueError, AttributeError):
            message, kind = None, None
        LOG.info("authorizer %s: function error %s: %s", authorizer["id"], kind, message)
        return None, "unauthorized" if message == "Unauthorized" else "function-error", f"{kind}: {message}"
    try:
        output = json.loads(payload)
    except ValueError:
        return None, "invalid-output", payload[:200].decode(errors="replace")
    return output, "", ""


def _valid_output(output) -> bool:
    if not isinstance(output, dict) or not isinstance(output.get("principalId"), str):
        return False
    policy = output.get("policyDocument")
    if not isinstance(policy, dict) or not isinstance(policy.get("Statement"), list):
        return False
    context = output.get("context") or {}
    if not isinstance(context, dict):
        return False
    # AWS: "You cannot set a JSON object or array as a valid value of any key in the context map."
    return all(isinstance(v, str | int | float | bool) for v in context.values())


def _pattern(text: str) -> re.Pattern[str]:
    """An IAM wildcard pattern (`*` any run of characters, `?` one character) as a regular expression."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text), re.DOTALL)


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _effect(policy: dict, method_arn: str) -> str:
    """ "Deny" (an explicit Deny matches), "Allow" (an Allow matches, no Deny does) or "" (nothing matches)."""
    effects = set()
    for statement in _as_list(policy.get("Statement") or []):
        if not isinstance(statement, dict):
            continue
        actions = _as_list(statement.get("Action", []))
        resources = _as_list(statement.get("Resource", []))
        if any(_pattern(str(a)).fullmatch("execute-api:Invoke") for a in actions) and any(
            _pattern(str(r)).fullmatch(method_arn) for r in resources
        ):
            effects.add(str(statement.get("Effect", "")).capitalize())
    return "Deny" if "Deny" in effects else "Allow" if "Allow" in effects else ""


def _stringify(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _present_client_certificate(context) -> None:
    """Move the test-only client-certificate header into `identity.clientCert`, where AWS puts a certificate
    that a truststore accepted in the handshake (see the module docstring)."""
    headers = context.invocation_request["headers"]
    value = headers.get(CLIENT_CERT_HEADER)
    if value is None:
        return
    headers.pop(CLIENT_CERT_HEADER, None)
    context.context_variables.setdefault("identity", {})["clientCert"] = json.loads(value)


class LambdaAuthorizerStep(RestApiGatewayHandler):
    """The authorizer step of a REST API method request (see the module docstring: an emulation)."""

    def __call__(self, chain, context, response):
        method = context.resource_method or {}
        if method.get("authorizationType") != "CUSTOM":
            return
        authorizer = context.deployment.rest_api.authorizers.get(method.get("authorizerId") or "") or {}
        if authorizer.get("type") != "REQUEST":
            LOG.warning("authorizer emulation: only REQUEST Lambda authorizers are emulated, not %s", authorizer)
            raise AuthorizerConfigurationError()
        _present_client_certificate(context)
        method_arn = _method_arn(context)
        identity = _identity_values(authorizer.get("identitySource") or "", context)
        if identity is None:
            _record(context, authorizer, (), method_arn, False, "identity-missing")
            raise UnauthorizedError("Unauthorized")

        ttl = authorizer.get("authorizerResultTtlInSeconds")
        ttl = DEFAULT_TTL_S if ttl is None else int(ttl)
        key = (context.api_id, context.stage, authorizer["id"], identity)
        with _lock:
            expires, output = _cache.get(key, (0.0, None))
        invoked = output is None or expires <= time.monotonic()
        if invoked:
            output, failure, error = _invoke(context, authorizer, _request_event(context, method_arn))
            if output is not None and not _valid_output(output):
                output, failure, error = None, "invalid-output", json.dumps(output)[:200]
            if output is None:
                _record(context, authorizer, identity, method_arn, True, failure, error)
                if failure == "unauthorized":
                    raise UnauthorizedError("Unauthorized")
                raise AuthorizerConfigurationError()
            if ttl > 0:
                with _lock:
                    _cache[key] = (time.monotonic() + ttl, output)

        assert output is not None
        values = {k: _stringify(v) for k, v in (output.get("context") or {}).items()}
        context.context_variables["authorizer"] = {**values, "principalId": output["principalId"]}
        effect = _effect(output["policyDocument"], method_arn)
        _record(context, authorizer, identity, method_arn, invoked, effect.lower() or "implicit-deny")
        if effect != "Allow":
            raise AccessDeniedError(EXPLICIT_DENY if effect == "Deny" else IMPLICIT_DENY)
        if key_value := output.get("usageIdentifierKey"):
            context.context_variables["identity"]["apiKey"] = str(key_value)


def _decisions_endpoint(request: Request) -> Response:
    with _lock:
        if request.method == "DELETE":
            _decisions.clear()
            _cache.clear()
        body = json.dumps(_decisions)
    return Response(body, status=200, mimetype="application/json")


# After routing (a method must be known), before LocalStack's API-key check, as in AWS's request flow.
handlers.preprocess_request.append(LambdaAuthorizerStep())
ROUTER.add(DECISIONS_PATH, _decisions_endpoint, methods=["GET", "DELETE"])
