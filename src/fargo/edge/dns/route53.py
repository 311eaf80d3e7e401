"""Route 53 through fargo's AWS facade: ChangeResourceRecordSets with UPSERT and DELETE.

A hosted zone is found by name (the public one: a private zone of the same name answers
only inside its VPCs). One ChangeResourceRecordSets call carries all of an upsert's
changes, and Route 53 applies them atomically. Its DELETE needs the set's exact TTL and
values, which `_held` keeps as Route 53 spelled them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from fargo.aws.facade import Aws
from fargo.edge.dns.errors import DnsZoneNotFound
from fargo.edge.dns.provider import Change, Held, RecordSetProvider
from fargo.edge.dns.records import DnsRecord, RecordType, fqdn, presentation
from fargo.errors import InputError

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

    def _held(self, zone: str, name: str, type: RecordType) -> list[Held]:
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

    def _apply(self, zone: str, changes: Sequence[Change], operation: str) -> None:
        self.aws.call(
            "route53",
            "change_resource_record_sets",
            HostedZoneId=self.zone_id(zone),
            ChangeBatch={
                "Comment": f"fargo {operation}",
                "Changes": [_change(change) for change in changes],
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


def _name(listed: str) -> str:
    return fqdn(_OCTAL.sub(lambda m: chr(int(m.group(1), 8)), listed))
