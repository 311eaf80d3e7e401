"""Alarms scale ECS services: a queue's messages wake a worker scaled to zero.

Gap (ministack 1.5.33): nothing publishes the metrics AWS publishes for its
services (AWS/SQS ApproximateNumberOfMessages*, ECS/ContainerInsights
RunningTaskCount); ministack evaluates alarms only when PutMetricData is
called, over every dimension of a metric at once, and of alarm actions it
executes SNS topics only. app_autoscaling.py stores scaling policies and their
alarms, but no alarm ever changed a desired count: a worker with `min: 0`
stayed at zero with its queue full.

A background thread here (one per emulator process) does, every few seconds:

- publishes, per queue, ApproximateNumberOfMessagesVisible, -NotVisible and
  -Delayed (dimension QueueName) from the queue's state, and per ECS service
  RunningTaskCount and DesiredTaskCount (dimensions ClusterName, ServiceName):
  one datapoint a minute, as AWS publishes them, whose value follows the state
  until the minute ends (AWS's lands once, after it); three hours are kept;
- evaluates every metric alarm whose actions name an Application Auto Scaling
  policy, as CloudWatch does: one datapoint per Period over the last
  EvaluationPeriods periods (the newest is the one under way, so a wake is
  prompt), of the metric with exactly the alarm's dimensions, or of its metric math
  (arithmetic over MetricStat queries; a division by zero is no data);
  DatapointsToAlarm of them breaching is ALARM; TreatMissingData as documented;
- invokes the policies of the alarm's state on the transition and, as
  CloudWatch does for scaling actions, once a minute while the state lasts. A
  step policy applies the step whose bounds hold (value - threshold), by
  ExactCapacity, ChangeInCapacity or PercentChangeInCapacity; a target
  tracking policy sets ceil(current x metric / target); both stay within the
  target's MinCapacity..MaxCapacity, honour cooldowns (during one, only a
  scale-out goes ahead), DisableScaleIn and the target's suspended
  state, and set the ECS service's desired count through UpdateService; when
  policies in force disagree, the largest capacity wins, as AWS documents.
  Each change is a scaling activity DescribeScalingActivities reports.

A target tracking scale-in alarm keeps AWS's 15 one-minute datapoints, so a
worker goes back to zero about 15 minutes after its queue empties, as on AWS.
"""

import ast
import logging
import math
import operator
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import app_autoscaling
from ._ministack import attr, module

Json = dict[str, Any]

