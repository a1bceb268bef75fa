"""The white-label gateway in front of backends you already run: an internal ALB (looked up by its ARN), a Lambda
function (looked up by its name) and a public URL, with three tenants on their own subdomains.

Nothing here is created but the gateway and its tenants: the load balancer and the function are read with
`aws.lb.get_load_balancer` and `aws.lambda_.get_function`, so this stack never owns or replaces them.

This folder uses the package as Python source from this repository (the repository root on `sys.path`). In your
own repository, either vendor the `components/`, `whitelabel/` and `functions/` folders the same way, or run
`pulumi package add <repository>.git/plugin` and use the generated SDK (`import pulumi_whitelabel`): README
"From other languages (schema, plugin, YAML)".
"""

import sys
from pathlib import Path

import pulumi
import pulumi_aws as aws

# examples/bring-your-own/ → the repository root, which holds the package.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from components.args import BackendKind, QuotaPeriod, WhiteLabelGatewayArgs
from components.white_label_gateway import WhiteLabelGateway

config = pulumi.Config()
base_domain = config.require("baseDomain")

# Plain lookups (not the `_output` forms): the ARN and name are config, known before anything is created.
alb = aws.lb.get_load_balancer(arn=config.require("albArn"))
reports = aws.lambda_.get_function(function_name=config.require("functionName"))

args: WhiteLabelGatewayArgs = {
    "base_domain": base_domain,
    "stage_name": pulumi.get_stack(),
    "name_prefix": f"byo-{pulumi.get_stack()}",
    "backends": {
        "orders": {
            "kind": BackendKind.ALB,
            "load_balancer_arn": alb.arn,
            "load_balancer_dns_name": alb.dns_name,
            "port": config.get_int("albListenerPort") or 443,
            "description": f"the existing internal ALB {alb.name}",
        },
        "reports": {
            "kind": BackendKind.LAMBDA,
            "function_name": reports.function_name,
            "function_invoke_arn": reports.invoke_arn,
        },
        "legacy": {"kind": BackendKind.HTTP, "url": config.require("legacyUrl")},
    },
    # The VPC link v2 sits in the load balancer's own subnets (private ones: the ALB is internal); the ALB's
    # security group must admit this group.
    "vpc_link_subnet_ids": list(alb.subnets),
    "vpc_link_security_group_id": config.require("vpcLinkSecurityGroupId"),
    "tiers": {
        "standard": {"rate_limit": 50, "burst_limit": 100},
        "premium": {"rate_limit": 200, "burst_limit": 400, "quota": {"limit": 5_000_000, "period": QuotaPeriod.MONTH}},
    },
    "default_tier": "standard",
    "tenants": [
        {"name": "acme"},
        {"name": "globex", "tier": "premium"},
        {"name": "initech", "dedicated_domain": True},
    ],
}

gateway = WhiteLabelGateway("byo", args)

pulumi.export("apiId", gateway.api_id)
pulumi.export("endpoints", gateway.endpoints)
