"""The VPC every backend lives in: public subnets for NAT, private subnets for load balancers and workloads."""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from whitelabel.config import NetworkSettings

# Subnets are /prefix+4 blocks: 16 per VPC. Private subnets start at block 8 so that adding a zone later
# appends subnets instead of renumbering existing ones (6 zones at most, so the halves never overlap).
PRIVATE_BLOCK_OFFSET = 8


def subnet_cidrs(cidr: str, zones: int) -> tuple[list[str], list[str]]:
    """Cut `cidr` into /prefix+4 blocks and return (public, private) CIDRs, one of each per zone."""
    blocks = [str(block) for block in ipaddress.IPv4Network(cidr).subnets(prefixlen_diff=4)]
    if zones > PRIVATE_BLOCK_OFFSET:
        raise ValueError(f"at most {PRIVATE_BLOCK_OFFSET} zones fit the subnet layout, got {zones}")
    return blocks[:zones], blocks[PRIVATE_BLOCK_OFFSET : PRIVATE_BLOCK_OFFSET + zones]


def _zone(names: list[str], index: int) -> str:
    if index >= len(names):
        raise pulumi.RunError(
            f"network.availabilityZones: asks for {index + 1} zones but the region has {len(names)} available"
        )
    return names[index]


@dataclass(frozen=True)
class NetworkArgs:
    """Inputs of `Network`: the VPC CIDR, how many zones to span and how many NAT gateways to run."""

    cidr: str
    availability_zones: int
    nat_gateways: int

    @classmethod
    def from_settings(cls, settings: NetworkSettings) -> NetworkArgs:
        """Map the validated `network` config to the component's arguments."""
        return cls(
            cidr=settings.cidr, availability_zones=settings.availability_zones, nat_gateways=settings.nat_gateways
        )


class Network(pulumi.ComponentResource):
    """A VPC with a public and a private subnet per zone, NAT egress and the API Gateway VPC link security group.

    nat_gateways: one NAT gateway is cheap but a single-zone dependency; one per zone survives a zone outage.
    Private subnet i routes through NAT gateway i modulo the NAT count.
    """

    vpc_id: pulumi.Output[str]
    vpc_cidr: str
    public_subnet_ids: list[pulumi.Output[str]]
    private_subnet_ids: list[pulumi.Output[str]]
    vpc_link_security_group_id: pulumi.Output[str]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("whitelabel:network:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        public_cidrs, private_cidrs = subnet_cidrs(args.cidr, args.availability_zones)

        # Hostnames and DNS support are both needed for private DNS inside the VPC (interface endpoints, ECS).
        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={"Name": f"{name}-vpc"},
            opts=child,
        )
        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags={"Name": f"{name}-igw"}, opts=child)

        zones = aws.get_availability_zones_output(state="available", opts=pulumi.InvokeOutputOptions(parent=self))
        public_subnets: list[aws.ec2.Subnet] = []
        private_subnets: list[aws.ec2.Subnet] = []
        for index in range(args.availability_zones):
            # Index the invoke's Output; the subnets themselves are created here, never inside an apply.
            zone = zones.names.apply(functools.partial(_zone, index=index))
            public_subnets.append(
                aws.ec2.Subnet(
                    f"{name}-public-{index}",
                    vpc_id=vpc.id,
                    cidr_block=public_cidrs[index],
                    availability_zone=zone,
                    # Nothing of ours runs here with a public address: NAT gateways carry their own EIP.
                    map_public_ip_on_launch=False,
                    tags={"Name": f"{name}-public-{index}", "tier": "public"},
                    opts=child,
                )
            )
            private_subnets.append(
                aws.ec2.Subnet(
                    f"{name}-private-{index}",
                    vpc_id=vpc.id,
                    cidr_block=private_cidrs[index],
                    availability_zone=zone,
                    tags={"Name": f"{name}-private-{index}", "tier": "private"},
                    opts=child,
                )
            )

        public_routes = aws.ec2.RouteTable(
            f"{name}-public-rt",
            vpc_id=vpc.id,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=igw.id)],
            tags={"Name": f"{name}-public-rt"},
            opts=child,
        )
        for index, subnet in enumerate(public_subnets):
            aws.ec2.RouteTableAssociation(
                f"{name}-public-rta-{index}", subnet_id=subnet.id, route_table_id=public_routes.id, opts=child
            )

        # A NAT gateway in a public subnet needs the VPC's internet gateway attached before it can route.
        after_igw = pulumi.ResourceOptions(parent=self, depends_on=[igw])
        nat_gateways: list[aws.ec2.NatGateway] = []
        for index in range(args.nat_gateways):
            eip = aws.ec2.Eip(
                f"{name}-nat-eip-{index}", domain="vpc", tags={"Name": f"{name}-nat-{index}"}, opts=after_igw
            )
            nat_gateways.append(
                aws.ec2.NatGateway(
                    f"{name}-nat-{index}",
                    allocation_id=eip.allocation_id,
                    subnet_id=public_subnets[index].id,
                    tags={"Name": f"{name}-nat-{index}"},
                    opts=after_igw,
                )
            )

        for index, subnet in enumerate(private_subnets):
            nat = nat_gateways[index % len(nat_gateways)]
            routes = aws.ec2.RouteTable(
                f"{name}-private-rt-{index}",
                vpc_id=vpc.id,
                routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", nat_gateway_id=nat.id)],
                tags={"Name": f"{name}-private-rt-{index}"},
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-rta-{index}", subnet_id=subnet.id, route_table_id=routes.id, opts=child
            )

        # The VPC link's network interfaces only open connections to the internal load balancers; nothing
        # connects to them. The provider removes AWS's default allow-all egress rule from a new group, so the
        # one egress rule below is all this group allows.
        link_sg = aws.ec2.SecurityGroup(
            f"{name}-vpc-link-sg",
            vpc_id=vpc.id,
            description="API Gateway VPC link: egress to the VPC only",
            tags={"Name": f"{name}-vpc-link-sg"},
            opts=child,
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-vpc-link-egress",
            security_group_id=link_sg.id,
            ip_protocol="tcp",
            from_port=0,
            to_port=65535,
            cidr_ipv4=args.cidr,
            description="to the internal load balancers",
            opts=child,
        )

        self.vpc_id = vpc.id
        self.vpc_cidr = args.cidr
        self.public_subnet_ids = [subnet.id for subnet in public_subnets]
        self.private_subnet_ids = [subnet.id for subnet in private_subnets]
        self.vpc_link_security_group_id = link_sg.id
        self.register_outputs(
            {
                "vpcId": self.vpc_id,
                "vpcCidr": self.vpc_cidr,
                "publicSubnetIds": self.public_subnet_ids,
                "privateSubnetIds": self.private_subnet_ids,
                "vpcLinkSecurityGroupId": self.vpc_link_security_group_id,
            }
        )
