"""How many times a month an EventBridge Scheduler expression runs.

`rate(N unit)` runs every N minutes, hours or days. `cron(minutes hours day-of-month month
day-of-week year)` runs at every minute and hour its fields select, on the days they select:
each field a list of values, ranges and steps (`0/15`, `1-5`, `MON-FRI`, `*`, `?`), as AWS's
scheduler documents. A month is AWS's 730 hours: 365 / 12 days. Days of the month past the
28th are counted in the share of months that have them.
"""

from __future__ import annotations

import re

from fargo.cost.usage import HOURS_PER_MONTH

DAYS_PER_MONTH = HOURS_PER_MONTH / 24
_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_PER_MONTH = {"minute": HOURS_PER_MONTH * 60, "hour": HOURS_PER_MONTH, "day": DAYS_PER_MONTH}
_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_WEEKDAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]  # 1-7, as AWS numbers them
# Months of a (non-leap) year that have day 29, 30 and 31.
_MONTHS_WITH_DAY = {29: 11, 30: 11, 31: 7}


def runs_per_month(expression: str) -> float | None:
    """Runs a month; None for an expression this does not read (priced as daily by the
    caller, which says so). A one-time `at(...)` schedule runs once."""
    text = expression.strip()
    if match := _RATE.match(text):
        return _PER_MONTH[match.group(2).rstrip("s")] / int(match.group(1))
    if text.startswith("at("):
        return 1.0
    match = _CRON.match(text)
    if match is None:
        return None
    fields = match.group(1).split()
    if len(fields) != 6:
        return None
    minutes, hours, day_of_month, month, day_of_week, _year = fields
    try:
        per_day = len(_values(minutes, 0, 59)) * len(_values(hours, 0, 23))
        months = len(_values(month, 1, 12, _MONTHS)) / 12
        days = _days(day_of_month, day_of_week)
    except ValueError:
        return None
    return per_day * days * months


def _days(day_of_month: str, day_of_week: str) -> float:
    """Days a month the two day fields select (AWS takes one of them; the other is `?`)."""
    if day_of_week not in ("?", "*"):
        if "#" in day_of_week:  # the nth weekday of the month: once a month each
            return float(len(day_of_week.split(",")))
        if day_of_week.endswith("L"):  # the last given weekday of the month
            return 1.0
        return len(_values(day_of_week, 1, 7, _WEEKDAYS)) * DAYS_PER_MONTH / 7
    if day_of_month in ("?", "*"):
        return DAYS_PER_MONTH
    if day_of_month in ("L", "LW") or day_of_month.endswith("W"):
        return 1.0
    return sum(_MONTHS_WITH_DAY.get(d, 12) / 12 for d in _values(day_of_month, 1, 31))


def _values(field: str, low: int, high: int, names: list[str] | None = None) -> set[int]:
    """The values a cron field selects: `*`, `?`, `a`, `a-b`, `a/step`, `a-b/step`, lists."""
    selected: set[int] = set()
    for part in field.split(","):
        span, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if span in ("*", "?"):
            start, end = low, high
        elif "-" in span:
            first, last = span.split("-", 1)
            start, end = _number(first, low, names), _number(last, low, names)
        else:
            start = _number(span, low, names)
            end = high if step_text else start
        if not low <= start <= end <= high or step < 1:
            raise ValueError(field)
        selected.update(range(start, end + 1, step))
    return selected


def _number(text: str, low: int, names: list[str] | None) -> int:
    if names is not None and text.upper() in names:
        return names.index(text.upper()) + low
    return int(text)
