"""When EventBridge Scheduler's expressions fire, against AWS's documented examples.

Expected times come from the Scheduler User Guide ("Schedule types", daylight saving time)
and EventBridge's "Cron expressions reference", worked out on a calendar.
"""

from datetime import UTC, datetime, timedelta

import pytest

from fargo.local.patches.schedule_expressions import parse

_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def _runs(expression: str, start: datetime, count: int, zone: str = "UTC") -> list[datetime]:
    parsed = parse(expression, zone)
    found: list[datetime] = []
    instant = start
    while len(found) < count:
        due = parsed.at_or_after(instant, _EPOCH)
        assert due is not None
        found.append(due)
        instant = due + timedelta(seconds=1)
    return found


def test_cron_every_day_at_ten_utc() -> None:
    assert _runs("cron(0 10 * * ? *)", _utc(2024, 5, 1, 10, 0, 1), 2) == [
        _utc(2024, 5, 2, 10, 0),
        _utc(2024, 5, 3, 10, 0),
    ]


def test_cron_weekdays_at_six_pm() -> None:
    # Friday 2024-05-03 18:00, then Monday 2024-05-06: the weekend is skipped.
    assert _runs("cron(0 18 ? * MON-FRI *)", _utc(2024, 5, 3, 12), 2) == [
        _utc(2024, 5, 3, 18),
        _utc(2024, 5, 6, 18),
    ]


def test_cron_first_day_of_every_month() -> None:
    assert _runs("cron(0 8 1 * ? *)", _utc(2024, 1, 15), 3) == [
        _utc(2024, 2, 1, 8),
        _utc(2024, 3, 1, 8),
        _utc(2024, 4, 1, 8),
    ]


def test_cron_steps_from_a_start_minute() -> None:
    # "1/10 ... every tenth minute, starting from the first minute of the hour".
    assert [d.minute for d in _runs("cron(1/10 * * * ? *)", _utc(2024, 5, 1, 9), 7)] == [
        1,
        11,
        21,
        31,
        41,
        51,
        1,
    ]


def test_cron_every_five_minutes_in_office_hours_on_weekdays() -> None:
    runs = _runs("cron(0/5 8-17 ? * MON-FRI *)", _utc(2024, 5, 3, 17, 50), 3)
    # Friday 17:50, 17:55, then Monday 08:00.
    assert runs == [_utc(2024, 5, 3, 17, 50), _utc(2024, 5, 3, 17, 55), _utc(2024, 5, 6, 8, 0)]


def test_cron_lists_of_values_and_names() -> None:
    runs = _runs("cron(0 6,18 ? JAN,JUL SUN *)", _utc(2024, 1, 1), 3)
    # The first Sundays of January 2024: the 7th, at 06:00 and 18:00, then the 14th.
    assert runs == [_utc(2024, 1, 7, 6), _utc(2024, 1, 7, 18), _utc(2024, 1, 14, 6)]


def test_cron_nth_weekday_of_the_month() -> None:
    # 3#2: the second Tuesday. May 2024: the 14th; June 2024: the 11th.
    assert _runs("cron(0 9 ? * 3#2 *)", _utc(2024, 5, 1), 2) == [
        _utc(2024, 5, 14, 9),
        _utc(2024, 6, 11, 9),
    ]


def test_cron_last_friday_within_a_year_range() -> None:
    # 6L: the last Friday, only in 2019-2022. The last run is Friday 2022-12-30.
    parsed = parse("cron(15 10 ? * 6L 2019-2022)")
    assert parsed.at_or_after(_utc(2019, 1, 1), _EPOCH) == _utc(2019, 1, 25, 10, 15)
    assert parsed.at_or_after(_utc(2022, 12, 1), _EPOCH) == _utc(2022, 12, 30, 10, 15)
    assert parsed.at_or_after(_utc(2022, 12, 31), _EPOCH) is None


def test_cron_last_day_of_the_month() -> None:
    assert _runs("cron(0 0 L * ? *)", _utc(2024, 1, 31, 0, 1), 3) == [
        _utc(2024, 2, 29),  # a leap year
        _utc(2024, 3, 31),
        _utc(2024, 4, 30),
    ]


def test_cron_nearest_weekday() -> None:
    # 3W: the weekday closest to the 3rd. 2024-02-03 is a Saturday: Friday the 2nd.
    # 2024-03-03 is a Sunday: Monday the 4th. 2024-04-03 is a Wednesday: itself.
    assert _runs("cron(0 12 3W * ? *)", _utc(2024, 2, 1), 3) == [
        _utc(2024, 2, 2, 12),
        _utc(2024, 3, 4, 12),
        _utc(2024, 4, 3, 12),
    ]


