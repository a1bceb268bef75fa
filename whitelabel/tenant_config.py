"""A customer in config (`customers.<name>`) and end-user authentication (`auth`, `customers.<name>.auth`): the
per-tenant part of the gateway's model, and how a customer's auth resolves over the stack's."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from whitelabel.config_base import LABEL_RE, LABEL_RULE, CliBool, FieldRuleError, _Model, is_dns_name, show
from whitelabel.config_limits import DN_MAX, EMAIL_RE, TIER_RE, TIER_RULE, TRUSTSTORE_RE

DEFAULT_TENANT_CLAIM = "custom:tenantId"  # as Cognito names a custom attribute in its tokens


def _https_issuer(value: str | None) -> str | None:
    # The issuer is the token's `iss` and the root of its discovery document: it must be https, so the keys
    # that decide who a user is cannot be altered on the way (docs "End-user authentication (auth)").
    if value is not None and (not value.startswith("https://") or len(value) <= 8 or not _claim_text(value)):
        raise ValueError(f"{show(value)} must be an https URL (the issuer as its tokens' iss claim names it)")
    return value


def _claim_text(value: str) -> bool:
    # Issuer, audiences and the tenant claim's name go into registry items and are compared with token claims:
    # one printable word (no whitespace or control characters), as a claim name or client id is.
    return 0 < len(value) <= 1024 and value.isprintable() and not any(ch.isspace() for ch in value)


def _claim_names(value: Any) -> Any:
    names = [value] if isinstance(value, str) else list(value or ())
    for name in names:
        if isinstance(name, str) and not _claim_text(name):
            raise ValueError(f"{show(name)} must be one printable word of at most 1024 characters")
    return value


class CustomerAuth(_Model):
    """`customers[i].auth`: one customer's own issuer, audiences or tenant claim (each overrides `auth`'s)."""

    issuer: str | None = None
    """this customer's own token issuer (https), over `auth.issuer`; `auth: none` instead of the mapping turns
    authentication off for the customer ("End-user authentication (auth)")"""
    audiences: tuple[str, ...] | None = None
    """this customer's accepted `aud` values, over `auth.audiences`"""
    # Explicit null: the issuer alone identifies the tenant (`model_fields_set` tells null from absent).
    tenant_claim: str | None = Field(default=None, alias="tenantClaim")
    """this customer's tenant claim, over `auth.tenantClaim`; `null`: the issuer alone names the tenant, refused when
    another customer shares the issuer"""

    _issuer = field_validator("issuer")(_https_issuer)
    _names = field_validator("audiences", "tenant_claim")(_claim_names)


# Brand of a tenant's developer portal (docs "Developer portal per tenant"). A colour is a colour, a URL is https:
# each value is written into the tenant's page and its Content-Security-Policy, so nothing may hold a quote, angle
# bracket or whitespace that could leave its attribute.
HEX_COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}\Z")
HTTPS_URL_RE = re.compile(r"^https://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:/[A-Za-z0-9._~!$&()*+,;=:@%/?-]*)?\Z")
LOGO_EXTENSIONS = (".png", ".svg", ".jpg", ".jpeg", ".webp", ".gif")
DISPLAY_NAME_MAX = 80


def _https_url(value: str | None) -> str | None:
    if value is not None and (len(value) > 2048 or not HTTPS_URL_RE.match(value)):
        raise ValueError(f"{show(value)} must be an https URL such as https://acme.example/logo.svg")
    return value


