"""`make plan`: each tenant's tier and status, TLS and endpoint access mode, WAF, protected and retained
resources, and the own domains' handoff records, for the committed dev and prod stacks."""

from __future__ import annotations

from collections.abc import Callable

from tools import plan
from whitelabel.offline import StackRun


def section(text: str, start: str, end: str) -> list[str]:
    """The lines from the one starting with `start` up to (not including) the one starting with `end`."""
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith(start))
    last = next(i for i, line in enumerate(lines) if i > first and line.startswith(end))
    return lines[first:last]


def test_dev_plan_shows_tenants_tls_no_waf_and_only_the_account_settings_retained(dev: StackRun) -> None:
    text = plan.render(dev)
    assert section(text, "Tenants", "Routes") == [
        "Tenants (2):",
        "  acme    tier standard   active     acme.dev.example.com",
        "  globex  tier standard   active     globex.dev.example.com",
        "",
        "Endpoint type: REGIONAL (certificates in eu-west-1)",
        "TLS policy: SecurityPolicy_TLS13_1_2_PFS_PQ_2025_09   endpoint access mode: STRICT",
        "WAF: off",
        "",
        "Protected (0): `pulumi up` refuses to delete or replace them",
        "  (none)",
        "Retained on delete (3): removing them from the program leaves them in AWS",
        "  whitelabel-gateway-account",
        "  whitelabel-gateway-cloudwatch-role",
        "  whitelabel-gateway-cloudwatch-role-policy",
        "",
    ]


def test_prod_plan_shows_tiers_waf_and_the_16_protected_and_9_retained(prod: StackRun) -> None:
    text = plan.render(prod)
    assert "  globex   tier premium    active     globex.example.com" in text
    assert "  initech  tier standard   active     initech-portal.example.com" in text
    assert "WAF: on (whitelabel-gateway-prod)" in text
    protected = section(text, "Protected (16)", "Retained")
    assert protected[1:] == [f"  {r.name}" for r in sorted(prod.custom, key=lambda r: r.name) if r.protect]
    assert (
        "  whitelabel-wildcard-domain" in protected and "  whitelabel-tenants-keys-globex.premium-api-key" in protected
    )
    retained = section(text, "Retained on delete (9)", "Routes")
    assert "  docs-bucket" in retained and "  whitelabel-waf-logs" in retained


def test_plan_shows_suspension_legacy_tls_and_the_own_domain_handoff_records(run_with: Callable[..., StackRun]) -> None:
    run = run_with(
        [{"name": "acme", "suspended": True, "customDomain": "api.acme.com"}, {"name": "globex"}], tlsPolicy="TLS_1_2"
    )
    text = plan.render(run)
    assert "  acme    tier standard   suspended  acme.dev.example.com" in text
    assert "TLS policy: TLS_1_2   endpoint access mode: none (legacy policy)" in text
    (record,) = run.outputs["customDomainHandoff"]["acme"]["validationRecords"]
    assert section(text, "Own domains", "Routes") == [
        "Own domains: records to hand each customer (`pulumi stack output customDomainHandoff`):",
        "  acme: api.acme.com (awaiting-validation)",
        f"    {record['name']} CNAME {record['value']}   (ACM validation)",
        "    api.acme.com CNAME acme.cname.dev.example.com",
        "",
    ]
    assert "Own domains" not in plan.render(run_with([{"name": "acme"}]))
