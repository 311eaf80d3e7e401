"""PowerDNS Authoritative through its REST API (`/api/v1`, `X-API-Key`).

The API speaks in record sets: a zone's GET lists every rrset, and one PATCH replaces
(`REPLACE`) or drops (`DELETE`) whole sets at once, so all of an upsert's changes go in
one request. Names and CNAME/MX targets are absolute with the trailing dot, TXT content
is quoted; the zone's id is its name with the trailing dot.

PowerDNS has ALIAS records, but serves one only when it may look the target up: it needs a
`resolver` to ask and `expand-alias=yes`, else it answers the name's A and AAAA queries
with nothing (its API still takes the record). `check_alias` reads both settings from the
server's configuration and refuses an ALIAS it would not serve.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import httpx

from fargo.edge.dns.api import Call, JsonApi
from fargo.edge.dns.errors import DnsProviderError, DnsZoneNotFound
from fargo.edge.dns.provider import Change, Held, RecordSetProvider
from fargo.edge.dns.records import DnsRecord, RecordType, fqdn, presentation
from fargo.errors import InputError
from fargo.images.retry import RetryPolicy

_AUTH_HINT = (
    "check that FARGO_POWERDNS_API_KEY is the server's api-key, that its webserver-allow-from "
    "admits this machine and that the zone {zone} exists"
)


class PowerDns(RecordSetProvider):
    name = "powerdns"

    def __init__(
        self,
        url: str,
        api_key: str,
        server_id: str = "localhost",
        *,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        base = url.rstrip("/")
        base = base if base.endswith("/api/v1") else f"{base}/api/v1"
        self.server_id = server_id
        self.api = JsonApi(
            "powerdns",
            base,
            auth_hint=_AUTH_HINT,
            message_of=_message,
            headers={"X-API-Key": api_key},
            secrets=[api_key],
            retry=retry,
            transport=transport,
        )
        # Disabled records are not values a name holds, but a REPLACE must keep them.
        self._disabled: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._serves_alias: bool | None = None

    def __repr__(self) -> str:
        return f"PowerDns({self.api.base_url!r}, server_id={self.server_id!r}, api_key=<hidden>)"

    def check_alias(self, zone: str) -> None:
        if self._serves_alias is None:
            path = f"/servers/{quote(self.server_id, safe='')}/config"
            config = self.api.send("GET", path, Call("read the settings for", "ALIAS", zone))
            settings = {s["name"]: str(s.get("value", "")) for s in config.json()}
            # An unset `resolver` reads back as "no".
            resolver = settings.get("resolver", "").strip() not in ("", "no")
            self._serves_alias = resolver and settings.get("expand-alias") == "yes"
        if not self._serves_alias:
            raise InputError(
                f"powerdns would not serve an ALIAS record at the apex of {zone}: the "
                f"server {self.server_id} has no `resolver` to look its target up, or "
                "`expand-alias` is not yes",
                hint="set resolver=<a recursive resolver's address> and expand-alias=yes in "
                f"pdns.conf and restart PowerDNS, or use www.{zone}",
            )

    def _zone_path(self, zone: str) -> str:
        return f"/servers/{quote(self.server_id, safe='')}/zones/{quote(zone + '.', safe='')}"

    def find_zone(self, zone: str) -> str:
        zone = fqdn(zone)
        call = Call("find zone", zone, zone)
        try:
            # `rrsets=false`: the zone's metadata only, not every record it holds.
            self.api.send("GET", self._zone_path(zone), call, params={"rrsets": "false"})
        except DnsProviderError as error:
            # PowerDNS answers 404 for a zone it does not serve (older versions: 422).
            if error.status not in (404, 422):
                raise
            raise DnsZoneNotFound(
                f"powerdns: server {self.server_id} at {self.api.base_url} has no zone {zone}",
                hint=f"create the zone {zone} on that server (pdnsutil create-zone {zone}), "
                "or set FARGO_POWERDNS_SERVER_ID to the server that has it",
            ) from None
        return f"{zone}."

    def _held(self, zone: str, name: str, type: RecordType) -> list[Held]:
        call = Call("read", f"{name} {type}", zone)
        data = self.api.send("GET", self._zone_path(zone), call).json()
        for rrset in data.get("rrsets", []):
            if fqdn(rrset["name"]) == name and rrset["type"] == type:
                records = rrset.get("records", [])
                self._disabled[(name, type)] = [r for r in records if r.get("disabled")]
                return [
                    Held(DnsRecord(name, type, r["content"], rrset["ttl"]), r["content"])
                    for r in records
                    if not r.get("disabled")
                ]
        self._disabled[(name, type)] = []
        return []

    def _apply(self, zone: str, changes: Sequence[Change], operation: str) -> None:
        if any(c.type == "ALIAS" and c.after for c in changes):
            self.check_alias(zone)
        rrsets = [self._rrset(change) for change in changes]
        call = Call(operation, ", ".join(f"{c.name} {c.type}" for c in changes), zone)
        # REPLACE and DELETE name the whole set's end state: sending one twice is harmless.
        self.api.send("PATCH", self._zone_path(zone), call, json={"rrsets": rrsets})

    def _rrset(self, change: Change) -> dict[str, Any]:
        name = f"{change.name}."
        disabled = self._disabled.get((change.name, change.type), [])
        records = [{"content": c, "disabled": False} for c in change.contents(presentation)]
        if not records and not disabled:
            return {"name": name, "type": change.type, "changetype": "DELETE"}
        return {
            "name": name,
            "type": change.type,
            "ttl": change.ttl,
            "changetype": "REPLACE",
            "records": records + disabled,
        }


def _message(response: httpx.Response) -> str:
    if response.headers.get("content-type", "").startswith("application/json"):
        return str(response.json().get("error", response.text))
    return response.text.strip()