_TICK_SECONDS = 5
_MINUTE = 60
_MINUTE_KEY = "_fargo_minute"
# Three hours cover the longest window an alarm here reads (target tracking's 15 minutes).
_KEEP_SECONDS = 3 * 3600
# CloudWatch re-invokes a scaling action this often while the alarm stays in its state.
_REPEAT_SECONDS = 60
_POLICY_ARN = re.compile(r"arn:aws:autoscaling:[^:]*:[^:]*:scalingPolicy:")
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanOrEqualToThreshold": operator.ge,
    "GreaterThanThreshold": operator.gt,
    "LessThanThreshold": operator.lt,
    "LessThanOrEqualToThreshold": operator.le,
}
_ARITHMETIC: dict[type, Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_STATE_ACTIONS = {"ALARM": "AlarmActions", "OK": "OKActions"}

_log = logging.getLogger("fargo.scaling")
# alarm ARN -> when its current state's policies were last invoked.
_INVOKED: dict[str, float] = {}
# policy ARN -> when it last changed a desired count.
_LAST_SCALED: dict[str, float] = {}


def _scope(account: str, region: str) -> Any:
    return attr(module("ministack.core.responses"), "request_scope")(account, region)


# --- metrics ------------------------------------------------------------------


def _sample(namespace: str, name: str, dims: dict[str, str], now: float, value: float) -> None:
    """The metric's one datapoint of this minute, as AWS publishes these, carrying the latest
    observation; minutes older than any alarm here reads are dropped."""
    cloudwatch = module("ministack.services.cloudwatch")
    minute = int(now // _MINUTE)
    points = cloudwatch._metrics.get((namespace, name, cloudwatch._dims_key(dims)))
    if points and points[-1].get(_MINUTE_KEY) == minute:
        points[-1].update(Timestamp=now, Value=float(value))
        return
    cloudwatch._store_datum(namespace, name, dims, now, "Count", float(value), None, None, None)
    points = cloudwatch._metrics.get((namespace, name, cloudwatch._dims_key(dims)))
    points[-1][_MINUTE_KEY] = minute
    if points[0]["Timestamp"] < now - _KEEP_SECONDS:
        points[:] = [p for p in points if p["Timestamp"] >= now - _KEEP_SECONDS]


def _publish(now: float) -> None:
    sqs = module("ministack.services.sqs")
    ecs = module("ministack.services.ecs")
    for (account, region, _url), queue in list(sqs._queues._data.items()):
        visible = delayed = inflight = 0
        for message in list(queue.get("messages") or []):
            if message["visible_at"] <= now:
                visible += 1
            elif message.get("receive_count", 0) == 0:
                delayed += 1
            else:
                inflight += 1
        dims = {"QueueName": queue["name"]}
        with _scope(account, region):
            for name, value in (
                ("ApproximateNumberOfMessagesVisible", visible),
                ("ApproximateNumberOfMessagesNotVisible", inflight),
                ("ApproximateNumberOfMessagesDelayed", delayed),
            ):
                _sample("AWS/SQS", name, dims, now, value)
    for (account, region, key), service in list(ecs._services._data.items()):
        if service.get("status") != "ACTIVE":
            continue
        cluster, _, name = key.partition("/")
        dims = {"ClusterName": cluster, "ServiceName": name}
        with _scope(account, region):
            for metric, member in (
                ("RunningTaskCount", "runningCount"),
                ("DesiredTaskCount", "desiredCount"),
            ):
                _sample("ECS/ContainerInsights", metric, dims, now, service.get(member) or 0)


# --- alarm evaluation ---------------------------------------------------------


def _statistic(metric: Json, stat: str, start: float, end: float) -> float | None:
    """One period's statistic of the metric with exactly these dimensions."""
    cloudwatch = module("ministack.services.cloudwatch")
    dims = {d["Name"]: d["Value"] for d in metric.get("Dimensions") or []}
    key = (metric.get("Namespace"), metric.get("MetricName"), cloudwatch._dims_key(dims))
    points = [p for p in cloudwatch._metrics.get(key) or [] if start <= p["Timestamp"] < end]
    if not points:
        return None
    value = cloudwatch._stat_value(cloudwatch._calc_stats(points), stat, points)
    return None if value is None else float(value)


def _arithmetic(node: ast.AST, values: dict[str, float | None]) -> float | None:
    """Metric math's arithmetic over query ids; no data in, or a division by zero, is none."""
    if isinstance(node, ast.Expression):
        return _arithmetic(node.body, values)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return float(node.value)
    if isinstance(node, ast.Name):
        return values.get(node.id)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _arithmetic(node.operand, values)
        return None if inner is None else -inner
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
        left, right = _arithmetic(node.left, values), _arithmetic(node.right, values)
        if left is None or right is None or (isinstance(node.op, ast.Div) and right == 0):
            return None
        return _ARITHMETIC[type(node.op)](left, right)
    raise ValueError(f"metric math beyond arithmetic: {ast.dump(node)}")


def _datapoint(alarm: Json, start: float, end: float) -> float | None:
    if not alarm.get("Metrics"):
        stat = alarm.get("ExtendedStatistic") or alarm.get("Statistic") or "Average"
        return _statistic(alarm, stat, start, end)
    values: dict[str, float | None] = {}
    returned: float | None = None
    for query in alarm["Metrics"]:  # math refers to ids defined before it
        if query.get("MetricStat"):
            stat = query["MetricStat"]
            value = _statistic(stat["Metric"], stat.get("Stat", "Average"), start, end)
        else:
            value = _arithmetic(ast.parse(str(query["Expression"]), mode="eval"), values)
        values[query["Id"]] = value
        if query.get("ReturnData", True):
            returned = value
    return returned


def _period(alarm: Json) -> int:
    if alarm.get("Period"):
        return int(alarm["Period"])
    queries = alarm.get("Metrics") or []
    periods = [int(q["MetricStat"].get("Period", 60)) for q in queries if q.get("MetricStat")]
    return max(periods or [60])


def _series(alarm: Json, now: float) -> list[float | None]:
    """The last EvaluationPeriods datapoints, newest first: the newest is the period under
    way, so an alarm sees this minute's datapoint at once."""
    period = _period(alarm)
    count = int(alarm.get("EvaluationPeriods") or 1)
    start = now - now % period
    return [_datapoint(alarm, start - i * period, start - (i - 1) * period) for i in range(count)]


def _state(alarm: Json, series: list[float | None]) -> tuple[str, float | None]:
    """The alarm's state for these datapoints, and the newest value it saw."""
    compare = _COMPARE[alarm.get("ComparisonOperator", "GreaterThanThreshold")]
    threshold = float(alarm.get("Threshold") or 0)
    treat = alarm.get("TreatMissingData") or "missing"
    needed = int(alarm.get("DatapointsToAlarm") or alarm.get("EvaluationPeriods") or 1)
    present = [v for v in series if v is not None]
    breaching = sum(1 for v in present if compare(v, threshold))
    if treat == "breaching":
        breaching += len(series) - len(present)
    newest = present[0] if present else None
    if breaching >= needed:
        return "ALARM", newest
    if present or treat in ("breaching", "notBreaching"):
        return "OK", newest
    if treat == "ignore":
        return str(alarm.get("StateValue", "INSUFFICIENT_DATA")), None
    return "INSUFFICIENT_DATA", None


def _scales(alarm: Json) -> bool:
    actions = [*(alarm.get("AlarmActions") or []), *(alarm.get("OKActions") or [])]
    return any(_POLICY_ARN.match(str(action)) for action in actions)


@dataclass(frozen=True)
class _Invocation:
    """A policy an alarm in its state invokes, with the datapoint it saw."""

    policy_arn: str
    alarm: Json
    value: float
    due: bool  # on the transition, then once a minute


def _evaluate(alarm: Json, now: float) -> list[_Invocation]:
    """Set the alarm's state; the scaling policies its state invokes."""
    cloudwatch = module("ministack.services.cloudwatch")
    new, value = _state(alarm, _series(alarm, now))
    old = alarm.get("StateValue")
    arn = str(alarm.get("AlarmArn") or alarm.get("AlarmName"))
    if new != old:
        reason = (
            f"Threshold Crossed: the latest datapoint [{value}] against threshold "
            f"{alarm.get('Threshold')} ({alarm.get('ComparisonOperator')})"
        )
        alarm.update(StateValue=new, StateReason=reason, StateUpdatedTimestamp=int(now))
        cloudwatch._record_history(alarm["AlarmName"], old, new, reason)
        cloudwatch._dispatch_alarm_actions(alarm, old, new, reason)
        _INVOKED.pop(arn, None)
    if not alarm.get("ActionsEnabled", True) or value is None:
        return []
    due = now - _INVOKED.get(arn, 0.0) >= _REPEAT_SECONDS
    if due:
        _INVOKED[arn] = now
    return [
        _Invocation(str(action), alarm, value, due)
        for action in alarm.get(_STATE_ACTIONS.get(new, ""), []) or []
        if _POLICY_ARN.match(str(action))
    ]


# --- scaling policies ---------------------------------------------------------


def _step(config: Json, alarm: Json, value: float, current: int) -> int | None:
    delta = value - float(alarm.get("Threshold") or 0)
    for step in config.get("StepAdjustments") or []:
        lower, upper = step.get("MetricIntervalLowerBound"), step.get("MetricIntervalUpperBound")
        if (lower is None or delta >= float(lower)) and (upper is None or delta < float(upper)):
            adjustment = int(step["ScalingAdjustment"])
            kind = config.get("AdjustmentType", "ChangeInCapacity")
            if kind == "ExactCapacity":
                return adjustment
            if kind == "PercentChangeInCapacity":
                change = int(current * adjustment / 100)
                magnitude = int(config.get("MinAdjustmentMagnitude") or 0)
                if abs(change) < magnitude:
                    change = magnitude if adjustment > 0 else -magnitude
                return current + change
            return current + adjustment
    return None


def _wanted(policy: Json, alarm: Json, value: float, current: int) -> tuple[int, int, int] | None:
    """The policy's desired count, and its scale-out and scale-in cooldowns."""
    if policy["PolicyType"] == "StepScaling":
        config = policy["StepScalingPolicyConfiguration"]
        wanted = _step(config, alarm, value, current)
        cooldown = int(config.get("Cooldown") or 0)
        return None if wanted is None else (wanted, cooldown, cooldown)
    config = policy["TargetTrackingScalingPolicyConfiguration"]
    wanted = math.ceil(current * value / float(config["TargetValue"]))
    if wanted < current and config.get("DisableScaleIn"):
        return None
    out = int(config.get("ScaleOutCooldown") or 300)
    return wanted, out, int(config.get("ScaleInCooldown") or 300)


def _record(key: str, policy: Json, alarm: Json, wanted: int, now: float) -> None:
    app_autoscaling.store().activities.setdefault(key, []).insert(
        0,
        {
            "ActivityId": str(uuid.uuid4()),
            "ServiceNamespace": policy["ServiceNamespace"],
            "ResourceId": policy["ResourceId"],
            "ScalableDimension": policy["ScalableDimension"],
            "Description": f"Setting desired count to {wanted}.",
            "Cause": (
                f"monitor alarm {alarm['AlarmName']} in state {alarm['StateValue']} "
                f"triggered policy {policy['PolicyName']}"
            ),
            "StartTime": now,
            "EndTime": now,
            "StatusCode": "Successful",
            "StatusMessage": f"Successfully set desired count to {wanted}.",
        },
    )


@dataclass(frozen=True)
class _Decision:
    """What one policy would set a service's desired count to."""

    invocation: _Invocation
    policy: Json
    key: str
    current: int
    wanted: int
    cooldown: int


def _decide(invocation: _Invocation) -> _Decision | None:
    store = app_autoscaling.store()
    arn = invocation.policy_arn
    policy = next((p for p in store.policies.values() if p["PolicyARN"] == arn), None)
    if policy is None or policy["ServiceNamespace"] != "ecs":
        return None
    key = "|".join(policy[m] for m in ("ServiceNamespace", "ResourceId", "ScalableDimension"))
    target = store.targets.get(key)
    if target is None:
        return None
    _, cluster, name = policy["ResourceId"].split("/")
    service = module("ministack.services.ecs")._services.get(f"{cluster}/{name}") or {}
    current = int(service.get("desiredCount") or 0)
    decided = _wanted(policy, invocation.alarm, invocation.value, current)
    if decided is None:
        return None
    wanted = min(max(decided[0], int(target["MinCapacity"])), int(target["MaxCapacity"]))
    out = wanted > current
    suspended = (target.get("SuspendedState") or {}).get(
        "DynamicScalingOutSuspended" if out else "DynamicScalingInSuspended"
    )
    if suspended:
        return None
    return _Decision(invocation, policy, key, current, wanted, decided[1 if out else 2])


def _apply(invocations: list[_Invocation], now: float) -> None:
    """Scale each target one of its due policies asks to: when policies in force disagree,
    AWS gives precedence to the one that provides the largest capacity."""
    by_target: dict[str, list[_Decision]] = {}
    for invocation in invocations:
        decision = _decide(invocation)
        if decision is not None:
            by_target.setdefault(decision.key, []).append(decision)
    for decisions in by_target.values():
        if not any(d.invocation.due for d in decisions):
            continue
        chosen = max(decisions, key=lambda d: d.wanted)
        arn = chosen.invocation.policy_arn
        out = chosen.wanted > chosen.current
        # In a cooldown only a scale-out goes ahead, as AWS does.
        cooling = now - _LAST_SCALED.get(arn, 0.0) < chosen.cooldown
        if chosen.wanted == chosen.current or (cooling and not out):
            continue
        _, cluster, name = chosen.policy["ResourceId"].split("/")
        status, _headers, body = module("ministack.services.ecs")._update_service(
            {"cluster": cluster, "service": name, "desiredCount": chosen.wanted}
        )
        if status >= 400:
            _log.warning("scaling %s: UpdateService refused: %r", chosen.policy["ResourceId"], body)
            continue
        _LAST_SCALED[arn] = now
        _record(chosen.key, chosen.policy, chosen.invocation.alarm, chosen.wanted, now)


def tick(now: float | None = None) -> None:
    """One round: publish the services' metrics, evaluate the scaling alarms."""
    now = time.time() if now is None else now
    _publish(now)
    cloudwatch = module("ministack.services.cloudwatch")
    scopes: dict[tuple[str, str], list[_Invocation]] = {}
    for (account, region, _name), alarm in list(cloudwatch._alarms._data.items()):
        if not _scales(alarm):
            continue
        with _scope(account, region):
            try:
                scopes.setdefault((account, region), []).extend(_evaluate(alarm, now))
            except (ValueError, KeyError, TypeError):
                _log.exception("alarm %s was not evaluated", alarm.get("AlarmName"))
    for (account, region), invocations in scopes.items():
        with _scope(account, region):
            _apply(invocations, now)


def _loop() -> None:
    while True:
        time.sleep(_TICK_SECONDS)
        try:
            tick()
        except Exception:  # noqa: BLE001 - logged; the loop must go on
            _log.exception("scaling round failed")


_STARTED: list[threading.Thread] = []


def scale_on_alarms() -> None:
    """Closes the gap in the module docstring: starts the metrics-and-alarms thread."""
    cloudwatch = module("ministack.services.cloudwatch")
    for name in (
        "_alarms",
        "_metrics",
        "_store_datum",
        "_dims_key",
        "_calc_stats",
        "_stat_value",
        "_record_history",
        "_dispatch_alarm_actions",
    ):
        attr(cloudwatch, name)
    attr(module("ministack.services.sqs"), "_queues")
    attr(module("ministack.services.ecs"), "_services")
    attr(module("ministack.services.ecs"), "_update_service")
    if not _STARTED:
        spawn = attr(module("ministack.core.concurrency"), "spawn_background")
        _STARTED.append(spawn(_loop, thread_name="fargo-alarm-scaling"))
