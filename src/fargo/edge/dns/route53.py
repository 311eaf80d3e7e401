"""Route 53 through fargo's AWS facade: ChangeResourceRecordSets with UPSERT and DELETE.

A hosted zone is found by name (the public one: a private zone of the same name answers
only inside its VPCs). One ChangeResourceRecordSets call carries all of an upsert's
changes, and Route 53 applies them atomically. Its DELETE needs the set's exact TTL and
values, which `_held` keeps as Route 53 spelled them.

An ALIAS is Route 53's alias record set: an A set whose AliasTarget names the target and
its hosted zone, and an AAAA set beside it when the target is dual-stack. Route 53 answers
both with the target's addresses, at the apex too, and charges no queries for them. Like a
CNAME, an alias replaces what the name answered: an AAAA set left beside an IPv4-only
target would send IPv6 clients elsewhere, so it goes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from fargo.aws.facade import Aws
from fargo.edge.dns.errors import DnsZoneNotFound
from fargo.edge.dns.provider import Change, Held, RecordSetProvider
from fargo.edge.dns.records import DnsRecord, RecordType, fqdn, presentation
from fargo.errors import InputError

# The record sets one alias is written as: A, and AAAA for a dual-stack target.
_ALIAS_TYPES = ("A", "AAAA")
# Route 53 lists names with octal escapes: `\052.example.com.` is `*.example.com.`.
_OCTAL = re.compile(r"\\(\d{3})")


class Route53(RecordSetProvider):
    name = "route53"

    def __init__(self, aws: Aws) -> None:
        self.aws = aws
        self._zone_ids: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"Route53(region={self.aws.config.region!r})"

    def zone_id(self, zone: str) -> str:
        """The id (without `/hostedzone/`) of the public hosted zone named `zone`."""
        zone = fqdn(zone)
        if zone not in self._zone_ids:
            found = self.aws.call(
                "route53", "list_hosted_zones_by_name", DNSName=zone, MaxItems="100"
            )["HostedZones"]
            public = [
                z
                for z in found
                if fqdn(z["Name"]) == zone and not z.get("Config", {}).get("PrivateZone", False)
            ]
            if not public:
                raise DnsZoneNotFound(
                    f"route53: no public hosted zone named {zone} in this account",
                    hint=f"create the hosted zone {zone} and delegate the domain to its name "
                    "servers, or set domain.dns to the provider that serves it",
                )
            if len(public) > 1:
                ids = ", ".join(z["Id"] for z in public)
                raise InputError(
                    f"route53: {len(public)} public hosted zones are named {zone} ({ids})",
                    hint="delete the ones the registrar does not delegate to, so fargo "
                    "writes where resolvers look",
                )
            self._zone_ids[zone] = public[0]["Id"].removeprefix("/hostedzone/")
        return self._zone_ids[zone]

    def find_zone(self, zone: str) -> str:
        return self.zone_id(zone)

    def _as_held(self, record: DnsRecord) -> DnsRecord:
        return record  # Route 53 holds an alias's target zone and its AAAA set

    def _held(self, zone: str, name: str, type: RecordType) -> list[Held]:
        if type == "ALIAS":
            return self._held_alias(zone, name)
        listing = self.aws.call(
            "route53",
            "list_resource_record_sets",
            HostedZoneId=self.zone_id(zone),
            StartRecordName=name,
            StartRecordType=type,
            MaxItems="10",
        )
        for rrset in listing["ResourceRecordSets"]:
            # Weighted, latency and alias sets are the user's routing: not a plain value.
            if (
                _name(rrset["Name"]) == name
                and rrset["Type"] == type
                and "SetIdentifier" not in rrset
                and "AliasTarget" not in rrset
            ):
                return [
                    Held(DnsRecord(name, type, r["Value"], rrset["TTL"]), r["Value"])
                    for r in rrset.get("ResourceRecords", [])
                ]
        return []

    def _held_alias(self, zone: str, name: str) -> list[Held]:
        """The name's A set as one held ALIAS: its alias target, or the addresses of a set
        that is not an alias (a value fargo replaces, and never deletes). The handle keeps
        the A and AAAA sets as listed, for a DELETE that matches them exactly."""
        listing = self.aws.call(
            "route53",
            "list_resource_record_sets",
            HostedZoneId=self.zone_id(zone),
            StartRecordName=name,
            StartRecordType="A",
            MaxItems="10",
        )
        sets = {
            rrset["Type"]: rrset
            for rrset in listing["ResourceRecordSets"]
            if _name(rrset["Name"]) == name
            and rrset["Type"] in _ALIAS_TYPES
            and "SetIdentifier" not in rrset
        }
        if not sets:
            return []
        a, aaaa = sets.get("A", {}), sets.get("AAAA", {})
        target = a.get("AliasTarget", {})
        value = target.get("DNSName") or " ".join(r["Value"] for r in a.get("ResourceRecords", []))
        record = DnsRecord(
            name,
            "ALIAS",
            value,
            target_zone=target.get("HostedZoneId", ""),
            dual_stack=bool(target) and _target(aaaa) == fqdn(value),
        )
        return [Held(record, json.dumps(sets))]

    def _apply(self, zone: str, changes: Sequence[Change], operation: str) -> None:
        self.aws.call(
            "route53",
            "change_resource_record_sets",
            HostedZoneId=self.zone_id(zone),
            ChangeBatch={
                "Comment": f"fargo {operation}",
                "Changes": [
                    edit
                    for change in changes
                    for edit in (
                        _alias_changes(change) if change.type == "ALIAS" else [_change(change)]
                    )
                ],
            },
        )


def _change(change: Change) -> dict[str, Any]:
    if change.after:
        action, values = "UPSERT", change.contents(presentation)
    else:
        action, values = "DELETE", [h.handle for h in change.before]
    return {
        "Action": action,
        "ResourceRecordSet": {
            "Name": f"{change.name}.",
            "Type": change.type,
            "TTL": change.ttl,
            "ResourceRecords": [{"Value": value} for value in values],
        },
    }


def _alias_changes(change: Change) -> list[dict[str, Any]]:
    held: dict[str, dict[str, Any]] = json.loads(change.before[0].handle) if change.before else {}
    if not change.after:
        # `delete_change` found the A set pointing at fargo's target; an AAAA set goes
        # with it only while it points there too.
        value = change.before[0].record.value
        return [
            {"Action": "DELETE", "ResourceRecordSet": rrset}
            for rrset in held.values()
            if _target(rrset) == value
        ]
    record = change.after[0]
    if not record.target_zone:
        raise ValueError(f"{record}: a Route 53 alias needs the target's hosted zone id")
    target = {
        "HostedZoneId": record.target_zone,
        "DNSName": f"{record.value}.",
        # The target's own health is CloudFront's and the load balancer's business.
        "EvaluateTargetHealth": False,
    }
    edits: list[dict[str, Any]] = [
        {
            "Action": "UPSERT",
            "ResourceRecordSet": {"Name": f"{change.name}.", "Type": t, "AliasTarget": target},
        }
        for t in (_ALIAS_TYPES if record.dual_stack else ("A",))
    ]
    if not record.dual_stack and "AAAA" in held:
        edits.append({"Action": "DELETE", "ResourceRecordSet": held["AAAA"]})
    return edits


def _target(rrset: dict[str, Any]) -> str:
    """The alias target a record set names, "" for a set that is not an alias."""
    return fqdn(rrset.get("AliasTarget", {}).get("DNSName", ""))


def _name(listed: str) -> str:
    return fqdn(_OCTAL.sub(lambda m: chr(int(m.group(1), 8)), listed))