class Branding(_Model):
    """`branding` (the stack's) or `customers.<name>.branding` (over it, key by key): a tenant portal's brand."""

    display_name: str | None = Field(default=None, alias="displayName")
    """the name the portal shows: printable, 1 to 80 characters. Default: the customer's name."""
    logo_url: str | None = Field(default=None, alias="logoUrl")
    """an https URL of the logo image; or `logoFile`, not both"""
    logo_file: str | None = Field(default=None, alias="logoFile")
    """an image under `docs.folder`, relative to it (`.png`, `.svg`, `.jpg`, `.jpeg`, `.webp`, `.gif`; no `..`); must
    exist with `docs.perTenant`"""
    primary_color: str | None = Field(default=None, alias="primaryColor")
    """`#rrggbb`. Default: unset (`#32329f`)."""
    support_url: str | None = Field(default=None, alias="supportUrl")
    """an https URL the portal names for support; or `supportEmail`, not both"""
    support_email: str | None = Field(default=None, alias="supportEmail")
    """an email address the portal names for support"""

    _urls = field_validator("logo_url", "support_url")(_https_url)

    @field_validator("display_name")
    @classmethod
    def _display_name(cls, value: str | None) -> str | None:
        if value is not None and (
            not value.strip() or not value.isprintable() or len(value) > DISPLAY_NAME_MAX or value != value.strip()
        ):
            raise ValueError(
                f"{show(value)} must be a printable name of 1 to {DISPLAY_NAME_MAX} characters, no leading or"
                " trailing space"
            )
        return value

    @field_validator("primary_color")
    @classmethod
    def _colour(cls, value: str | None) -> str | None:
        if value is not None and not HEX_COLOR_RE.match(value):
            raise ValueError(f"{show(value)} must be a colour as #rrggbb, such as #0a66c2")
        return value

    @field_validator("support_email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and (not EMAIL_RE.match(value) or not re.fullmatch(r"[A-Za-z0-9._%+@-]+", value)):
            raise ValueError(f"{show(value)} must be an email address such as support@acme.example")
        return value

    @field_validator("logo_file")
    @classmethod
    def _logo_file(cls, value: str | None) -> str | None:
        if value is not None and (
            not re.fullmatch(r"[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*", value)
            or any(part in (".", "..") for part in value.split("/"))
            or not value.lower().endswith(LOGO_EXTENSIONS)
        ):
            raise ValueError(
                f"{show(value)} must be an image file under docs.folder, relative to it (such as acme/logo.svg):"
                f" one of {', '.join(LOGO_EXTENSIONS)}, no '..'"
            )
        return value

    @model_validator(mode="after")
    def _one_logo_one_support(self) -> Branding:
        if self.logo_url is not None and self.logo_file is not None:
            raise FieldRuleError("logoFile", "is set but so is logoUrl: give one logo")
        if self.support_url is not None and self.support_email is not None:
            raise FieldRuleError("supportEmail", "is set but so is supportUrl: give one way to reach support")
        return self


class Customer(_Model):
    """One entry of `customers`: a tenant reached at `<subdomain>.<baseDomain>`."""

    name: str
    """the name: DNS label: 1–63 of `a-z`, `0-9`, `-`, not starting or ending with `-`; unique; not `wildcard` (the
    platform's own resources use it)"""
    subdomain_: str | None = Field(default=None, alias="subdomain")
    """same rule; unique; not `www`, `api`, `docs`, `admin`, `mail`, `status`, `cname`. Default: `name`."""
    dedicated_domain: CliBool = Field(default=False, alias="dedicatedDomain")
    """its own custom domain `<subdomain>.<baseDomain>` instead of the shared wildcard"""
    custom_domain: str | None = Field(default=None, alias="customDomain")
    """a domain the customer owns, outside `baseDomain`; unique; at most 64 characters"""
    custom_domain_validated: CliBool = Field(default=False, alias="customDomainValidated")
    """phase 2 of `customDomain` (requires it); own domains on API Gateway only, refused for one through CloudFront"""
    # Which edge serves `customDomain` (docs "Own domains: two edges"); unset: the stack's `customDomains.via`.
    custom_domain_via: Literal["apiGateway", "cloudFront"] | None = Field(default=None, alias="customDomainVia")
    """the edge serving this customer's `customDomain` (requires it): pins a customer to API Gateway while the
    stack's default is `cloudFront`, or the other way; see "Own domains: two edges". Default: `customDomains.via`."""
    # Moving `customDomain` from its API Gateway custom domain to a distribution tenant without downtime (docs "Moving a
    # customer from an API Gateway domain to CloudFront"): each value is one `pulumi up`; `done` stays in the config,
    # it says the tenant's certificate is the DNS-validated ACM one, so the tenant is never replaced.
    custom_domain_move: Literal["prepare", "switch", "done"] | None = Field(default=None, alias="customDomainMove")
    """moves `customDomain` from API Gateway to CloudFront without downtime, one `pulumi up` per step (see "Moving a
    customer from an API Gateway domain to CloudFront"): `prepare` (on API Gateway, `customDomainValidated`: a
    DNS-validated ACM certificate in us-east-1 and a distribution tenant with it), `switch` (our
    `<subdomain>.cname.<baseDomain>` record names the connection group), `done` (through CloudFront: the API Gateway
    custom domain, its certificate and registry item removed). Keep `done` afterwards: it keeps the tenant's
    certificate"""
    # More own domains of the same customer, beside `customDomain` (its first, the certificate's primary name):
    # through CloudFront only, one distribution tenant holding them all (whitelabel/cloudfront.py checks).
    more_domains: tuple[str, ...] = Field(default=(), alias="customDomains")
    """more own domains of the customer beside `customDomain` (which it requires, and which stays the certificate's
    primary name): lowercase DNS names outside `baseDomain`, unique across customers; through CloudFront only
    (refused on API Gateway), one distribution tenant holds them all, up to `quotas.domainsPerTenant` with
    `customDomain`"""
    tier: str | None = None
    """must name a tier of `tiers`. Default: `defaultTier`."""
    # The tier a re-tiered customer is leaving: its key stays in that tier's plan until this is removed, so
    # decisions the authorizer cached before the change keep a metered key (docs "Re-tiering without a 403").
    previous_tier: str | None = Field(default=None, alias="previousTier")
    """the tier the customer is leaving: its key stays in that tier's plan until this is removed ("Re-tiering without
    a 403"); a tier of `tiers` other than the customer's"""
    suspended: CliBool = False
    """the authorizer refuses the customer's hostnames (403); DNS, domains and key stay"""
    mtls_truststore: str | None = Field(default=None, alias="mtlsTruststore")
    """`s3://<bucket>/<key>` of a PEM bundle: mutual TLS on the customer's custom domains (requires `dedicatedDomain`,
    `mtlsIssuers`, `authorizer.cacheTtlSeconds: 0` and `tlsPolicy: TLS_1_2`: AWS allows mutual TLS only on
    `TLS_1_2` domains and the API's policy negotiates every mapped domain's handshake; refused otherwise). The
    policy pack then accepts `TLS_1_2` on the API and the other domains only because a mutual-TLS domain exists"""
    # The client-certificate issuer DNs (and optionally subject DNs) this customer's hostnames accept, as API
    # Gateway writes `clientCert.issuerDN`/`subjectDN`: the tenant authorizer checks them (docs "Mutual TLS").
    mtls_issuers: tuple[str, ...] = Field(default=(), alias="mtlsIssuers")
    """required with `mtlsTruststore`, refused without it: the issuer DNs of the customer's client certificates,
    exactly as API Gateway writes `clientCert.issuerDN`; printable, at most 1024 characters, unique; an issuer
    listed by two customers only if both list disjoint `mtlsSubjects`. The authorizer refuses the customer's
    hostnames without such a certificate (see "Mutual TLS")"""
    mtls_subjects: tuple[str, ...] = Field(default=(), alias="mtlsSubjects")
    """with `mtlsTruststore` only: when set, the client certificate's `subjectDN` must be one of these too"""
    # End-user authentication: absent → the stack's `auth`; `none` → off for this customer; an object → overrides.
    auth: Literal["none"] | CustomerAuth | None = None
    """this customer's end-user authentication: unset inherits `auth`; `none` turns it off for the customer; a
    mapping of `issuer`, `audiences`, `tenantClaim` overrides what it names and inherits the rest"""
    # Its developer portal's brand, key by key over the stack's `branding` (with docs.perTenant).
    branding: Branding | None = None
    """this customer's brand over `branding`, key by key (a logo or a support contact is taken as a pair)"""

    @field_validator("mtls_issuers", "mtls_subjects")
    @classmethod
    def _distinguished_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for dn in value:
            if not dn.strip() or not dn.isprintable() or len(dn) > DN_MAX:
                raise ValueError(
                    f"{show(dn)} must be a distinguished name as API Gateway writes it (such as"
                    f" 'CN=Acme Client CA,O=Acme,C=US'): printable, not blank, at most {DN_MAX} characters"
                )
        duplicates = sorted({dn for dn in value if value.count(dn) > 1})
        if duplicates:
            raise ValueError(f"{show(duplicates[0])} is listed more than once")
        return value

    @field_validator("mtls_truststore")
    @classmethod
    def _truststore_is_s3_uri(cls, value: str | None) -> str | None:
        if value is not None and not TRUSTSTORE_RE.match(value):
            raise ValueError(f"{show(value)} must be an S3 URI of a PEM bundle such as s3://bucket/truststore.pem")
        return value

    @field_validator("name")
    @classmethod
    def _name_is_label(cls, value: str) -> str:
        if not LABEL_RE.match(value):
            raise ValueError(f"{show(value)} {LABEL_RULE}")
        return value

    @field_validator("subdomain_")
    @classmethod
    def _subdomain_is_label(cls, value: str | None) -> str | None:
        if value is not None and not LABEL_RE.match(value):
            raise ValueError(f"{show(value)} {LABEL_RULE}")
        return value

    @field_validator("tier", "previous_tier")
    @classmethod
    def _tier_is_name(cls, value: str | None) -> str | None:
        if value is not None and not TIER_RE.match(value):
            raise ValueError(f"{show(value)} {TIER_RULE}")
        return value

    @field_validator("custom_domain")
    @classmethod
    def _custom_domain_is_dns_name(cls, value: str | None) -> str | None:
        if value is not None and not is_dns_name(value):
            raise ValueError(f"{show(value)} must be a lowercase DNS name such as api.customer.com")
        return value

    @field_validator("more_domains")
    @classmethod
    def _more_domains_are_dns_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for domain in value:
            if not isinstance(domain, str) or not is_dns_name(domain):
                raise ValueError(f"{show(domain)} must be a lowercase DNS name such as www.customer.com")
        duplicates = sorted({d for d in value if value.count(d) > 1})
        if duplicates:
            raise ValueError(f"{show(duplicates[0])} is listed more than once")
        return value

    @model_validator(mode="after")
    def _validated_needs_domain(self) -> Customer:
        if self.custom_domain_validated and self.custom_domain is None:
            raise FieldRuleError("customDomainValidated", "is set but customDomain is not (phase 2 needs the domain)")
        return self

    @model_validator(mode="after")
    def _move_needs_domain(self) -> Customer:
        if self.custom_domain_move is not None and self.custom_domain is None:
            raise FieldRuleError("customDomainMove", "is set but customDomain is not (it moves that domain)")
        return self

    @model_validator(mode="after")
    def _mtls_needs_dedicated_domain(self) -> Customer:
        # A truststore belongs to one custom domain; the shared wildcard domain serves every tenant.
        if self.mtls_truststore is not None and not self.dedicated_domain:
            raise FieldRuleError(
                "mtlsTruststore",
                "is set but dedicatedDomain is not: mutual TLS needs the customer's own custom domain",
            )
        return self

    @model_validator(mode="after")
    def _mtls_needs_issuers(self) -> Customer:
        # API Gateway checks a certificate against the truststore of the domain the handshake came in on,
        # and the Host header may name any other customer: the authorizer must know whose certificates this
        # customer's hostnames accept.
        if self.mtls_truststore is not None and not self.mtls_issuers:
            raise FieldRuleError(
                "mtlsIssuers",
                "is required with mtlsTruststore: list the issuer DNs of this customer's client certificates;"
                " without it a request with no certificate, or with one issued for another customer's"
                " truststore, would be accepted for this customer's hostnames",
            )
        if self.mtls_truststore is None and (self.mtls_issuers or self.mtls_subjects):
            field = "mtlsIssuers" if self.mtls_issuers else "mtlsSubjects"
            raise FieldRuleError(
                field,
                "is set but mtlsTruststore is not: without a truststore no client certificate reaches the"
                " authorizer, so every request to this customer would be refused",
            )
        return self

    @property
    def subdomain(self) -> str:
        return self.subdomain_ if self.subdomain_ is not None else self.name


class AuthSettings(_Model):
    """`auth`: end-user tokens the tenant authorizer verifies (off while `issuer` is unset)."""

    issuer: str | None = None
    """the token issuer, an https URL; its `/.well-known/openid-configuration` names the key set; needs
    `auth.audiences` and `authorizer.cacheTtlSeconds: 0`. Default: none (off)."""
    audiences: tuple[str, ...] = ()
    """accepted `aud` values (client ids)"""
    tenant_claim: str = Field(default=DEFAULT_TENANT_CLAIM, alias="tenantClaim")
    """the claim that must equal the host's tenant (the customer's `name`)"""
    public_prefixes: tuple[str, ...] = Field(default=(), alias="publicPrefixes")
    """paths that need no user, such as `/docs` (whole segments: `/docsx` is not under `/docs`)"""
    # The authorizer runs end-user authentication (USER_AUTH) even when no customer of this stack has it: for
    # tenants of shards (or of TenantSets in other stacks) with an issuer of their own. The program turns it on by
    # itself for the shards beside it; a component user sets it.
    enabled: bool = False
    """run end-user authentication in the authorizer even when no customer of this stack has it (on anyway with
    `auth.issuer` or a customer's own issuer; a platform turns it on by itself for its shards' customers)"""

    _issuer = field_validator("issuer")(_https_issuer)
    _names = field_validator("audiences", "tenant_claim")(_claim_names)

    @field_validator("public_prefixes")
    @classmethod
    def _prefixes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for prefix in value:
            if not re.fullmatch(r"/[A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*", prefix):
                raise ValueError(f"{show(prefix)} must be a path such as '/docs': a slash, then path segments")
        return value


@dataclass(frozen=True)
class ResolvedAuth:
    """One customer's end-user authentication as the registry item carries it (tenant_claim None: issuer alone)."""

    issuer: str
    audiences: tuple[str, ...]
    tenant_claim: str | None