def test_cron_nearest_weekday_stays_in_the_month() -> None:
    # 2024-06-01 is a Saturday: the nearest weekday in June is Monday the 3rd.
    assert parse("cron(0 12 1W * ? *)").at_or_after(_utc(2024, 6, 1), _EPOCH) == _utc(
        2024, 6, 3, 12
    )


def test_cron_last_weekday_of_the_month() -> None:
    # LW: 2024-08-31 is a Saturday, so Friday the 30th.
    assert parse("cron(0 12 LW * ? *)").at_or_after(_utc(2024, 8, 1), _EPOCH) == _utc(
        2024, 8, 30, 12
    )


@pytest.mark.parametrize(
    "expression",
    [
        "cron(0 10 * * * *)",  # neither day field is '?'
        "cron(0 10 ? * ? *)",  # both are
        "cron(0 10 * * ?)",  # five fields
        "cron(60 10 * * ? *)",  # minute out of range
        "cron(0 9 ? * 3#1,6#3 *)",  # '#' with a second expression
        "rate(0 minutes)",
        "rate(5 weeks)",
        "every(5 minutes)",
    ],
)
def test_invalid_expressions_are_refused(expression: str) -> None:
    with pytest.raises(ValueError, match=r"\S"):
        parse(expression)


def test_cron_reads_the_time_zone_wall_clock() -> None:
    # 03:00 in Berlin is 02:00 UTC in winter (CET) and 01:00 UTC in summer (CEST).
    parsed = parse("cron(0 3 * * ? *)", "Europe/Berlin")
    assert parsed.at_or_after(_utc(2024, 1, 10), _EPOCH) == _utc(2024, 1, 10, 2)
    assert parsed.at_or_after(_utc(2024, 7, 10), _EPOCH) == _utc(2024, 7, 10, 1)


def test_a_time_the_clocks_skip_does_not_run() -> None:
    # New York springs forward on 2024-03-10 at 02:00: 02:30 does not exist that day.
    runs = _runs("cron(30 2 * * ? *)", _utc(2024, 3, 9), 2, "America/New_York")
    assert runs == [_utc(2024, 3, 9, 7, 30), _utc(2024, 3, 11, 6, 30)]


def test_a_time_the_clocks_repeat_runs_once() -> None:
    # New York falls back on 2024-11-03: 01:30 happens at 05:30 and 06:30 UTC; it runs once.
    runs = _runs("cron(30 1 * * ? *)", _utc(2024, 11, 3), 2, "America/New_York")
    assert runs == [_utc(2024, 11, 3, 5, 30), _utc(2024, 11, 4, 6, 30)]


def test_rate_runs_from_its_anchor() -> None:
    parsed = parse("rate(5 minutes)")
    anchor = _utc(2024, 5, 1, 9, 0, 30)
    assert parsed.at_or_after(anchor, anchor) == anchor
    assert parsed.at_or_after(anchor + timedelta(seconds=1), anchor) == _utc(2024, 5, 1, 9, 5, 30)
    assert parsed.at_or_after(_utc(2024, 5, 1, 10), anchor) == _utc(2024, 5, 1, 10, 0, 30)


def test_rate_units() -> None:
    anchor = _utc(2024, 5, 1)
    for expression, seconds in [
        ("rate(1 minute)", 60),
        ("rate(2 hours)", 7200),
        ("rate(1 day)", 86400),
    ]:
        later = parse(expression).at_or_after(anchor + timedelta(seconds=1), anchor)
        assert later == anchor + timedelta(seconds=seconds)


def test_a_rate_day_is_twenty_four_hours_across_daylight_saving_time() -> None:
    # "days represents a 24-hour duration on the clock": in Berlin the 2024-03-31 day is 23
    # hours long, so a run at 12:00 CET on the 30th comes back at 13:00 CEST on the 31st.
    parsed = parse("rate(1 day)", "Europe/Berlin")
    anchor = _utc(2024, 3, 30, 11)
    assert parsed.at_or_after(anchor + timedelta(seconds=1), anchor) == _utc(2024, 3, 31, 11)


def test_at_runs_once_at_its_wall_clock_time() -> None:
    parsed = parse("at(2024-07-01T09:00:00)", "Europe/Berlin")
    assert parsed.at_or_after(_utc(2024, 6, 1), _EPOCH) == _utc(2024, 7, 1, 7)
    assert parsed.at_or_after(_utc(2024, 7, 1, 7, 0, 1), _EPOCH) is None


def test_an_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="Timezone"):
        parse("rate(1 minute)", "Mars/Olympus")
