"""Mock-engine tests of the network component: subnets, zones, NAT egress, the VPC link security group."""

from __future__ import annotations

import ipaddress

import pytest

from components.network import Network, NetworkArgs, subnet_cidrs
from tests.conftest import Deployed, deploy, resolve
from whitelabel.config import NetworkSettings


def network(zones: int, nats: int) -> Deployed:
    settings = NetworkSettings(availabilityZones=zones, natGateways=nats)
    return deploy(lambda: Network("network", NetworkArgs.from_settings(settings)))


def test_subnet_layout_is_stable_when_a_zone_is_added() -> None:
    public2, private2 = subnet_cidrs("10.0.0.0/16", 2)
    public3, private3 = subnet_cidrs("10.0.0.0/16", 3)
    assert public2 == ["10.0.0.0/20", "10.0.16.0/20"]
    assert private2 == ["10.0.128.0/20", "10.0.144.0/20"]
    assert public3[:2] == public2 and private3[:2] == private2
    blocks = [ipaddress.IPv4Network(c) for c in subnet_cidrs("10.0.0.0/16", 6)[0] + subnet_cidrs("10.0.0.0/16", 6)[1]]
    assert not any(a.overlaps(b) for i, a in enumerate(blocks) for b in blocks[i + 1 :])


def test_vpc_resolves_dns_and_subnets_span_distinct_zones() -> None:
    run = network(3, 1)
    (vpc,) = run.of_type("aws:ec2/vpc:Vpc")
    assert vpc.inputs["cidrBlock"] == "10.0.0.0/16"
    assert vpc.inputs["enableDnsSupport"] is True and vpc.inputs["enableDnsHostnames"] is True
    subnets = run.of_type("aws:ec2/subnet:Subnet")
    public = [s for s in subnets if "-public-" in s.name]
    private = [s for s in subnets if "-private-" in s.name]
    assert len(public) == len(private) == 3
    for tier in (public, private):
        assert [s.inputs["availabilityZone"] for s in tier] == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    assert all(s.inputs["vpcId"] == vpc.id for s in subnets)
    assert not any(s.inputs.get("mapPublicIpOnLaunch") for s in subnets)


def test_one_nat_gateway_serves_every_private_subnet() -> None:
    run = network(2, 1)
    (nat,) = run.of_type("aws:ec2/natGateway:NatGateway")
    (eip,) = run.of_type("aws:ec2/eip:Eip")
    assert eip.inputs["domain"] == "vpc"
    assert nat.inputs["subnetId"] == run.named("network-public-0").id
    private_routes = [r for r in run.of_type("aws:ec2/routeTable:RouteTable") if "-private-rt-" in r.name]
    assert len(private_routes) == 2
    for table in private_routes:
        assert table.inputs["routes"] == [{"cidrBlock": "0.0.0.0/0", "natGatewayId": nat.id}]


def test_a_nat_gateway_per_zone_keeps_each_zone_on_its_own_nat() -> None:
    run = network(3, 3)
    nats = run.of_type("aws:ec2/natGateway:NatGateway")
    assert len(nats) == 3 and len(run.of_type("aws:ec2/eip:Eip")) == 3
    assert [n.inputs["subnetId"] for n in nats] == [run.named(f"network-public-{i}").id for i in range(3)]
    associations = {
        a.inputs["subnetId"]: a.inputs["routeTableId"]
        for a in run.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation")
    }
    tables = {t.id: t for t in run.of_type("aws:ec2/routeTable:RouteTable")}
    for index in range(3):
        table = tables[associations[run.named(f"network-private-{index}").id]]
        assert table.inputs["routes"][0]["natGatewayId"] == nats[index].id


def test_nat_count_below_zone_count_wraps_around() -> None:
    run = network(3, 2)
    nats = run.of_type("aws:ec2/natGateway:NatGateway")
    assert len(nats) == 2
    last = run.named("network-private-rt-2")
    assert last.inputs["routes"][0]["natGatewayId"] == nats[0].id


def test_public_subnets_route_to_the_internet_gateway() -> None:
    run = network(2, 1)
    (igw,) = run.of_type("aws:ec2/internetGateway:InternetGateway")
    public_table = run.named("network-public-rt")
    assert public_table.inputs["routes"] == [{"cidrBlock": "0.0.0.0/0", "gatewayId": igw.id}]
    associated = [
        a.inputs["subnetId"]
        for a in run.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation")
        if a.inputs["routeTableId"] == public_table.id
    ]
    assert sorted(associated) == sorted([run.named("network-public-0").id, run.named("network-public-1").id])
    # NAT gateways and their addresses wait for the internet gateway.
    assert igw.urn in run.named("network-nat-0").dependencies


def test_vpc_link_security_group_only_reaches_into_the_vpc() -> None:
    run = network(2, 1)
    link_sg = run.named("network-vpc-link-sg")
    assert "ingress" not in link_sg.inputs and "egress" not in link_sg.inputs
    rules_on_link = [
        r
        for r in run.resources
        if r.type.startswith("aws:vpc/securityGroup") and r.inputs["securityGroupId"] == link_sg.id
    ]
    assert [
        (r.type, r.inputs["ipProtocol"], r.inputs["fromPort"], r.inputs["toPort"], r.inputs["cidrIpv4"])
        for r in rules_on_link
    ] == [("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "tcp", 0, 65535, "10.0.0.0/16")]


def test_outputs_are_the_created_resources_and_children_belong_to_the_component() -> None:
    run = network(2, 1)
    component = run.named("network")
    assert component.type == "whitelabel:network:Network"
    children = [r for r in run.resources if r.custom]
    assert children and all(r.parent == component.urn for r in children)
    net: Network = run.value
    assert net.vpc_cidr == "10.0.0.0/16"
    assert resolve(net.vpc_id) == run.named("network-vpc").id
    assert resolve(net.private_subnet_ids) == [run.named(f"network-private-{i}").id for i in range(2)]
    assert resolve(net.public_subnet_ids) == [run.named(f"network-public-{i}").id for i in range(2)]
    assert resolve(net.vpc_link_security_group_id) == run.named("network-vpc-link-sg").id


def test_more_zones_than_the_region_has_is_a_clear_error() -> None:
    # The offline region answers with three zones.
    with pytest.raises(Exception, match=r"network.availabilityZones: asks for 4 zones but the region has 3"):
        network(4, 1)
