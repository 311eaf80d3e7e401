"""Elastic Load Balancing target health: targets are checked for real.

Gap (ministack 1.5.33): DescribeTargetHealth answers ``healthy`` for every
registered target, checked or not, and the load balancer forwards to any
registered target, so a task whose app never answers is "healthy" and gets
traffic, and an ECS rollout cannot wait on target health.

When the emulator runs containers, each registered ``ip``/``instance`` target
is checked as ELB does, with the target group's own settings: a GET of
HealthCheckPath on HealthCheckPort (``traffic-port``: the target's port) over
HealthCheckProtocol every HealthCheckIntervalSeconds, a response within
HealthCheckTimeoutSeconds whose code Matcher.HttpCode accepts counting as a
success. A target is ``initial`` until HealthyThresholdCount consecutive
successes make it ``healthy`` (or UnhealthyThresholdCount consecutive failures
``unhealthy``), and moves between the two on the same thresholds. A
deregistered target is ``draining`` for the group's
``deregistration_delay.timeout_seconds``. DescribeTargetHealth reports these
states with ELB's reason codes and descriptions, and the load balancer forwards
only to healthy targets, or, when none is healthy, to every registered target
(ELB fails open). A records-only emulator runs nothing to check, so it keeps
ministack's answers.
"""

import contextlib
import http.client
import random
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import Any
from xml.sax.saxutils import escape

from ._ministack import attr, containers_run, module, replace

_ALB = "ministack.services.alb"
# How often the checker looks for due checks and new or withdrawn targets.
_TICK_SECONDS = 0.25
_DEFAULT_DEREGISTRATION_DELAY = 300

# ELB's reason codes and their descriptions (TargetHealth in the ELBv2 API reference).
REGISTRATION = ("Elb.RegistrationInProgress", "Target registration is in progress")
INITIAL_CHECKS = ("Elb.InitialHealthChecking", "Initial health checks in progress")
TIMEOUT = ("Target.Timeout", "Request timed out")
FAILED = ("Target.FailedHealthChecks", "Health checks failed")
DRAINING = ("Target.DeregistrationInProgress", "Target deregistration is in progress")
NOT_REGISTERED = ("Target.NotRegistered", "Target is not registered to the target group")
DISABLED = ("Target.HealthCheckDisabled", "Health checks are disabled")

Key = tuple[str, str, int]  # target group ARN, target id, port


@dataclass
class TargetHealth:
    state: str = "initial"
    reason: tuple[str, str] | None = REGISTRATION
    successes: int = 0
    failures: int = 0
    next_check: float = 0.0
    checking: bool = False
    drain_until: float | None = None


_health: dict[Key, TargetHealth] = {}
_lock = threading.Lock()


def target_state(tg_arn: str, target_id: str, port: int) -> str | None:
    """The checked state of one target (``initial``, ``healthy``, ...), or None when the
    emulator does not check it (records only, a Lambda group, checks disabled)."""
    with _lock:
        record = _health.get((tg_arn, target_id, port))
        return record.state if record is not None else None


def routable(tg_arn: str, target_id: str, port: int) -> bool:
    """Whether ELB would count the target in service: checked healthy, or a target group
    the emulator does not check (records only, a Lambda group, checks disabled)."""
    if not containers_run():
        return True
    account, region = _scope(tg_arn)
    tg = attr(module(_ALB), "_tgs").get_scoped(account, region, tg_arn)
    if (
        not tg
        or tg.get("TargetType", "instance") not in ("instance", "ip")
        or not tg.get("HealthCheckEnabled", True)
    ):
        return True
    return target_state(tg_arn, target_id, port) == "healthy"


def _accepts(matcher: str, code: int) -> bool:
    """Matcher.HttpCode: "200", "200,202" or "200-399" (and combinations)."""
    for part in matcher.split(","):
        low, _, high = part.strip().partition("-")
        try:
            if int(low) <= code <= int(high or low):
                return True
        except ValueError:
            continue
    return False


def _probe(tg: dict[str, Any], host: str, port: int) -> tuple[str, str] | None:
    """One health check: None when it passed, else ELB's reason for the failure."""
    timeout = float(tg.get("HealthCheckTimeoutSeconds") or 5)
    protocol = str(tg.get("HealthCheckProtocol") or "HTTP").upper()
    try:
        if protocol not in ("HTTP", "HTTPS"):
            socket.create_connection((host, port), timeout=timeout).close()
            return None
        connection: http.client.HTTPConnection
        if protocol == "HTTPS":
            # ELB does not validate the target's certificate.
            connection = http.client.HTTPSConnection(
                host,
                port,
                timeout=timeout,
                context=ssl._create_unverified_context(),  # noqa: S323
            )
        else:
            connection = http.client.HTTPConnection(host, port, timeout=timeout)
        try:
            connection.request(
                "GET",
                str(tg.get("HealthCheckPath") or "/"),
                headers={"User-Agent": "ELB-HealthChecker/2.0", "Host": f"{host}:{port}"},
            )
            code = connection.getresponse().status
        finally:
            connection.close()
    except TimeoutError:
        return TIMEOUT
    except (OSError, http.client.HTTPException):
        return FAILED
    matcher = str((tg.get("Matcher") or {}).get("HttpCode") or "200")
    if _accepts(matcher, code):
        return None
    return ("Target.ResponseCodeMismatch", f"Health checks failed with these codes: [{code}]")


