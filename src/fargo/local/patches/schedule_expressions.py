"""EventBridge Scheduler's schedule expressions: when ``rate()``, ``cron()`` and ``at()`` fire.

Standard library only, so the launcher's patches and fargo's unit tests share it. The rules
are AWS's (Scheduler User Guide, "Schedule types"; EventBridge "Cron expressions reference"):

- ``rate(value minute(s)|hour(s)|day(s))`` fires at its anchor (StartDate, else the moment the
  schedule was created) and every ``value`` units after it; a day is 24 hours on the clock,
  whatever daylight saving time does to the calendar day.
- ``cron(minutes hours day-of-month month day-of-week year)`` is read on the wall clock of the
  schedule's time zone. Exactly one of day-of-month and day-of-week is ``?``. Day-of-month takes
  ``L`` (last day), ``LW`` (last weekday) and ``nW`` (the weekday nearest day n, never leaving
  the month); day-of-week takes ``L`` (Saturday), ``nL`` (the month's last day n) and one
  ``n#k`` (the k-th day n). When clocks spring forward, a time that does not exist is skipped;
  when they fall back, a repeated time runs once.
- ``at(yyyy-mm-ddThh:mm:ss)`` fires once, at that wall-clock time in the schedule's time zone.
"""

from __future__ import annotations

import calendar
import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["At", "Cron", "Expression", "Rate", "parse", "zone"]

_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}
_RATE = re.compile(r"rate\(\s*(\d+)\s+([a-z]+)\s*\)")
_CRON = re.compile(r"cron\((.*)\)")
_AT = re.compile(r"at\(\s*(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\s*\)")
_MONTHS = {
    name: i + 1
    for i, name in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
    )
}
# AWS numbers the days of the week 1 (Sunday) to 7 (Saturday).
_DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_LAST_YEAR = 2199


def zone(name: str | None) -> tzinfo:
    """The IANA time zone a schedule names (UTC when it names none)."""
    if not name or name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"Invalid ScheduleExpressionTimezone {name!r}") from exc


@dataclass(frozen=True)
class Rate:
    """Every ``seconds``, counted from an anchor."""

    seconds: int

    def at_or_after(self, instant: datetime, anchor: datetime) -> datetime:
        if instant <= anchor:
            return anchor
        steps = math.ceil((instant - anchor).total_seconds() / self.seconds)
        return anchor + timedelta(seconds=steps * self.seconds)


@dataclass(frozen=True)
class At:
    """Once, at a wall-clock time in the schedule's time zone."""

    local: datetime

    def at_or_after(self, instant: datetime, zone: tzinfo) -> datetime | None:
        moment = self.local.replace(tzinfo=zone).astimezone(UTC)
        return moment if moment >= instant else None


def _number(token: str, low: int, high: int, names: dict[str, int], field: str) -> int:
    value = names.get(token.upper()) if names else None
    if value is None:
        if not token.isdigit():
            raise ValueError(f"{field}: {token!r} is not a value")
        value = int(token)
    if not low <= value <= high:
        raise ValueError(f"{field}: {value} is outside {low}-{high}")
    return value


def _values(text: str, low: int, high: int, field: str, names: dict[str, int]) -> frozenset[int]:
    """A field of ``, - * /`` wildcards as the set of values it includes."""
    found: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = _number(step_text, 1, high - low + 1, {}, field) if step_text else 1
        if base == "*":
            first, last = low, high
        elif "-" in base:
            start, _, end = base.partition("-")
            first = _number(start, low, high, names, field)
            last = _number(end, low, high, names, field)
        else:
            first = _number(base, low, high, names, field)
            # "1/10" runs from 1 to the end of the range; a bare value is itself alone.
            last = high if step_text else first
        if first <= last:
            found.update(range(first, last + 1, step))
        else:  # a range that wraps, as FRI-MON
            span = list(range(first, high + 1)) + list(range(low, last + 1))
            found.update(span[::step])
    return frozenset(found)


def _weekday(day: date) -> int:
    """AWS's day-of-week number: 1 Sunday ... 7 Saturday."""
    return day.isoweekday() % 7 + 1


def _nearest_weekday(year: int, month: int, wanted: int) -> int:
    last = calendar.monthrange(year, month)[1]
    day = min(wanted, last)
    weekday = date(year, month, day).isoweekday()
    if weekday == 6:  # Saturday: the Friday before, or the Monday after on the 1st
        return day - 1 if day > 1 else day + 2
    if weekday == 7:  # Sunday: the Monday after, or the Friday before on the last day
        return day + 1 if day < last else day - 2
    return day


@dataclass(frozen=True)
class _DayOfMonth:
    days: frozenset[int]
    last: bool = False
    last_weekday: bool = False
    nearest: tuple[int, ...] = ()

    @classmethod
    def parse(cls, text: str) -> _DayOfMonth:
        days: set[int] = set()
        last = last_weekday = False
        nearest: list[int] = []
        for part in text.upper().split(","):
            if part == "L":
                last = True
            elif part == "LW":
                last_weekday = True
            elif part.endswith("W"):
                nearest.append(_number(part[:-1], 1, 31, {}, "day-of-month"))
            else:
                days.update(_values(part, 1, 31, "day-of-month", {}))
        return cls(frozenset(days), last, last_weekday, tuple(nearest))

    def matches(self, day: date) -> bool:
        last = calendar.monthrange(day.year, day.month)[1]
        if day.day in self.days and day.day <= last:
            return True
        if self.last and day.day == last:
            return True
        if self.last_weekday and day.day == _nearest_weekday(day.year, day.month, last):
            return True
        return any(day.day == _nearest_weekday(day.year, day.month, n) for n in self.nearest)


