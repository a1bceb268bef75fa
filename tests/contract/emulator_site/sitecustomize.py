"""Loaded only into the LocalStack process (the contract fixture puts this folder on its PYTHONPATH).

LocalStack 4.12 deviates from AWS in one place the contract depends on: its binary-media-type matcher
skips a `*/*` entry (`if _type == "*": continue` in
`localstack/services/apigateway/next_gen/execute_api/helpers.py`), so with our `BINARY_MEDIA_TYPES =
("*/*",)` it treats every S3 object as text and re-decodes PNG and PDF bytes as UTF-8 (U+FFFD for each
invalid byte). AWS documents that `*/*` covers all content types
(https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-payload-encodings.html).
This makes a `*/*` entry match any `type/subtype`, as AWS does, and leaves every other case to
LocalStack. It must run before the handlers import the function by name, hence sitecustomize.
"""

from localstack.services.apigateway.next_gen.execute_api import helpers

_localstack_matcher = helpers.mime_type_matches_binary_media_types


def _matches_like_aws(mime_type, binary_media_types):
    if mime_type and "*/*" in (binary_media_types or []):
        return len(mime_type.split(",")[0].split(";")[0].split("/")) == 2
    return _localstack_matcher(mime_type, binary_media_types)


helpers.mime_type_matches_binary_media_types = _matches_like_aws
