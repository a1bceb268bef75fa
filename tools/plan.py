"""Offline plan: what `pulumi up --stack <stack>` would create, shown without a cloud or the Pulumi CLI.

Runs the real `__main__.py` with `Pulumi.<stack>.yaml` under the mock engine and prints resources
by component, the customer endpoint table and the route table.

    python -m tools.plan --stack dev
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from functools import partial
from pathlib import Path
from typing import Any

from tools import cli
from tools.dashboard import operations_summary
from whitelabel.api_definition import build_routes, route_table
from whitelabel.config import PROJECT
from whitelabel.diff import top_component
from whitelabel.offline import (
    ROOT,
    STACK_REFERENCE_TYPE,
    Registered,
    StackRun,
    run_program,
    stack_file_text_config,
)
from whitelabel.waf import PER_IP_RULE, PER_TENANT_RULE, WCU_INCLUDED

DEPLOYMENT_TYPE = "aws:apigateway/deployment:Deployment"
STACK_TYPE = "pulumi:pulumi:Stack"


def _component_of(run: StackRun) -> dict[str, str]:
    """URN of a cloud resource → the component it is shown under (found by type: `whitelabel.diff.top_component`)."""
    by_urn = run.by_urn()
    owners: dict[str, str] = {}
    for resource in run.custom:
        top = top_component(resource, by_urn)
        owners[resource.urn] = f"{top.name} ({top.type})" if top else "(stack)"
    return owners


def engine_urn(run: StackRun, resource: Registered) -> str:
    """The URN the Pulumi engine gives `resource`: every ancestor's type except the stack's, then its own.

    The mock monitor's URNs differ (they keep the stack type and only the parent's last type), so this is
    built from the run's parent chain the way the engine's `generateURN` does it (pulumi/pulumi,
    pkg/resource/deploy: "don't use the root stack type; otherwise, use the full qualified type").
    """
    by_urn = run.by_urn()
    types = [resource.type]
    node = by_urn.get(resource.parent)
    while node is not None and node.type != STACK_TYPE:
        types.insert(0, node.type)
        node = by_urn.get(node.parent)
    return f"urn:pulumi:{run.stack}::{PROJECT}::{'$'.join(types)}::{resource.name}"


def route_removal_command(run: StackRun) -> str:
    """The second `pulumi up` of a route removal: it replaces the API's Deployment."""
    (deployment,) = run.of_type(DEPLOYMENT_TYPE)
    # `--replace` forces this one replacement within a whole-stack update, so the stage moves to the new
    # deployment too (`--target-replace` would leave the stage on the old one):
    # https://www.pulumi.com/docs/iac/cli/commands/pulumi_up/
    # https://www.pulumi.com/docs/iac/operations/stack-management/targeted-updates/
    return f"pulumi up --stack {run.stack} --replace '{engine_urn(run, deployment)}'"


REST_API_TYPE = "aws:apigateway/restApi:RestApi"
WEB_ACL_TYPE = "aws:wafv2/webAcl:WebAcl"


def _posture(run: StackRun) -> list[str]:
    """Tenants' tier and status, TLS, WAF, what is protected or retained, and the own domains' handoff records."""
    lines: list[str] = []
    tenants = run.outputs.get("tenants") or {}
    lines.append(f"\nTenants ({len(tenants)}):")
    width = max((len(n) for n in tenants), default=8)
    for name in sorted(tenants):
        tenant = tenants[name]
        hosts = ", ".join(tenant.get("hostnames") or [])
        lines.append(f"  {name:<{width}}  tier {tenant['tier']:<10} {tenant['status']:<9}  {hosts}")

    # What the API itself is given (the custom domains get the same policy and mode: components/tenant_domains.py).
    (api,) = run.of_type(REST_API_TYPE)
    mode = api.inputs.get("endpointAccessMode") or "none (legacy policy)"
    lines.append(f"\nEndpoint type: {endpoint_type(run)}")
    lines.append(f"TLS policy: {api.inputs.get('securityPolicy')}   endpoint access mode: {mode}")
    acls = run.of_type(WEB_ACL_TYPE)
    waf = f"on ({', '.join(str(a.inputs.get('name') or a.name) for a in acls)})" if acls else "off"
    lines.append(f"WAF: {waf}")

    protected = sorted(r.name for r in run.custom if r.protect)
    retained = sorted(r.name for r in run.custom if r.retain_on_delete)
    lines.append(f"\nProtected ({len(protected)}): `pulumi up` refuses to delete or replace them")
    lines.extend(f"  {name}" for name in protected or ["(none)"])
    lines.append(f"Retained on delete ({len(retained)}): removing them from the program leaves them in AWS")
    lines.extend(f"  {name}" for name in retained or ["(none)"])

    handoff = run.outputs.get("customDomainHandoff") or {}
    if handoff:
        lines.append("\nOwn domains: records to hand each customer (`pulumi stack output customDomainHandoff`):")
    for name in sorted(handoff):
        entry = handoff[name]
        lines.append(f"  {name}: {entry['domain']} ({_own_domain_status(entry)})")
        for record in entry.get("validationRecords") or []:
            lines.append(f"    {record['name']} {record['type']} {record['value']}   (ACM validation)")
        for domain in entry.get("domains") or [entry["domain"]]:
            lines.append(f"    {domain} CNAME {entry['pointAt']}")
    lines.extend(cloudfront_lines(run))
    return lines


