"""Create the deployed API definition in an emulator (LocalStack) through the API Gateway control plane.

It makes the same calls, from the same `build_routes()` data, as `components/gateway.py` makes through
Pulumi: one resource per `resource_paths`, then per route a method, an integration, its method responses
and integration responses, then a deployment. Only the origins differ (see `import_api`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from whitelabel.api_definition import BINARY_MEDIA_TYPES, Route, resource_paths

INTEGRATION_TYPES = {"http_proxy": "HTTP_PROXY", "s3": "AWS"}


def import_api(
    apigateway: Any,
    routes: tuple[Route, ...],
    origins: Mapping[str, str],
    docs_role_arn: str,
    stage: str = "dev",
    name: str = "whitelabel-gateway",
) -> str:
    """Create a REST API from `routes`, deploy it to `stage` and return its id.

    apigateway: a boto3 `apigateway` client pointed at the emulator.
    origins: backend name → integration origin (`http_origin(...)`, `s3_origin(...)`).
    docs_role_arn: the role the S3 (AWS) integrations assume, as `credentials` (as deployed).
    """
    # Deployed, a service route's origin is its internal ALB and the integration adds
    # connection_type=VPC_LINK, connection_id and integration_target. The emulator has no VPC links,
    # so these three are left out and the origin is a local stand-in; everything else is the route.
    api_id: str = apigateway.create_rest_api(
        name=name,
        binaryMediaTypes=list(BINARY_MEDIA_TYPES),
        endpointConfiguration={"types": ["REGIONAL"]},
    )["id"]
    root_id = next(r["id"] for r in apigateway.get_resources(restApiId=api_id)["items"] if r["path"] == "/")
    ids = {"": root_id}
    for path in resource_paths(routes):
        parent, _, part = path.rpartition("/")
        ids[path] = apigateway.create_resource(restApiId=api_id, parentId=ids[parent], pathPart=part)["id"]

    for route in routes:
        where = {"restApiId": api_id, "resourceId": ids[route.path], "httpMethod": route.http_method}
        apigateway.put_method(**where, authorizationType="NONE", requestParameters=route.request_parameters)
        extra = {"credentials": docs_role_arn} if route.kind == "s3" else {}
        apigateway.put_integration(
            **where,
            type=INTEGRATION_TYPES[route.kind],
            integrationHttpMethod=route.integration_http_method,
            uri=origins[route.backend] + route.uri_path,
            requestParameters=route.integration_request_parameters,
            timeoutInMillis=route.timeout_ms,
            **extra,
        )
        for status, headers in route.method_responses.items():
            apigateway.put_method_response(**where, statusCode=status, responseParameters=headers)
        for response in route.integration_responses:
            pattern = {} if response.selection_pattern is None else {"selectionPattern": response.selection_pattern}
            if response.content_handling is not None:
                pattern["contentHandling"] = response.content_handling
            apigateway.put_integration_response(
                **where,
                statusCode=response.status_code,
                responseParameters=response.response_parameters,
                responseTemplates=response.response_templates,
                **pattern,
            )

    apigateway.create_deployment(restApiId=api_id, stageName=stage)
    return api_id
