"""What differs between a Regional and an edge-optimized API (config `endpointType`), decided in one place.

Pure data and functions (no Pulumi import): the gateway and tenant-domain components, the config checks, the
quota count, the mocks, the policy pack and the plan all read these, so the two endpoint types differ only here.

Facts from AWS's documentation:
- Edge-optimized custom domains take `certificateArn` (not `regionalCertificateArn`), an ACM certificate in
  us-east-1 whatever the API's region; API Gateway puts a CloudFront distribution it owns in front and the DNS
  record aliases that distribution ("Set up an edge-optimized custom domain name in API Gateway",
  https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-edge-optimized-custom-domain-name.html;
  it also says such a domain takes about 40 minutes to be ready).
- Wildcard custom domains exist for edge-optimized REST APIs too ("Customers can now create wildcard custom
  domain names for their Amazon API Gateway EDGE, Regional, and WebSocket APIs", AWS What's New, October 2019,
  "Amazon API Gateway now supports wildcard custom domain names"),
  so the shared `*.<baseDomain>` domain stays. CloudFront's rule: an alternate domain name belongs to one
  distribution ("Edge-optimized custom domain names are unique and can't be associated with more than one
  CloudFront distribution",
  https://aws.amazon.com/premiumsupport/knowledge-center/custom-domain-name-amazon-api-gateway/). Each edge domain
  here is its own distribution with its own name: `*.x`, a dedicated `acme.x` and an own domain
  never share one. A wildcard and a more specific name may sit on different distributions: CloudFront lists
  them as overlapping, not as the same name (ListConflictingAliases,
  https://docs.aws.amazon.com/goto/WebAPI/cloudfront-2020-05-31/ListConflictingAliases). Two stacks of
  one account on the same baseDomain cannot both be edge: the second `*.x` is the same alternate name.
- Route 53 aliases an edge domain with `cloudfrontDomainName` / `cloudfrontZoneId` (the `aws_api_gateway_domain_name`
  attributes pulumi-aws 7 exposes; a regional domain has `regionalDomainName` / `regionalZoneId` instead).
- Security policies per endpoint type ("Supported security policies",
  https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-security-policies-list.html; the names
  as botocore's apigateway model lists them in its `SecurityPolicy` enum): Regional takes `SecurityPolicy_TLS13_*`,
  edge the `SecurityPolicy_*_EDGE` ones; both take the legacy `TLS_1_0` and `TLS_1_2`. Enhanced policies need an
  endpoint access mode; STRICT means a request must arrive through the resource's own endpoint type, and then
  "If you use an edge-optimized endpoint, API Gateway follows CloudFront's domain fronting protection" instead
  of the regional SNI-to-Host match ("Endpoint access mode",
  https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-security-policies.html).
- Mutual TLS is configured on Regional custom domains only
  (https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-mutual-tls.html).
- Quotas ("Quotas for configuring and running a REST API in API Gateway",
  https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-execution-service-limits-table.html):
  "Public custom domain names per account per Region" 120 covers both types; "Edge-optimized APIs per Region"
  120, not raisable (Regional: 600). ACM's per-region certificate quota is us-east-1's for edge certificates.
"""

from __future__ import annotations

from dataclasses import dataclass

REGIONAL = "REGIONAL"
EDGE = "EDGE"
ENDPOINT_TYPES = (REGIONAL, EDGE)

# Where ACM must hold an edge-optimized domain's certificate (CloudFront reads it from there).
EDGE_CERTIFICATE_REGION = "us-east-1"

# Route 53's hosted zone id of every CloudFront distribution (the alias target zone AWS documents for
# CloudFront: https://docs.aws.amazon.com/Route53/latest/APIReference/API_AliasTarget.html). The mocks answer
# it as `cloudfrontZoneId`; the component reads the attribute, never this constant.
CLOUDFRONT_ZONE_ID = "Z2FDTNDATAQYW2"

EDGE_TLS_POLICIES = (
    "SecurityPolicy_TLS13_2025_EDGE",
    "SecurityPolicy_TLS12_PFS_2025_EDGE",
    "SecurityPolicy_TLS12_2018_EDGE",
)
# The edge counterpart of the regional default: TLS 1.2 clients still get in, with forward-secret suites only
# (the regional default admits TLS 1.2 for the same reason: not every tenant's HTTP stack speaks TLS 1.3).
DEFAULT_EDGE_TLS_POLICY = "SecurityPolicy_TLS12_PFS_2025_EDGE"
# Legacy policies both types take; TLS_1_0 admits TLS 1.0 and is offered by neither.
LEGACY_TLS_POLICY = "TLS_1_2"


@dataclass(frozen=True)
class Endpoint:
    """How one endpoint type is built.

    certificate_arg: the DomainName argument that takes the ACM certificate's ARN.
    certificate_region: where the certificates live; None: the API's own region (the provider's).
    alias_name_attr, alias_zone_attr: the DomainName attributes a Route 53 alias record points at.
    mutual_tls: whether custom domains of this type can have a truststore.
    """

    type: str
    certificate_arg: str
    certificate_region: str | None
    alias_name_attr: str
    alias_zone_attr: str
    mutual_tls: bool
    default_tls_policy: str
    enhanced_tls_policies: tuple[str, ...]

    @property
    def tls_policies(self) -> tuple[str, ...]:
        """Every policy offered here for this type: its enhanced ones, then legacy TLS_1_2."""
        return (*self.enhanced_tls_policies, LEGACY_TLS_POLICY)


def endpoint(endpoint_type: str, *, regional_tls_policies: tuple[str, ...], regional_default: str) -> Endpoint:
    """The build decisions of `endpoint_type` (REGIONAL or EDGE).

    regional_tls_policies, regional_default: the Regional enhanced policies and default (they stay in
    `whitelabel.config`, where they were before edge existed).
    """
    if endpoint_type == EDGE:
        return Endpoint(
            type=EDGE,
            certificate_arg="certificate_arn",
            certificate_region=EDGE_CERTIFICATE_REGION,
            alias_name_attr="cloudfront_domain_name",
            alias_zone_attr="cloudfront_zone_id",
            mutual_tls=False,
            default_tls_policy=DEFAULT_EDGE_TLS_POLICY,
            enhanced_tls_policies=EDGE_TLS_POLICIES,
        )
    if endpoint_type == REGIONAL:
        return Endpoint(
            type=REGIONAL,
            certificate_arg="regional_certificate_arn",
            certificate_region=None,
            alias_name_attr="regional_domain_name",
            alias_zone_attr="regional_zone_id",
            mutual_tls=True,
            default_tls_policy=regional_default,
            enhanced_tls_policies=regional_tls_policies,
        )
    raise ValueError(f"{endpoint_type!r} is not an endpoint type: one of {', '.join(ENDPOINT_TYPES)}")


def tls_policy_endpoint_type(policy: str) -> str | None:
    """The endpoint type an enhanced policy belongs to (EDGE for `*_EDGE`, REGIONAL for other
    `SecurityPolicy_*`); None for a legacy policy, which both types take."""
    if not policy.startswith("SecurityPolicy_"):
        return None
    return EDGE if policy.endswith("_EDGE") else REGIONAL
