"""Route 53: a CNAME holds its name alone.

Gap (ministack 1.5.33): ChangeResourceRecordSets stores a CNAME set beside other sets of
the same name, and an A set beside a CNAME, as if the zone could serve both. Route 53
refuses such a batch (InvalidChangeBatch, 400): a CNAME may not share its name with any
other record set (RFC 1034 3.6.2), so also not the apex's SOA and NS. A client that turns a
CNAME into an alias (an A set) without removing the CNAME first, in the same batch or
before, would pass on the emulator and fail on AWS.

Now a batch whose end state has a CNAME beside another set at one name is refused in
Route 53's words, and the zone is left as it was. The check is of the whole batch's end
state, as Route 53's: a DELETE of the CNAME with a CREATE of the A in one batch passes.
"""

from collections.abc import Callable
from typing import Any

from ._ministack import attr, module, replace

Response = tuple[int, dict[str, str], bytes]


def _conflict(record_sets: list[dict[str, Any]], zone: str) -> str | None:
    """Route 53's message for the first CNAME that shares its name, else None."""
    types: dict[str, list[str]] = {}
    for rrset in record_sets:
        types.setdefault(rrset["Name"], []).append(rrset["Type"])
    for name, held in types.items():
        if "CNAME" in held and len(held) > 1:
            return (
                f"RRSet of type CNAME with DNS name {name} is not permitted as it conflicts "
                f"with other records with the same DNS name in zone {zone}"
            )
    return None


def _exclusive(
    change: Callable[[str, bytes], Response],
    zones: Any,
    records: Any,
    lock: Any,
    error: Callable[[str, str], Response],
) -> Callable[[str, bytes], Response]:
    def changed(zone_id: str, body: bytes) -> Response:
        with lock:
            before = list(records.get(zone_id, []))
        response = change(zone_id, body)
        if response[0] != 200:
            return response
        with lock:
            zone = (zones.get(zone_id) or {}).get("name", "")
            problem = _conflict(records.get(zone_id, []), zone)
            if problem is None:
                return response
            records[zone_id] = before
        return error("InvalidChangeBatch", problem)

    return changed


def refuse_cname_beside_other_sets() -> None:
    """Closes the gap in the module docstring. ministack's router calls the handler by its
    module name, so it reaches the checking one."""
    route53 = module("ministack.services.route53")
    state = (attr(route53, "_zones"), attr(route53, "_records"), attr(route53, "_lock"))
    error = attr(route53, "_error_response")
    original = attr(route53, "_change_resource_record_sets")
    replace(route53, "_change_resource_record_sets", _exclusive(original, *state, error))
