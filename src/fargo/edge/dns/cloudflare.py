"""Cloudflare's v4 API: `/zones` to find the zone, `/zones/{id}/dns_records` for records.

Every answer is the `{success, errors, messages, result}` envelope; lists add
`result_info` with `page` and `total_pages`. Records are single values with ids: a
changed CNAME is overwritten in place (PUT), a new TXT or MX value is created (POST)
beside the others, and a value fargo no longer wants is deleted by its id. Records fargo
writes are not proxied: ACM validation and SES DKIM CNAMEs must resolve as written.

Cloudflare has no ALIAS type: it takes a CNAME at the apex and flattens it, answering
with the target's addresses (CNAME flattening, on for every zone), so an ALIAS is
written and read as a CNAME.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from fargo.edge.dns.api import Call, JsonApi
from fargo.edge.dns.errors import DnsZoneNotFound
from fargo.edge.dns.provider import Change, Held, RecordSetProvider
from fargo.edge.dns.records import DnsRecord, RecordType, fqdn, mx_parts, quote_txt
from fargo.images.retry import RetryPolicy

CLOUDFLARE_API_URL = "https://api.cloudflare.com/client/v4"
_PER_PAGE = 100
# Cloudflare takes 60 s and up, or 1 for "automatic".
_MIN_TTL = 60
_AUTH_HINT = "check that CLOUDFLARE_API_TOKEN has the Zone.DNS Edit permission on {zone}"


class Cloudflare(RecordSetProvider):
    name = "cloudflare"

    def __init__(
        self,
        token: str,
        *,
        api_url: str = CLOUDFLARE_API_URL,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.api = JsonApi(
            "cloudflare",
            api_url,
            auth_hint=_AUTH_HINT,
            message_of=_message,
            headers={"Authorization": f"Bearer {token}"},
            secrets=[token],
            retry=retry,
            transport=transport,
        )
        self._zone_ids: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"Cloudflare({self.api.base_url!r}, token=<hidden>)"

    def zone_id(self, zone: str, record: str = "") -> str:
        """The id of `zone`; `record` is what it is looked up for (named in errors)."""
        zone = fqdn(zone)
        if zone not in self._zone_ids:
            call = Call(f"find zone {zone} for", record or zone, zone)
            body = self._send("GET", "/zones", call, params={"name": zone})
            ids = [z["id"] for z in body["result"] if fqdn(z["name"]) == zone]
            if not ids:
                raise DnsZoneNotFound(
                    f"cloudflare: no zone named {zone} is visible to CLOUDFLARE_API_TOKEN",
                    hint=f"add {zone} to the Cloudflare account, and give the token "
                    "Zone.Zone Read and Zone.DNS Edit on it",
                )
            self._zone_ids[zone] = ids[0]
        return self._zone_ids[zone]

    def find_zone(self, zone: str) -> str:
        return self.zone_id(zone)

    def _held(self, zone: str, name: str, type: RecordType) -> list[Held]:
        path = f"/zones/{self.zone_id(zone, f'{name} {type}')}/dns_records"
        held: list[Held] = []
        page = 1
        while True:
            params: dict[str, str | int] = {
                "type": _api_type(type),
                "name.exact": name,
                "page": page,
                "per_page": _PER_PAGE,
            }
            body = self._send("GET", path, Call("read", f"{name} {type}", zone), params=params)
            held += [_held(item, type) for item in body["result"]]
            if page >= int((body.get("result_info") or {}).get("total_pages") or 1):
                return held
            page += 1

    def _apply(self, zone: str, changes: Sequence[Change], operation: str) -> None:
        path = f"/zones/{self.zone_id(zone)}/dns_records"
        for change in changes:
            call = Call(operation, change.name, zone)
            updates, creates, deletes = change.edits()
            for held, record in updates:
                self._send("PUT", f"{path}/{held.handle}", call, json=_body(record))
            for record in creates:
                self._send("POST", path, call, json=_body(record))
            for held in deletes:
                self._send("DELETE", f"{path}/{held.handle}", call)

    def _send(
        self,
        method: str,
        path: str,
        call: Call,
        *,
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
    ) -> dict[str, Any]:
        response = self.api.send(method, path, call, params=params, json=json)
        body: dict[str, Any] = response.json()
        if not body.get("success", False):
            raise self.api.failure(call, response, _errors(body))
        return body


def _held(item: Mapping[str, Any], type: RecordType) -> Held:
    value = str(item["content"])
    if type == "MX":
        value = f"{item.get('priority', 0)} {value}"
    return Held(DnsRecord(str(item["name"]), type, value, int(item.get("ttl", 1))), str(item["id"]))


def _body(record: DnsRecord) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": _api_type(record.type),
        "name": record.name,
        "ttl": record.ttl if record.ttl == 1 else max(record.ttl, _MIN_TTL),
        "proxied": False,
    }
    if record.type == "MX":
        body["priority"], body["content"] = mx_parts(record.value)
    elif record.type == "TXT":
        body["content"] = quote_txt(record.value)
    else:
        body["content"] = record.value
    return body


def _api_type(type: RecordType) -> str:
    return "CNAME" if type == "ALIAS" else type


def _message(response: httpx.Response) -> str:
    return _errors(response.json())


def _errors(body: Mapping[str, Any]) -> str:
    errors = body.get("errors") or []
    return "; ".join(f"{e.get('message', '')} (code {e.get('code')})" for e in errors) or str(body)
