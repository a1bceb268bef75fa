"""Create the deployed API definition in an emulator (LocalStack) through the API Gateway control plane.

It makes the same calls, from the same data, as the Pulumi components make: `build_routes()` and
`GATEWAY_RESPONSES` (`components/gateway.py`), the tenant authorizer's function and its REQUEST
authorizer (`components/tenant_authorizer.py`, `components/gateway.py`), a usage plan per tier, an API
key per tenant of a perTenant tier (a pooled tier's keys, shared), its plan key and one registry item per
hostname (`components/tenant_keys.py`,
`whitelabel.tenancy`). Only the origins and the VPC-link fields differ (see `import_api`), and the
function gets one more variable, the registry's endpoint (see `create_authorizer_function`).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from whitelabel.api_definition import (
    API_KEY_SOURCE,
    AUTHORIZER_IDENTITY_SOURCE,
    BINARY_MEDIA_TYPES,
    GATEWAY_RESPONSES,
    GatewayResponse,
    Route,
    resource_paths,
)
from whitelabel.config import TierSettings
from whitelabel.tenancy import Tenant, api_key_name, pool_key_name, registry_item

INTEGRATION_TYPES = {"http_proxy": "HTTP_PROXY", "s3": "AWS", "aws_proxy": "AWS_PROXY"}


@dataclass(frozen=True)
class AuthorizerFunction:
    """The tenant authorizer's Lambda function as created in the emulator."""

    name: str
    arn: str

    @property
    def invoke_arn(self) -> str:
        """The authorizer URI API Gateway calls (`aws.lambda_.Function.invoke_arn`)."""
        region = self.arn.split(":")[3]
        return f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{self.arn}/invocations"


@dataclass(frozen=True)
class ApiKey:
    id: str
    value: str


def code_zip(directory: Path, libraries: Mapping[str, Path] | None = None) -> bytes:
    """The handler's folder as a zip, its root the folder, source files only (as `code_archive` ships it).

    libraries: zip path → file of the bundled libraries (`whitelabel.function_bundle.unpacked_files`), added
    beside the handler as `code_archive` adds them.
    """
    files = sorted(
        p for p in directory.rglob("*") if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, path.relative_to(directory).as_posix())
        for name, path in (libraries or {}).items():
            archive.write(path, name)
    return buffer.getvalue()


def create_authorizer_function(
    lambda_client: Any,
    *,
    name: str,
    role_arn: str,
    code_dir: Path,
    handler: str,
    runtime: str,
    architecture: str,
    memory_mb: int,
    timeout_seconds: int,
    environment: Mapping[str, str],
    libraries: Mapping[str, Path] | None = None,
) -> AuthorizerFunction:
    """Create the function from a zip of `code_dir` and wait until it is active.

    environment: the deployed variables (TENANT_TABLE, REGISTRY_CACHE_SECONDS) plus, in the emulator
    only, `AWS_ENDPOINT_URL_DYNAMODB`: boto3 sends the handler's DynamoDB calls there (moto's server on
    127.0.0.1), so the handler needs no test branch.
    """
    arn: str = lambda_client.create_function(
        FunctionName=name,
        Runtime=runtime,
        Architectures=[architecture],
        Handler=handler,
        Role=role_arn,
        Code={"ZipFile": code_zip(code_dir, libraries)},
        MemorySize=memory_mb,
        Timeout=timeout_seconds,
        Environment={"Variables": dict(environment)},
    )["FunctionArn"]
    lambda_client.get_waiter("function_active_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 0.25, "MaxAttempts": 120}
    )
    return AuthorizerFunction(name, arn)


def create_api_keys(
    apigateway: Any, prefix: str, tenants: Sequence[Tenant], pools: Mapping[str, int] | None = None
) -> dict[str, ApiKey]:
    """One enabled API key per tenant of a perTenant tier and `pools[tier]` per pooled tier, named as deployed;
    tenant name → the key its items carry (id and generated value): a pooled tenant's is its pool key.

    pools: pooled tier → its pool's size (`TierSettings.pool_size`), as `TenantKeys` takes it.
    """
    pool_keys = {
        tier: [
            apigateway.create_api_key(name=pool_key_name(prefix, tier, index), enabled=True) for index in range(size)
        ]
        for tier, size in sorted((pools or {}).items())
    }
    keys = {}
    for tenant in tenants:
        if tenant.pool_key is not None:
            created = pool_keys[tenant.tier][tenant.pool_key]
        else:
            created = apigateway.create_api_key(name=api_key_name(prefix, tenant.name), enabled=True)
        keys[tenant.name] = ApiKey(created["id"], created["value"])
    return keys


def registry_items(tenants: Sequence[Tenant], keys: Mapping[str, ApiKey]) -> list[dict[str, Any]]:
    """Every registry item (DynamoDB JSON), one per hostname, exactly as `TenantKeys` writes them."""
    return [
        registry_item(
            hostname,
            tenant.name,
            tenant.tier,
            tenant.suspended,
            keys[tenant.name].value,
            mtls_issuers=tenant.mtls_issuers,
            mtls_subjects=tenant.mtls_subjects,
            auth=tenant.auth,
        )
        for tenant in tenants
        for hostname in tenant.hostnames
    ]


