"""Where API Gateway VPC links v2 exist: AWS's published availability-zone IDs per region, in one place.

A VPC link v2 can only have network interfaces in the zones listed here, by zone ID (`euw1-az1`), which
names the same physical zone in every account, unlike zone names (`eu-west-1a`), which are mapped per
account in older regions. The network therefore picks its zones by ID from this table and refuses a
region or zone choice the table does not support, before any resource exists.

Source: the table "Availability by Region" of "Set up VPC links V2 in API Gateway",
https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-vpc-links-v2.html (copied as it
stood for this change); when AWS adds a region or zone there, add it here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from whitelabel.config_base import ConfigError

SOURCE = "https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-vpc-links-v2.html"

SUPPORTED_ZONE_IDS: dict[str, tuple[str, ...]] = {
    "us-east-2": ("use2-az1", "use2-az2", "use2-az3"),
    "us-east-1": ("use1-az1", "use1-az2", "use1-az4", "use1-az5", "use1-az6"),
    "us-west-1": ("usw1-az1", "usw1-az3"),
    "us-west-2": ("usw2-az1", "usw2-az2", "usw2-az3", "usw2-az4"),
    "ap-east-1": ("ape1-az2", "ape1-az3"),
    "ap-south-1": ("aps1-az1", "aps1-az2", "aps1-az3"),
    "ap-northeast-2": ("apne2-az1", "apne2-az2", "apne2-az3"),
    "ap-southeast-1": ("apse1-az1", "apse1-az2", "apse1-az3"),
    "ap-southeast-2": ("apse2-az1", "apse2-az2", "apse2-az3"),
    "ap-northeast-1": ("apne1-az1", "apne1-az2", "apne1-az4"),
    "ca-central-1": ("cac1-az1", "cac1-az2"),
    "eu-central-1": ("euc1-az1", "euc1-az2", "euc1-az3"),
    "eu-west-1": ("euw1-az1", "euw1-az2", "euw1-az3"),
    "eu-west-2": ("euw2-az1", "euw2-az2", "euw2-az3"),
    "eu-west-3": ("euw3-az1", "euw3-az3"),
    "eu-south-2": ("eus2-az1", "eus2-az2", "eus2-az3"),
    "eu-north-1": ("eun1-az1", "eun1-az2", "eun1-az3"),
    "me-south-1": ("mes1-az1", "mes1-az2", "mes1-az3"),
    "sa-east-1": ("sae1-az1", "sae1-az2", "sae1-az3"),
    "us-gov-west-1": ("usgw1-az1", "usgw1-az2", "usgw1-az3"),
}


class ZoneChoiceError(ConfigError):
    """A region or zone choice VPC links v2 do not support; the message is one line naming the key."""


@dataclass(frozen=True)
class Zone:
    """One availability zone the network uses: its ID (the same place in every account) and this account's name."""

    zone_id: str
    name: str


def choose_zones(
    region: str,
    zone_names: Sequence[str],
    zone_ids: Sequence[str],
    count: int,
    explicit: Sequence[str] | None = None,
) -> tuple[Zone, ...]:
    """The `count` zones to place subnets (and so the VPC link) in.

    zone_names, zone_ids: the region's available zones as AWS lists them for this account (parallel lists,
    `aws.get_availability_zones`). explicit: `network.zoneIds`, used in its order when given; otherwise the
    first `count` available zones that support VPC links v2, in AWS's order.
    Raises `ZoneChoiceError` when the region, a listed zone, or the number of zones is not supported.
    """
    supported = SUPPORTED_ZONE_IDS.get(region)
    if supported is None:
        raise ZoneChoiceError(
            "region",
            f"{region!r} has no API Gateway VPC links v2; choose one of "
            f"{', '.join(sorted(SUPPORTED_ZONE_IDS))} ({SOURCE})",
            namespace="aws",
        )
    name_of = dict(zip(zone_ids, zone_names, strict=True))
    if explicit is not None:
        for index, zone_id in enumerate(explicit):
            if zone_id not in supported:
                raise ZoneChoiceError(
                    f"network.zoneIds[{index}]",
                    f"{zone_id!r} is not a zone where API Gateway supports VPC links v2 in {region}; "
                    f"supported: {', '.join(supported)} ({SOURCE})",
                )
            if zone_id not in name_of:
                raise ZoneChoiceError(
                    f"network.zoneIds[{index}]",
                    f"{zone_id!r} is not an available zone of this account in {region}; "
                    f"available: {', '.join(zone_ids)}",
                )
        return tuple(Zone(zone_id, name_of[zone_id]) for zone_id in explicit)
    usable = [zone_id for zone_id in zone_ids if zone_id in supported]
    if len(usable) < count:
        raise ZoneChoiceError(
            "network.availabilityZones",
            f"asks for {count} zones but {region} has {len(usable)} available zones where API Gateway "
            f"supports VPC links v2 ({', '.join(usable) or 'none'}; {SOURCE})",
        )
    return tuple(Zone(zone_id, name_of[zone_id]) for zone_id in usable[:count])
