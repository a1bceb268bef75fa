"""The branding keys (issue 27, README "Developer portal per tenant"): a colour is a colour, a URL is https, a logo
file is a file of the docs folder; each refusal one line naming the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from whitelabel.config import ConfigError, parse_settings
from whitelabel.offline import ROOT


@pytest.mark.parametrize(
    ("branding", "message"),
    [
        ({"primaryColor": "red"}, "customers.acme.branding.primaryColor: 'red' must be a colour as #rrggbb"),
        (
            {"logoUrl": "http://acme.example/l.png"},
            "customers.acme.branding.logoUrl: 'http://acme.example/l.png' must be an https URL",
        ),
        (
            {"supportUrl": "javascript:alert(1)"},
            "customers.acme.branding.supportUrl: 'javascript:alert(1)' must be an https URL",
        ),
        (
            {"supportEmail": "not-an-address"},
            "customers.acme.branding.supportEmail: 'not-an-address' must be an email address",
        ),
        (
            {"logoFile": "../Pulumi.yaml"},
            "customers.acme.branding.logoFile: '../Pulumi.yaml' must be an image file under docs.folder",
        ),
        ({"logoFile": "missing.png"}, "customers.acme.branding.logoFile: 'missing.png' is not a file of docs.folder"),
        (
            {"logoUrl": "https://a.example/l.png", "logoFile": "logo.png"},
            "customers.acme.branding.logoFile: is set but so is logoUrl",
        ),
        ({"displayName": 'Acme" onload="x'}, None),
        ({"displayName": "x" * 81}, "customers.acme.branding.displayName: "),
        ({"colour": "#000000"}, "customers.acme.branding.colour: is not a known key"),
    ],
)
def test_a_bad_brand_is_refused_in_one_line_naming_its_key(branding: dict[str, Any], message: str | None) -> None:
    raw = {"baseDomain": "example.com", "docs": {"perTenant": True}, "customers": {"acme": {"branding": branding}}}
    if message is None:
        # A quote in a name is text, escaped where the page writes it (tests/test_portal.py); it is not refused.
        assert parse_settings(raw, root=ROOT).customers[0].branding is not None
        return
    with pytest.raises(ConfigError) as error:
        parse_settings(raw, root=ROOT)
    assert str(error.value).startswith(f"whitelabel-gateway:{message}"), str(error.value)
    assert "\n" not in str(error.value)


def test_the_stacks_branding_is_checked_like_a_customers() -> None:
    raw = {"baseDomain": "example.com", "customers": {}, "branding": {"primaryColor": "#12345"}}
    with pytest.raises(ConfigError, match=r"^whitelabel-gateway:branding.primaryColor: '#12345' must be a colour"):
        parse_settings(raw, root=ROOT)


def test_with_per_tenant_pages_a_document_that_cannot_be_a_route_of_its_own_is_refused(tmp_path: Path) -> None:
    (tmp_path / "documents").mkdir()
    (tmp_path / "documents" / "user guide.pdf").write_bytes(b"%PDF")
    raw: dict[str, Any] = {"baseDomain": "example.com", "customers": {}, "docs": {"perTenant": True}}
    with pytest.raises(
        ConfigError, match=r"^whitelabel-gateway:docs.folder: document 'user guide.pdf' cannot be a route"
    ):
        parse_settings(raw, root=tmp_path)
    # Off, the folder is served through /docs/{key+} as before: any name.
    assert parse_settings({**raw, "docs": {"perTenant": False}}, root=tmp_path).docs.folder == "documents"