@dataclass(frozen=True)
class _DayOfWeek:
    days: frozenset[int]
    last_of: tuple[int, ...] = ()
    nth: tuple[tuple[int, int], ...] = ()

    @classmethod
    def parse(cls, text: str) -> _DayOfWeek:
        days: set[int] = set()
        last_of: list[int] = []
        nth: list[tuple[int, int]] = []
        parts = text.upper().split(",")
        if "#" in text and len(parts) > 1:
            raise ValueError("day-of-week: with '#' the field holds one expression only")
        for part in parts:
            if part == "L":
                days.add(_DAYS["SAT"])
            elif "#" in part:
                day, _, k = part.partition("#")
                nth.append(
                    (_number(day, 1, 7, _DAYS, "day-of-week"), _number(k, 1, 5, {}, "day-of-week"))
                )
            elif part.endswith("L"):
                last_of.append(_number(part[:-1], 1, 7, _DAYS, "day-of-week"))
            else:
                days.update(_values(part, 1, 7, "day-of-week", _DAYS))
        return cls(frozenset(days), tuple(last_of), tuple(nth))

    def matches(self, day: date) -> bool:
        weekday = _weekday(day)
        if weekday in self.days:
            return True
        last = calendar.monthrange(day.year, day.month)[1]
        if weekday in self.last_of and day.day + 7 > last:
            return True
        return any(weekday == n and (day.day - 1) // 7 + 1 == k for n, k in self.nth)


@dataclass(frozen=True)
class Cron:
    """A six-field cron expression, read on a time zone's wall clock."""

    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    day: _DayOfMonth | _DayOfWeek
    months: frozenset[int]
    years: frozenset[int]

    @classmethod
    def parse(cls, fields: str) -> Cron:
        parts = fields.split()
        if len(parts) != 6:
            raise ValueError(f"a cron expression has 6 fields, this one has {len(parts)}")
        minutes, hours, dom, month, dow, year = parts
        if (dom == "?") == (dow == "?"):
            raise ValueError("exactly one of day-of-month and day-of-week must be '?'")
        day: _DayOfMonth | _DayOfWeek = (
            _DayOfWeek.parse(dow) if dom == "?" else _DayOfMonth.parse(dom)
        )
        return cls(
            tuple(sorted(_values(minutes, 0, 59, "minutes", {}))),
            tuple(sorted(_values(hours, 0, 23, "hours", {}))),
            day,
            _values(month, 1, 12, "month", _MONTHS),
            _values(year, 1970, _LAST_YEAR, "year", {}),
        )

    def _next_wall_time(self, after: datetime) -> datetime | None:
        """The first wall-clock time strictly after ``after`` (naive) the fields include."""
        day = after.date()
        while day.year <= _LAST_YEAR:
            if day.year not in self.years:
                later = [y for y in self.years if y > day.year]
                if not later:
                    return None
                day = date(min(later), 1, 1)
                continue
            if day.month not in self.months:
                day = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
                continue
            if self.day.matches(day):
                for hour in self.hours:
                    for minute in self.minutes:
                        candidate = datetime(day.year, day.month, day.day, hour, minute)
                        if candidate > after:
                            return candidate
            day += timedelta(days=1)
        return None

    def at_or_after(self, instant: datetime, zone: tzinfo) -> datetime | None:
        wall = instant.astimezone(zone).replace(tzinfo=None) - timedelta(microseconds=1)
        while True:
            candidate = self._next_wall_time(wall)
            if candidate is None:
                return None
            # fold=0: of a repeated wall time, the first; a time the clocks skip maps to
            # another wall time and is not an occurrence.
            moment = candidate.replace(tzinfo=zone).astimezone(UTC)
            exists = moment.astimezone(zone).replace(tzinfo=None) == candidate
            if exists and moment >= instant:
                return moment
            wall = candidate


@dataclass(frozen=True)
class Expression:
    """A schedule's expression and time zone, and the anchor a rate counts from."""

    kind: Rate | Cron | At
    zone: tzinfo

    def at_or_after(self, instant: datetime, anchor: datetime) -> datetime | None:
        """The first occurrence at or after ``instant`` (aware), or None when there is none."""
        if isinstance(self.kind, Rate):
            return self.kind.at_or_after(instant, anchor)
        return self.kind.at_or_after(instant, self.zone)


def parse(expression: str, timezone_name: str | None = None) -> Expression:
    """Parse ``rate()``, ``cron()`` or ``at()``; ValueError says what is wrong."""
    text = expression.strip()
    where = zone(timezone_name)
    if match := _RATE.fullmatch(text):
        value, unit = int(match.group(1)), match.group(2)
        if unit not in _UNITS or value < 1:
            raise ValueError(f"{expression}: a rate is a positive number of minutes, hours or days")
        return Expression(Rate(value * _UNITS[unit]), where)
    if match := _AT.fullmatch(text):
        return Expression(At(datetime.fromisoformat(match.group(1))), where)
    if match := _CRON.fullmatch(text):
        try:
            return Expression(Cron.parse(match.group(1)), where)
        except ValueError as exc:
            raise ValueError(f"{expression}: {exc}") from exc
    raise ValueError(f"{expression} is not rate(value unit), cron(fields) or at(date)")
