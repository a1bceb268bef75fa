"""Gateway responses with their templates and header mappings applied, as AWS does (emulator only).

LocalStack 4.12 picks a configured gateway response only for its status code: its exception handler
(`GatewayExceptionHandler.create_exception_response`) always answers with its own `{"message": ...}` body
and headers ("TODO apply responseTemplates", "TODO apply responseParameters"). AWS applies the
response's header mappings and its body mapping template, a template that is not VTL and supports only
simple variable substitution (`$context.<name>`, `$stageVariables.<name>`):
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-gatewayResponse-definition.html
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-gateway-responses.responseTemplates.html

This applies them for a response type the API configured (itself or through DEFAULT_4XX/DEFAULT_5XX);
an API that configured none keeps LocalStack's answer. An unset variable becomes an empty string, and
`$context.error.messageString` is the message as a quoted JSON string, as AWS renders it.
"""

from __future__ import annotations

import json
import re

from localstack.http import Response
from localstack.services.apigateway.next_gen.execute_api.gateway_response import (
    DEFAULT_GATEWAY_RESPONSES,
    get_gateway_response_or_default,
)
from localstack.services.apigateway.next_gen.execute_api.handlers import gateway_exception

VARIABLE = re.compile(r"\$(context|stageVariables)((?:\.[A-Za-z0-9_]+)+)")

_localstack_create = gateway_exception.GatewayExceptionHandler.create_exception_response


def _lookup(root, path: str):
    value = root
    for part in path.strip(".").split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _variable(context, kind: str, path: str) -> str | None:
    if kind == "stageVariables":
        value = _lookup(context.stage_variables or {}, path)
    elif path == ".error.messageString":
        message = (context.context_variables.get("error") or {}).get("message")
        value = json.dumps(message)
    else:
        value = _lookup(context.context_variables, path)
    return None if value is None else str(value)


def _header_value(context, source: str) -> str | None:
    if source.startswith("'") and source.endswith("'"):
        return source[1:-1]
    request = context.invocation_request or {}
    for prefix, values in (
        ("method.request.header.", request.get("headers") or {}),
        ("method.request.querystring.", request.get("query_string_parameters") or {}),
        ("method.request.path.", request.get("path_parameters") or {}),
    ):
        if source.startswith(prefix):
            return values.get(source.removeprefix(prefix))
    if source.startswith("stageVariables.") or source.startswith("context."):
        kind, _, path = source.partition(".")
        return _variable(context, kind, "." + path)
    return None


def _create_like_aws(self, exception, context):
    gateway_response = get_gateway_response_or_default(exception.type, context.deployment.rest_api.gateway_responses)
    templates = gateway_response.get("responseTemplates") or {}
    if gateway_response is DEFAULT_GATEWAY_RESPONSES.get(exception.type) or not templates:
        return _localstack_create(self, exception, context)
    response = _localstack_create(self, exception, context)  # status code and x-amzn-ErrorType
    media_type = "application/json" if "application/json" in templates else next(iter(templates))
    body = VARIABLE.sub(lambda m: _variable(context, m.group(1), m.group(2)) or "", templates[media_type])
    headers = {"Content-Type": media_type, "x-amzn-ErrorType": response.headers.get("x-amzn-ErrorType", "")}
    for target, source in (gateway_response.get("responseParameters") or {}).items():
        value = _header_value(context, source)
        if target.startswith("gatewayresponse.header.") and value is not None:
            headers[target.removeprefix("gatewayresponse.header.")] = value
    return Response(response=body, status=response.status_code, headers=headers)


gateway_exception.GatewayExceptionHandler.create_exception_response = _create_like_aws
