"""The VPC every backend lives in: public subnets for NAT, private subnets for load balancers and workloads."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from whitelabel.config import NetworkSettings
from whitelabel.vpc_link_zones import Zone, ZoneChoiceError, choose_zones

# Subnets are /prefix+4 blocks: 16 per VPC. Private subnets start at block 8 so that adding a zone later
# appends subnets instead of renumbering existing ones (6 zones at most, so the halves never overlap).
PRIVATE_BLOCK_OFFSET = 8


def subnet_cidrs(cidr: str, zones: int) -> tuple[list[str], list[str]]:
    """Cut `cidr` into /prefix+4 blocks and return (public, private) CIDRs, one of each per zone."""
    blocks = [str(block) for block in ipaddress.IPv4Network(cidr).subnets(prefixlen_diff=4)]
    if zones > PRIVATE_BLOCK_OFFSET:
        raise ValueError(f"at most {PRIVATE_BLOCK_OFFSET} zones fit the subnet layout, got {zones}")
    return blocks[:zones], blocks[PRIVATE_BLOCK_OFFSET : PRIVATE_BLOCK_OFFSET + zones]


@dataclass(frozen=True)
class NetworkArgs:
    """Inputs of `Network`: the VPC CIDR, the zones to span and how many NAT gateways to run.

    zones: where the subnets go, one public and one private subnet per zone; the VPC link v2 lives in the
        private ones, so every zone must be one where AWS supports VPC links (`whitelabel.vpc_link_zones`).
    """

    cidr: str
    zones: tuple[Zone, ...]
    nat_gateways: int

    @classmethod
    def from_settings(cls, settings: NetworkSettings) -> NetworkArgs:
        """Map the validated `network` config to the component's arguments, choosing its zones by zone ID.

        Call it before the first resource: it asks AWS for the region's zones (a plain invoke, not an
        Output) and stops the program with one line when the region or the zone choice does not support
        VPC links v2, so nothing is created that the VPC link could not use.
        """
        region = aws.get_region().region
        available = aws.get_availability_zones(state="available")
        try:
            zones = choose_zones(
                region, available.names, available.zone_ids, settings.availability_zones, settings.zone_ids
            )
        except ZoneChoiceError as error:
            # RunError: the engine prints the one line, no traceback, as for any config error.
            raise pulumi.RunError(str(error)) from None
        return cls(cidr=settings.cidr, zones=zones, nat_gateways=settings.nat_gateways)


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
        public_cidrs, private_cidrs = subnet_cidrs(args.cidr, len(args.zones))

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

        public_subnets: list[aws.ec2.Subnet] = []
        private_subnets: list[aws.ec2.Subnet] = []
        for index, chosen in enumerate(args.zones):
            # Chosen by zone ID, placed by this account's name for it: a stack created before zones were
            # chosen by ID keeps its subnets (same names, no replacement) wherever those zones qualify.
            zone = chosen.name
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
