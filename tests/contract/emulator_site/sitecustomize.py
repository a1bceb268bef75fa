"""Loaded only into the LocalStack process (the contract fixture puts this folder on its PYTHONPATH).

First, loopback only. A guard (a Python audit hook, so it sees every socket call of this process and
of the Python processes it starts) refuses any connect, send or bind to an address outside 127.0.0.0/8
and ::1, and any name lookup other than `localhost`, and writes one line to the log for each (the contract
fixture fails the run on such a line). Many of these callers fail quietly (boto3's instance-metadata
retries log at debug level, the S3 host probe below swallows its error), so without the line the log
would not show them. And one setting: at start its S3 provider asks DNS for
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

import errno
import ipaddress
import socket
import sys


def _is_loopback(host):
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if host in (None, "", "localhost"):
        return True
    try:
        address = ipaddress.ip_address(str(host).split("%")[0])
    except ValueError:
        return False  # a name other than localhost needs DNS
    return (getattr(address, "ipv4_mapped", None) or address).is_loopback


def _refuse(what, target, error):
    # The wording matches the fixture's log check ("Network is unreachable", "name resolution").
    message = f"loopback guard (emulator_site): refused {what} {target}: {error.strerror}"
    try:
        sys.stderr.write(message + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    raise error


def _loopback_guard(event, args):
    if not event.startswith("socket."):
        return
    if event in ("socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg"):
        address = args[1]  # (self, address) for all four
        # AF_INET/AF_INET6 addresses are (host, port, ...); a Unix socket's is a path, netlink's two ints.
        if isinstance(address, tuple) and len(address) >= 2 and isinstance(address[0], (str, bytes)):
            host, port = address[0], address[1]
            # LocalStack picks free ports by binding ("", 0) and closing the socket at once; a listener
            # beyond loopback is caught by the contract tests' socket check (test_loopback.py).
            if event == "socket.bind" and port == 0 and host in ("", "0.0.0.0", "::"):
                return
            if not _is_loopback(host):
                unreachable = OSError(errno.ENETUNREACH, "Network is unreachable")
                _refuse(event.removeprefix("socket."), f"{host}:{port}", unreachable)
    elif event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex", "socket.gethostbyaddr"):
        host = args[0]
        if not _is_loopback(host):
            _refuse(
                "lookup of",
                host,
                socket.gaierror(socket.EAI_NONAME, "no name resolution beyond loopback"),
            )


sys.addaudithook(_loopback_guard)


from localstack.utils.aws import aws_stack  # noqa: E402

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
