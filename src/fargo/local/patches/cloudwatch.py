"""AWS::CloudWatch::Alarm with metric math (the Metrics property).

Gap (ministack 1.5.33): the Alarm provisioner refuses Properties.Metrics
("metric math is not supported; use MetricName and Namespace"), so an alarm
on an expression (a queue's backlog per running task, an error rate) fails
its stack. AWS takes Metrics in place of MetricName, Namespace, Statistic,
ExtendedStatistic, Dimensions, Period and Unit, with exactly one query
returning data, and DescribeAlarms then answers with Metrics and without those
members. The alarm record is now built that way; ministack's alarm evaluation
skips an alarm with no MetricName, so such an alarm stays INSUFFICIENT_DATA.
Alarms on a single metric are built by ministack as before.
"""

from collections.abc import Callable
from typing import Any

from ._ministack import attr, module, replace

Props = dict[str, Any]

_PROVISIONERS = "ministack.services.cloudformation.provisioners"
# The members Metrics replaces; AWS refuses an alarm that sets both.
_SINGLE_METRIC = (
    "Dimensions",
    "ExtendedStatistic",
    "MetricName",
    "Namespace",
    "Period",
    "Statistic",
    "Unit",
)


def _flag(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).lower() == "true"


def _query(query: Props) -> Props:
    """A MetricDataQuery as DescribeAlarms returns it: numbers and flags typed."""
    item: Props = {k: v for k, v in query.items() if v is not None}
    if "Period" in item:
        item["Period"] = int(item["Period"])
    if "ReturnData" in item:
        item["ReturnData"] = _flag(item["ReturnData"])
    stat = item.get("MetricStat")
    if isinstance(stat, dict):
        stat = {k: v for k, v in stat.items() if v is not None}
        stat["Period"] = int(stat.get("Period", 60))
        item["MetricStat"] = stat
    return item


def _check(props: Props) -> list[Props]:
    queries = [_query(q) for q in props["Metrics"]]
    mixed = [name for name in _SINGLE_METRIC if props.get(name) not in (None, "", [])]
    if mixed:
        raise ValueError(
            f"AWS::CloudWatch::Alarm cannot set {mixed[0]} together with Metrics; "
            "a metric math alarm names its metrics in Metrics only"
        )
    if any(not q.get("Id") for q in queries):
        raise ValueError("Every query in AWS::CloudWatch::Alarm Metrics needs an Id")
    returning = [q for q in queries if q.get("ReturnData", True)]
    if len(returning) != 1:
        raise ValueError(
            "AWS::CloudWatch::Alarm Metrics must have exactly one query whose ReturnData "
            f"is true (or unset); {len(returning)} do"
        )
    return queries


def _with_metric_math(build: Callable[[str, Props], Props]) -> Callable[[str, Props], Props]:
    def alarm_record(name: str, props: Props) -> Props:
        if not props.get("Metrics"):
            return build(name, props)
        queries = _check(props)
        single = {k: v for k, v in props.items() if k != "Metrics"}
        # ministack's builder checks and fills every other member; the metric it
        # requires is a stand-in, dropped again below.
        single.update(MetricName="-", Namespace="-")
        if props.get("ThresholdMetricId") and props.get("Threshold") is None:
            single["Threshold"] = 0
        record = build(name, single)
        for member in _SINGLE_METRIC:
            record.pop(member, None)
        if props.get("ThresholdMetricId"):
            record.pop("Threshold", None)
            record["ThresholdMetricId"] = props["ThresholdMetricId"]
        record["Metrics"] = queries
        return record

    return alarm_record


def allow_metric_math_alarms() -> None:
    """Closes the gap in the module docstring. The put path calls the record
    builder through the module, so replacing it there is the whole fix."""
    provisioners = module(_PROVISIONERS)
    attr(provisioners, "_cw_metric_alarm_put")
    replace(
        provisioners,
        "_cw_metric_alarm_record",
        _with_metric_math(attr(provisioners, "_cw_metric_alarm_record")),
    )
