"""An internal Application Load Balancer that only the API Gateway VPC link can reach."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import pulumi
import pulumi_aws as aws


class BehindAlb(Protocol):
    """What a service's arguments say about where its ALB goes and what it checks."""

    @property
    def vpc_id(self) -> pulumi.Input[str]: ...

    @property
    def vpc_cidr(self) -> str: ...

    @property
    def subnet_ids(self) -> Sequence[pulumi.Input[str]]: ...

    @property
    def ingress_security_group_id(self) -> pulumi.Input[str]: ...

    @property
    def port(self) -> int: ...

    @property
    def health_check_path(self) -> str: ...


@dataclass(frozen=True)
class InternalAlbArgs:
    """Inputs of `InternalAlb`.

    subnet_ids: private subnets in at least two zones (an ALB needs two).
    ingress_security_group_id: the only group admitted to the listener (the VPC link's).
    port: the listener port and the targets' port.
    target_type: "ip" for awsvpc tasks (Fargate), "instance" for EC2 instances.
    vpc_cidr: where the targets are; the ALB's egress is limited to it (anywhere on `port` when None).
    """

    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    ingress_security_group_id: pulumi.Input[str]
    port: int
    target_type: Literal["ip", "instance"]
    health_check_path: str = "/"
    vpc_cidr: str | None = None

    @classmethod
    def for_service(cls, service: BehindAlb, target_type: Literal["ip", "instance"]) -> InternalAlbArgs:
        """The ALB in front of a service: its network placement, port and health check."""
        return cls(
            vpc_id=service.vpc_id,
            subnet_ids=service.subnet_ids,
            ingress_security_group_id=service.ingress_security_group_id,
            port=service.port,
            target_type=target_type,
            health_check_path=service.health_check_path,
            vpc_cidr=service.vpc_cidr,
        )


class InternalAlb(pulumi.ComponentResource):
    """An internal ALB in private subnets: security group, target group and HTTP listener forwarding to it."""

    arn: pulumi.Output[str]
    dns_name: pulumi.Output[str]
    port: int
    security_group_id: pulumi.Output[str]
    target_group_arn: pulumi.Output[str]
    listener: aws.lb.Listener
    target_security_group_id: pulumi.Output[str]

    def __init__(self, name: str, args: InternalAlbArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("whitelabel:internal_alb:InternalAlb", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=args.vpc_id,
            description=f"internal ALB {name}: HTTP {args.port} from the API Gateway VPC link only",
            tags={"Name": f"{name}-sg"},
            opts=child,
        )
        # A REST private integration reaches the ALB through the VPC link's network interfaces, so the
        # link's security group is the only legitimate source; no CIDR rule, let alone 0.0.0.0/0.
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-ingress-vpc-link",
            security_group_id=security_group.id,
            referenced_security_group_id=args.ingress_security_group_id,
            ip_protocol="tcp",
            from_port=args.port,
            to_port=args.port,
            description="HTTP from the API Gateway VPC link",
            opts=child,
        )
        # The provider strips AWS's default allow-all egress from new groups; the ALB needs to reach its
        # targets (traffic and health checks) on the target port.
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-egress-targets",
            security_group_id=security_group.id,
            ip_protocol="tcp",
            from_port=args.port,
            to_port=args.port,
            cidr_ipv4=args.vpc_cidr or "0.0.0.0/0",
            description="to the targets, traffic and health checks",
            opts=child,
        )

        # The targets' own group: the target port from this ALB only, and HTTPS out (image pulls, logs,
        # SSM, packages) through the NAT gateway. Both services put their tasks or instances in it.
        targets = aws.ec2.SecurityGroup(
            f"{name}-targets-sg",
            vpc_id=args.vpc_id,
            description=f"targets of {name}: port {args.port} from the ALB only",
            tags={"Name": f"{name}-targets-sg"},
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-targets-ingress-alb",
            security_group_id=targets.id,
            referenced_security_group_id=security_group.id,
            ip_protocol="tcp",
            from_port=args.port,
            to_port=args.port,
            description="from the internal ALB",
            opts=child,
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-targets-egress-https",
            security_group_id=targets.id,
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4="0.0.0.0/0",
            description="HTTPS out: image pulls, CloudWatch Logs, SSM, packages",
            opts=child,
        )

        load_balancer = aws.lb.LoadBalancer(
            f"{name}-lb",
            load_balancer_type="application",
            internal=True,
            subnets=list(args.subnet_ids),
            security_groups=[security_group.id],
            drop_invalid_header_fields=True,
            tags={"Name": f"{name}-lb"},
            opts=child,
        )
        target_group = aws.lb.TargetGroup(
            f"{name}-tg",
            vpc_id=args.vpc_id,
            port=args.port,
            protocol="HTTP",
            target_type=args.target_type,
            # Targets deregister on every deployment and scale-in; 30 s drains in-flight proxied requests
            # (API Gateway gives up after 29 s by default) without keeping rollouts waiting the default 300 s.
            deregistration_delay=30,
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                path=args.health_check_path,
                protocol="HTTP",
                port="traffic-port",
                matcher="200-399",
                interval=15,
                healthy_threshold=2,
                unhealthy_threshold=3,
            ),
            tags={"Name": f"{name}-tg"},
            opts=child,
        )
        listener = aws.lb.Listener(
            f"{name}-listener",
            load_balancer_arn=load_balancer.arn,
            port=args.port,
            protocol="HTTP",
            default_actions=[aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn=target_group.arn)],
            opts=child,
        )

        self.arn = load_balancer.arn
        self.target_security_group_id = targets.id
        self.dns_name = load_balancer.dns_name
        self.port = args.port
        self.security_group_id = security_group.id
        self.target_group_arn = target_group.arn
        self.listener = listener
        self.register_outputs(
            {
                "arn": self.arn,
                "dnsName": self.dns_name,
                "port": self.port,
                "securityGroupId": self.security_group_id,
                "targetGroupArn": self.target_group_arn,
                "listenerArn": listener.arn,
            }
        )
