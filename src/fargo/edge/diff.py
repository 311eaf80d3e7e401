"""An exact, readable diff of two CloudFront DistributionConfigs, for `fargo plan`.

Every difference is one line naming its path (`CacheBehaviors.Items[2].TargetOriginId`).
Lists of origins, origin groups, behaviors and other keyed items are matched by their key
(`Id`, `PathPattern`, ...), so inserting a behavior shows as one added item, not as every
later item changing; a change in the order of the items both sides hold is shown too, since
CloudFront routes a request to the first behavior that matches. Origin custom header values
are shared secrets and never shown.
"""

from __future__ import annotations

import json
from typing import Any

MASK = "****"
# What identifies an item in the lists of a DistributionConfig, tried in this order.
_ITEM_KEYS = ("Id", "PathPattern", "OriginId", "ErrorCode", "HeaderName", "EventType")


def config_diff(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """One line per difference between two configs; empty when they are equal."""
    return _diff(before, after, "")


def masked(value: Any) -> Any:
    """A copy of `value` with every origin custom header value replaced by a mask."""
    if isinstance(value, dict):
        return {k: MASK if k == "HeaderValue" else masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(item) for item in value]
    return value


def _show(value: Any) -> str:
    return json.dumps(masked(value), ensure_ascii=False, separators=(", ", ": "))


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _diff(before: Any, after: Any, path: str) -> list[str]:
    if isinstance(before, dict) and isinstance(after, dict):
        return _diff_dicts(before, after, path)
    if isinstance(before, list) and isinstance(after, list):
        return _diff_lists(before, after, path)
    if before == after and type(before) is type(after):
        return []
    if path.endswith("HeaderValue"):
        return [f"{path}: {MASK} → {MASK} (changed)"]
    return [f"{path}: {_show(before)} → {_show(after)}"]


def _diff_dicts(before: dict[str, Any], after: dict[str, Any], path: str) -> list[str]:
    lines: list[str] = []
    for key in [*before, *(k for k in after if k not in before)]:
        where = _join(path, key)
        old, new = before.get(key, []), after.get(key, [])
        if isinstance(old, list) and isinstance(new, list):
            # An empty list comes back as `{"Quantity": 0}`, without `Items`: item by item.
            lines.extend(_diff_lists(old, new, where))
        elif key not in after:
            lines.append(f"{where} removed: {_show(before[key])}")
        elif key not in before:
            lines.append(f"{where} added: {_show(after[key])}")
        else:
            lines.extend(_diff(before[key], after[key], where))
    return lines


def _item_key(before: list[Any], after: list[Any]) -> str | None:
    """The member that identifies every item of both lists, unique within each."""
    items = before + after
    if not items or not all(isinstance(item, dict) for item in items):
        return None
    for key in _ITEM_KEYS:
        if all(key in item for item in items) and all(
            len({json.dumps(item[key]) for item in side}) == len(side) for side in (before, after)
        ):
            return key
    return None


def _diff_lists(before: list[Any], after: list[Any], path: str) -> list[str]:
    key = _item_key(before, after)
    if key is None:
        if all(not isinstance(item, dict | list) for item in before + after):
            # Lists of names (aliases, methods, status codes): one line for the whole list.
            return [] if before == after else [f"{path}: {_show(before)} → {_show(after)}"]
        lines = [
            line
            for i, pair in enumerate(zip(before, after, strict=False))
            for line in _diff(*pair, f"{path}[{i}]")
        ]
        lines += [
            f"{path}[{i}] removed: {_show(item)}"
            for i, item in enumerate(before)
            if i >= len(after)
        ]
        lines += [
            f"{path}[{i}] added: {_show(item)}" for i, item in enumerate(after) if i >= len(before)
        ]
        return lines
    old = {json.dumps(item[key]): (i, item) for i, item in enumerate(before)}
    new = {json.dumps(item[key]): (i, item) for i, item in enumerate(after)}
    lines = [
        f"{path}[{i}] removed: {_show(item)}" for name, (i, item) in old.items() if name not in new
    ]
    for name, (i, item) in new.items():
        if name in old:
            lines.extend(_diff(old[name][1], item, f"{path}[{i}]"))
        else:
            lines.append(f"{path}[{i}] added: {_show(item)}")
    kept_before = [name for name in old if name in new]
    kept_after = [name for name in new if name in old]
    if kept_before != kept_after:
        order = (
            [json.loads(name) for name in kept_before],
            [json.loads(name) for name in kept_after],
        )
        lines.append(f"{path} order of {key}: {_show(order[0])} → {_show(order[1])}")
    return lines
