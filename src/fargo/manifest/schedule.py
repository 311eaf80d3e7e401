"""EventBridge Scheduler expressions: cron(6 fields), rate(N unit) and at(timestamp).

Checked here because a bad expression otherwise fails deep inside a stack update. The
fields and their ranges are AWS's ("Cron expressions" in the EventBridge docs): minutes
0-59, hours 0-23, day-of-month 1-31, month 1-12 or JAN-DEC, day-of-week 1-7 or SUN-SAT,
year 1970-2199. Every value in a field (a list item, a range end, an increment's start)
must be in its range.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_AT = re.compile(r"at\((.*)\)")
_CRON = re.compile(r"cron\((.+)\)")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    wildcards: str = ""  # besides , - * /


_FIELDS = (
    _Field("minutes", 0, 59),
    _Field("hours", 0, 23),
    _Field("day-of-month", 1, 31, wildcards="?LW"),
    _Field("month", 1, 12, _MONTHS),
    _Field("day-of-week", 1, 7, _DAYS, wildcards="?L#"),
    _Field("year", 1970, 2199),
)


def schedule_problem(expression: str) -> str | None:
    """Why `expression` is not a valid schedule, or None when it is."""
    at = _AT.fullmatch(expression)
    if at:
        return _at_problem(at.group(1))
    rate = _RATE.fullmatch(expression)
    if rate:
        return _rate_problem(int(rate.group(1)), rate.group(2))
    cron = _CRON.fullmatch(expression)
    if not cron:
        return "not cron(...), rate(...) or at(...)"
    return _cron_problem(cron.group(1).split(" "))


def _at_problem(stamp: str) -> str | None:
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", stamp) is None:
        return f"`{stamp}` is not a timestamp of the form yyyy-mm-ddThh:mm:ss"
    try:
        datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return f"`{stamp}` is not a date and time that exists"
    return None


def _rate_problem(count: int, unit: str) -> str | None:
    singular = unit.rstrip("s")
    if count < 1:
        return "a rate must be at least 1"
    if (count == 1) != (unit == singular):
        return f"write rate(1 {singular}) for one and rate(N {singular}s) for more"
    return None


def _cron_problem(fields: list[str]) -> str | None:
    if len(fields) != len(_FIELDS):
        return (
            "cron takes 6 fields (minutes hours day-of-month month day-of-week year), "
            f"one space apart, got {len(fields)}"
        )
    for value, field in zip(fields, _FIELDS, strict=True):
        problem = _field_problem(value.upper(), field)
        if problem:
            return f"the {field.name} field `{value}`: {problem}"
    if (fields[2] == "?") == (fields[4] == "?"):
        return "exactly one of day-of-month and day-of-week must be `?`"
    return None


def _field_problem(value: str, field: _Field) -> str | None:
    if value in ("*", "?" if "?" in field.wildcards else "*"):
        return None
    for item in value.split(","):
        problem = _item_problem(item, field)
        if problem:
            return problem
    return None


def _item_problem(item: str, field: _Field) -> str | None:
    """One comma-separated item: N, A-B, N/STEP, */STEP, or the field's L, W and # forms."""
    range_text = f"{field.low}-{field.high}" + (
        f" or {field.names[0]}-{field.names[-1]}" if field.names else ""
    )
    base, slash, step = item.partition("/")
    if slash and (not step.isdigit() or int(step) < 1):
        return f"the increment in `{item}` must be a number of at least 1"
    if "#" in base and "#" in field.wildcards:
        day, _, nth = base.partition("#")
        if not nth.isdigit() or not 1 <= int(nth) <= 5:
            return f"`{item}`: the week after # is 1-5"
        base = day
    if base == "*" or (base == "L" and "L" in field.wildcards):
        return None
    for suffix in ("L", "W"):
        if suffix in field.wildcards and base.endswith(suffix) and len(base) > 1:
            base = base[:-1]
    ends = base.split("-")
    if len(ends) > 2 or not all(ends):
        return f"`{item}` is not a value, a range or an increment"
    for end in ends:
        number = _number(end, field)
        if number is None or not field.low <= number <= field.high:
            return f"`{end}` is outside {range_text}"
    return None


def _number(text: str, field: _Field) -> int | None:
    if text.isdigit():
        return int(text)
    if text in field.names:
        return field.names.index(text) + 1
    return None
