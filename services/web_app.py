"""The `/service2` backend: a web app on EC2 instances in an Auto Scaling group behind an internal ALB."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.network import Network
from services.internal_alb import InternalAlb, InternalAlbArgs
from whitelabel.config import Service2Settings
from whitelabel.policies import assume_role_policy

# EC2 launch templates accept `resolve:ssm:<parameter>` in place of an AMI id and resolve it at each launch,
# so new instances get the current Amazon Linux 2023 image without a redeploy:
# https://docs.aws.amazon.com/autoscaling/ec2/userguide/using-systems-manager-parameters.html
IMAGE_ID = "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
SSM_CORE_POLICY_ARN = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"

# (minimum, maximum) healthy percentage while instances are replaced: never below desired capacity, up to
# twice it (the most AWS allows) while replacements start.
LAUNCH_BEFORE_TERMINATING = (100, 200)

# Served for every GET, so any health check path answers 200. Python 3 ships with Amazon Linux 2023, so
# boot needs no package download.
_SERVER = """\
import http.server, json, socket, sys

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"service": "service2", "host": socket.gethostname(), "path": self.path,
                           "tenant": self.headers.get("X-Tenant-Id")}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

http.server.ThreadingHTTPServer(("", int(sys.argv[1])), Handler).serve_forever()
"""


def user_data(port: int) -> str:
    """The instance's boot script, base64-encoded as launch templates require: a systemd web server on `port`."""
    script = f"""#!/bin/bash
set -euo pipefail
mkdir -p /opt/webapp
cat > /opt/webapp/server.py <<'PY'
{_SERVER}PY
cat > /etc/systemd/system/webapp.service <<'UNIT'
[Unit]
Description=service2 web app
After=network-online.target

[Service]
ExecStart=/usr/bin/python3 /opt/webapp/server.py {port}
DynamicUser=yes
AmbientCapabilities=CAP_NET_BIND_SERVICE
Restart=always

[Install]
WantedBy=multi-user.target
UNIT
systemctl daemon-reload
systemctl enable --now webapp.service
"""
    return base64.b64encode(script.encode()).decode()


@dataclass(frozen=True)
class WebAppArgs:
    """Inputs of `WebApp`.

    desired_capacity: None lets the group start at `min_size` and leaves the count to scaling afterwards.
    ingress_security_group_id: the API Gateway VPC link's group, the only one the ALB admits.
    """

    vpc_id: pulumi.Input[str]
    vpc_cidr: str
    subnet_ids: Sequence[pulumi.Input[str]]
    ingress_security_group_id: pulumi.Input[str]
    instance_type: str
    port: int
    min_size: int
    max_size: int
    desired_capacity: int | None
    health_check_path: str

    @classmethod
    def from_settings(cls, settings: Service2Settings, network: Network) -> WebAppArgs:
        """Map the validated `service2` config and the network to the component's arguments."""
        return cls(
            vpc_id=network.vpc_id,
            vpc_cidr=network.vpc_cidr,
            subnet_ids=network.private_subnet_ids,
            ingress_security_group_id=network.vpc_link_security_group_id,
            instance_type=settings.instance_type,
            port=settings.port,
            min_size=settings.min_size,
            max_size=settings.max_size,
            desired_capacity=settings.desired_capacity,
            health_check_path=settings.health_check_path,
        )


class WebApp(pulumi.ComponentResource):
    """EC2 instances from a launch template in an Auto Scaling group, registered with their own internal ALB."""

    load_balancer: InternalAlb
    auto_scaling_group_name: pulumi.Output[str]

    def __init__(self, name: str, args: WebAppArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("whitelabel:web_app:WebApp", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        alb = InternalAlb(f"{name}-alb", InternalAlbArgs.for_service(args, "instance"), opts=child)

        role = aws.iam.Role(
            f"{name}-instance-role",
            assume_role_policy=assume_role_policy("ec2.amazonaws.com"),
            opts=child,
        )
        aws.iam.RolePolicyAttachment(f"{name}-instance-ssm", role=role.name, policy_arn=SSM_CORE_POLICY_ARN, opts=child)
        profile = aws.iam.InstanceProfile(f"{name}-instance-profile", role=role.name, opts=child)

        launch_template = aws.ec2.LaunchTemplate(
            f"{name}-lt",
            image_id=IMAGE_ID,
            instance_type=args.instance_type,
            iam_instance_profile=aws.ec2.LaunchTemplateIamInstanceProfileArgs(arn=profile.arn),
            vpc_security_group_ids=[alb.target_security_group_id],
            user_data=user_data(args.port),
            # IMDSv2 only. Hop limit 1: the app runs on the host, not in a container, so no extra network hop
            # needs to reach the metadata service (containers would need 2).
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=1
            ),
            update_default_version=True,
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type="instance", tags={"Name": f"{name}-instance"})
            ],
            opts=child,
        )

        group = aws.autoscaling.Group(
            f"{name}-asg",
            vpc_zone_identifiers=list(args.subnet_ids),
            min_size=args.min_size,
            max_size=args.max_size,
            desired_capacity=args.desired_capacity,
            launch_template=aws.autoscaling.GroupLaunchTemplateArgs(id=launch_template.id, version="$Latest"),
            target_group_arns=[alb.target_group_arn],
            # Replace instances the ALB finds unhealthy, not only those EC2 finds stopped; the grace period
            # covers boot and the user data script.
            health_check_type="ELB",
            health_check_grace_period=180,
            # "$Latest" alone only affects new launches; a rolling refresh carries a changed template to
            # the running instances. Launch before terminating: with a minimum healthy percentage of 100 the
            # refresh launches new instances first and terminates old ones only once those are healthy
            # (the maximum, 100 to 200, is how far above desired capacity it may go meanwhile), so a group
            # of one instance never drops to zero:
            # https://docs.aws.amazon.com/autoscaling/ec2/userguide/instance-refresh-overview.html
            # https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_InstanceMaintenancePolicy.html
            instance_refresh=aws.autoscaling.GroupInstanceRefreshArgs(
                strategy="Rolling",
                preferences=aws.autoscaling.GroupInstanceRefreshPreferencesArgs(
                    min_healthy_percentage=LAUNCH_BEFORE_TERMINATING[0],
                    max_healthy_percentage=LAUNCH_BEFORE_TERMINATING[1],
                ),
            ),
            # The same order when an instance fails its health check, where the group's default is to terminate
            # the impaired instance and then replace it: AWS's "Launch before terminating" maintenance policy.
            # https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-instance-maintenance-policy.html
            instance_maintenance_policy=aws.autoscaling.GroupInstanceMaintenancePolicyArgs(
                min_healthy_percentage=LAUNCH_BEFORE_TERMINATING[0],
                max_healthy_percentage=LAUNCH_BEFORE_TERMINATING[1],
            ),
            opts=child,
        )

        self.load_balancer = alb
        self.auto_scaling_group_name = group.name
        self.register_outputs(
            {"loadBalancerDnsName": alb.dns_name, "autoScalingGroupName": self.auto_scaling_group_name}
        )
