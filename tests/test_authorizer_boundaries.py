"""The tenant authorizer's boundaries that `make mutate` found unguarded: which hosts are IP literals, how many
fields a method ARN has, which URLs a key set may come from, what PUBLIC_PREFIXES accepts and covers, what a
discovery document and a key set must say, and how large a fetched document may be; host names and ports at
their limits, and how much of a refused value an error message quotes."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from functions.tenant_authorizer import handler as authorizer
from tests.stand_in import serve_on_loopback

ISSUER = "https://idp.example.com/pool-1"


@pytest.mark.parametrize("host", ["7.acme.example.com", "acme.7.example.com", "acme.example.7.com"])
def test_a_numeric_label_other_than_the_last_is_a_host_name(host):
    assert authorizer.normalise_host(host) == host


@pytest.mark.parametrize("host", ["10.0.0.1", "acme.example.7"])
def test_a_numeric_last_label_is_an_ip_literal_and_refused(host):
    assert authorizer.normalise_host(host) is None


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:execute-api:eu-west-1:a1b2c3/dev/GET/x",  # five fields
        "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3:extra/dev/GET/x",  # seven fields
    ],
)
def test_a_method_arn_needs_exactly_six_fields(arn):
    with pytest.raises(ValueError, match="not an execute-api method ARN"):
        authorizer.stage_resource(arn)


def test_a_six_field_method_arn_gives_the_whole_stage():
    arn = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3/dev/GET/x"

    assert authorizer.stage_resource(arn) == "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3/dev/*/*"


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://idp.example.com/jwks", True),
        ("http://127.0.0.1:8080/jwks", True),
        ("http://idp.example.com/jwks", False),
        ("ws://127.0.0.1/jwks", False),  # a scheme after "http" in the alphabet is not http
        ("ftp://127.0.0.1/jwks", False),
    ],
)
def test_a_key_set_comes_over_https_or_from_loopback_http_only(url, allowed):
    assert authorizer.url_allowed(url) is allowed


@pytest.mark.parametrize("url", ["https://", "https:///jwks.json", "https://user@/jwks.json", "http://:8080/jwks"])
def test_a_key_set_url_without_a_host_is_refused(url):
    assert authorizer.url_allowed(url) is False


def test_public_prefixes_are_paths_and_lose_a_trailing_slash():
    assert authorizer.public_prefixes('["/docs", "/status/"]') == ("/docs", "/status")
    assert authorizer.public_prefixes(None) == authorizer.public_prefixes("") == ()


@pytest.mark.parametrize("text", ['"/docs"', '["docs"]', "[1]", '{"/docs": true}'])
def test_public_prefixes_refuse_anything_but_a_list_of_paths(text):
    with pytest.raises(ValueError, match="PUBLIC_PREFIXES"):
        authorizer.public_prefixes(text)


@pytest.mark.parametrize(
    ("path", "public"), [("/docs", True), ("/docs/a.css", True), ("/doc", False), ("/docsx", False), ("/", False)]
)
def test_a_public_prefix_covers_itself_and_whole_segments_below_it(path, public):
    assert authorizer.is_public(path, ("/docs",)) is public


def key_sets(discovery: dict[str, Any], keys: list[dict[str, Any]]) -> authorizer.KeySets:
    documents = {
        f"{ISSUER}/.well-known/openid-configuration": discovery,
        "https://idp.example.com/jwks.json": {"keys": keys},
    }
    return authorizer.KeySets(fetch=lambda url, deadline: documents[url], clock=lambda: 0.0)


def test_a_discovery_document_naming_the_issuer_as_an_equal_string_is_accepted():
    named = "".join(["https://idp.example.com/", "pool-1"])  # equal, not the same object
    keys = key_sets({"issuer": named, "jwks_uri": "https://idp.example.com/jwks.json"}, [{"kid": "k1"}])

    assert keys.key(ISSUER, "k1") == {"kid": "k1"}


@pytest.mark.parametrize("named", ["https://idp.example.com/pool-0", "https://zz.example.com/pool-1"])
def test_a_discovery_document_naming_another_issuer_is_refused(named):
    keys = key_sets({"issuer": named, "jwks_uri": "https://idp.example.com/jwks.json"}, [{"kid": "k1"}])

    with pytest.raises(authorizer.JwksUnavailableError, match="does not name that issuer"):
        keys.key(ISSUER, "k1")


def test_only_signing_keys_of_a_key_set_are_used():
    keys = key_sets(
        {"issuer": ISSUER, "jwks_uri": "https://idp.example.com/jwks.json"},
        [{"kid": "sig", "use": "sig"}, {"kid": "enc", "use": "enc"}, {"kid": "any"}, {"kid": "zz", "use": "zzz"}],
    )

    assert keys.key(ISSUER, "sig") is not None and keys.key(ISSUER, "any") is not None
    assert keys.key(ISSUER, "enc") is None
    assert keys.key(ISSUER, "zz") is None


@pytest.fixture(scope="module")
def documents() -> Iterator[str]:
    """A server on 127.0.0.1 answering `/<n>` with a JSON document of exactly n bytes."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            size = int(self.path.partition("?")[0].strip("/"))  # a query only makes the URL longer
            body = json.dumps("x" * (size - 2)).encode()  # the quotes are the other two bytes
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server, url = serve_on_loopback(Handler, "documents-stand-in")
    yield url
    server.shutdown()
    server.server_close()


