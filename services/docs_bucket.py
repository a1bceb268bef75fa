"""The `/docs` backend: a private, TLS-only S3 bucket holding the documents, and the role API Gateway reads it with."""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from whitelabel.config import DocsSettings
from whitelabel.policies import assume_role_policy
from whitelabel.protection import resource_options

FALLBACK_CONTENT_TYPE = "application/octet-stream"
# A fresh MimeTypes uses only Python's built-in table, not the machine's /etc/mime.types, so every
# machine uploads the same Content-Type (which API Gateway hands back to the browser).
_MIME = mimetypes.MimeTypes()
# Common in documentation folders but missing from Python 3.11's table.
for _type, _extension in (
    ("text/markdown", ".md"),
    ("image/webp", ".webp"),
    ("font/woff", ".woff"),
    ("font/woff2", ".woff2"),
):
    _MIME.add_type(_type, _extension)


def content_type(path: str) -> str:
    """The Content-Type stored with a document, guessed from its extension."""
    guessed, _ = _MIME.guess_type(path, strict=False)
    return guessed or FALLBACK_CONTENT_TYPE


def document_files(folder: str) -> list[tuple[str, str, str]]:
    """Every file under `folder` as (object key, file path, content type), sorted by key.

    folder: relative to the working directory (the project directory when Pulumi runs the program).
    Keys use '/' whatever the OS; hidden files and folders (a name starting with '.') are skipped.
    The config validation (`whitelabel.config.check_docs_folder`) has already refused a folder that is
    missing or outside the repository; this guard keeps direct callers to the same one-line shape.
    """
    root = Path(folder)
    if not root.is_dir():
        raise pulumi.RunError(
            f"whitelabel-gateway:docs.folder: {folder!r} is not a folder of the repository; create it or set"
            " docs.folder"
        )
    files: list[tuple[str, str, str]] = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if not path.is_file() or any(part.startswith(".") for part in relative.parts):
            continue
        key = relative.as_posix()
        files.append((key, str(path), content_type(key)))
    return files


def object_slug(key: str) -> str:
    """The part of an object's resource name derived from its key: `css/site.css` → `css-site.css`."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", key).strip("-")


@dataclass(frozen=True)
class DocsBucketArgs:
    """Inputs of `DocsBucket`.

    files: (key, path, content type) per document, as `document_files` lists them.
    versioning: keep earlier versions of overwritten or deleted documents.
    protect: protected production (`protectResources`): the bucket is protected and retained on delete.
    """

    files: tuple[tuple[str, str, str], ...]
    versioning: bool
    protect: bool = False

    @classmethod
    def from_settings(cls, settings: DocsSettings, protect: bool = False) -> DocsBucketArgs:
        """Map the validated `docs` config to arguments; reads the folder now, so a missing one stops the
        program before any resource exists.

        protect: config `protectResources`. It turns versioning on whatever `docs.versioning` says: a protected
        bucket whose objects can still be overwritten or deleted for good protects nothing (with versioning a
        delete leaves a marker and the earlier version stays restorable:
        https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html).
        """
        return cls(
            files=tuple(document_files(settings.folder)),
            versioning=settings.versioning or protect,
            protect=protect,
        )


class DocsBucket(pulumi.ComponentResource):
    """A private S3 bucket with the documents uploaded and an IAM role API Gateway assumes to read them."""

    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]
    read_role_arn: pulumi.Output[str]
    object_keys: list[str]

    def __init__(self, name: str, args: DocsBucketArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("whitelabel:docs_bucket:DocsBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        slugs: dict[str, str] = {}
        for key, _, _ in args.files:
            slug = object_slug(key)
            if slug in slugs:
                raise pulumi.RunError(
                    f"docs.folder: {key!r} and {slugs[slug]!r} map to the same resource name; rename one"
                )
            slugs[slug] = key

        bucket = aws.s3.Bucket(f"{name}-bucket", opts=resource_options("docs-bucket", args.protect, parent=self))
        public_access_block = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access-block",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        # ACLs off: every object belongs to the bucket owner and only policies grant access.
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        # SSE-S3 rather than SSE-KMS: with a KMS key the API Gateway role would also need kms:Decrypt and
        # each read would be a billed KMS call; the documents are served publicly through the API anyway.
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="AES256"
                    ),
                )
            ],
            opts=child,
        )
        # Only created when asked for: a bucket never versioned has no versioning state to set, and turning
        # the flag off later deletes this resource, which suspends versioning (S3 cannot switch it off once
        # enabled).
        if args.versioning:
            aws.s3.BucketVersioning(
                f"{name}-versioning",
                bucket=bucket.id,
                versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
                opts=child,
            )

        tls_only = pulumi.Output.json_dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "DenyInsecureTransport",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [bucket.arn, pulumi.Output.concat(bucket.arn, "/*")],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ],
            }
        )
        # S3 refuses to change a bucket's policy and its public access block at the same time.
        aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=bucket.id,
            policy=tls_only,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_access_block]),
        )

        for key, path, type_ in args.files:
            aws.s3.BucketObjectv2(
                f"{name}-object-{object_slug(key)}",
                bucket=bucket.id,
                key=key,
                source=pulumi.FileAsset(path),
                content_type=type_,
                opts=child,
            )

        read_role = aws.iam.Role(
            f"{name}-read-role",
            description="API Gateway reads the /docs documents",
            assume_role_policy=assume_role_policy("apigateway.amazonaws.com"),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-read-policy",
            role=read_role.id,
            policy=pulumi.Output.json_dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "s3:GetObject",
                            "Resource": pulumi.Output.concat(bucket.arn, "/*"),
                        },
                        # Without ListBucket S3 answers a missing key with 403, which the API would pass on as
                        # "forbidden" instead of "not found".
                        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": bucket.arn},
                    ],
                }
            ),
            opts=child,
        )

        self.bucket_name = bucket.bucket
        self.bucket_arn = bucket.arn
        self.read_role_arn = read_role.arn
        self.object_keys = [key for key, _, _ in args.files]
        self.register_outputs(
            {
                "bucketName": self.bucket_name,
                "bucketArn": self.bucket_arn,
                "readRoleArn": self.read_role_arn,
                "objectKeys": self.object_keys,
            }
        )
