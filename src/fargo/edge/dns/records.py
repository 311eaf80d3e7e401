"""DNS records in one canonical form, whatever the provider's API spells.

Every provider writes names, CNAME targets and TXT text its own way (trailing dots or
not, names relative to the zone or absolute, TXT quoted or bare, MX priority inside the
value or beside it). A `DnsRecord` is always the same: a lower-case FQDN without the
trailing dot, a CNAME target likewise, TXT text unquoted and MX as "10 host". Records are
compared in this form, so a value a provider stores differently still counts as held.

An `ALIAS` is fargo's one record for "answer with the addresses of this host name", which
a CNAME cannot do at a zone's apex: each provider writes it its own way (Route 53 as A and
AAAA alias record sets, Cloudflare as a CNAME it flattens, Porkbun and PowerDNS as ALIAS
records, see `aliases.py`). Its value is the target's name, like a CNAME's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal, cast, get_args

from fargo.errors import InputError

RecordType = Literal["CNAME", "TXT", "MX", "ALIAS"]
RECORD_TYPES: tuple[str, ...] = get_args(RecordType)
# Values a name may hold several of at once; a name holds at most one CNAME or ALIAS.
MULTI_VALUED = frozenset({"TXT", "MX"})
# Types whose value is a host name to answer for: a name holding one holds nothing else of
# fargo's (a CNAME excludes every other type; an alias answers A and AAAA).
TARGET_TYPES = frozenset({"CNAME", "ALIAS"})

# One DNS character-string holds at most 255 bytes (RFC 1035 3.3).
_TXT_CHUNK = 255
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_ESCAPE = re.compile(r"\\(\d{3}|.)")
_MX = re.compile(r"^(\d{1,5})\s+(\S+)$")


@dataclass(frozen=True)
class DnsRecord:
    """One value at one name. Construction normalises, so equal records compare equal.

    An ALIAS also says what Route 53 needs to write it: `target_zone`, the hosted zone id
    of the AWS resource it points at, and `dual_stack`, whether that resource answers IPv6
    too (then an AAAA alias is written beside the A). They describe how to write the
    value, not which value it is, so they take no part in equality: a record is the same
    record, to the ledger and to `delete`, whatever they say.
    """

    name: str
    type: RecordType
    value: str
    ttl: int = 300
    target_zone: str = field(default="", compare=False)
    dual_stack: bool = field(default=False, compare=False)

    def __post_init__(self) -> None:
        record_type(self.type)
        if self.type != "ALIAS" and (self.target_zone or self.dual_stack):
            raise ValueError(f"{self.name} {self.type}: only an ALIAS has a target zone")
        # Frozen: the normalised forms replace what the caller passed, once, here.
        object.__setattr__(self, "name", fqdn(self.name))
        object.__setattr__(self, "value", normalise_value(self.type, self.value))

    def __str__(self) -> str:
        return f"{self.name} {self.type} {self.value}"

    @property
    def data(self) -> tuple[str, str, bool]:
        """All a record says, for telling whether a name already holds it as written."""
        return self.value, self.target_zone, self.dual_stack


def record_type(type_: str) -> RecordType:
    """`type_` as a `RecordType`, or an error naming the types fargo handles."""
    if type_ not in RECORD_TYPES:
        raise InputError(
            f"DNS record type {type_!r} is not supported",
            hint=f"fargo handles {', '.join(RECORD_TYPES)} records",
        )
    return cast("RecordType", type_)


def fqdn(name: str) -> str:
    """`Api.Example.COM.` → `api.example.com`: DNS names are case-insensitive."""
    return name.strip().rstrip(".").lower()


def normalise_value(type_: str, value: str) -> str:
    value = value.strip()
    if type_ in TARGET_TYPES:
        return fqdn(value)
    if type_ == "TXT":
        return unquote_txt(value)
    if type_ == "MX":
        match = _MX.match(" ".join(value.split()))
        if match is None:
            raise InputError(
                f"MX value {value!r} is not 'PRIORITY HOST'",
                hint="write MX values as e.g. '10 feedback-smtp.us-east-1.amazonses.com'",
            )
        return f"{int(match.group(1))} {fqdn(match.group(2))}"
    return value


def unquote_txt(value: str) -> str:
    """TXT presentation format (`"a" "b"`, escapes) → the text it holds (`ab`).

    Text that is not quoted is taken as it is: some APIs hand TXT back bare.
    """
    stripped = value.strip()
    if not stripped.startswith('"'):
        return value
    chunks = _QUOTED.findall(stripped)
    if not chunks:
        return value
    return "".join(_ESCAPE.sub(_unescape, chunk) for chunk in chunks)


def quote_txt(text: str) -> str:
    """Text → TXT presentation format, split into 255-byte character-strings."""
    data = text.encode()
    chunks = [data[i : i + _TXT_CHUNK] for i in range(0, len(data), _TXT_CHUNK)] or [b""]
    return " ".join(
        '"' + chunk.decode(errors="replace").replace("\\", "\\\\").replace('"', '\\"') + '"'
        for chunk in chunks
    )


def presentation(record: DnsRecord) -> str:
    """The value in zone-file presentation format, as Route 53 and PowerDNS take it:
    absolute names with the trailing dot, TXT quoted."""
    if record.type in TARGET_TYPES:
        return f"{record.value}."
    if record.type == "TXT":
        return quote_txt(record.value)
    priority, host = mx_parts(record.value)
    return f"{priority} {host}."


def mx_parts(value: str) -> tuple[int, str]:
    """A normalised MX value `10 host` → (10, "host")."""
    priority, host = value.split(" ", 1)
    return int(priority), host


def in_zone(name: str, zone: str) -> bool:
    return name == zone or name.endswith("." + zone)


def relative_name(name: str, zone: str) -> str:
    """`mail.example.com` in `example.com` → `mail`; the apex → ``."""
    if name == zone:
        return ""
    return name.removesuffix("." + zone)


def absolute_name(relative: str, zone: str) -> str:
    """The inverse of `relative_name`; `@` and `` mean the apex."""
    relative = fqdn(relative)
    return zone if relative in ("", "@") else f"{relative}.{zone}"


def _unescape(match: re.Match[str]) -> str:
    escaped = match.group(1)
    return chr(int(escaped)) if escaped.isdigit() else escaped
