"""Runs a month of EventBridge Scheduler expressions, counted by hand: AWS's month is 730
hours, 365 / 12 = 30.4167 days."""

from __future__ import annotations

import pytest

from fargo.cost.estimate import estimate
from fargo.cost.inputs import StackInput
from fargo.cost.schedule import runs_per_month

DAYS = 365 / 12


def test_every_fifteen_minutes_runs_96_times_a_day() -> None:
    assert runs_per_month("cron(0/15 * * * ? *)") == pytest.approx(DAYS * 96)
    assert runs_per_month("cron(0/15 * * * ? *)") == pytest.approx(2920)


def test_a_weekly_cron_runs_about_four_times_a_month() -> None:
    assert runs_per_month("cron(0 3 ? * MON *)") == pytest.approx(DAYS / 7)
    assert runs_per_month("cron(0 3 ? * MON *)") == pytest.approx(4.35, abs=0.01)


def test_a_daily_cron_runs_once_a_day() -> None:
    assert runs_per_month("cron(0 3 * * ? *)") == pytest.approx(30.42, abs=0.01)


def test_weekdays_hour_lists_and_months() -> None:
    # 09:00 and 17:00 on weekdays: 2 a day, 5 days in 7.
    assert runs_per_month("cron(0 9,17 ? * MON-FRI *)") == pytest.approx(2 * DAYS * 5 / 7)
    # The 1st and the 15th of every month; the 31st of the 7 months that have one.
    assert runs_per_month("cron(0 0 1,15 * ? *)") == pytest.approx(2)
    assert runs_per_month("cron(0 0 31 * ? *)") == pytest.approx(7 / 12)
    # Daily, in January only.
    assert runs_per_month("cron(0 0 * JAN ? *)") == pytest.approx(DAYS / 12)


def test_rates() -> None:
    assert runs_per_month("rate(5 minutes)") == pytest.approx(730 * 60 / 5)
    assert runs_per_month("rate(1 hour)") == pytest.approx(730)
    assert runs_per_month("rate(2 days)") == pytest.approx(DAYS / 2)


def test_a_schedule_is_priced_at_its_runs() -> None:
    task = {
        "Type": "AWS::ECS::TaskDefinition",
        "Properties": {"Cpu": "256", "Memory": "512"},
    }
    schedule = {
        "Type": "AWS::Scheduler::Schedule",
        "Properties": {
            "ScheduleExpression": "cron(0/15 * * * ? *)",
            "Target": {"EcsParameters": {"TaskDefinitionArn": {"Ref": "Task"}}},
        },
    }
    stack = StackInput("s", {"Resources": {"Task": task, "Job": schedule}}, {})
    lines = estimate([stack], "us-east-1").lines
    (invocations,) = [
        x for x in lines if x.price.key == "eventbridge_scheduler.invocations_million"
    ]
    assert invocations.quantity == pytest.approx(2920 / 1e6)
    (vcpu,) = [x for x in lines if x.price.key == "fargate.vcpu_hour.x86_64"]
    assert vcpu.quantity == pytest.approx(2920 * 10 / 60 * 0.25)  # 10 minutes a run
