"""The one REST API every customer shares: routes, integrations, deployment and stage."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

import pulumi
import pulumi_aws as aws

from whitelabel.access_log import ACCESS_LOG_FORMAT
from whitelabel.api_definition import (
    API_KEY_SOURCE,
    AUTHORIZER_IDENTITY_SOURCE,
    BINARY_MEDIA_TYPES,
    GATEWAY_RESPONSES,
    Backend,
    BackendKind,
    Route,
    backend_problems,
    build_routes,
    definition_hash,
    http_origin,
    resource_paths,
    s3_origin,
    url_origin,
)
from whitelabel.config import DEFAULT_TLS_POLICY, CacheSettings, ThrottleSettings, endpoint_access_mode
from whitelabel.policies import assume_role_policy
from whitelabel.protection import resource_options


class LoadBalancerTarget(Protocol):
    """What the gateway needs of an internal load balancer."""

    @property
    def arn(self) -> pulumi.Output[str]: ...

    @property
    def dns_name(self) -> pulumi.Output[str]: ...

    @property
    def port(self) -> int: ...


@dataclass(frozen=True)
class BackendTarget:
    """One backend of the gateway: its kind, where its routes sit, and what its integration reaches.

    One type with a kind (not one class per kind), as a component package's schema needs. Build it with
    the class methods (`load_balancer`, `http`, `function`, `bucket`); `problems` names a missing field.
    prefix: the path prefix (default: the backend's name). description: for people (the plan).
    arn, dns_name, port: ALB/NLB: the internal load balancer and its listener's port.
    url: HTTP: the public base URL (`https://api.example.net/v1`).
    function_name, invoke_arn: LAMBDA: the function (name or ARN) and its invoke ARN.
    bucket_name, read_role_arn, key_prefix: S3: the bucket, the role API Gateway reads it with (None: the
        gateway makes one with s3:GetObject on the key prefix and s3:ListBucket), and the folder read.
    """

    kind: BackendKind
    prefix: str | None = None
    description: str = ""
    arn: pulumi.Input[str] | None = None
    dns_name: pulumi.Input[str] | None = None
    port: int | None = None
    url: pulumi.Input[str] | None = None
    function_name: pulumi.Input[str] | None = None
    invoke_arn: pulumi.Input[str] | None = None
    bucket_name: pulumi.Input[str] | None = None
    read_role_arn: pulumi.Input[str] | None = None
    key_prefix: str = ""
    # S3: a developer portal per tenant (`whitelabel.api_definition.Backend.per_tenant`) and its shared files.
    per_tenant: bool = False
    shared_files: tuple[str, ...] = ()
    documents: tuple[str, ...] = ()

    @classmethod
    def load_balancer(
        cls,
        target: LoadBalancerTarget,
        kind: BackendKind = BackendKind.ALB,
        *,
        prefix: str | None = None,
        description: str = "",
    ) -> BackendTarget:
        """An internal ALB (default) or NLB, reached through the API's VPC link v2."""
        return cls(kind, prefix, description, arn=target.arn, dns_name=target.dns_name, port=target.port)

    @classmethod
    def http(cls, url: pulumi.Input[str], *, prefix: str | None = None, description: str = "") -> BackendTarget:
        """A public HTTP(S) URL, reached without a VPC link."""
        return cls(BackendKind.HTTP, prefix, description, url=url)

    @classmethod
    def function(
        cls,
        function_name: pulumi.Input[str],
        invoke_arn: pulumi.Input[str],
        *,
        prefix: str | None = None,
        description: str = "",
    ) -> BackendTarget:
        """A Lambda function behind a proxy integration; the gateway grants API Gateway its invoke permission."""
        return cls(BackendKind.LAMBDA, prefix, description, function_name=function_name, invoke_arn=invoke_arn)

    @classmethod
    def bucket(
        cls,
        bucket_name: pulumi.Input[str],
        read_role_arn: pulumi.Input[str] | None = None,
        *,
        key_prefix: str = "",
        prefix: str | None = None,
        description: str = "",
    ) -> BackendTarget:
        """An S3 bucket (or one folder of it) served with GET."""
        return cls(
            BackendKind.S3,
            prefix,
            description,
            bucket_name=bucket_name,
            read_role_arn=read_role_arn,
            key_prefix=key_prefix,
        )

    def backend(self, name: str) -> Backend:
        """The route-table entry of this target under `name`."""
        return Backend(
            name,
            self.prefix or name,
            self.kind,
            self.description or self.kind.value,
            self.key_prefix,
            self.per_tenant,
            tuple(self.shared_files),
            tuple(self.documents),
        )

    def problems(self, name: str) -> list[str]:
        """What this target lacks for its kind, one line each."""
        needed = {
            BackendKind.ALB: ("arn", "dns_name", "port"),
            BackendKind.NLB: ("arn", "dns_name", "port"),
            BackendKind.HTTP: ("url",),
            BackendKind.LAMBDA: ("function_name", "invoke_arn"),
            BackendKind.S3: ("bucket_name",),
        }[self.kind]
        problems = [
            f"backends.{name}: a {self.kind.value} backend needs {field}"
            for field in needed
            if getattr(self, field) is None
        ]
        if isinstance(self.url, str) and not self.url.startswith(("http://", "https://")):
            problems.append(f"backends.{name}: url {self.url!r} must start with http:// or https://")
        return problems


class AuthorizerFunction(Protocol):
    """What the gateway needs of the tenant authorizer's Lambda function (`TenantAuthorizer`)."""

    @property
    def function_name(self) -> pulumi.Output[str]: ...

    @property
    def invoke_arn(self) -> pulumi.Output[str]: ...


@dataclass(frozen=True)
class GatewayArgs:
    """Inputs of the gateway.

    resource_prefix: `<namePrefix or project>-<stack>` (`whitelabel.config.resource_prefix`): the names that
        must be unique per account and region (REST API, VPC link, access-log group) start with it, so two
        projects or forks with the same stack name do not collide.
    backends: backend name → its target (`BackendTarget`), routed in this order.
    vpc_link_subnet_ids, vpc_link_security_group_id: where the VPC link v2 sits; needed only with an
        ALB or NLB backend (the link is made only then, once, and shared by every private backend).
    authorizer: the tenant authorizer's function, a REQUEST authorizer on every method.
    authorizer_cache_ttl_seconds: how long API Gateway reuses one host's decision (config
        `authorizer.cacheTtlSeconds`; 0 turns the cache off).
    manage_account_logging: whether this stack owns the account-wide CloudWatch role setting of API
        Gateway (exactly one stack per account and region should).
    tracing: X-Ray tracing on the stage (config `tracing`).
    tls_policy: the REST API's security policy (config `tlsPolicy`); enhanced ones get endpoint access mode
        STRICT.
    cache: the stage cache (config `cache`); None or disabled: no cache cluster, no method cached.
    protect: protected production (`protectResources`): the REST API is protected, its log groups retained.
    dual_stack: the API's endpoint accepts IPv6 too (config `dualStack`), like its custom domains.
    endpoint_type: REGIONAL or EDGE (config `endpointType`, `whitelabel.endpoints`); `tls_policy` must be one of
        that type's policies.
    """

    stage_name: str
    resource_prefix: str
    backends: Mapping[str, BackendTarget]
    throttle: ThrottleSettings
    log_retention_days: int
    authorizer: AuthorizerFunction
    authorizer_cache_ttl_seconds: int
    vpc_link_subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None
    vpc_link_security_group_id: pulumi.Input[str] | None = None
    manage_account_logging: bool = True
    tracing: bool = False
    tls_policy: str = DEFAULT_TLS_POLICY
    cache: CacheSettings | None = None
    protect: bool = False
    dual_stack: bool = False
    endpoint_type: str = "REGIONAL"


class Gateway(pulumi.ComponentResource):
    """A REST API (Regional or edge-optimized), routes from `whitelabel.api_definition`, deployed to one stage."""

    def __init__(self, name: str, args: GatewayArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        # Refused before anything is registered, in one line.
        backends = tuple(target.backend(backend) for backend, target in args.backends.items())
        problems = gateway_problems(args)
        if problems:
            raise ValueError(f"Gateway {name}: " + "; ".join(problems))
        super().__init__("whitelabel:gateway:Gateway", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        routes = build_routes(backends)
        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region

        # One VPC link v2 for the whole API, made only when a backend is private and shared by all of them
        # (as CDK's AlbIntegration does). For REST APIs it reaches an ALB or an NLB directly; v1 would need an
        # NLB and is legacy (https://docs.aws.amazon.com/apigateway/latest/developerguide/private-integration.html).
        self.vpc_link: aws.apigatewayv2.VpcLink | None = None
        if any(backend.private for backend in backends):
            self.vpc_link = aws.apigatewayv2.VpcLink(
                f"{name}-vpc-link",
                name=f"{args.resource_prefix}-vpc-link",
                subnet_ids=cast(pulumi.Input[Sequence[pulumi.Input[str]]], args.vpc_link_subnet_ids),
                security_group_ids=[cast(pulumi.Input[str], args.vpc_link_security_group_id)],
                opts=child,
            )
        self.rest_api = aws.apigateway.RestApi(
            f"{name}-api",
            name=args.resource_prefix,
            description="White-label gateway: every customer subdomain, one API",
            # A string, not a list, in pulumi-aws 7.
            # IP address type as the custom domains have it: AWS lets the two differ, but warns that with the
            # default endpoint disabled a mismatch "might affect how callers can invoke your domain"
            # (https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-custom-domain-ip-address-type.html).
            # Explicit also for ipv4: the provider detects drift only when the value is set.
            # EDGE puts API Gateway's own CloudFront distribution in front (whitelabel/endpoints.py).
            endpoint_configuration={
                "types": args.endpoint_type,
                "ip_address_type": "dualstack" if args.dual_stack else "ipv4",
            },
            # Customers reach the API only through their custom domains: one way in. (The execute-api
            # host is in no tenant's registry item, so the tenant authorizer would refuse it anyway.)
            disable_execute_api_endpoint=True,
            binary_media_types=list(BINARY_MEDIA_TYPES),
            # Clients send no key: the tenant authorizer returns the tenant's (`usageIdentifierKey`).
            api_key_source=API_KEY_SOURCE,
            # The API's own policy negotiates the handshake even on its custom domains ("How to change a
            # security policy": https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-security-policies-update.html),
            # so it is set here too, with STRICT for an enhanced policy.
            security_policy=args.tls_policy,
            endpoint_access_mode=endpoint_access_mode(args.tls_policy),
            opts=resource_options("rest-api", args.protect, parent=self),
        )
        self._tenant_authorizer(name, args)
        self.gateway_responses = [
            aws.apigateway.Response(
                f"{name}-response-{response.response_type.lower().replace('_', '-')}",
                rest_api_id=self.rest_api.id,
                response_type=response.response_type,
                status_code=response.status_code,
                response_templates=response.response_templates,
                response_parameters=response.response_parameters,
                opts=child,
            )
            for response in GATEWAY_RESPONSES
        ]

        origins = {backend: _origin(target, region) for backend, target in args.backends.items()}
        # S3 backends without a role get one made here, readable only where the backend reads.
        self.read_roles: dict[str, pulumi.Output[str]] = {
            backend: pulumi.Output.from_input(target.read_role_arn)
            if target.read_role_arn is not None
            else self._read_role(name, backend, target)
            for backend, target in args.backends.items()
            if target.kind is BackendKind.S3
        }
        # API Gateway's right to invoke each Lambda backend; the deployment waits for it.
        self.invoke_permissions = {
            backend.name: self._invoke_permission(name, backend, args.backends[backend.name])
            for backend in backends
            if backend.kind is BackendKind.LAMBDA
        }

        resource_ids = self._resources(name, routes)
        integrated: list[pulumi.Resource] = []
        for route in routes:
            integrated += self._route(name, route, resource_ids[route.path], origins[route.backend], args)

        deployed: dict[str, Any] = {"origins": origins}
        if self.vpc_link is not None:
            deployed["vpcLink"] = self.vpc_link.id
            deployed["targets"] = {b.name: args.backends[b.name].arn for b in backends if b.private}
        # One read role sits under the key the first release hashed (it had the one docs bucket), so a
        # deployed stack's trigger, and with it its deployment, stays as it is; more go under `readRoles`.
        if len(self.read_roles) == 1:
            deployed["docsRole"] = next(iter(self.read_roles.values()))
        elif self.read_roles:
            deployed["readRoles"] = self.read_roles
        deployed.update(
            {
                "authorizer": {"uri": args.authorizer.invoke_arn, "ttl": args.authorizer_cache_ttl_seconds},
                # A changed security policy or access mode takes effect on the API only with a new deployment
                # ("Redeploy your API for the changes to take effect", How to change a security policy:
                # https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-security-policies-update.html).
                "tls": {"securityPolicy": args.tls_policy, "endpointAccessMode": endpoint_access_mode(args.tls_policy)},
            }
        )
        # Everything deployed into the route table, resolved: the trigger hashes it, and `make openapi`
        # writes the API's OpenAPI document from it (`whitelabel.openapi`).
        self.definition_values: pulumi.Output[dict[str, Any]] = pulumi.Output.from_input(deployed)
        # A changed integration keeps its id, so the trigger hashes the whole definition instead.
        trigger = self.definition_values.apply(lambda values: definition_hash(routes, values))
        self.deployment = aws.apigateway.Deployment(
            f"{name}-deployment",
            rest_api=self.rest_api.id,
            description="Deployed by whitelabel-gateway; replaced whenever the API definition changes",
            triggers={"definition": trigger},
            # Gateway responses and the authorizer are part of what a deployment snapshots; the
            # permission must be there before the first request reaches the authorizer.
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[
                    *integrated,
                    *self.gateway_responses,
                    self.authorizer,
                    self.authorizer_permission,
                    *self.invoke_permissions.values(),
                ],
            ),
        )

        self.access_logs = aws.cloudwatch.LogGroup(
            f"{name}-access-logs",
            name=f"/aws/apigateway/{args.resource_prefix}/access",
            retention_in_days=args.log_retention_days,
            opts=resource_options("log-group", args.protect, parent=self),
        )
        # With execution logging on, API Gateway creates this group itself on first use, with no retention
        # ("API-Gateway-Execution-Logs_{rest-api-id}/{stage_name}", managed by API Gateway:
        # https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-execution-logging.html).
        # Creating it first, under that exact name, puts it in Pulumi's hands with our retention.
        self.execution_logs = aws.cloudwatch.LogGroup(
            f"{name}-execution-logs",
            name=pulumi.Output.concat("API-Gateway-Execution-Logs_", self.rest_api.id, "/", args.stage_name),
            retention_in_days=args.log_retention_days,
            opts=resource_options("log-group", args.protect, parent=self),
        )
        # Logging needs the account's CloudWatch role in place first (when this stack owns it), and the
        # execution-log group must exist before logging is switched on, or API Gateway creates it.
        logging_ready: list[pulumi.Resource] = [self.execution_logs]
        self.account: aws.apigateway.Account | None = None
        if args.manage_account_logging:
            self.account = self._account_logging_role(name)
            logging_ready.append(self.account)
        caching = args.cache is not None and args.cache.enabled
        self.stage = aws.apigateway.Stage(
            f"{name}-stage",
            rest_api=self.rest_api.id,
            deployment=self.deployment.id,
            stage_name=args.stage_name,
            # One JSON line per request, tenant from the authorizer (`whitelabel.access_log`).
            access_log_settings={"destination_arn": self.access_logs.arn, "format": ACCESS_LOG_FORMAT},
            # Active tracing samples requests through API Gateway into X-Ray:
            # https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-enabling-xray.html
            xray_tracing_enabled=args.tracing,
            cache_cluster_enabled=caching,
            cache_cluster_size=args.cache.cluster_size if args.cache is not None and caching else None,
            opts=pulumi.ResourceOptions(parent=self, depends_on=logging_ready),
        )
        stage_settings: dict[str, Any] = {
            "throttling_rate_limit": args.throttle.rate_limit,
            "throttling_burst_limit": args.throttle.burst_limit,
            "metrics_enabled": True,
            "logging_level": "ERROR",
        }
        self.method_settings = aws.apigateway.MethodSettings(
            f"{name}-throttle",
            rest_api=self.rest_api.id,
            stage_name=self.stage.stage_name,
            method_path="*/*",
            # Nothing is cached unless a method says so below (only tenant-keyed GET methods do).
            settings=aws.apigateway.MethodSettingsSettingsArgs(**stage_settings, caching_enabled=False),
            opts=pulumi.ResourceOptions(parent=self, depends_on=logging_ready),
        )
        self.cache_settings: list[aws.apigateway.MethodSettings] = []
        if args.cache is not None and caching:
            self.cache_settings = self._cached_methods(name, routes, args.cache, stage_settings)

        self.routes = routes
        self.rest_api_name = args.resource_prefix
        self.rest_api_id = self.rest_api.id
        self.authorizer_id = self.authorizer.id
        self.stage_name = self.stage.stage_name
        # `arn:aws:apigateway:<region>::/restapis/<api id>/stages/<stage>`: what a web ACL is associated with.
        self.stage_arn = self.stage.arn
        self.vpc_link_id: pulumi.Output[str] | None = self.vpc_link.id if self.vpc_link is not None else None
        self.register_outputs(
            {"restApiId": self.rest_api_id, "stageName": self.stage_name, "vpcLinkId": self.vpc_link_id}
        )

    def _cached_methods(
        self, name: str, routes: tuple[Route, ...], cache: CacheSettings, stage_settings: dict[str, Any]
    ) -> list[aws.apigateway.MethodSettings]:
        """Caching on for each tenant-keyed GET method (`Route.cached`), one method-settings override each.

        An override replaces the stage-wide settings for its method, so it repeats throttling, metrics and
        logging (unset throttling would mean none). Cached data is encrypted; a client's `Cache-Control:
        max-age=0` does not invalidate entries without `execute-api:InvalidateCache` (it is ignored, with a
        warning header). Each override waits for the previous one: they all update the one stage.
        """
        created: list[aws.apigateway.MethodSettings] = []
        for route in routes:
            if not route.cached:
                continue
            previous = created[-1] if created else self.method_settings
            settings = aws.apigateway.MethodSettings(
                f"{name}-cache-{route.key}",
                rest_api=self.rest_api.id,
                stage_name=self.stage.stage_name,
                method_path=route.method_settings_path,
                settings=aws.apigateway.MethodSettingsSettingsArgs(
                    **stage_settings,
                    caching_enabled=True,
                    cache_ttl_in_seconds=cache.ttl_seconds,
                    cache_data_encrypted=True,
                    require_authorization_for_cache_control=True,
                    unauthorized_cache_control_header_strategy="SUCCEED_WITH_RESPONSE_HEADER",
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[previous]),
            )
            created.append(settings)
        return created

    def _resources(self, name: str, routes: tuple[Route, ...]) -> dict[str, pulumi.Output[str]]:
        ids: dict[str, pulumi.Output[str]] = {"": self.rest_api.root_resource_id}
        for path in resource_paths(routes):
            parent_path, _, part = path.rpartition("/")
            resource = aws.apigateway.Resource(
                f"{name}-resource-{_slug(path)}",
                rest_api=self.rest_api.id,
                parent_id=ids[parent_path],
                path_part=part,
                opts=pulumi.ResourceOptions(parent=self),
            )
            ids[path] = resource.id
        return ids

    def _route(
        self,
        name: str,
        route: Route,
        resource_id: pulumi.Output[str],
        origin: pulumi.Output[str],
        args: GatewayArgs,
    ) -> list[pulumi.Resource]:
        """The method, its integration and response mappings for one route."""
        child = pulumi.ResourceOptions(parent=self)
        method = aws.apigateway.Method(
            f"{name}-method-{route.key}",
            rest_api=self.rest_api.id,
            resource_id=resource_id,
            http_method=route.http_method,
            # The tenant authorizer on every method, and the tenant's key for its usage plan.
            authorization=route.authorization,
            authorizer_id=self.authorizer.id,
            api_key_required=route.api_key_required,
            request_parameters=route.request_parameters or None,
            opts=child,
        )
        target = args.backends[route.backend]
        connection: dict[str, pulumi.Input[str]] = {}
        if self.vpc_link is not None and target.kind in (BackendKind.ALB, BackendKind.NLB):
            # Private integration through the VPC link v2: the URI's host names the load balancer for the
            # Host header, integration_target is the ALB or NLB that actually receives the request
            # (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-private-integration.html).
            connection = {
                "connection_type": "VPC_LINK",
                "connection_id": self.vpc_link.id,
                "integration_target": cast(pulumi.Input[str], target.arn),
            }
        elif route.kind == "s3":
            connection = {"credentials": self.read_roles[route.backend]}
        # An HTTP backend is a public URL (connection type INTERNET, the default); a Lambda proxy
        # integration needs no credentials, the function's resource policy admits API Gateway instead.
        integration = aws.apigateway.Integration(
            f"{name}-integration-{route.key}",
            rest_api=self.rest_api.id,
            resource_id=resource_id,
            http_method=method.http_method,
            type=INTEGRATION_TYPES[route.kind],
            integration_http_method=route.integration_http_method,
            uri=pulumi.Output.concat(origin, route.uri_path),
            request_parameters=route.integration_request_parameters or None,
            # Host (and the path parameters) split the stage cache's entries: tenants never share one.
            cache_key_parameters=list(route.cache_key_parameters) or None,
            timeout_milliseconds=route.timeout_ms,
            opts=child,
            **connection,  # type: ignore[arg-type]
        )
        created: list[pulumi.Resource] = [method, integration]
        method_responses: dict[str, aws.apigateway.MethodResponse] = {}
        for status, headers in route.method_responses.items():
            method_responses[status] = aws.apigateway.MethodResponse(
                f"{name}-method-response-{route.key}-{status}",
                rest_api=self.rest_api.id,
                resource_id=resource_id,
                http_method=method.http_method,
                status_code=status,
                response_parameters=headers or None,
                opts=child,
            )
        for response in route.integration_responses:
            created.append(
                aws.apigateway.IntegrationResponse(
                    f"{name}-integration-response-{route.key}-{response.status_code}",
                    rest_api=self.rest_api.id,
                    resource_id=resource_id,
                    http_method=method.http_method,
                    status_code=method_responses[response.status_code].status_code,
                    selection_pattern=response.selection_pattern,
                    response_parameters=response.response_parameters or None,
                    response_templates=response.response_templates or None,
                    content_handling=response.content_handling,
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[integration]),
                )
            )
        created += method_responses.values()
        return created

    def _read_role(self, name: str, backend: str, target: BackendTarget) -> pulumi.Output[str]:
        """A role API Gateway assumes to read one S3 backend: s3:GetObject on its key prefix only, and
        s3:ListBucket (limited to that prefix) so a missing key is S3's 404, not 403, as
        `services/docs_bucket.py` grants for the program's own bucket."""
        partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=self)).partition
        bucket_arn = pulumi.Output.concat("arn:", partition, ":s3:::", cast(pulumi.Input[str], target.bucket_name))
        folder = f"{target.key_prefix}/" if target.key_prefix else ""
        listing: dict[str, Any] = {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": bucket_arn}
        if folder:
            listing["Condition"] = {"StringLike": {"s3:prefix": f"{folder}*"}}
        role = aws.iam.Role(
            f"{name}-{backend}-read-role",
            description=f"API Gateway reads the /{target.prefix or backend} documents",
            assume_role_policy=assume_role_policy("apigateway.amazonaws.com"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.iam.RolePolicy(
            f"{name}-{backend}-read-policy",
            role=role.id,
            policy=pulumi.Output.json_dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "s3:GetObject",
                            "Resource": pulumi.Output.concat(bucket_arn, "/", folder, "*"),
                        },
                        listing,
                    ],
                }
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return role.arn

    def _invoke_permission(self, name: str, backend: Backend, target: BackendTarget) -> aws.lambda_.Permission:
        """API Gateway may invoke a Lambda backend's function, from this API's routes under its prefix only.

        A method's source ARN is `<execution ARN>/<stage>/<METHOD>/<resource path>`; `*` in it matches any
        characters, `/` included, so `/*/*/<prefix>*` covers `/<prefix>` and everything below it
        (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integration-using-cli.html).
        """
        return aws.lambda_.Permission(
            f"{name}-{backend.name}-invoke-permission",
            action="lambda:InvokeFunction",
            function=cast(pulumi.Input[str], target.function_name),
            principal="apigateway.amazonaws.com",
            source_arn=pulumi.Output.concat(self.rest_api.execution_arn, "/*/*/", backend.prefix, "*"),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _tenant_authorizer(self, name: str, args: GatewayArgs) -> None:
        """The REQUEST authorizer every method uses, and API Gateway's right to invoke its function.

        Identity source Host: API Gateway caches one decision per host for the TTL, so the function
        returns a policy for the whole stage (`<api>/<stage>/*/*`), as AWS requires of a cached policy:
        https://docs.aws.amazon.com/apigateway/latest/developerguide/configure-api-gateway-lambda-authorization.html
        """
        self.authorizer = aws.apigateway.Authorizer(
            f"{name}-tenant-authorizer",
            name="tenant",
            rest_api=self.rest_api.id,
            type="REQUEST",
            identity_source=AUTHORIZER_IDENTITY_SOURCE,
            authorizer_uri=args.authorizer.invoke_arn,
            authorizer_result_ttl_in_seconds=args.authorizer_cache_ttl_seconds,
            opts=pulumi.ResourceOptions(parent=self),
        )
        # Only this API's tenant authorizer may invoke the function (source ARN
        # `arn:aws:execute-api:<region>:<account>:<api id>/authorizers/<authorizer id>`):
        # https://docs.aws.amazon.com/apigateway/latest/developerguide/configure-api-gateway-lambda-authorization.html
        self.authorizer_permission = aws.lambda_.Permission(
            f"{name}-authorizer-permission",
            action="lambda:InvokeFunction",
            function=args.authorizer.function_name,
            principal="apigateway.amazonaws.com",
            source_arn=pulumi.Output.concat(self.rest_api.execution_arn, "/authorizers/", self.authorizer.id),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _account_logging_role(self, name: str) -> aws.apigateway.Account:
        """The account-wide CloudWatch role API Gateway logs with.

        It is one setting per account and region, shared by every stack there (`manageAccountLogging`
        picks the one stack that owns it): retained on delete, so destroying that stack, or handing the
        setting to another one, does not switch logging off for the others.
        """
        role = aws.iam.Role(
            f"{name}-cloudwatch-role",
            assume_role_policy=assume_role_policy("apigateway.amazonaws.com"),
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
        )
        attachment = aws.iam.RolePolicyAttachment(
            f"{name}-cloudwatch-role-policy",
            role=role.name,
            policy_arn="arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs",
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
        )
        # The role ARN alone would let the setting be made before the policy is attached, and API Gateway
        # refuses it then ("BadRequestException: The role ARN does not have required permissions
        # configured", seen in aws/aws-cdk#2194 and tmobile/jazz-installer#597).
        return aws.apigateway.Account(
            f"{name}-account",
            cloudwatch_role_arn=role.arn,
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True, depends_on=[attachment]),
        )


# API Gateway's integration type of each route kind (`Route.kind`).
INTEGRATION_TYPES = {"http_proxy": "HTTP_PROXY", "s3": "AWS", "aws_proxy": "AWS_PROXY"}


def gateway_problems(args: GatewayArgs) -> list[str]:
    """Why the gateway cannot be built from `args`, one line each (empty: it can)."""
    if not args.backends:
        return ["backends: give at least one backend"]
    problems = [line for backend, target in args.backends.items() for line in target.problems(backend)]
    backends = [target.backend(backend) for backend, target in args.backends.items()]
    problems += backend_problems(backends)
    private = [b.name for b in backends if b.private]
    if private and (args.vpc_link_subnet_ids is None or args.vpc_link_security_group_id is None):
        problems.append(
            f"backends {', '.join(private)} are reached through a VPC link: give vpc_link_subnet_ids and "
            "vpc_link_security_group_id"
        )
    return problems


def _origin(target: BackendTarget, region: pulumi.Output[str]) -> pulumi.Output[str]:
    """The integration URI prefix of a backend (`whitelabel.api_definition`: URI = origin + route's path)."""
    if target.kind in (BackendKind.ALB, BackendKind.NLB):
        return pulumi.Output.from_input(target.dns_name).apply(
            functools.partial(http_origin, port=cast(int, target.port))
        )
    if target.kind is BackendKind.HTTP:
        return pulumi.Output.from_input(target.url).apply(lambda url: url_origin(cast(str, url)))
    if target.kind is BackendKind.LAMBDA:
        return cast(pulumi.Output[str], pulumi.Output.from_input(target.invoke_arn))
    return pulumi.Output.all(region, target.bucket_name).apply(lambda v: s3_origin(v[0], v[1]))


def _slug(path: str) -> str:
    return "-".join(p.strip("{}+") for p in path.strip("/").split("/"))
