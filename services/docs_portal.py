"""The developer portal per tenant (README "Developer portal per tenant"): each tenant's pages under `tenants/<id>/`
of the docs bucket, one `TenantPortal` per tenant, and the renderer every page shares under `portal/`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from services.docs_bucket import object_slug
from whitelabel.portal import PortalObject


def _upload(name: str, bucket: pulumi.Input[str], item: PortalObject, parent: pulumi.Resource) -> None:
    aws.s3.BucketObjectv2(
        name,
        bucket=bucket,
        key=item.key,
        # A page is text known now: a changed brand shows as a diff of that tenant's content, nothing else.
        content=item.content,
        source=pulumi.FileAsset(item.source) if item.source is not None else None,
        content_type=item.content_type,
        opts=pulumi.ResourceOptions(parent=parent),
    )


@dataclass(frozen=True)
class TenantPortalArgs:
    """Inputs of `TenantPortal`.

    objects: the tenant's objects (`whitelabel.portal.tenant_objects`), each under `tenants/<tenant>/`.
    """

    bucket: pulumi.Input[str]
    objects: tuple[PortalObject, ...]


class TenantPortal(pulumi.ComponentResource):
    """One tenant's portal objects (page, OpenAPI document, logo): onboarding adds them, removing the tenant deletes
    them, a brand change updates them, and no other tenant's objects move."""

    def __init__(self, name: str, args: TenantPortalArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("whitelabel:docs_portal:TenantPortal", name, None, opts)
        for item in args.objects:
            _upload(f"{name}-{object_slug(item.name)}", args.bucket, item, self)
        self.object_keys = [item.key for item in args.objects]
        self.register_outputs({"objectKeys": self.object_keys})


def add_portal(
    name: str,
    docs: pulumi.ComponentResource,
    bucket: pulumi.Input[str],
    shared: Sequence[PortalObject],
    tenants: Sequence[tuple[str, tuple[PortalObject, ...]]],
) -> list[TenantPortal]:
    """The portal's objects in `docs`' bucket, children of `docs` (the bucket's component, named `name`): the shared
    renderer files (`<name>-portal-shared-<file>`) and one `TenantPortal` per (tenant name, objects)
    (`<name>-<tenant>.portal`, its objects `<name>-<tenant>.portal-<file>`: named as a tenant's per-tier keys are, so
    `make preview` shows them under the tenant, and no document's `<name>-object-<slug>` can take the name).
    """
    for item in shared:
        _upload(f"{name}-portal-shared-{object_slug(item.name)}", bucket, item, docs)
    return [
        TenantPortal(f"{name}-{tenant}.portal", TenantPortalArgs(bucket, objects), pulumi.ResourceOptions(parent=docs))
        for tenant, objects in tenants
    ]
