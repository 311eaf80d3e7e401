"""What fargo did outside CloudFormation at the edge, kept in the account.

Certificates it requested, DNS records it wrote, the origin it spliced into a
distribution it does not own and the error pages it replaced there are recorded in one SSM
parameter per app and environment, `/fargo/<app>/<env>/edge`. A deploy from CI and one
from a laptop read the same record, and `destroy` removes exactly what is listed there,
nothing a user made by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fargo.aws.facade import Aws
from fargo.aws.parameters import read_json, write_json
from fargo.edge.dns.records import DnsRecord
from fargo.edge.spa_errors import ReplacedErrorPages
from fargo.model.app import App

_VERSION = 1


@dataclass(frozen=True)
class SplicedOrigin:
    """fargo's origin and behavior in a distribution someone else owns."""

    distribution: str
    origin_id: str
    path: str


@dataclass
class EdgeLedger:
    certificates: dict[str, str] = field(default_factory=dict)  # scope → ARN
    records: list[DnsRecord] = field(default_factory=list)
    zone: str | None = None
    dns: str | None = None  # the provider the records are at
    splice: SplicedOrigin | None = None
    spa_errors: ReplacedErrorPages | None = None

    def remember(self, records: list[DnsRecord]) -> None:
        for record in records:
            if record in self.records:
                # The same record, written as it is now (an alias's AAAA may have come).
                self.records[self.records.index(record)] = record
            else:
                self.records.append(record)

    def forget(self, records: list[DnsRecord]) -> None:
        self.records = [r for r in self.records if r not in records]

    @property
    def empty(self) -> bool:
        return not (self.certificates or self.records or self.splice or self.spa_errors)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": _VERSION,
            "certificates": self.certificates,
            "zone": self.zone,
            "dns": self.dns,
            "records": [_record_json(r) for r in self.records],
            "splice": None
            if self.splice is None
            else {
                "distribution": self.splice.distribution,
                "origin_id": self.splice.origin_id,
                "path": self.splice.path,
            },
            # Only when set: a ledger without it reads and writes as before.
            **({"spa_errors": self.spa_errors.to_json()} if self.spa_errors else {}),
        }

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> EdgeLedger:
        splice = body.get("splice")
        spa_errors = body.get("spa_errors")
        return cls(
            certificates=dict(body.get("certificates") or {}),
            records=[
                DnsRecord(
                    r["name"],
                    r["type"],
                    r["value"],
                    int(r.get("ttl", 300)),
                    target_zone=r.get("target_zone", ""),
                    dual_stack=bool(r.get("dual_stack", False)),
                )
                for r in body.get("records") or []
            ],
            zone=body.get("zone"),
            dns=body.get("dns"),
            splice=SplicedOrigin(splice["distribution"], splice["origin_id"], splice["path"])
            if splice
            else None,
            spa_errors=ReplacedErrorPages.from_json(spa_errors) if spa_errors else None,
        )


def _record_json(record: DnsRecord) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": record.name,
        "type": record.type,
        "value": record.value,
        "ttl": record.ttl,
    }
    if record.type == "ALIAS":
        body |= {"target_zone": record.target_zone, "dual_stack": record.dual_stack}
    return body


def parameter_name(app: App) -> str:
    return f"/fargo/{app.name}/{app.env}/edge"


class LedgerStore:
    """The ledger's SSM parameter for one app and environment. It keeps what it last read or
    wrote, so one command reads the parameter once and writes it only when it changes."""

    def __init__(self, aws: Aws, app: App) -> None:
        self._aws = aws
        self._app = app
        self._stored: dict[str, Any] | None = None

    def read(self) -> EdgeLedger:
        """The ledger, as a copy the caller may change and hand to `write`."""
        if self._stored is None:
            self._stored = self._fetch().to_json()
        return EdgeLedger.from_json(self._stored)

    def write(self, ledger: EdgeLedger) -> None:
        """Store `ledger`; no write when the parameter already holds exactly this."""
        body = ledger.to_json()
        if body == self.read().to_json():
            return
        write_json(
            self._aws,
            parameter_name(self._app),
            None if ledger.empty else body,
            f"what fargo made at the edge for {self._app.name}/{self._app.env}; read by destroy",
        )
        self._stored = body

    def _fetch(self) -> EdgeLedger:
        body = read_json(self._aws, parameter_name(self._app))
        return EdgeLedger() if body is None else EdgeLedger.from_json(body)
