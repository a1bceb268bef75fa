"""The reference stack's own services in config (`network`, `service1`, `service2`, `docs`): the example
backends `services/` builds, not the component's args."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from pathlib import Path

from pydantic import (
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from whitelabel.config_base import CliBool, FieldRuleError, Int, _Model, show

# Fargate's valid cpu/memory pairs (MiB), from the ECS task-size table.
FARGATE_MEMORY = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4097, 1024)),
    1024: tuple(range(2048, 8193, 1024)),
    2048: tuple(range(4096, 16385, 1024)),
    4096: tuple(range(8192, 30721, 1024)),
}

# An AZ ID is "the first three letters of the Region code, followed by the number at the end of the Region
# code, followed by -az, followed by a number" (euw1-az1; apse2-az1 for ap-southeast-2):
# https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-availability-zones.html
ZONE_ID_RE = re.compile(r"^[a-z]{2,5}[0-9]{1,2}-az[0-9]{1,2}\Z")


# An image reference as docker/distribution parses it (reference.go, v0.5.0: "reference := name [ ":" tag ]
# [ "@" digest ]"; https://github.com/distribution/reference/blob/v0.5.0/reference.go). ASCII only: Python's
# `\w` would take any Unicode letter.
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[_.]|__|-+)[a-z0-9]+)*"
_NAME = rf"(?:{_HOST}(?::[0-9]+)?/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
IMAGE_RE = re.compile(rf"^(?P<name>{_NAME})(?::{_TAG})?(?:@{_DIGEST})?\Z", re.ASCII)
NAME_TOTAL_LENGTH_MAX = 255  # distribution/reference: "NameTotalLengthMax"
IMAGE_RULE = (
    "is not an image reference: [registry[:port]/]repository[:tag][@digest], repository path in lowercase"
    " (such as public.ecr.aws/nginx/nginx:stable-alpine)"
)


def is_image_reference(value: str) -> bool:
    """True for a reference a container runtime can pull: registry, repository path, tag or digest."""
    if len(value) > 2 * NAME_TOTAL_LENGTH_MAX + 256:  # a name, a tag and a long digest at most
        return False
    match = IMAGE_RE.match(value)
    return match is not None and len(match["name"]) <= NAME_TOTAL_LENGTH_MAX


# A target group's health-check path: a URL path the load balancer requests, so '/' then visible ASCII (no
# space, no control character); 1024 characters is our own bound, far above any real health check.
HEALTH_CHECK_PATH_RE = re.compile(r"^/[!-~]{0,1023}\Z")


def check_health_check_path(value: str) -> str:
    """Refuse a health-check path a load balancer could not request."""
    if not HEALTH_CHECK_PATH_RE.match(value):
        raise ValueError(
            f"{show(value)} must be a URL path: '/' then up to 1023 visible ASCII characters, no spaces"
            " (such as /healthz)"
        )
    return value


class NetworkSettings(_Model):
    """The VPC: CIDR, how many availability zones, how many NAT gateways."""

    cidr: str = "10.0.0.0/16"
    """IPv4 CIDR, /16 to /20; cut into /prefix+4 subnets"""
    availability_zones: Int = Field(default=2, ge=2, le=6, alias="availabilityZones")
    """2 to 6; one public and one private subnet in each"""
    nat_gateways: Int = Field(default=1, ge=1, le=6, alias="natGateways")
    """1 to `availabilityZones`; dev: 1, prod: one per zone"""
    # Explicit AZ IDs (VPC links v2 exist only in some zone IDs per region); the region check is the
    # network's, this one checks the shape.
    zone_ids: tuple[str, ...] | None = Field(default=None, alias="zoneIds")
    """availability-zone IDs such as `euw1-az1`, each supported by VPC links v2 in the region and available to the
    account; unique; as many as `availabilityZones`. Default: unset (the first available zones that support VPC
    links v2, by zone ID)."""

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        try:
            net = ipaddress.IPv4Network(value)
        except ValueError:
            raise ValueError(f"{show(value)} must be an IPv4 CIDR block such as 10.0.0.0/16") from None
        if not 16 <= net.prefixlen <= 20:
            raise ValueError(f"{show(value)} must have a prefix between /16 and /20 (subnets are cut as /prefix+4)")
        return value

    @field_validator("zone_ids")
    @classmethod
    def _zone_ids(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is None:
            return value
        for zone_id in value:
            if not ZONE_ID_RE.match(zone_id):
                raise ValueError(f"{show(zone_id)} is not an availability-zone ID such as euw1-az1 or use1-az4")
        duplicates = sorted({z for z in value if value.count(z) > 1})
        if duplicates:
            raise ValueError(f"{', '.join(duplicates)} listed more than once; zone IDs must be unique")
        return value

    @model_validator(mode="after")
    def _nat_within_zones(self) -> NetworkSettings:
        if self.nat_gateways > self.availability_zones:
            raise FieldRuleError(
                "natGateways",
                f"{self.nat_gateways} must not exceed availabilityZones ({self.availability_zones})",
            )
        if self.zone_ids is not None and len(self.zone_ids) != self.availability_zones:
            raise FieldRuleError(
                "zoneIds",
                f"lists {len(self.zone_ids)} zones but availabilityZones is {self.availability_zones};"
                " list exactly one zone ID per availability zone",
            )
        return self


class Service1Settings(_Model):
    """The ECS Fargate microservice behind `/service1`."""

    image: str = "public.ecr.aws/nginx/nginx:stable-alpine"
    """container image of the ECS service: an image reference `[registry[:port]/]repository[:tag][@digest]`,
    repository path in lowercase"""
    port: Int = Field(default=80, ge=1, le=65535)
    """container and listener port, 1 to 65535"""
    cpu: Int = 256
    """a valid Fargate pair (MiB)"""
    memory: Int = 512
    """a valid Fargate pair (MiB)"""
    desired_count: Int = Field(default=1, ge=0, le=100, alias="desiredCount")
    """0 to 100 tasks"""
    health_check_path: str = Field(default="/", alias="healthCheckPath")
    """target-group health check: `/` then up to 1023 visible ASCII characters, no spaces"""

    @field_validator("health_check_path")
    @classmethod
    def _health_check_path(cls, value: str) -> str:
        return check_health_check_path(value)

    @field_validator("image")
    @classmethod
    def _image_reference(cls, value: str) -> str:
        if not is_image_reference(value):
            raise ValueError(f"{show(value)} {IMAGE_RULE}")
        return value

    @model_validator(mode="after")
    def _fargate_size(self) -> Service1Settings:
        allowed = FARGATE_MEMORY.get(self.cpu)
        if allowed is None:
            raise FieldRuleError("cpu", f"{self.cpu} is not a Fargate size: one of {sorted(FARGATE_MEMORY)}")
        if self.memory not in allowed:
            raise FieldRuleError(
                "memory", f"{self.memory} does not fit cpu {self.cpu} on Fargate: {allowed[0]} to {allowed[-1]} MiB"
            )
        return self


# An EC2 instance type: family, generation and options, a dot, then the size (t3.micro, m7i-flex.large).
INSTANCE_TYPE_RE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+\Z")


class Service2Settings(_Model):
    """The EC2 web app (Auto Scaling group) behind `/service2`."""

    instance_type: str = Field(default="t3.micro", alias="instanceType")
    """EC2 instance type"""
    port: Int = Field(default=80, ge=1, le=65535)
    """web server and listener port, 1 to 65535"""
    min_size: Int = Field(default=1, ge=0, le=100, alias="minSize")
    """Auto Scaling bounds: `minSize` 0 to 100, `maxSize` 1 to 100, `minSize ≤ maxSize`"""
    max_size: Int = Field(default=2, ge=1, le=100, alias="maxSize")
    """Auto Scaling bounds: `minSize` 0 to 100, `maxSize` 1 to 100, `minSize ≤ maxSize`"""
    desired_capacity: Int | None = Field(default=None, ge=0, le=100, alias="desiredCapacity")
    """0 to 100, between `minSize` and `maxSize`"""
    health_check_path: str = Field(default="/", alias="healthCheckPath")
    """target-group health check: `/` then up to 1023 visible ASCII characters, no spaces"""

    @field_validator("health_check_path")
    @classmethod
    def _health_check_path(cls, value: str) -> str:
        return check_health_check_path(value)

    @field_validator("instance_type")
    @classmethod
    def _instance_type(cls, value: str) -> str:
        # A pattern in the field would be refused in pydantic's words ("String should match pattern").
        if not INSTANCE_TYPE_RE.match(value):
            raise ValueError(f"{show(value)} must be an EC2 instance type such as t3.micro or m7i.large")
        return value

    @model_validator(mode="after")
    def _sizes(self) -> Service2Settings:
        if self.min_size > self.max_size:
            raise FieldRuleError("minSize", f"{self.min_size} must not exceed maxSize ({self.max_size})")
        desired = self.desired_capacity
        if desired is not None and not self.min_size <= desired <= self.max_size:
            raise FieldRuleError(
                "desiredCapacity", f"{desired} must lie between minSize ({self.min_size}) and maxSize ({self.max_size})"
            )
        return self


# A URL (`s3://bucket`, `https://…`) where a folder of the repository belongs.
URL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# Linux's PATH_MAX; longer paths make the filesystem calls themselves fail.
PATH_MAX = 4096
FOLDER_RULE = "must be a folder inside the repository, relative to the project directory (such as documents)"


def project_dir(info: ValidationInfo | None = None) -> Path:
    """The project directory: the validation context's `project_dir`, else the working directory (where
    Pulumi runs the program, and where the program reads `docs.folder` from)."""
    context = info.context if info is not None else None
    if isinstance(context, Mapping) and context.get("project_dir") is not None:
        return Path(context["project_dir"])
    return Path.cwd()


def check_docs_folder(folder: str, root: Path) -> str:
    """Refuse a docs folder that is not a folder inside the repository at `root`; the message never holds
    an absolute path of this machine."""
    if URL_RE.match(folder):
        raise ValueError(f"{show(folder)} is a URL; {FOLDER_RULE}")
    if not folder or len(folder) > PATH_MAX or not folder.isprintable():
        raise ValueError(f"{show(folder)} {FOLDER_RULE}")
    try:
        base = root.resolve()
        resolved = (base / folder).resolve()  # an absolute `folder` replaces `base` here
        inside = resolved.is_relative_to(base) and resolved != base
        is_folder = inside and resolved.is_dir()
    except (OSError, ValueError):
        raise ValueError(f"{show(folder)} {FOLDER_RULE}") from None
    if not inside:
        # `..` leaving the repository, an absolute path elsewhere, a symlink out, or the repository itself
        # (which would upload the program, its stack files and its virtualenv).
        raise ValueError(f"{show(folder)} lies outside the repository or is its root; {FOLDER_RULE}")
    if not is_folder:
        raise ValueError(f"{show(folder)} is not a folder of the repository; create it or set docs.folder")
    return folder


class DocsSettings(_Model):
    """The documents served at `/docs`."""

    folder: str = "documents"
    """folder inside the repository, relative to the project directory (not a URL, not the repository's root, no `..`
    leaving it), uploaded to the bucket"""
    versioning: CliBool = False
    """S3 versioning (prod: `true`); always on when `protectResources` is `true`"""
    # A developer portal per tenant (docs "Developer portal per tenant"): `/docs` reads the tenant's own pages
    # under `tenants/<tenantId>/`. Off (the default): one shared page, as every stack before it.
    per_tenant: CliBool = Field(default=False, alias="perTenant")
    """a developer portal per customer at `/docs` ("Developer portal per tenant"); `false`: one shared page from
    `docs.folder`, as before. With `true` each document of `docs.folder` but `index.html` gets a route of its own:
    its path must be letters, digits, `.`, `-`, `_` and `/`, not `openapi.json`, `logo` or under `portal/`"""

    @field_validator("folder")
    @classmethod
    def _folder_in_repository(cls, value: str, info: ValidationInfo) -> str:
        return check_docs_folder(value, project_dir(info))
