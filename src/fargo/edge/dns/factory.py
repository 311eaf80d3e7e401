"""The provider `domain.dns` names, with credentials from the environment only.

Credentials never come from fargo.yml, so a manifest can be committed. Each provider's
API base URL can be pointed elsewhere (`FARGO_<PROVIDER>_API_URL`), e.g. at a local
server in tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from fargo.edge.dns.errors import missing_credentials
from fargo.edge.dns.provider import DnsProvider
from fargo.edge.dns.route53 import Route53
from fargo.errors import InputError

if TYPE_CHECKING:
    import httpx

    from fargo.aws.facade import Aws
    from fargo.images.retry import RetryPolicy

PROVIDERS = ("route53", "cloudflare", "godaddy", "porkbun", "powerdns")


def provider_from_env(
    kind: str,
    env: Mapping[str, str],
    aws: Aws | None,
    *,
    retry: RetryPolicy | None = None,
    transport: httpx.BaseTransport | None = None,
) -> DnsProvider:
    """The `kind` provider. `retry` and `transport` replace the HTTP defaults (tests).

    Each provider's module is imported when it is chosen: the HTTP ones bring httpx,
    which a deploy without a domain (and `fargo plan`) need not load."""
    if kind == "route53":
        if aws is None:
            raise InputError(
                "DNS provider route53 needs AWS access",
                hint="route53 writes through the deploy's AWS credentials; run it with them",
            )
        return Route53(aws)
    if kind == "cloudflare":
        from fargo.edge.dns.cloudflare import CLOUDFLARE_API_URL, Cloudflare  # noqa: PLC0415

        (token,) = _required(kind, env, "CLOUDFLARE_API_TOKEN")
        url = env.get("FARGO_CLOUDFLARE_API_URL") or CLOUDFLARE_API_URL
        return Cloudflare(token, api_url=url, retry=retry, transport=transport)
    if kind == "godaddy":
        from fargo.edge.dns.godaddy import GODADDY_API_URL, GoDaddy  # noqa: PLC0415

        key, secret = _required(kind, env, "GODADDY_API_KEY", "GODADDY_API_SECRET")
        url = env.get("FARGO_GODADDY_API_URL") or GODADDY_API_URL
        return GoDaddy(key, secret, api_url=url, retry=retry, transport=transport)
    if kind == "porkbun":
        from fargo.edge.dns.porkbun import PORKBUN_API_URL, Porkbun  # noqa: PLC0415

        key, secret = _required(kind, env, "PORKBUN_API_KEY", "PORKBUN_SECRET_API_KEY")
        url = env.get("FARGO_PORKBUN_API_URL") or PORKBUN_API_URL
        return Porkbun(key, secret, api_url=url, retry=retry, transport=transport)
    if kind == "powerdns":
        from fargo.edge.dns.powerdns import PowerDns  # noqa: PLC0415

        url, key = _required(kind, env, "FARGO_POWERDNS_URL", "FARGO_POWERDNS_API_KEY")
        server = env.get("FARGO_POWERDNS_SERVER_ID") or "localhost"
        return PowerDns(url, key, server, retry=retry, transport=transport)
    raise InputError(
        f"unknown DNS provider {kind!r}",
        hint=f"domain.dns is one of: {', '.join(PROVIDERS)}",
    )


def _required(kind: str, env: Mapping[str, str], *names: str) -> list[str]:
    missing = [name for name in names if not env.get(name, "").strip()]
    if missing:
        raise missing_credentials(kind, missing)
    return [env[name].strip() for name in names]
