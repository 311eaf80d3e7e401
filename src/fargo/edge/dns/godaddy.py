"""GoDaddy's v1 domains API: `/v1/domains/{domain}/records/{type}/{name}`.

Authorization is `sso-key KEY:SECRET`. Names are relative to the domain (`@` is the
apex). A PUT replaces every record of that type and name, so fargo sends the values the
name keeps together with its own; when none is left, DELETE removes the set. GoDaddy's
smallest TTL is 600 seconds. GoDaddy has no ALIAS records and takes no CNAME at the apex:
a host at the apex is refused when fargo.yml is loaded, and `check_alias` says so too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import httpx

from fargo.edge.dns.api import Call, JsonApi
from fargo.edge.dns.errors import DnsProviderError, DnsZoneNotFound
from fargo.edge.dns.provider import Change, Held, RecordSetProvider
from fargo.edge.dns.records import DnsRecord, RecordType, fqdn, mx_parts, relative_name
from fargo.errors import InputError
from fargo.images.retry import RetryPolicy

GODADDY_API_URL = "https://api.godaddy.com"
_MIN_TTL = 600
_AUTH_HINT = (
    "check that GODADDY_API_KEY and GODADDY_API_SECRET are a production key pair of the "
    "account that owns {zone}; GoDaddy also refuses its DNS API to some accounts "
    "(it asks for 10 or more domains), then use another DNS provider"
)


class GoDaddy(RecordSetProvider):
    name = "godaddy"

    def __init__(
        self,
        key: str,
        secret: str,
        *,
        api_url: str = GODADDY_API_URL,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.api = JsonApi(
            "godaddy",
            api_url,
            auth_hint=_AUTH_HINT,
            message_of=_message,
            headers={"Authorization": f"sso-key {key}:{secret}"},
            secrets=[key, secret],
            retry=retry,
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"GoDaddy({self.api.base_url!r}, key=<hidden>, secret=<hidden>)"

    def check_alias(self, zone: str) -> None:
        raise InputError(
            f"godaddy cannot answer at the apex of {zone} with another host's addresses: "
            "it has no ALIAS records and takes no CNAME there",
            hint=f"use www.{zone}, or move the zone's DNS to a provider with apex aliases "
            "(route53, cloudflare, porkbun, powerdns)",
        )

    def _path(self, zone: str, name: str, type: str) -> str:
        relative = relative_name(name, zone) or "@"
        return f"/v1/domains/{quote(zone)}/records/{type}/{quote(relative, safe='@')}"

    def find_zone(self, zone: str) -> str:
        zone = fqdn(zone)
        call = Call("find zone", zone, zone)
        try:
            self.api.send("GET", f"/v1/domains/{quote(zone)}", call)
        except DnsProviderError as error:
            if error.status != httpx.codes.NOT_FOUND:
                raise
            raise DnsZoneNotFound(
                f"godaddy: no domain named {zone} in the account of GODADDY_API_KEY",
                hint=f"use the key pair of the GoDaddy account that holds {zone}, or set "
                "domain.dns to the provider that serves it",
            ) from None
        return zone

    def _held(self, zone: str, name: str, type: RecordType) -> list[Held]:
        if type == "ALIAS":
            self.check_alias(zone)
        call = Call("read", f"{name} {type}", zone)
        items = self.api.send("GET", self._path(zone, name, type), call).json()
        return [_held(item, name, type) for item in items]

    def _apply(self, zone: str, changes: Sequence[Change], operation: str) -> None:
        for change in changes:
            call = Call(operation, change.name, zone)
            path = self._path(zone, change.name, change.type)
            if not change.after:
                self.api.send("DELETE", path, call)
                continue
            removed = change.removed
            kept = [_item(h.record, h.handle) for h in change.before if h not in removed]
            added = [_item(r, _data(r), max(r.ttl, _MIN_TTL)) for r in change.added]
            self.api.send("PUT", path, call, json=kept + added)


def _held(item: Mapping[str, Any], name: str, type: RecordType) -> Held:
    data = str(item["data"])
    value = f"{item.get('priority', 0)} {data}" if type == "MX" else data
    return Held(DnsRecord(name, type, value, int(item.get("ttl", _MIN_TTL))), data)


def _data(record: DnsRecord) -> str:
    return mx_parts(record.value)[1] if record.type == "MX" else record.value


def _item(record: DnsRecord, data: str, ttl: int | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"data": data, "ttl": ttl or record.ttl}
    if record.type == "MX":
        item["priority"] = mx_parts(record.value)[0]
    return item


def _message(response: httpx.Response) -> str:
    body = response.json()
    fields = "; ".join(f"{f.get('path')}: {f.get('message')}" for f in body.get("fields") or [])
    said = f"{body.get('code', '')}: {body.get('message', '')}".strip(": ")
    return f"{said} ({fields})" if fields else said
