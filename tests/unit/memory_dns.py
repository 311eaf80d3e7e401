"""An in-memory DNS provider for tests of what writes through one (real providers have
their own tests against real servers and contract servers)."""

from __future__ import annotations

from collections.abc import Sequence

from fargo.edge.dns.records import DnsRecord


class MemoryDns:
    """Holds records in a dict; `writes` counts upserts and deletes that changed something.

    `drop_writes` makes it accept writes and keep nothing, like a provider whose zone is
    not the one the world resolves."""

    name = "memory"

    def __init__(self, *, drop_writes: bool = False) -> None:
        self.held: dict[tuple[str, str], list[DnsRecord]] = {}
        self.writes = 0
        self.drop_writes = drop_writes

    def find_zone(self, zone: str) -> str:
        return zone

    def records(self, zone: str, name: str, type: str) -> list[DnsRecord]:
        del zone
        return list(self.held.get((name, type), []))

    def upsert(self, zone: str, records: Sequence[DnsRecord]) -> list[DnsRecord]:
        changed = [r for r in records if r not in self.records(zone, r.name, r.type)]
        if changed:
            self.writes += 1
        if not self.drop_writes:
            for record in changed:
                # One CNAME per name: a new target replaces the old one.
                self.held[(record.name, record.type)] = [record]
        return changed

    def delete(self, zone: str, records: Sequence[DnsRecord]) -> list[DnsRecord]:
        gone = [r for r in records if r in self.records(zone, r.name, r.type)]
        for record in gone:
            self.held[(record.name, record.type)].remove(record)
        if gone:
            self.writes += 1
        return gone
