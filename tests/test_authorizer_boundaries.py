"""The tenant authorizer's boundaries that `make mutate` found unguarded: which hosts are IP literals, how many
fields a method ARN has, which URLs a key set may come from, what PUBLIC_PREFIXES accepts and covers, what a
discovery document and a key set must say, and how large a fetched document may be."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from functions.tenant_authorizer import handler as authorizer

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
            size = int(self.path.strip("/"))
            body = json.dumps("x" * (size - 2)).encode()  # the quotes are the other two bytes
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_document_of_the_size_limit_is_read_whole(documents):
    limit = authorizer._MAX_DOCUMENT_BYTES
    assert limit == 512 * 1024

    assert len(authorizer.fetch_json(f"{documents}/{limit}", time.monotonic() + 10)) == limit - 2


def test_a_document_over_the_size_limit_is_refused(documents):
    with pytest.raises(authorizer.JwksUnavailableError, match="answered more than"):
        authorizer.fetch_json(f"{documents}/{authorizer._MAX_DOCUMENT_BYTES + 1}", time.monotonic() + 10)
