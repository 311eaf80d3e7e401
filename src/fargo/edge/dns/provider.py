"""What every DNS provider offers fargo: read a record set, upsert values, delete values.

`RecordSetProvider` implements the semantics once; a provider module only reads what a
name holds (`_held`) and writes the changes worked out here (`_apply`):

- `upsert` makes no write when every record already holds its value. A CNAME replaces
  whatever target the name had; a TXT or MX value is added beside the values already at
  that name (a google-site-verification TXT next to fargo's SPF stays).
- `delete` removes a value only while the name still holds exactly that value, so a
  record a user has since pointed elsewhere is left alone; other values at the name stay.
- An ALIAS (see `records.py`) is single-valued like a CNAME. `check_alias` refuses, before
  anything is written, a zone whose provider cannot serve one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from fargo.edge.dns.records import (
    MULTI_VALUED,
    DnsRecord,
    RecordType,
    fqdn,
    in_zone,
    record_type,
)
from fargo.errors import InputError


class DnsProvider(Protocol):
    name: str

    def find_zone(self, zone: str) -> str:
        """The provider's handle on `zone` (an id, or its name), read-only; raises
        `DnsZoneNotFound` when the credentials cannot see it."""
        ...

    def records(self, zone: str, name: str, type: str) -> list[DnsRecord]:
        """The values `name` holds for `type`, in canonical form (see `records.py`)."""
        ...

    def upsert(self, zone: str, records: Sequence[DnsRecord]) -> list[DnsRecord]:
        """Make each record hold its value; return the records that needed a write."""
        ...

    def delete(self, zone: str, records: Sequence[DnsRecord]) -> list[DnsRecord]:
        """Remove each value still held as given; return what was removed."""
        ...

    def check_alias(self, zone: str) -> None:
        """Raise an `InputError` when `zone` here cannot hold an ALIAS record."""
        ...


@dataclass(frozen=True)
class Held:
    """A value a name holds now, with the provider's handle on it: a record id, or the
    value exactly as the provider spelled it (Route 53 deletes only on an exact match)."""

    record: DnsRecord
    handle: str = ""


@dataclass(frozen=True)
class Change:
    """One name and type: what it holds now and what it should hold."""

    name: str
    type: RecordType
    before: tuple[Held, ...]
    after: tuple[DnsRecord, ...]

    @property
    def added(self) -> tuple[DnsRecord, ...]:
        held = {h.record.value for h in self.before}
        return tuple(r for r in self.after if r.value not in held)

    @property
    def removed(self) -> tuple[Held, ...]:
        kept = {r.value for r in self.after}
        return tuple(h for h in self.before if h.record.value not in kept)

    def edits(self) -> tuple[list[tuple[Held, DnsRecord]], list[DnsRecord], list[Held]]:
        """For providers that write one value at a time: (held value → new value) pairs
        to update in place, values to create, values to delete. Updating in place keeps
        a CNAME answering while it moves to its new target."""
        removed, added = list(self.removed), list(self.added)
        pairs = list(zip(removed, added, strict=False))
        return pairs, added[len(pairs) :], removed[len(pairs) :]

    def contents(self, render: Callable[[DnsRecord], str]) -> list[str]:
        """The set's values as the provider stores them, for providers whose `Held.handle`
        is the stored value: values kept are sent back exactly as they were."""
        kept = [h.handle for h in self.before if h not in self.removed]
        return kept + [render(r) for r in self.added]

    @property
    def ttl(self) -> int:
        """One TTL for providers that store a set under one TTL."""
        return self.after[0].ttl if self.after else self.before[0].record.ttl


def upsert_change(held: Sequence[Held], desired: Sequence[DnsRecord]) -> Change | None:
    """The change that makes `held` hold every desired value; None when it already does."""
    first = desired[0]
    values = {h.record.value for h in held}
    if first.type not in MULTI_VALUED:
        targets = {r.value for r in desired}
        if len(targets) > 1:
            raise InputError(
                f"{first.name} is given {len(targets)} CNAME targets: {', '.join(sorted(targets))}",
                hint="a name holds one CNAME; pick one target",
            )
        if [h.record.data for h in held] == [first.data]:
            return None
        return Change(first.name, first.type, tuple(held), (first,))
    missing = list({r.value: r for r in desired if r.value not in values}.values())
    if not missing:
        return None
    # Added values take the set's TTL: the user's TTL on their own values stays as it is.
    ttl = held[0].record.ttl if held else missing[0].ttl
    after = tuple(h.record for h in held) + tuple(replace(r, ttl=ttl) for r in missing)
    return Change(first.name, first.type, tuple(held), after)


def delete_change(held: Sequence[Held], doomed: Sequence[DnsRecord]) -> Change | None:
    """The change that removes the doomed values still held; None when none is."""
    values = {r.value for r in doomed}
    if not any(h.record.value in values for h in held):
        return None
    first = doomed[0]
    after = tuple(h.record for h in held if h.record.value not in values)
    return Change(first.name, first.type, tuple(held), after)


class RecordSetProvider(ABC):
    """`DnsProvider` on top of two provider-specific steps: `_held` and `_apply`."""

    name: str

    def records(self, zone: str, name: str, type: str) -> list[DnsRecord]:
        zone, name = fqdn(zone), fqdn(name)
        _check_in_zone(name, zone)
        return [h.record for h in self._held(zone, name, record_type(type))]

    def upsert(self, zone: str, records: Sequence[DnsRecord]) -> list[DnsRecord]:
        zone = fqdn(zone)
        changes: list[Change] = []
        changed: list[DnsRecord] = []
        for (name, type_), given in _grouped(zone, records).items():
            desired = [self._as_held(r) for r in given]
            change = upsert_change(self._held(zone, name, type_), desired)
            if change is not None:
                changes.append(change)
                added = {r.value for r in change.added}
                written = [r for r in desired if r.value in added]
                if not written and type_ not in MULTI_VALUED:
                    # The same target written again: an alias whose AAAA came or went.
                    written = list(change.after)
                changed.extend(written)
        if changes:
            self._apply(zone, changes, "upsert")
        return changed

    def delete(self, zone: str, records: Sequence[DnsRecord]) -> list[DnsRecord]:
        zone = fqdn(zone)
        changes: list[Change] = []
        for (name, type_), doomed in _grouped(zone, records).items():
            change = delete_change(self._held(zone, name, type_), doomed)
            if change is not None:
                changes.append(change)
        if changes:
            self._apply(zone, changes, "delete")
        return [h.record for change in changes for h in change.removed]

    def check_alias(self, zone: str) -> None:  # noqa: B027 - most providers hold aliases
        """Every provider holds aliases unless it says otherwise."""

    def _as_held(self, record: DnsRecord) -> DnsRecord:
        """`record` as `_held` reads it back once written. An ALIAS's target zone and dual
        stack are Route 53's: elsewhere the provider looks the target's addresses up."""
        if record.type == "ALIAS":
            return replace(record, target_zone="", dual_stack=False)
        return record

    @abstractmethod
    def find_zone(self, zone: str) -> str:
        """See `DnsProvider.find_zone`."""

    @abstractmethod
    def _held(self, zone: str, name: str, type: RecordType) -> list[Held]:
        """What `name` holds for `type` now (names and zone already canonical)."""

    @abstractmethod
    def _apply(self, zone: str, changes: Sequence[Change], operation: str) -> None:
        """Write every change (`before` is what `_held` just returned); `operation`
        (`upsert`, `delete`) names the work in errors."""


def _grouped(
    zone: str, records: Sequence[DnsRecord]
) -> dict[tuple[str, RecordType], list[DnsRecord]]:
    groups: dict[tuple[str, RecordType], list[DnsRecord]] = {}
    for record in records:
        _check_in_zone(record.name, zone)
        groups.setdefault((record.name, record.type), []).append(record)
    return groups


def _check_in_zone(name: str, zone: str) -> None:
    if not in_zone(name, zone):
        raise InputError(
            f"DNS record {name} is not in the zone {zone}",
            hint=f"domain.name must be {zone} or a name under it",
        )
