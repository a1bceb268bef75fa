"""The tenant authorizer's Lambda function: the code in `functions/tenant_authorizer/`, its role and its logs.

The gateway attaches it to every method as a REQUEST authorizer and grants API Gateway the right to
invoke it (`components/gateway.py`): that grant names the API's authorizer, which exists only there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from whitelabel.config import Settings
from whitelabel.function_bundle import unpacked_files
from whitelabel.policies import assume_role_policy
from whitelabel.protection import resource_options

# The handler's folder is the zip's root, so the entry point is `handler.handler`.
CODE_DIR = Path(__file__).resolve().parent.parent / "functions" / "tenant_authorizer"
HANDLER = "handler.handler"
# The newest Python runtime AWS Lambda offers (Amazon Linux 2023):
# https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html
RUNTIME = "python3.14"
ARCHITECTURE = "arm64"
# Lambda gives CPU in proportion to memory; 128 MB is AWS's advice only for functions that import
# nothing, and a cold start here imports boto3 on the request path:
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html
MEMORY_MB = 256
# One DynamoDB GetItem; API Gateway answers 500 (AuthorizerConfigurationException, our AUTHORIZER_CONFIGURATION_ERROR
# body: fail closed) if the function errs or times out.
TIMEOUT_SECONDS = 5


@dataclass(frozen=True)
class TenantAuthorizerArgs:
    """Inputs of `TenantAuthorizer`.

    resource_prefix: `<namePrefix or project>-<stack>`; the function is `<prefix>-tenant-authorizer`.
    table_name, table_arn: the tenant registry (`TenantRegistry`), the only thing the function reads.
    registry_cache_seconds: how long the handler keeps a registry answer in memory.
    protect: protected production (`protectResources`): the function's log group is retained on delete.
    """

    resource_prefix: str
    table_name: pulumi.Input[str]
    table_arn: pulumi.Input[str]
    registry_cache_seconds: int
    log_retention_days: int
    protect: bool = False
    # End-user authentication: on when any customer has it (`USER_AUTH`); the paths that need no user.
    user_auth: bool = False
    public_prefixes: tuple[str, ...] = ()

    @classmethod
    def from_settings(
        cls, settings: Settings, resource_prefix: str, table_name: pulumi.Input[str], table_arn: pulumi.Input[str]
    ) -> TenantAuthorizerArgs:
        return cls(
            resource_prefix=resource_prefix,
            table_name=table_name,
            table_arn=table_arn,
            registry_cache_seconds=settings.authorizer.registry_cache_seconds,
            log_retention_days=settings.log_retention_days,
            protect=settings.protect_resources,
            user_auth=settings.user_auth,
            public_prefixes=settings.auth.public_prefixes,
        )


def code_archive(directory: Path = CODE_DIR, libraries: dict[str, Path] | None = None) -> pulumi.AssetArchive:
    """The handler's folder as the function's zip: its source files only (no `__pycache__`), so the
    archive, and with it the deployed code, changes only when the code does.

    libraries: zip path → file of the handler's pinned libraries (PyJWT, cryptography: docs "End-user
    authentication (auth)"); by default the locked wheels, verified against their hashes and unpacked at the
    zip's root, where Lambda's Python finds them (`/var/task` is on its path):
    https://docs.aws.amazon.com/lambda/latest/dg/python-package.html
    """
    files = sorted(
        p for p in directory.rglob("*") if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    )
    if not any(p.name == "handler.py" for p in files):
        raise FileNotFoundError(f"the tenant authorizer's code is missing: {directory / 'handler.py'}")
    shipped = {p.relative_to(directory).as_posix(): p for p in files}
    for path, file in (unpacked_files() if libraries is None else libraries).items():
        if path in shipped:
            raise ValueError(f"a library file would replace the handler's own {path!r}")
        shipped[path] = file
    return pulumi.AssetArchive({path: pulumi.FileAsset(str(file)) for path, file in sorted(shipped.items())})


class TenantAuthorizer(pulumi.ComponentResource):
    """A Python Lambda function that maps a request's Host to its tenant by reading the registry."""

    function_name: pulumi.Output[str]
    function_arn: pulumi.Output[str]
    invoke_arn: pulumi.Output[str]
    log_group_name: pulumi.Output[str]

    def __init__(self, name: str, args: TenantAuthorizerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("whitelabel:tenant_authorizer:TenantAuthorizer", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        function_name = f"{args.resource_prefix}-tenant-authorizer"

        # Lambda writes to `/aws/lambda/<function name>`; creating it here sets its retention and lets
        # the role write to this one group only (Lambda would otherwise create it, kept forever).
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/lambda/{function_name}",
            retention_in_days=args.log_retention_days,
            opts=resource_options("log-group", args.protect, parent=self),
        )
        role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=assume_role_policy("lambda.amazonaws.com"),
            description="Tenant authorizer: read the tenant registry, write its own logs",
            opts=child,
        )
        # Least privilege: one read action on one table, and log events into its own group; no
        # managed policy (AWSLambdaBasicExecutionRole would allow every log group).
        policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.id,
            policy=pulumi.Output.json_dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "ReadTenantRegistry",
                            "Effect": "Allow",
                            "Action": ["dynamodb:GetItem"],
                            "Resource": [args.table_arn],
                        },
                        {
                            "Sid": "WriteOwnLogs",
                            "Effect": "Allow",
                            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                            "Resource": [pulumi.Output.concat(log_group.arn, ":*")],
                        },
                    ],
                }
            ),
            opts=child,
        )
        self.function = aws.lambda_.Function(
            f"{name}-function",
            name=function_name,
            description="Tenant authorizer: Host header → tenant, tier and API key from the registry",
            runtime=RUNTIME,
            architectures=[ARCHITECTURE],
            handler=HANDLER,
            code=code_archive(),
            role=role.arn,
            memory_size=MEMORY_MB,
            timeout=TIMEOUT_SECONDS,
            # The table's name only: the customer list lives in the table, never in code or config.
            environment={
                "variables": {
                    "TENANT_TABLE": args.table_name,
                    "REGISTRY_CACHE_SECONDS": str(args.registry_cache_seconds),
                    # Only with end-user authentication: a stack without it keeps the environment it had.
                    **(
                        {"USER_AUTH": "on", "PUBLIC_PREFIXES": json.dumps(list(args.public_prefixes))}
                        if args.user_auth
                        else {}
                    ),
                }
            },
            # Logging and the registry read must work from the first invocation.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[log_group, policy]),
        )

        self.function_name = self.function.name
        self.function_arn = self.function.arn
        self.invoke_arn = self.function.invoke_arn
        self.log_group_name = log_group.name
        self.register_outputs(
            {
                "functionName": self.function_name,
                "functionArn": self.function_arn,
                "invokeArn": self.invoke_arn,
                "logGroupName": self.log_group_name,
            }
        )
