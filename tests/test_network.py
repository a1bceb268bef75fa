"""Mock-engine tests of the network component: subnets, zones, NAT egress, the VPC link security group."""

from __future__ import annotations

import ipaddress
from typing import Any

import pulumi
import pytest

from components.network import Network, NetworkArgs, subnet_cidrs
from tests.conftest import Deployed, deploy, resolve, shared_run
from whitelabel.config import NetworkSettings
from whitelabel.offline import AwsMocks, StackRun, run_program, stack_file_config, zone_id_prefix
from whitelabel.vpc_link_zones import SOURCE, SUPPORTED_ZONE_IDS, ZoneChoiceError, choose_zones


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
    with pytest.raises(pulumi.RunError, match=r"network.availabilityZones: asks for 4 zones but eu-west-1 has 3 "):
        network(4, 1)


# -- zones where VPC links v2 exist (issue 7 §4) ----------------------------------------------------


def test_the_zone_table_names_each_region_s_own_zone_ids() -> None:
    # A typo (a zone of another region) would make a region unusable or a zone wrongly allowed.
    for region, zone_ids in SUPPORTED_ZONE_IDS.items():
        assert zone_ids and all(z.startswith(zone_id_prefix(region) + "-az") for z in zone_ids), region
        assert len(set(zone_ids)) == len(zone_ids)
    assert SOURCE.startswith("https://docs.aws.amazon.com/apigateway/")


def refused(region: str, **network: Any) -> tuple[str, AwsMocks]:
    """Run the real program in `region` (with `network` settings) and return its one-line refusal."""
    values = stack_file_config("dev")
    values["aws:region"] = region
    if network:
        values["whitelabel-gateway:network"] = network
    mocks = AwsMocks(region)
    with pytest.raises(pulumi.RunError) as caught:
        run_program("dev", values, mocks=mocks)
    return str(caught.value), mocks


def test_a_region_without_vpc_links_is_refused_before_any_resource() -> None:
    message, mocks = refused("af-south-1")
    assert message.startswith("aws:region: 'af-south-1' has no API Gateway VPC links v2; choose one of ")
    assert "\n" not in message and SOURCE in message
    assert mocks.registered == []


def test_too_few_supported_zones_for_the_zone_count_is_refused_before_any_resource() -> None:
    # ap-east-1 has three zones; VPC links v2 exist only in ape1-az2 and ape1-az3.
    message, mocks = refused("ap-east-1", availabilityZones=3, natGateways=1)
    assert message.startswith(
        "whitelabel-gateway:network.availabilityZones: asks for 3 zones but ap-east-1 has 2 available zones "
        "where API Gateway supports VPC links v2 (ape1-az2, ape1-az3; "
    )
    assert mocks.registered == []


def test_an_explicit_zone_id_aws_does_not_support_for_vpc_links_is_refused_before_any_resource() -> None:
    message, mocks = refused("eu-west-3", availabilityZones=2, zoneIds=["euw3-az1", "euw3-az2"])
    assert message.startswith(
        "whitelabel-gateway:network.zoneIds[1]: 'euw3-az2' is not a zone where API Gateway supports VPC links v2 "
        "in eu-west-3; supported: euw3-az1, euw3-az3 ("
    )
    assert mocks.registered == []


def _subnet_zones(run: StackRun) -> dict[str, str]:
    return {s.name: s.inputs["availabilityZone"] for s in run.of_type("aws:ec2/subnet:Subnet")}


def test_subnets_and_the_vpc_link_skip_zones_without_vpc_link_support() -> None:
    values = stack_file_config("dev")
    values["aws:region"] = "ap-east-1"
    run = shared_run("dev", values)
    # ape1-az1 (ap-east-1a here) has no VPC links: the two zones are az2 and az3.
    assert _subnet_zones(run) == {
        "network-public-0": "ap-east-1b",
        "network-private-0": "ap-east-1b",
        "network-public-1": "ap-east-1c",
        "network-private-1": "ap-east-1c",
    }
    (link,) = run.of_type("aws:apigatewayv2/vpcLink:VpcLink")
    private = {s.id for s in run.of_type("aws:ec2/subnet:Subnet") if "-private-" in s.name}
    assert set(link.inputs["subnetIds"]) == private


class RemappedZones(AwsMocks):
    """An account whose zone names map to other zone IDs, as AWS does per account in older regions."""

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        if args.token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            names = ["eu-west-3a", "eu-west-3b", "eu-west-3c"]
            return {"names": names, "zoneIds": ["euw3-az3", "euw3-az2", "euw3-az1"], "id": self.region}, []
        return super().call(args)


def test_zones_are_chosen_by_id_and_placed_by_this_account_s_name_for_them() -> None:
    values = stack_file_config("dev")
    values["aws:region"] = "eu-west-3"
    values["whitelabel-gateway:network"] = {"zoneIds": ["euw3-az1", "euw3-az3"]}
    run = run_program("dev", values, mocks=RemappedZones("eu-west-3"))
    zones = _subnet_zones(run)
    # euw3-az1 is this account's eu-west-3c, euw3-az3 its eu-west-3a.
    assert (zones["network-private-0"], zones["network-private-1"]) == ("eu-west-3c", "eu-west-3a")
    # Without explicit IDs the same account gets the supported zones in AWS's order, never euw3-az2.
    del values["whitelabel-gateway:network"]
    default = _subnet_zones(run_program("dev", values, mocks=RemappedZones("eu-west-3")))
    assert (default["network-private-0"], default["network-private-1"]) == ("eu-west-3a", "eu-west-3c")


def test_an_explicit_zone_id_this_account_does_not_have_is_refused() -> None:
    # euw1-az3 supports VPC links, but this account's region answers with two zones only.
    with pytest.raises(ZoneChoiceError) as caught:
        choose_zones("eu-west-1", ["eu-west-1a", "eu-west-1b"], ["euw1-az1", "euw1-az2"], 2, ["euw1-az1", "euw1-az3"])
    assert str(caught.value) == (
        "whitelabel-gateway:network.zoneIds[1]: 'euw1-az3' is not an available zone of this account in eu-west-1; "
        "available: euw1-az1, euw1-az2"
    )
