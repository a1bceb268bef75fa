"""Protected production: which resources `protectResources` protects or retains, decided in one place.

`protect`: Pulumi refuses any deployment that would delete the resource, a replacement included, until it is
unprotected (https://www.pulumi.com/docs/iac/concepts/resources/options/protect/).
`retain_on_delete`: when Pulumi deletes or replaces the resource it only forgets it; the cloud resource stays
(https://www.pulumi.com/docs/iac/concepts/resources/options/retainondelete/).

Set on each resource through `resource_options`, not by a resource transform: the mock engine the tests run on
does not run transforms, and the proof that prod is protected must come from that engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import pulumi

Role = Literal[
    "docs-bucket",
    "tenant-registry",
    "certificate",
    "custom-domain",
    "customer-dns-record",
    "validation-record",
    "api-key",
    "usage-plan-key",
    "rest-api",
    "log-group",
    "distribution-tenant",
    "own-domain-edge",
]


@dataclass(frozen=True)
class Keep:
    """What protected production does to a resource of one role, and why."""

    protect: bool
    retain_on_delete: bool
    why: str


ROLES: Mapping[Role, Keep] = {
    "docs-bucket": Keep(True, True, "the documents; kept in AWS even once removed from the program"),
    # Also refused by DynamoDB itself (deletion protection) and restorable (PITR): components/tenant_registry.py.
    "tenant-registry": Keep(True, False, "every tenant's hostname, tier, status and key: the authorizer's data"),
    "certificate": Keep(True, False, "a new one must be issued and validated before any domain serves again"),
    "custom-domain": Keep(
        True, False, "a replaced domain gets a new regional target; customers' own CNAMEs point at the old one"
    ),
    "customer-dns-record": Keep(True, False, "without it a customer's hostname does not resolve"),
    # "The most common reason for automatic validation to fail is that a required CNAME has been inadvertently
    # changed or removed": without it ACM cannot renew the certificate 60 days before it expires
    # (https://docs.aws.amazon.com/acm/latest/userguide/dns-renewal-validation.html).
    "validation-record": Keep(True, False, "ACM's managed renewal of the certificate reads it"),
    # Only the key in service and its plan key (components/tenant_keys.py): the key of a tier a tenant is leaving
    # (`previousTier`) is released, so the `pulumi up` that drops it may delete it. Pulumi would re-issue a lost
    # key's new value to the registry itself; what protection guards is the moment in between, and the usage
    # counters, which are per key.
    "api-key": Keep(True, False, "a replaced key has a new value and loses its usage-plan history"),
    # Deleting it alone takes the key out of every plan: API Gateway then refuses every request the authorizer
    # allowed with that key, cached decisions included.
    "usage-plan-key": Keep(True, False, "without it the tenant's key is in no plan: every request gets 403"),
    "rest-api": Keep(True, False, "a replaced API has a new id: every mapping, usage plan and log name moves"),
    # Retained groups keep their names, which are unique per account and region: a stack re-created after a
    # destroy must `pulumi import` (or delete) the fixed-name ones first, or CreateLogGroup refuses them
    # (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html).
    "log-group": Keep(False, True, "the access and audit trail outlives the stack"),
    # Own domains through CloudFront (components/own_domains.py): a replaced tenant requests a new certificate and
    # serves nothing until it is issued; a replaced connection group has a new routing endpoint, which every own
    # domain's CNAME names; the distribution holds every tenant.
    "distribution-tenant": Keep(
        True, False, "a replaced tenant serves its domains only once a new certificate is issued"
    ),
    "own-domain-edge": Keep(
        True, False, "customers' CNAMEs name the connection group; every tenant is the distribution's"
    ),
}


def resource_options(role: Role, enabled: bool, *, parent: pulumi.Resource, **options: Any) -> pulumi.ResourceOptions:
    """The options of a child resource of `role`: `parent` and `options` as given, plus protect and
    retain_on_delete when protected production is on (`enabled`, config `protectResources`).

    Off, neither option is set (not even to False), so the resource inherits its parent's, as before.
    """
    keep = ROLES[role]
    return pulumi.ResourceOptions(
        parent=parent,
        protect=True if enabled and keep.protect else None,
        retain_on_delete=True if enabled and keep.retain_on_delete else None,
        **options,
    )
