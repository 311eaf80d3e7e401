"""Manifest sections of the edge: the app's `domain` and its `cdn`."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from fargo.manifest.base import Strict, invalid

_HOST = re.compile(r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
# CloudFront distribution ids: upper-case letters and digits, E… in practice.
_DISTRIBUTION_ID = re.compile(r"^[A-Z0-9]{8,20}$")
# A cache behavior's path pattern: CloudFront allows these characters and `*`/`?` wildcards.
_PATH_PATTERN = re.compile(r"^/[A-Za-z0-9_\-.$/~\"'@:+*?&]*$")

DnsProviderName = Literal["route53", "cloudflare", "godaddy", "porkbun", "powerdns"]
# Providers that cannot answer at a zone's apex with another host's addresses.
NO_APEX_ALIAS = frozenset({"godaddy"})


def _host(value: str, what: str) -> str:
    if not _HOST.fullmatch(value):
        raise invalid(f"`{value}` is not a {what}", "lower-case, for example api.example.com")
    return value


class DomainSpec(Strict):
    name: str = Field(description="the DNS zone fargo writes records in, e.g. example.com")
    api: str | None = Field(None, description="the API's host name; default api.<name>")
    site: str | None = Field(
        None,
        description="the static site's host name (with `cdn: { static }`); default www.<name>; "
        "the apex (<name> itself) is written as an alias, which every provider but godaddy has",
    )
    dns: DnsProviderName = Field(
        "route53", description="where the zone is hosted; credentials come from the environment"
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _host(value, "domain name")

    @field_validator("api", "site")
    @classmethod
    def _hosts(cls, value: str | None) -> str | None:
        return None if value is None else _host(value, "host name")

    @model_validator(mode="after")
    def _inside_zone(self) -> DomainSpec:
        for key in ("api", "site"):
            host = getattr(self, key)
            if host is not None and host != self.name and not host.endswith("." + self.name):
                raise invalid(
                    f"`{key}: {host}` is outside the zone {self.name}",
                    f"fargo writes records only in {self.name}; use a host such as "
                    f"{key}.{self.name}",
                )
        return self

    @model_validator(mode="after")
    def _apex_alias(self) -> DomainSpec:
        # A CNAME cannot sit at the apex; GoDaddy has no ALIAS record to put there instead
        # (the other providers' apex rules are in fargo.edge.dns.aliases).
        if self.dns not in NO_APEX_ALIAS:
            return self
        for key in ("api", "site"):
            if getattr(self, key) == self.name:
                raise invalid(
                    f"`{key}: {self.name}` is the zone's apex, and {self.dns} has no ALIAS "
                    "records to point it at AWS (a CNAME cannot sit at the apex)",
                    f"use {'www' if key == 'site' else 'api'}.{self.name}, or move the zone's "
                    "DNS to a provider with apex aliases (route53, cloudflare, porkbun, "
                    "powerdns)",
                )
        return self


class CdnAssetsSpec(Strict):
    path: str = Field(description="the path pattern served from the bucket, e.g. /_next/static/*")
    dir: str = Field(description="the directory uploaded under that path, relative to fargo.yml")

    @field_validator("path")
    @classmethod
    def _prefix(cls, value: str) -> str:
        # The files are stored under the path's prefix, so the pattern must be one prefix.
        body = value[1:-2] if value.startswith("/") and value.endswith("/*") else ""
        if not body or "*" in body or "?" in body or not _PATH_PATTERN.fullmatch(value):
            raise invalid(
                f"`{value}` is not a path prefix fargo can serve files under",
                "one directory and `/*`, for example /_next/static/* or /assets/*",
            )
        return value


class CdnSpec(Strict):
    existing: str | None = Field(
        None, description="id of a CloudFront distribution fargo adds the API to, not owns"
    )
    static: str | None = Field(
        None, description="a directory of built static files; fargo creates the distribution"
    )
    app: bool = Field(
        False,
        description="CloudFront in front of the app itself: the default behavior goes to the "
        "load balancer; fargo creates the distribution",
    )
    assets: CdnAssetsSpec | None = Field(
        None, description="with `app`: built files served from a private bucket under a path"
    )
    path: str | None = Field(
        None, description="the path pattern routed to the API (default /api/*); not with `app`"
    )
    spa: bool = Field(
        True,
        description="with `static`: serve index.html for paths without a file (single-page "
        "apps); false serves a directory's index.html",
    )
    spa_errors: Literal["function"] | None = Field(
        None,
        description="with `existing`: replace the distribution's 403/404 → /index.html error "
        "pages with a CloudFront Function on its default behavior only",
    )

    @field_validator("existing")
    @classmethod
    def _distribution_id(cls, value: str | None) -> str | None:
        if value is not None and not _DISTRIBUTION_ID.fullmatch(value):
            raise invalid(
                f"`{value}` is not a CloudFront distribution id",
                "the ID column of the CloudFront console, e.g. E2ABCDEF123456",
            )
        return value

    @field_validator("path")
    @classmethod
    def _path(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not _PATH_PATTERN.fullmatch(value) or value in ("/", "/*", "*"):
            raise invalid(
                f"`{value}` is not a path pattern fargo can route to the API",
                "a prefix such as /api/* (the default behavior stays with the site)",
            )
        return value

    @field_validator("spa")
    @classmethod
    def _spa_serves_a_static_site(cls, value: bool, info: ValidationInfo) -> bool:
        # Runs only when `spa` is written; `existing`, `static` and `app` come before it.
        if info.data.get("static") is not None:
            return value
        if info.data.get("app"):
            raise invalid(
                "`cdn.spa` applies only to a `static` site, not with `app: true`",
                "the app answers every path itself, its client-side routes too: remove `spa`",
            )
        raise invalid(
            "`cdn.spa` applies only to a `static` site fargo serves",
            "fargo does not serve your distribution's files; `spa_errors: function` keeps "
            "its single-page app fallback without hiding the API's 403 and 404",
        )

    @model_validator(mode="after")
    def _one_source(self) -> CdnSpec:
        sources = (self.existing is not None) + (self.static is not None) + self.app
        if sources != 1:
            raise invalid(
                "`cdn` needs exactly one of `existing`, `static` or `app`",
                "existing: DISTRIBUTION_ID adds the API to your distribution; "
                "static: ./dist creates one for a static site; "
                "app: true puts one in front of the whole app",
            )
        if self.app and self.path is not None:
            raise invalid(
                "`cdn.path` does not apply with `app: true`",
                "the distribution's default behavior is the app: every path reaches it; "
                "remove `path`",
            )
        if self.assets is not None and not self.app:
            raise invalid(
                "`cdn.assets` needs `app: true`",
                "a static site serves all its files already: use `static: DIR` alone",
            )
        if self.spa_errors is not None and self.existing is None:
            raise invalid(
                "`cdn.spa_errors` applies only to an `existing` distribution",
                "fargo's own distributions have no custom error responses to replace",
            )
        return self
