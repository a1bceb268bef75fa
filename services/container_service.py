"""The `/service1` backend: a container on ECS Fargate behind an internal ALB."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.network import Network
from services.internal_alb import InternalAlb, InternalAlbArgs
from whitelabel.config import Service1Settings
from whitelabel.policies import assume_role_policy
from whitelabel.protection import resource_options

CONTAINER_NAME = "app"
EXECUTION_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"


@dataclass(frozen=True)
class ContainerServiceArgs:
    """Inputs of `ContainerService`.

    cpu, memory: a Fargate task size (validated against the Fargate table in config).
    resource_prefix: `<namePrefix or project>-<stack>`; the task family (unique per account and region)
        starts with it.
    ingress_security_group_id: the API Gateway VPC link's group, the only one the ALB admits.
    protect: protected production (`protectResources`): the container log group is retained on delete.
    """

    vpc_id: pulumi.Input[str]
    vpc_cidr: str
    subnet_ids: Sequence[pulumi.Input[str]]
    ingress_security_group_id: pulumi.Input[str]
    image: str
    port: int
    cpu: int
    memory: int
    desired_count: int
    health_check_path: str
    log_retention_days: int
    resource_prefix: str
    protect: bool = False

    @classmethod
    def from_settings(
        cls,
        settings: Service1Settings,
        network: Network,
        log_retention_days: int,
        resource_prefix: str,
        protect: bool = False,
    ) -> ContainerServiceArgs:
        """Map the validated `service1` config and the network to the component's arguments."""
        return cls(
            vpc_id=network.vpc_id,
            vpc_cidr=network.vpc_cidr,
            subnet_ids=network.private_subnet_ids,
            ingress_security_group_id=network.vpc_link_security_group_id,
            image=settings.image,
            port=settings.port,
            cpu=settings.cpu,
            memory=settings.memory,
            desired_count=settings.desired_count,
            health_check_path=settings.health_check_path,
            log_retention_days=log_retention_days,
            resource_prefix=resource_prefix,
            protect=protect,
        )


class ContainerService(pulumi.ComponentResource):
    """An ECS cluster and Fargate service in private subnets, registered with its own internal ALB."""

    load_balancer: InternalAlb
    log_group_name: pulumi.Output[str]
    cluster_name: pulumi.Output[str]
    service_name: pulumi.Output[str]

    def __init__(self, name: str, args: ContainerServiceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("whitelabel:container_service:ContainerService", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        cluster = aws.ecs.Cluster(
            f"{name}-cluster",
            settings=[aws.ecs.ClusterSettingArgs(name="containerInsights", value="enabled")],
            opts=child,
        )
        execution_role = aws.iam.Role(
            f"{name}-execution-role",
            assume_role_policy=assume_role_policy("ecs-tasks.amazonaws.com"),
            opts=child,
        )
        # Pulling the image and writing to CloudWatch Logs is all the ECS agent does with this role.
        aws.iam.RolePolicyAttachment(
            f"{name}-execution-policy", role=execution_role.name, policy_arn=EXECUTION_POLICY_ARN, opts=child
        )
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            retention_in_days=args.log_retention_days,
            opts=resource_options("log-group", args.protect, parent=self),
        )

        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region
        container_definitions = pulumi.Output.json_dumps(
            [
                {
                    "name": CONTAINER_NAME,
                    "image": args.image,
                    "essential": True,
                    "portMappings": [{"containerPort": args.port, "protocol": "tcp"}],
                    "logConfiguration": {
                        "logDriver": "awslogs",
                        "options": {
                            "awslogs-group": log_group.name,
                            "awslogs-region": region,
                            "awslogs-stream-prefix": name,
                        },
                    },
                }
            ]
        )
        task_definition = aws.ecs.TaskDefinition(
            f"{name}-task",
            family=f"{args.resource_prefix}-{name}",
            requires_compatibilities=["FARGATE"],
            # Fargate supports only awsvpc: every task gets its own interface, hence an "ip" target group.
            network_mode="awsvpc",
            cpu=str(args.cpu),
            memory=str(args.memory),
            execution_role_arn=execution_role.arn,
            container_definitions=container_definitions,
            runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(
                operating_system_family="LINUX", cpu_architecture="X86_64"
            ),
            opts=child,
        )

        alb = InternalAlb(f"{name}-alb", InternalAlbArgs.for_service(args, "ip"), opts=child)

        service = aws.ecs.Service(
            f"{name}-service",
            cluster=cluster.arn,
            task_definition=task_definition.arn,
            launch_type="FARGATE",
            desired_count=args.desired_count,
            network_configuration=aws.ecs.ServiceNetworkConfigurationArgs(
                subnets=list(args.subnet_ids),
                security_groups=[alb.target_security_group_id],
                assign_public_ip=False,
            ),
            load_balancers=[
                aws.ecs.ServiceLoadBalancerArgs(
                    target_group_arn=alb.target_group_arn,
                    container_name=CONTAINER_NAME,
                    container_port=args.port,
                )
            ],
            health_check_grace_period_seconds=60,
            deployment_circuit_breaker=aws.ecs.ServiceDeploymentCircuitBreakerArgs(enable=True, rollback=True),
            propagate_tags="SERVICE",
            # ECS rejects a service whose target group is not yet attached to a load balancer; the listener
            # is what attaches it.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[alb.listener]),
        )

        self.load_balancer = alb
        self.log_group_name = log_group.name
        self.cluster_name = cluster.name
        self.service_name = service.name
        self.register_outputs(
            {
                "loadBalancerDnsName": alb.dns_name,
                "logGroupName": self.log_group_name,
                "clusterName": self.cluster_name,
                "serviceName": self.service_name,
            }
        )
