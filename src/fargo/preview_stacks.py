"""The preview environments an app has deployed, found by their stacks' `fargo:preview`
tag, and how old each is: what `fargo previews list` shows and `prune` purges."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fargo.aws.facade import Aws
from fargo.errors import InputError
from fargo.model.app import PREVIEW_TAG

_DURATION = re.compile(r"^(\d+)([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass(frozen=True)
class PreviewEnvironment:
    env: str
    stacks: tuple[str, ...]
    created: datetime  # the first of its stacks' CreationTime

    def age(self, now: datetime) -> timedelta:
        return now - self.created


def deployed_previews(aws: Aws, app: str) -> tuple[PreviewEnvironment, ...]:
    """This app's previews that have a stack, oldest first."""
    # DescribeStacks without a name lists every stack that is not deleted, with its tags.
    return group_previews(aws.paginate("cloudformation", "describe_stacks", "Stacks"), app)


def group_previews(stacks: Iterable[dict[str, Any]], app: str) -> tuple[PreviewEnvironment, ...]:
    found: dict[str, list[dict[str, Any]]] = {}
    for stack in stacks:
        tags = {t["Key"]: t["Value"] for t in stack.get("Tags", [])}
        if tags.get("fargo:app") == app and tags.get(PREVIEW_TAG) == "true" and "fargo:env" in tags:
            found.setdefault(tags["fargo:env"], []).append(stack)
    previews = [
        PreviewEnvironment(
            env,
            tuple(sorted(s["StackName"] for s in stacks)),
            min(s["CreationTime"] for s in stacks),
        )
        for env, stacks in found.items()
    ]
    return tuple(sorted(previews, key=lambda p: (p.created, p.env)))


def previews_older_than(
    previews: Iterable[PreviewEnvironment], age: timedelta, now: datetime
) -> tuple[PreviewEnvironment, ...]:
    return tuple(p for p in previews if p.age(now) > age)


def parse_age(text: str) -> timedelta:
    """`7d`, `12h`, `30m`, `2w`, `0s`: an age, for `prune --older-than`."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise InputError(
            f"`{text}` is not an age",
            hint="a number and a unit: s, m, h, d or w, e.g. 7d for a week",
        )
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def describe_age(age: timedelta) -> str:
    """`3d 4h`, `5h 12m`, `42m`: the two largest units, enough to judge an age."""
    minutes = max(int(age.total_seconds()) // 60, 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m"