def _own_domain_status(entry: dict[str, Any]) -> str:
    """An own domain's state: its phase on API Gateway, or its distribution tenant's on CloudFront."""
    if entry.get("edge") == "cloudFront":
        tenant = f"CloudFront distribution tenant {entry['distributionTenantId']}, {entry['tenantStatus']}"
        if entry.get("move"):
            return f"customDomainMove {entry['move']}: served by {entry['servedBy']}; {tenant}"
        return tenant
    return str(entry["status"])


def cloudfront_lines(run: StackRun) -> list[str]:
    """Own domains through CloudFront (docs "Own domains: two edges"): the distribution's origin and web ACL, and
    each distribution tenant with its domains and `tenant` parameter (the subdomain its origin is)."""
    distributions = run.of_type("aws:cloudfront/multitenantDistribution:MultitenantDistribution")
    tenants = sorted(run.of_type("aws:cloudfront/distributionTenant:DistributionTenant"), key=lambda t: t.name)
    if not distributions and not tenants:
        return []
    lines = ["\nOwn domains through CloudFront:"]
    for distribution in distributions:
        origin = distribution.inputs["origins"][0]
        acl = "web ACL " + ("on" if distribution.inputs.get("webAclId") else "off")
        lines.append(f"  multi-tenant distribution {distribution.name}: origin {origin['domainName']}, {acl}")
    for tenant in tenants:
        domains = ", ".join(d["domain"] for d in tenant.inputs["domains"])
        parameters = ", ".join(f"{p['name']}={p['value']}" for p in tenant.inputs.get("parameters") or [])
        # A tenant moved from API Gateway (customDomainMove) has the DNS-validated ACM certificate as its customization.
        certificate = "ACM certificate, DNS-validated" if tenant.inputs.get("customizations") else "managed certificate"
        lines.append(f"  distribution tenant {tenant.inputs['name']}: {domains} ({parameters}; {certificate})")
    return lines


def endpoint_type(run: StackRun) -> str:
    """The API's endpoint type as registered, and where its custom domains' certificates live."""
    (api,) = run.of_type(REST_API_TYPE)
    kind = str((api.inputs.get("endpointConfiguration") or {}).get("types"))
    regions = sorted(
        {str(c.outputs.get("arn", "")).split(":")[3] for c in run.of_type("aws:acm/certificate:Certificate")}
    )
    where = f"certificates in {', '.join(regions)}" if regions else "no certificates"
    if kind == "EDGE":
        return f"EDGE (edge-optimized: API Gateway's CloudFront distribution in front; {where})"
    return f"{kind} ({where})"


def shard_lines(run: StackRun) -> list[str]:
    """A tenant shard's platform: the stack its StackReference reads and what it takes from that stack's export."""
    (reference,) = run.of_type(STACK_REFERENCE_TYPE)
    export = (reference.outputs.get("outputs") or {}).get("platform") or {}
    plans = ", ".join(f"{tier} {plan}" for tier, plan in sorted((export.get("usage_plan_ids") or {}).items()))
    return [
        f'Tenant shard of {reference.inputs["name"]} (docs "Tenant shards"): only its tenants\' resources;',
        f"  from the platform's export: API {export.get('rest_api_id')} stage {export.get('stage_name')},"
        f" registry {export.get('registry_table_name')}, base domain {export.get('base_domain')},",
        f"  usage plans: {plans}",
    ]


