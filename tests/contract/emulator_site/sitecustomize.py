"""Loaded only into the LocalStack process (the contract fixture puts this folder on its PYTHONPATH).

First, loopback only: `loopback_guard` refuses (and logs) every socket call and name lookup beyond
loopback, in this process and in the Python processes it starts with this folder on their path. And one
setting: at start LocalStack's S3 provider asks DNS for
`s3.localhost.localstack.cloud` (`localstack.utils.aws.aws_stack.get_s3_hostname`) to choose the host it
names in S3 URLs. The answer is cached in `CACHE_S3_HOSTNAME_DNS_STATUS`; setting it to False up front
skips the lookup and makes it use `localhost`, as it would when the lookup fails.

Then, LocalStack 4.12 deviates from AWS in two places the contract depends on; each patch below makes it
do what AWS documents and leaves every other case to LocalStack.

1. its binary-media-type matcher
skips a `*/*` entry (`if _type == "*": continue` in
`localstack/services/apigateway/next_gen/execute_api/helpers.py`), so with our `BINARY_MEDIA_TYPES =
("*/*",)` it treats every S3 object as text and re-decodes PNG and PDF bytes as UTF-8 (U+FFFD for each
invalid byte). AWS documents that `*/*` covers all content types
(https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-payload-encodings.html).
This makes a `*/*` entry match any `type/subtype`, as AWS does, and leaves every other case to
LocalStack. It must run before the handlers import the function by name, hence sitecustomize.

2. With `contentHandling: CONVERT_TO_TEXT` on an integration response, AWS turns a binary payload into
its base64 text and then applies the response template (the payload-encodings workflow table on the
page above). LocalStack's `IntegrationResponseHandler.convert_body` returns the base64 as bytes, and its
template step then refuses bytes with a 500. Our docs error responses (S3's 404 → our own JSON body)
rely on that conversion, so the bytes are handed on as the text they are.
"""

import loopback_guard  # noqa: F401  (first: it must see every socket call that follows)

# isort: split
from localstack.utils.aws import aws_stack

aws_stack.CACHE_S3_HOSTNAME_DNS_STATUS = False


from localstack.services.apigateway.next_gen.execute_api import helpers  # noqa: E402

_localstack_matcher = helpers.mime_type_matches_binary_media_types


def _matches_like_aws(mime_type, binary_media_types):
    if mime_type and "*/*" in (binary_media_types or []):
        return len(mime_type.split(",")[0].split(";")[0].split("/")) == 2
    return _localstack_matcher(mime_type, binary_media_types)


helpers.mime_type_matches_binary_media_types = _matches_like_aws


from localstack.services.apigateway.next_gen.execute_api.handlers import integration_response  # noqa: E402

_localstack_convert_body = integration_response.IntegrationResponseHandler.convert_body


def _convert_body_like_aws(context, body, content_handling):
    converted = _localstack_convert_body(context, body=body, content_handling=content_handling)
    if content_handling == "CONVERT_TO_TEXT" and isinstance(converted, bytes):
        return converted.decode("ascii")
    return converted


integration_response.IntegrationResponseHandler.convert_body = staticmethod(_convert_body_like_aws)

# Issue 8 (each module says what it adds or replaces, and why): gateway responses as AWS renders them,
# the Lambda authorizer step (an emulation of AWS's), a prompt stop on SIGTERM.
import gateway_responses  # noqa: E402, F401
import lambda_authorizer  # noqa: E402, F401
import prompt_shutdown  # noqa: E402, F401
