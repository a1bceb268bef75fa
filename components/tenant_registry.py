"""The tenant registry: the DynamoDB table the tenant authorizer reads, keyed by the hostname a request arrives on."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from whitelabel.config import Settings, resource_prefix
from whitelabel.protection import resource_options

# The partition key: one item per hostname a customer is served at (see whitelabel.tenancy.registry_item).
HASH_KEY = "hostname"


@dataclass(frozen=True)
class TenantRegistryArgs:
    """Inputs of the tenant registry.

    table_name: unique per account and region (`<namePrefix or project>-<stack>-tenants`).
    protect: protected production (`protectResources`): point-in-time recovery, deletion protection, and
        Pulumi's protect on the table.
    """

    table_name: str
    protect: bool = False

    @classmethod
    def from_settings(cls, settings: Settings, project: str, stack: str) -> TenantRegistryArgs:
        return cls(
            table_name=f"{resource_prefix(settings, project, stack)}-tenants", protect=settings.protect_resources
        )


class TenantRegistry(pulumi.ComponentResource):
    """The registry table only; its items are written per hostname by `TenantKeys`, next to the keys they carry.

    On-demand (a handful of writes per `pulumi up`, reads cached by the authorizer), encrypted with the
    AWS managed KMS key, and, when protected, restorable to any second of the last 35 days and refused
    by DeleteTable until deletion protection is turned off.
    """

    def __init__(self, name: str, args: TenantRegistryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("whitelabel:tenant_registry:TenantRegistry", name, None, opts)
        self.table = aws.dynamodb.Table(
            f"{name}-table",
            name=args.table_name,
            billing_mode="PAY_PER_REQUEST",
            hash_key=HASH_KEY,
            attributes=[aws.dynamodb.TableAttributeArgs(name=HASH_KEY, type="S")],
            # SSESpecification.Enabled: true → KMS with the AWS managed key alias/aws/dynamodb instead of an
            # AWS owned key, so key use shows in CloudTrail
            # (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_SSESpecification.html).
            server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=True),
            # Both are set explicitly, also to false: turning protectResources off must show as a change.
            # https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/PointInTimeRecovery_Howitworks.html
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=args.protect),
            # https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/WorkingWithTables.Basics.html#WorkingWithTables.Basics.DeletionProtection
            deletion_protection_enabled=args.protect,
            opts=resource_options("tenant-registry", args.protect, parent=self),
        )
        self.table_name = self.table.name
        self.table_arn = self.table.arn
        self.register_outputs({"tableName": self.table_name, "tableArn": self.table_arn})