def test_a_document_of_the_size_limit_is_read_whole(documents):
    limit = authorizer._MAX_DOCUMENT_BYTES
    assert limit == 512 * 1024

    assert len(authorizer.fetch_json(f"{documents}/{limit}", time.monotonic() + 10)) == limit - 2


def test_a_document_over_the_size_limit_is_refused(documents):
    with pytest.raises(authorizer.JwksUnavailableError, match="answered more than"):
        authorizer.fetch_json(f"{documents}/{authorizer._MAX_DOCUMENT_BYTES + 1}", time.monotonic() + 10)


# -- host names and ports at their limits --------------------------------------------------------


@pytest.mark.parametrize("port", [1, 65535])
def test_the_first_and_last_ports_are_a_port(port):
    assert authorizer.normalise_host(f"acme.example.com:{port}") == "acme.example.com"


def test_the_longest_host_name_with_a_trailing_dot_and_the_longest_port_is_its_host():
    longest = ("a" * 63 + ".") * 3 + "a" * 61  # 253 characters
    raw = longest + ".:65535"

    assert len(raw) == 260
    assert authorizer.normalise_host(raw) == longest


def test_a_two_label_host_is_a_host():
    # An own domain served at its apex (`example.com`) has two labels: the least a registry hostname has.
    assert authorizer.normalise_host("acme-corp.com") == "acme-corp.com"


def test_a_name_that_lowercases_to_ascii_is_still_refused_as_non_ascii():
    # U+212A KELVIN SIGN lowercases to "k": such a Host must not reach the registry as "kacme.example.com".
    assert "\u212aacme.example.com".lower() == "kacme.example.com"

    assert authorizer.normalise_host("\u212aacme.example.com") is None


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("xn--wgv71a.example.com", "xn--wgv71a.example.com"),  # 日本
        ("xn--tda.example.com", "xn--tda.example.com"),  # ü
        ("xn--i-pu3e.example.com", None),  # what follows xn-- decodes to an unprintable character
    ],
)
def test_an_a_label_is_decoded_from_just_after_its_prefix(host, expected):
    assert authorizer.normalise_host(host) == expected


