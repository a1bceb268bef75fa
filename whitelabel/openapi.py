"""The API as an OpenAPI document (Swagger 2.0 with API Gateway's extensions), for people to read.

Built from the same `build_routes()` data and the same deployed values (origins, VPC link, role) that the
gateway component turns into resources, so it describes exactly the API a stack deploys.

Why the API is not *deployed* from this document (`RestApi.body`): a private integration through a VPC
link v2 needs the load balancer's ARN as the integration target. AWS documents that field for
PutIntegration (`--integration-target`) and CloudFormation's `AWS::ApiGateway::Method` Integration
(https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-private-integration.html), while the
`x-amazon-apigateway-integration` object lists `connectionType` and `connectionId` and no target
(https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-integration.html,
https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-api-with-vpclink-using-swagger.html).
The gateway therefore keeps one Pulumi resource per method; the ALB each private route reaches is shown
here in our own `x-whitelabel-integration-target` operation field, which API Gateway does not read.

Each part of the document comes from one small function (`parameters`, `method_responses`,
`integration`, `operation`), so a new route attribute (an authorizer, an API key requirement) is added
where it belongs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from whitelabel.api_definition import (
    API_KEY_SOURCE,
    AUTHORIZER_IDENTITY_SOURCE,
    BINARY_MEDIA_TYPES,
    GATEWAY_RESPONSES,
    GatewayResponse,
    IntegrationResponse,
    Route,
)

# API Gateway's method for "every HTTP method" (an OpenAPI path item has no such key).
# https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-any-method.html
ANY_METHOD = "x-amazon-apigateway-any-method"
TARGET_FIELD = "x-whitelabel-integration-target"

# `method.request.<location>.<name>` → the OpenAPI parameter's `in`.
PARAMETER_LOCATIONS = {"path": "path", "querystring": "query", "header": "header"}

INTEGRATION_TYPES = {"http_proxy": "http_proxy", "s3": "aws", "aws_proxy": "aws_proxy"}

# Security definition names: the tenant authorizer, and the API key a method requires (its value comes
# from the authorizer, `x-amazon-apigateway-api-key-source: AUTHORIZER`, never from the client).
TENANT_AUTHORIZER = "tenant"
API_KEY = "api_key"


@dataclass(frozen=True)
class DeployedValues:
    """What one deployment puts into the route table (the gateway's `definition_values`).

    origins: backend → integration origin (`http://<internal ALB>:<port>`, a URL, an invoke ARN,
        `arn:aws:apigateway:...:s3:path/<bucket>`).
    targets: private backend → its internal load balancer's ARN (the integration target of its routes).
    vpc_link_id: the API's VPC link; None when no backend is private.
    docs_role_arn: the read role when the API has one S3 backend; read_roles: S3 backend → role when more.
    """

    origins: Mapping[str, str]
    vpc_link_id: str | None
    targets: Mapping[str, str]
    docs_role_arn: str | None
    authorizer_uri: str
    authorizer_ttl_seconds: int
    read_roles: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_gateway(cls, values: Mapping[str, Any]) -> DeployedValues:
        """From the resolved `Gateway.definition_values` mapping."""
        return cls(
            origins=dict(values["origins"]),
            vpc_link_id=None if values.get("vpcLink") is None else str(values["vpcLink"]),
            targets=dict(values.get("targets", {})),
            docs_role_arn=None if values.get("docsRole") is None else str(values["docsRole"]),
            authorizer_uri=str(values["authorizer"]["uri"]),
            read_roles=dict(values.get("readRoles", {})),
            authorizer_ttl_seconds=int(values["authorizer"]["ttl"]),
        )

    def read_role(self, backend: str) -> str | None:
        """The role an S3 backend's integrations assume."""
        return self.read_roles.get(backend, self.docs_role_arn)


def method_key(route: Route) -> str:
    """The OpenAPI path-item key of the route's HTTP method."""
    return ANY_METHOD if route.http_method == "ANY" else route.http_method.lower()


def parameters(route: Route) -> list[dict[str, Any]]:
    """The method request parameters (`method.request.path.proxy` → a required path parameter)."""
    found: list[dict[str, Any]] = []
    for expression, required in route.request_parameters.items():
        _, _, location, name = expression.split(".", 3)
        where = PARAMETER_LOCATIONS[location]
        # OpenAPI 2.0 requires every path parameter to be required.
        found.append({"name": name, "in": where, "required": True if where == "path" else required, "type": "string"})
    return found


def method_responses(route: Route) -> dict[str, Any]:
    """Declared method responses and their headers; a proxy route declares none (the backend's passes through)."""
    return {
        status: {
            "description": f"{status} response",
            **({"headers": {h.rsplit(".", 1)[1]: {"type": "string"} for h in headers}} if headers else {}),
        }
        for status, headers in route.method_responses.items()
    }


def _integration_response(response: IntegrationResponse) -> dict[str, Any]:
    body: dict[str, Any] = {"statusCode": response.status_code}
    if response.response_parameters:
        body["responseParameters"] = dict(response.response_parameters)
    if response.response_templates:
        body["responseTemplates"] = dict(response.response_templates)
    if response.content_handling is not None:
        body["contentHandling"] = response.content_handling
    return body


def integration(route: Route, deployed: DeployedValues) -> dict[str, Any]:
    """The route's `x-amazon-apigateway-integration` object, as the gateway component configures it."""
    body: dict[str, Any] = {
        "type": INTEGRATION_TYPES[route.kind],
        "httpMethod": route.integration_http_method,
        "uri": deployed.origins[route.backend] + route.uri_path,
        "timeoutInMillis": route.timeout_ms,
    }
    if route.backend in deployed.targets:
        body["connectionType"] = "VPC_LINK"
        body["connectionId"] = deployed.vpc_link_id
    elif route.kind == "s3":
        body["credentials"] = deployed.read_role(route.backend)
    if route.integration_request_parameters:
        body["requestParameters"] = dict(route.integration_request_parameters)
    if route.cache_key_parameters:
        # Only these split cache entries; Host is among them so tenants never share a cached response.
        body["cacheKeyParameters"] = list(route.cache_key_parameters)
    if route.integration_responses:
        # Keyed by selection pattern; `default` is the response without one.
        # https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-integration-responses.html
        body["responses"] = {
            response.selection_pattern or "default": _integration_response(response)
            for response in route.integration_responses
        }
    return body


def security(route: Route) -> dict[str, list[str]]:
    """The method's security requirement: the tenant authorizer and the API key, both at once."""
    requirement: dict[str, list[str]] = {}
    if route.authorization == "CUSTOM":
        requirement[TENANT_AUTHORIZER] = []
    if route.api_key_required:
        requirement[API_KEY] = []
    return requirement


def security_definitions(deployed: DeployedValues) -> dict[str, Any]:
    """The tenant authorizer (a REQUEST Lambda authorizer on the Host header) and the API key.

    https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-authorizer.html
    https://docs.aws.amazon.com/apigateway/latest/developerguide/api-key-usage-plan-oas.html
    """
    return {
        TENANT_AUTHORIZER: {
            "type": "apiKey",
            "name": "Host",
            "in": "header",
            "x-amazon-apigateway-authtype": "custom",
            "x-amazon-apigateway-authorizer": {
                "type": "request",
                "identitySource": AUTHORIZER_IDENTITY_SOURCE,
                "authorizerUri": deployed.authorizer_uri,
                "authorizerResultTtlInSeconds": deployed.authorizer_ttl_seconds,
            },
        },
        API_KEY: {"type": "apiKey", "name": "x-api-key", "in": "header"},
    }


def gateway_responses(responses: tuple[GatewayResponse, ...] = GATEWAY_RESPONSES) -> dict[str, Any]:
    """`x-amazon-apigateway-gateway-responses`: our JSON body for each response API Gateway itself sends.

    https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-gateway-responses.gatewayResponse.html
    """
    found: dict[str, Any] = {}
    for response in responses:
        body: dict[str, Any] = {}
        if response.status_code is not None:
            body["statusCode"] = response.status_code
        body["responseParameters"] = dict(response.response_parameters)
        body["responseTemplates"] = dict(response.response_templates)
        found[response.response_type] = body
    return found


def operation(route: Route, deployed: DeployedValues) -> dict[str, Any]:
    """One method of one path: parameters, responses and its integration."""
    body: dict[str, Any] = {"operationId": route.key}
    found = parameters(route)
    if found:
        body["parameters"] = found
    body["responses"] = method_responses(route)
    requirement = security(route)
    if requirement:
        body["security"] = [requirement]
    body["x-amazon-apigateway-integration"] = integration(route, deployed)
    if route.backend in deployed.targets:
        body[TARGET_FIELD] = deployed.targets[route.backend]
    return body


def build_document(
    routes: tuple[Route, ...],
    deployed: DeployedValues,
    *,
    title: str,
    version: str,
    binary_media_types: tuple[str, ...] = BINARY_MEDIA_TYPES,
) -> dict[str, Any]:
    """The Swagger 2.0 document of the API: every route of `routes` with its integration.

    title: the REST API's name. version: what identifies this definition (the deployment trigger's hash).
    """
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[method_key(route)] = operation(route, deployed)
    return {
        "swagger": "2.0",
        "info": {
            "title": title,
            "version": version,
            "description": (
                "Served at every customer's https://<subdomain>.<baseDomain>/ (the custom domains map the "
                f"stage at the root). `{TARGET_FIELD}` names the internal load balancer of a private "
                "integration (the PutIntegration integrationTarget); API Gateway does not read it here."
            ),
        },
        "schemes": ["https"],
        "basePath": "/",
        "paths": paths,
        "securityDefinitions": security_definitions(deployed),
        # https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-api-key-source.html
        "x-amazon-apigateway-api-key-source": API_KEY_SOURCE,
        "x-amazon-apigateway-gateway-responses": gateway_responses(),
        "x-amazon-apigateway-binary-media-types": list(binary_media_types),
        # https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-endpoint-configuration.html
        "x-amazon-apigateway-endpoint-configuration": {"disableExecuteApiEndpoint": True},
    }


def render(document: Mapping[str, Any]) -> str:
    """The document as the file people read: indented JSON, keys in the order they were built."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
