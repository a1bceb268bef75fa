"""Contract: the docs page works in a browser at `/docs` and at `/docs/`.

A browser resolves each `href`/`src` of the page (and each `url(...)` of its stylesheets) against the
page's own URL. From `https://acme.<baseDomain>/docs` (no trailing slash) a relative `style.css` becomes
`/style.css`, outside the API's routes, so the documents link with absolute `/docs/...` paths. These tests
load the page through the API as a browser would, at both addresses, and fetch every link it names.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest

from .conftest import REPO, dev_stack

pytestmark = pytest.mark.contract

SETTINGS, _ = dev_stack()
# A customer of the dev stack (Pulumi.dev.yaml), so a known tenant for the gateway whatever it checks.
HOST = "acme.dev.example.com"
assert HOST in {SETTINGS.fqdn(customer) for customer in SETTINGS.customers}
REPO_DOCS = REPO / SETTINGS.docs.folder
PAGE_ADDRESSES = ["/docs", "/docs/", "/docs/index.html"]
# What a browser accepts for each kind of reference (it ignores a stylesheet served as anything but CSS).
EXPECTED_MEDIA = {("link", "stylesheet"): "text/css", ("img", ""): "image/", ("script", ""): "text/javascript"}
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""")


class References(HTMLParser):
    """Collects (tag, rel, reference) for every `href` and `src` attribute of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("href", "src"):
            if values.get(name):
                self.found.append((tag, (values.get("rel") or "").lower(), values[name] or ""))


def references_of(html: str) -> list[tuple[str, str, str]]:
    parser = References()
    parser.feed(html)
    parser.close()
    return parser.found


def key_of(url: str) -> str:
    """The document key a `https://<HOST>/docs/<key>` URL names (the browser's view of the bucket)."""
    path = urlsplit(url).path
    assert path.startswith("/docs/"), f"{url} is outside /docs/"
    return unquote(path.removeprefix("/docs/"))


def uploaded_type(documents: list[tuple[str, Path, str]], key: str) -> str:
    return next(content_type for k, _, content_type in documents if k == key)


def fetch(call, api, url: str):
    """GET `url` through the API as the browser would (same site only: the page links no other)."""
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc) == ("https", HOST), f"{url} leaves the customer's site"
    return call(api, "GET", parts.path + (f"?{parts.query}" if parts.query else ""), HOST)


@pytest.mark.parametrize("address", PAGE_ADDRESSES)
def test_every_link_of_the_docs_page_loads_from_the_page_address(call, api, documents, address):
    page_url = f"https://{HOST}{address}"
    page = call(api, "GET", address, HOST)
    assert page.status == 200, page.body[:200]
    assert page.headers["Content-Type"].startswith("text/html")
    references = references_of(page.body.decode())
    assert {ref for _, _, ref in references}, "the page links nothing: nothing would be proven"

    fetched = []
    for tag, rel, reference in references:
        url = urljoin(page_url, reference)
        response = fetch(call, api, url)

        assert response.status == 200, (reference, url, response.status, response.body[:200])
        key = key_of(url)
        assert response.headers["Content-Type"] == uploaded_type(documents, key), url
        assert response.body == (REPO_DOCS / key).read_bytes(), url
        media = EXPECTED_MEDIA.get((tag, rel if tag == "link" else ""))
        assert media is None or response.headers["Content-Type"].startswith(media), (tag, url)
        fetched.append(key)

    # Every document the folder holds is reachable from the page (directly or from its stylesheets).
    for key in [k for k in fetched if uploaded_type(documents, k).startswith("text/css")]:
        css_url = f"https://{HOST}/docs/{key}"
        for match in CSS_URL.finditer((REPO_DOCS / key).read_text()):
            url = urljoin(css_url, match.group(1) or match.group(2))
            response = fetch(call, api, url)
            assert response.status == 200, (key, url, response.status)
            fetched.append(key_of(url))
    assert {k for k, _, _ in documents} - {"index.html"} <= set(fetched)


def test_every_link_of_every_document_stays_inside_docs():
    # The same rule for documents the page does not show today: any href/src/url() in any HTML or CSS
    # document resolves under /docs/ from both page addresses, or is an absolute link elsewhere
    # (another site, a mailto:), which the API does not serve anyway.
    checked = 0
    for path in sorted(REPO_DOCS.rglob("*")):
        if path.suffix not in (".html", ".htm", ".css"):
            continue
        text = path.read_text()
        if path.suffix == ".css":
            found = [m.group(1) or m.group(2) for m in CSS_URL.finditer(text)]
        else:
            found = [ref for _, _, ref in references_of(text)]
        key = path.relative_to(REPO_DOCS).as_posix()
        bases = [f"https://{HOST}/docs/{key}"]
        if key == "index.html":
            bases += [f"https://{HOST}{address}" for address in PAGE_ADDRESSES]
        for reference in found:
            if urlsplit(reference).scheme or reference.startswith(("//", "#")):
                continue  # another site, a mailto: or data: URL, or a fragment of this page
            for base in bases:
                assert urljoin(base, reference).startswith(f"https://{HOST}/docs/"), (key, reference, base)
                checked += 1
    assert checked > 0
