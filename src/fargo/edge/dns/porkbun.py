"""Porkbun's v3 JSON API: every call is a POST whose body carries `apikey` and `secretapikey`.

Records are single values with ids. fargo reads a name's values with
`dns/retrieveByNameType/{domain}/{type}/{subdomain}`, creates one with
`dns/create/{domain}`, points a CNAME elsewhere with `dns/editByNameType/...` (which
rewrites every record of that name and type, so it is used only where the name holds
that one record) and removes one by id with `dns/delete/{domain}/{id}`. Answers carry
`status` `SUCCESS` or `ERROR` with a `message`; a refused key is an HTTP 400.
Porkbun's smallest TTL is 600 seconds. Porkbun has an ALIAS type, which it answers with
the target's addresses, at the apex too: fargo's ALIAS is written as one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from fargo.edge.dns.api import Call, JsonApi
from fargo.edge.dns.errors import DnsProviderError, DnsZoneNotFound
from fargo.edge.dns.provider import Change, Held, RecordSetProvider
from fargo.edge.dns.records import DnsRecord, RecordType, fqdn, mx_parts, relative_name
from fargo.images.retry import RetryPolicy

PORKBUN_API_URL = "https://api.porkbun.com/api/json/v3"
_MIN_TTL = 600
_AUTH_HINT = (
    "check PORKBUN_API_KEY and PORKBUN_SECRET_API_KEY, and that API ACCESS is turned on "
    "for {zone} in Porkbun's domain management"
)


class Porkbun(RecordSetProvider):
    name = "porkbun"

    def __init__(
        self,
        api_key: str,
        secret_api_key: str,
        *,
        api_url: str = PORKBUN_API_URL,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._keys = _Keys(api_key, secret_api_key)
        self.api = JsonApi(
            "porkbun",
            api_url,
            auth_hint=_AUTH_HINT,
            message_of=_message,
            refused=_refused,
            secrets=[api_key, secret_api_key],
            retry=retry,
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"Porkbun({self.api.base_url!r}, api_key=<hidden>, secret_api_key=<hidden>)"

    def find_zone(self, zone: str) -> str:
        """Reads the apex's NS records: the smallest read Porkbun answers for a domain only
        when the keys' account holds it."""
        zone = fqdn(zone)
        path = _by_name_type("retrieveByNameType", zone, zone, "NS")
        try:
            self._post(path, Call("find zone", zone, zone), {}, idempotent=True)
        except DnsProviderError as error:
            if "invalid domain" not in str(error).lower():
                raise
            raise DnsZoneNotFound(
                f"porkbun: no domain named {zone} in the account of PORKBUN_API_KEY",
                hint=f"use the keys of the Porkbun account that holds {zone}, or set "
                "domain.dns to the provider that serves it",
            ) from None
        return zone

    def _held(self, zone: str, name: str, type: RecordType) -> list[Held]:
        path = _by_name_type("retrieveByNameType", zone, name, type)
        body = self._post(path, Call("read", f"{name} {type}", zone), {}, idempotent=True)
        return [_held(item, type) for item in body.get("records") or []]

    def _apply(self, zone: str, changes: Sequence[Change], operation: str) -> None:
        domain = quote(zone)
        for change in changes:
            call = Call(operation, change.name, zone)
            updates, creates, deletes = change.edits()
            for held, record in updates:
                if len(change.before) == 1:
                    path = _by_name_type("editByNameType", zone, change.name, change.type)
                    self._post(path, call, _fields(record), idempotent=True)
                else:
                    creates.append(record)
                    deletes.append(held)
            for record in creates:
                fields = {"name": relative_name(record.name, zone), "type": record.type}
                fields |= _fields(record)
                # A create sent twice makes two records: never sent again blindly.
                self._post(f"/dns/create/{domain}", call, fields, idempotent=False)
            for held in deletes:
                path = f"/dns/delete/{domain}/{quote(held.handle, safe='')}"
                self._post(path, call, {}, idempotent=True)

    def _post(
        self, path: str, call: Call, fields: Mapping[str, str], *, idempotent: bool
    ) -> dict[str, Any]:
        response = self.api.send(
            "POST", path, call, json={**self._keys.body(), **fields}, idempotent=idempotent
        )
        body: dict[str, Any] = response.json()
        if body.get("status") != "SUCCESS":
            raise self.api.failure(call, response, str(body.get("message", body)))
        return body


@dataclass(frozen=True)
class _Keys:
    """The key pair every request body carries; never shown in a repr."""

    api_key: str = field(repr=False)
    secret_api_key: str = field(repr=False)

    def body(self) -> dict[str, str]:
        return {"apikey": self.api_key, "secretapikey": self.secret_api_key}


def _by_name_type(action: str, zone: str, name: str, type: str) -> str:
    path = f"/dns/{action}/{quote(zone)}/{type}"
    sub = relative_name(name, zone)
    return f"{path}/{quote(sub, safe='')}" if sub else path


def _held(item: Mapping[str, Any], type: RecordType) -> Held:
    content = str(item["content"])
    value = f"{item.get('prio') or 0} {content}" if type == "MX" else content
    ttl = int(item.get("ttl") or _MIN_TTL)
    return Held(DnsRecord(str(item["name"]), type, value, ttl), str(item["id"]))


def _fields(record: DnsRecord) -> dict[str, str]:
    fields = {"content": record.value, "ttl": str(max(record.ttl, _MIN_TTL))}
    if record.type == "MX":
        priority, host = mx_parts(record.value)
        fields |= {"content": host, "prio": str(priority)}
    return fields


def _message(response: httpx.Response) -> str:
    return str(response.json().get("message", ""))


def _refused(status: int | None, reason: str) -> bool:
    return status in (401, 403) or "api key" in reason.lower() or "api access" in reason.lower()