# -- method ARNs -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "arn",
    [
        "abc:aws:execute-api:eu-west-1:123456789012:a1b2c3/dev/GET/x",  # not arn (sorts before it)
        "xyz:aws:execute-api:eu-west-1:123456789012:a1b2c3/dev/GET/x",  # not arn (sorts after it)
        "arn:aws:apigateway:eu-west-1:123456789012:a1b2c3/dev/GET/x",  # another service, sorting before
        "arn:aws:lambda:eu-west-1:123456789012:a1b2c3/dev/GET/x",  # another service, sorting after
        "arn:aws:execute-api:eu-west-1:123456789012:/dev/GET/x",  # no API id
    ],
)
def test_a_method_arn_must_be_execute_apis_and_name_its_api(arn):
    with pytest.raises(ValueError, match="not an execute-api method ARN"):
        authorizer.stage_resource(arn)


# -- how much of a refused value a message quotes ------------------------------------------------
# Error messages reach the log line (`detail`, `error`, `jwksError`, each cut again): a value is quoted up to a bound.
LONG_PATH = "/" + "p" * 300


def test_a_refused_method_arn_is_quoted_up_to_200_characters():
    arn = "arn:aws:execute-api:eu-west-1:123456789012:" + "a" * 300

    with pytest.raises(ValueError) as raised:
        authorizer.stage_resource(arn)

    assert str(raised.value) == f"not an execute-api method ARN: {arn[:200]!r}"


def test_a_refused_url_is_quoted_up_to_200_characters():
    url = "http://idp.example.com" + LONG_PATH

    with pytest.raises(authorizer.JwksUnavailableError) as raised:
        authorizer.fetch_json(url, time.monotonic() + 5)

    assert str(raised.value) == f"refusing to fetch {url[:200]!r}: https (or loopback http) only"


def test_an_oversized_documents_url_is_quoted_up_to_200_characters(documents):
    url = f"{documents}/{authorizer._MAX_DOCUMENT_BYTES + 1}?" + "q" * 300

    with pytest.raises(authorizer.JwksUnavailableError) as raised:
        authorizer.fetch_json(url, time.monotonic() + 10)

    assert str(raised.value) == f"{url[:200]!r} answered more than {authorizer._MAX_DOCUMENT_BYTES} bytes"


def test_an_unreachable_url_is_quoted_up_to_200_characters_with_the_errors_type():
    with socket.socket() as closed:  # bound, never listening: the connection is refused at once
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}" + LONG_PATH

        with pytest.raises(authorizer.JwksUnavailableError) as raised:
            authorizer.fetch_json(url, time.monotonic() + 5)

    assert str(raised.value) == f"{url[:200]!r}: URLError"


LONG_ISSUER = "https://idp.example.com" + LONG_PATH


@pytest.mark.parametrize(
    ("discovery", "keys", "message"),
    [
        ({"issuer": ISSUER}, None, "the discovery document of {!r} does not name that issuer"),
        ({"issuer": LONG_ISSUER, "jwks_uri": "http://idp.example.com/k"}, None, "the jwks_uri of {!r} is not https"),
        ({"issuer": LONG_ISSUER, "jwks_uri": "https://idp.example.com/k"}, {}, "the key set of {!r} has no keys list"),
    ],
)
def test_a_refused_discovery_quotes_the_issuer_up_to_200_characters(discovery, keys, message):
    documents = {f"{LONG_ISSUER}/.well-known/openid-configuration": discovery, "https://idp.example.com/k": keys}
    key_sets = authorizer.KeySets(fetch=lambda url, deadline: documents[url], clock=lambda: 0.0)

    with pytest.raises(authorizer.JwksUnavailableError) as raised:
        key_sets.key(LONG_ISSUER, "k1")

    assert str(raised.value) == message.format(LONG_ISSUER[:200])


def test_no_time_left_quotes_the_issuer_up_to_200_characters():
    key_sets = authorizer.KeySets(fetch=lambda url, deadline: pytest.fail("no fetch without time"), clock=lambda: 0.0)

    with pytest.raises(authorizer.JwksUnavailableError) as raised:
        key_sets.key(LONG_ISSUER, "k1", time_left=lambda: 0.0)

    assert str(raised.value) == f"no time left to fetch the key set of {LONG_ISSUER[:200]!r}"
