"""EventBridge Scheduler expressions: cron(6 fields), rate(N unit) and at(timestamp).

Checked here because a bad expression otherwise fails deep inside a stack update.
"""

from __future__ import annotations

import re

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_AT = re.compile(r"^at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
# Per field: allowed characters (AWS's cron: minutes hours day-of-month month day-of-week year).
_FIELDS = (
    ("minutes", r"^[0-9,\-*/]+$"),
    ("hours", r"^[0-9,\-*/]+$"),
    ("day-of-month", r"^[0-9,\-*/?LW]+$"),
    ("month", r"^([0-9,\-*/]|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)+$"),
    ("day-of-week", r"^([0-9,\-*/?L#]|SUN|MON|TUE|WED|THU|FRI|SAT)+$"),
    ("year", r"^[0-9,\-*/]+$"),
)


def schedule_problem(expression: str) -> str | None:
    """Why `expression` is not a valid schedule, or None when it is."""
    if _AT.match(expression):
        return None
    rate = _RATE.match(expression)
    if rate:
        return _rate_problem(int(rate.group(1)), rate.group(2))
    cron = _CRON.match(expression)
    if not cron:
        return "not cron(...), rate(...) or at(...)"
    return _cron_problem(cron.group(1).split())


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
            f"got {len(fields)}"
        )
    for value, (name, rule) in zip(fields, _FIELDS, strict=True):
        if not re.match(rule, value.upper()):
            return f"`{value}` is not a valid {name} field"
    if (fields[2] == "?") == (fields[4] == "?"):
        return "exactly one of day-of-month and day-of-week must be `?`"
    return None