def render(run: StackRun) -> str:
    """The plan as text for a person."""
    lines: list[str] = []
    shard = bool(run.of_type(STACK_REFERENCE_TYPE))
    owners = _component_of(run)
    groups: dict[str, Counter[str]] = defaultdict(Counter)
    for resource in run.custom:
        if resource.type != STACK_REFERENCE_TYPE:
            groups[owners[resource.urn]][resource.type] += 1
    total = sum(sum(counts.values()) for counts in groups.values())
    lines.append(f"Stack {run.stack}: {total} AWS resources in {len(groups)} components")
    if shard:
        # The StackReference is a read, not an AWS resource: shown as the shard's platform.
        lines[1:1] = shard_lines(run)
    for component in sorted(groups):
        counts = groups[component]
        lines.append(f"\n  {component}: {sum(counts.values())}")
        for type_, count in sorted(counts.items()):
            lines.append(f"    {count:>4}  {type_}")

    endpoints = run.outputs.get("customerEndpoints") or {}
    dedicated = run.outputs.get("dedicatedDomains") or {}
    handoff = run.outputs.get("customDomainHandoff") or {}
    lines.append(f"\nCustomer endpoints ({len(endpoints)}):")
    width = max((len(n) for n in endpoints), default=8)
    for name in sorted(endpoints):
        kind = "dedicated domain" if name in dedicated else "shared wildcard domain"
        extra = ""
        if name in handoff:
            extra = f"; own domain {handoff[name]['domain']} ({_own_domain_status(handoff[name])})"
        lines.append(f"  {name:<{width}}  {endpoints[name]:<45} {kind}{extra}")

    if shard:
        tenants = run.outputs.get("tenants") or {}
        lines.append(f"\nTenants ({len(tenants)}):")
        for name in sorted(tenants):
            tenant = tenants[name]
            lines.append(
                f"  {name:<{width}}  tier {tenant['tier']:<10} {tenant['status']:<9}  {', '.join(tenant['hostnames'])}"
            )
        return "\n".join(lines)
    lines.extend(_posture(run))

    lines.append("\nRoutes (every customer subdomain):")
    for method, path, target in route_table(build_routes()):
        lines.append(f"  {method:<4} {path:<22} → {target}")
    lines.append(f"\nStage: {run.outputs.get('stageName')}   Docs bucket: {run.outputs.get('docsBucket')}")
    if "wafCapacity" in run.outputs:
        lines.append(waf_summary(run))
    lines.append(
        "\nRemoving a route takes two runs: the `pulumi up` that removes it deletes its method and resource, "
        "but the\ndeployment created in that same run still serves it. Then replace the deployment:"
    )
    lines.append(f"  {route_removal_command(run)}")
    # The operator's view (components/operations.py): what the dashboard shows, when alarms fire.
    lines.append("\n" + operations_summary(run))
    return "\n".join(lines)


def waf_summary(run: StackRun) -> str:
    """The web ACL's rate limits and capacity (our count, which the mocks report as AWS's `capacity`)."""
    # The stage's (REGIONAL) web ACL; own domains through CloudFront add a CLOUDFRONT one with the same limits.
    (acl,) = [a for a in run.of_type("aws:wafv2/webAcl:WebAcl") if a.inputs.get("scope") != "CLOUDFRONT"]
    limits = {
        rule["name"]: int(rule["statement"]["rateBasedStatement"]["limit"])
        for rule in acl.inputs["rules"]
        if "rateBasedStatement" in rule["statement"]
    }
    return (
        f"WAF rate limits: per Host {limits[PER_TENANT_RULE]:,} and per IP {limits[PER_IP_RULE]:,}"
        " requests per 5 minutes;"
        f" {int(run.outputs['wafCapacity']):,} WCU ({WCU_INCLUDED:,} in the base price)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="dev", help="stack whose Pulumi.<stack>.yaml to plan (default: dev)")
    parser.add_argument("--project-dir", type=Path, default=ROOT, help="the project directory (default: this one)")
    parser.add_argument(
        "--stack-file", type=Path, help="plan this stack file (Pulumi.<stack>.yaml) instead; its name names the stack"
    )
    args = parser.parse_args(argv)
    try:
        # `run_program` alone for this project: the tests stand in for it with a one-argument function.
        build = run_program if args.project_dir == ROOT else partial(run_program, project_dir=args.project_dir)
        stack = args.stack
        if args.stack_file is not None:
            # An example kept outside the project directory (examples/own-domains): the program with its config.
            stack = args.stack_file.name.removeprefix("Pulumi.").removesuffix(".yaml")
            config = stack_file_text_config(args.stack_file.read_text(), args.stack_file.name)
            build = partial(run_program, config=config, project_dir=args.project_dir)
        run = cli.load(build, stack)
    except cli.StackError as failure:
        return failure.report()
    print(render(run))
    return 0


if __name__ == "__main__":
    sys.exit(main())