def _record(key: Key, tg: dict[str, Any], failure: tuple[str, str] | None) -> None:
    healthy_after = int(tg.get("HealthyThresholdCount") or 5)
    unhealthy_after = int(tg.get("UnhealthyThresholdCount") or 2)
    with _lock:
        record = _health.get(key)
        if record is None or record.drain_until is not None:
            return
        record.checking = False
        if failure is None:
            record.successes += 1
            record.failures = 0
            if record.successes >= healthy_after:
                record.state, record.reason = "healthy", None
            elif record.state == "initial":
                record.reason = INITIAL_CHECKS
        else:
            record.failures += 1
            record.successes = 0
            if record.failures >= unhealthy_after:
                record.state, record.reason = "unhealthy", failure
            elif record.state == "initial":
                record.reason = INITIAL_CHECKS


def _check(key: Key, tg: dict[str, Any]) -> None:
    _, host, port = key
    check_port = str(tg.get("HealthCheckPort") or "traffic-port")
    failure = _probe(tg, host, port if check_port == "traffic-port" else int(check_port))
    _record(key, tg, failure)


def _scope(tg_arn: str) -> tuple[str, str]:
    """The account and region a target group's ARN names."""
    parts = tg_arn.split(":")
    return (parts[4], parts[3]) if len(parts) > 5 else ("", "")


def _deregistration_delay(alb: ModuleType, tg_arn: str) -> float:
    account, region = _scope(tg_arn)
    for item in attr(alb, "_tg_attrs").get_scoped(account, region, tg_arn) or []:
        if item.get("Key") == "deregistration_delay.timeout_seconds":
            try:
                return float(item.get("Value"))
            except (TypeError, ValueError):
                break
    return _DEFAULT_DEREGISTRATION_DELAY


def _checked_targets(alb: ModuleType) -> dict[Key, dict[str, Any]]:
    """Every registered target the checker owns, with its target group."""
    groups = attr(alb, "_tgs")
    found: dict[Key, dict[str, Any]] = {}
    for (account, tg_arn), targets in attr(alb, "_targets").to_dict().items():
        tg = groups.get_scoped(account, _scope(tg_arn)[1], tg_arn)
        if not tg or tg.get("TargetType", "instance") not in ("instance", "ip"):
            continue
        if not tg.get("HealthCheckEnabled", True):
            continue
        for target in list(targets):
            port = int(target.get("Port") or tg.get("Port") or 80)
            found[(tg_arn, str(target["Id"]), port)] = tg
    return found


def _tick(alb: ModuleType) -> None:
    now = time.monotonic()
    registered = _checked_targets(alb)
    due: list[tuple[Key, dict[str, Any]]] = []
    with _lock:
        for key, tg in registered.items():
            record = _health.get(key)
            if record is None or record.drain_until is not None:
                record = _health[key] = TargetHealth(next_check=now)
            if not record.checking and record.next_check <= now:
                record.checking = True
                record.next_check = now + float(tg.get("HealthCheckIntervalSeconds") or 30)
                due.append((key, tg))
        for key, record in list(_health.items()):
            if key in registered:
                continue
            if record.drain_until is None:
                record.state, record.reason = "draining", DRAINING
                record.drain_until = now + _deregistration_delay(alb, key[0])
            elif record.drain_until <= now:
                del _health[key]
    for key, tg in due:
        threading.Thread(
            target=_check, args=(key, tg), daemon=True, name="fargo-elb-health-check"
        ).start()


def _run_checker(alb: ModuleType) -> None:
    while not containers_run():
        time.sleep(1)
    while True:
        # A checker that died would freeze every target's state.
        with contextlib.suppress(Exception):
            _tick(alb)
        time.sleep(_TICK_SECONDS)


def _withdraw(tg_arn: str, target_ids: Iterable[str], delay: float) -> None:
    """Start draining at deregistration, not at the checker's next look."""
    ids = set(target_ids)
    now = time.monotonic()
    with _lock:
        for key, record in _health.items():
            if key[0] == tg_arn and key[1] in ids and record.drain_until is None:
                record.state, record.reason = "draining", DRAINING
                record.drain_until = now + delay


def _member(target_id: str, port: int, check_port: str, state: str, reason: Any) -> str:
    body = f"<State>{state}</State>"
    if reason is not None:
        body += f"<Reason>{reason[0]}</Reason><Description>{escape(reason[1])}</Description>"
    return (
        f"<member><Target><Id>{escape(target_id)}</Id><Port>{port}</Port></Target>"
        f"<HealthCheckPort>{escape(check_port)}</HealthCheckPort>"
        f"<TargetHealth>{body}</TargetHealth></member>"
    )