def import_api(
    apigateway: Any,
    lambda_client: Any,
    routes: tuple[Route, ...],
    origins: Mapping[str, str],
    docs_role_arn: str,
    *,
    authorizer_function: AuthorizerFunction,
    authorizer_cache_ttl_seconds: int,
    tiers: Mapping[str, TierSettings],
    tenants: Sequence[Tenant],
    keys: Mapping[str, ApiKey],
    prefix: str,
    stage: str = "dev",
    name: str = "whitelabel-gateway",
    gateway_responses: tuple[GatewayResponse, ...] = GATEWAY_RESPONSES,
) -> tuple[str, str]:
    """Create a REST API from `routes` with the tenant authorizer, deploy it to `stage`, attach the tiers'
    usage plans and the tenants' keys; return (API id, authorizer id).

    apigateway, lambda_client: boto3 clients pointed at the emulator.
    origins: backend name → integration origin (`http_origin(...)`, `s3_origin(...)`).
    docs_role_arn: the role the S3 (AWS) integrations assume, as `credentials` (as deployed).
    keys: tenant name → its API key (`create_api_keys`); each goes into its tier's plan on this stage.
    """
    # Deployed, a service route's origin is its internal ALB and the integration adds
    # connection_type=VPC_LINK, connection_id and integration_target. The emulator has no VPC links,
    # so these three are left out and the origin is a local stand-in; everything else is the route.
    # (Deployed, the execute-api endpoint is also disabled; the emulator's path-based URL is how the
    # tests reach the stage, so it stays on here.)
    api_id: str = apigateway.create_rest_api(
        name=name,
        binaryMediaTypes=list(BINARY_MEDIA_TYPES),
        endpointConfiguration={"types": ["REGIONAL"]},
        apiKeySource=API_KEY_SOURCE,
    )["id"]
    authorizer_id: str = apigateway.create_authorizer(
        restApiId=api_id,
        name="tenant",
        type="REQUEST",
        identitySource=AUTHORIZER_IDENTITY_SOURCE,
        authorizerUri=authorizer_function.invoke_arn,
        authorizerResultTtlInSeconds=authorizer_cache_ttl_seconds,
    )["id"]
    region, account = authorizer_function.arn.split(":")[3:5]
    lambda_client.add_permission(
        FunctionName=authorizer_function.name,
        StatementId=f"{name}-authorizer",
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:{region}:{account}:{api_id}/authorizers/{authorizer_id}",
    )
    for response in gateway_responses:
        status = {} if response.status_code is None else {"statusCode": response.status_code}
        apigateway.put_gateway_response(
            restApiId=api_id,
            responseType=response.response_type,
            responseParameters=response.response_parameters,
            responseTemplates=response.response_templates,
            **status,
        )

    root_id = next(r["id"] for r in apigateway.get_resources(restApiId=api_id)["items"] if r["path"] == "/")
    ids = {"": root_id}
    for path in resource_paths(routes):
        parent, _, part = path.rpartition("/")
        ids[path] = apigateway.create_resource(restApiId=api_id, parentId=ids[parent], pathPart=part)["id"]

    for route in routes:
        where = {"restApiId": api_id, "resourceId": ids[route.path], "httpMethod": route.http_method}
        apigateway.put_method(
            **where,
            authorizationType=route.authorization,
            authorizerId=authorizer_id,
            apiKeyRequired=route.api_key_required,
            requestParameters=route.request_parameters,
        )
        extra = {"credentials": docs_role_arn} if route.kind == "s3" else {}
        apigateway.put_integration(
            **where,
            type=INTEGRATION_TYPES[route.kind],
            integrationHttpMethod=route.integration_http_method,
            uri=origins[route.backend] + route.uri_path,
            requestParameters=route.integration_request_parameters,
            timeoutInMillis=route.timeout_ms,
            cacheKeyParameters=list(route.cache_key_parameters),
            **extra,
        )
        for status_code, headers in route.method_responses.items():
            apigateway.put_method_response(**where, statusCode=status_code, responseParameters=headers)
        for integration_response in route.integration_responses:
            pattern = (
                {}
                if integration_response.selection_pattern is None
                else {"selectionPattern": integration_response.selection_pattern}
            )
            if integration_response.content_handling is not None:
                pattern["contentHandling"] = integration_response.content_handling
            apigateway.put_integration_response(
                **where,
                statusCode=integration_response.status_code,
                responseParameters=integration_response.response_parameters,
                responseTemplates=integration_response.response_templates,
                **pattern,
            )

    apigateway.create_deployment(restApiId=api_id, stageName=stage)

    # A usage plan per tier on the stage (it must exist first), each tenant's key in its tier's plan.
    plans = {}
    for tier_name, tier in sorted(tiers.items()):
        quota = {} if tier.quota is None else {"quota": {"limit": tier.quota.limit, "period": tier.quota.period}}
        per = "per pool key" if tier.pooled else "per-tenant"
        plans[tier_name] = apigateway.create_usage_plan(
            name=f"{prefix}-{tier_name}",
            description=f"Tier {tier_name}: {per} throttle and quota",
            apiStages=[{"apiId": api_id, "stage": stage}],
            throttle={"rateLimit": tier.rate_limit, "burstLimit": tier.burst_limit},
            **quota,
        )["id"]
    # Each key once: a pooled tier's tenants share theirs (a key is in at most one plan per stage).
    for key_tier, key_id in sorted({(tenant.tier, keys[tenant.name].id) for tenant in tenants}):
        apigateway.create_usage_plan_key(usagePlanId=plans[key_tier], keyId=key_id, keyType="API_KEY")
    return api_id, authorizer_id