def _describe(alb: ModuleType, original: Callable[..., Any]) -> Callable[..., Any]:
    def describe_target_health(params: dict[str, Any]) -> Any:
        tg_arn = alb._p(params, "TargetGroupArn")
        tg = alb._tgs.get(tg_arn)
        if (
            not containers_run()
            or tg is None
            or tg.get("TargetType", "instance") not in ("instance", "ip")
        ):
            return original(params)
        default_port = int(tg.get("Port") or 80)
        check_port = str(tg.get("HealthCheckPort") or "traffic-port")
        registered = [
            (str(t["Id"]), int(t.get("Port") or default_port)) for t in alb._targets.get(tg_arn, [])
        ]
        with _lock:
            draining = [k[1:] for k, r in _health.items() if k[0] == tg_arn and r.drain_until]
        wanted = alb._parse_targets_param(params)
        listed = registered + [t for t in draining if t not in registered]
        if wanted:
            listed = [(str(t["Id"]), int(t.get("Port") or default_port)) for t in wanted]
        members = []
        for target_id, port in listed:
            with _lock:
                record = _health.get((tg_arn, target_id, port))
                state = (record.state, record.reason) if record is not None else None
            if (target_id, port) not in registered and (state is None or state[0] != "draining"):
                state = ("unused", NOT_REGISTERED)
            elif not tg.get("HealthCheckEnabled", True):
                state = ("unavailable", DISABLED)
            elif state is None:  # registered a moment ago: the checker has not seen it yet
                state = ("initial", REGISTRATION)
            members.append(_member(target_id, port, check_port, *state))
        return alb._xml(
            200,
            "DescribeTargetHealth",
            f"<TargetHealthDescriptions>{''.join(members)}</TargetHealthDescriptions>",
        )

    return describe_target_health


def _forward(alb: ModuleType, original: Callable[..., Any]) -> Callable[..., Any]:
    async def forward_to_tg(  # noqa: PLR0917 - ministack's signature
        tg_arn: str,
        method: str,
        path: str,
        headers: Any,
        body: Any,
        query_params: Any,
        raw_query_string: str | None = None,
        raw_path: str | None = None,
    ) -> Any:
        tg = alb._tgs.get(tg_arn)
        registered = alb._targets.get(tg_arn, []) if tg else []
        args = (tg_arn, method, path, headers, body, query_params, raw_query_string, raw_path)
        if (
            not registered
            or not containers_run()
            or tg.get("TargetType", "instance") not in ("instance", "ip")
        ):
            return await original(*args)
        default_port = int(tg.get("Port") or 80)
        healthy = [
            t
            for t in registered
            if routable(tg_arn, str(t["Id"]), int(t.get("Port") or default_port))
        ]
        target = random.choice(healthy or registered)  # noqa: S311  # no healthy target: ELB fails open
        return await alb._proxy_http_target(
            target, tg, method, raw_path or path, headers, body, query_params, raw_query_string
        )

    return forward_to_tg


def _withdrawing(alb: ModuleType, set_targets: Callable[..., Any]) -> Callable[..., Any]:
    def set_targets_for_group(tg_arn: str, targets: Any, previous_ids: Any = ()) -> Any:
        fresh = {str(target_id) for target_id, _ in targets}
        gone = [str(i) for i in previous_ids if str(i) not in fresh]
        if gone:
            _withdraw(tg_arn, gone, _deregistration_delay(alb, tg_arn))
        return set_targets(tg_arn, targets, previous_ids)

    return set_targets_for_group


def _deregistering(alb: ModuleType, deregister: Callable[..., Any]) -> Callable[..., Any]:
    def deregister_targets(params: dict[str, Any]) -> Any:
        tg_arn = alb._p(params, "TargetGroupArn")
        if tg_arn in alb._tgs:
            ids = [str(t["Id"]) for t in alb._parse_targets_param(params)]
            _withdraw(tg_arn, ids, _deregistration_delay(alb, tg_arn))
        return deregister(params)

    return deregister_targets


def check_target_health() -> None:
    """Closes the gap in the module docstring."""
    alb = module(_ALB)
    for name in ("_p", "_xml", "_parse_targets_param", "_proxy_http_target", "_tg_attrs"):
        attr(alb, name)
    # The action table holds its own references: both must see the wrappers.
    actions = attr(alb, "_ACTION_MAP")
    describe = _describe(alb, attr(alb, "_describe_target_health"))
    replace(alb, "_describe_target_health", describe)
    actions["DescribeTargetHealth"] = describe
    deregister = _deregistering(alb, attr(alb, "_deregister_targets"))
    replace(alb, "_deregister_targets", deregister)
    actions["DeregisterTargets"] = deregister
    replace(alb, "_forward_to_tg", _forward(alb, attr(alb, "_forward_to_tg")))
    replace(alb, "set_targets_for_group", _withdrawing(alb, attr(alb, "set_targets_for_group")))
    threading.Thread(target=_run_checker, args=(alb,), daemon=True, name="fargo-elb-health").start()
