"""Finding an app's previews among DescribeStacks' stacks, and ages for `prune`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fargo.errors import InputError
from fargo.preview_stacks import describe_age, group_previews, parse_age, previews_older_than

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)


def stack(name: str, created: datetime, **tags: str) -> dict[str, object]:
    """A DescribeStacks entry: StackName, CreationTime and Tags as Key/Value pairs."""
    return {
        "StackName": name,
        "CreationTime": created,
        "Tags": [{"Key": k.replace("_", ":"), "Value": v} for k, v in tags.items()],
    }


def tagged(name: str, env: str, created: datetime, app: str = "shop") -> dict[str, object]:
    return stack(name, created, fargo_app=app, fargo_env=env, fargo_preview="true")


STACKS = [
    tagged("shop-pr-7-services", "pr-7", NOW - timedelta(days=8)),
    tagged("shop-pr-7-network", "pr-7", NOW - timedelta(days=9)),
    tagged("shop-pr-8-network", "pr-8", NOW - timedelta(hours=3)),
    tagged("blog-pr-7-network", "pr-7", NOW - timedelta(days=30), app="blog"),
    stack("shop-staging-network", NOW - timedelta(days=60), fargo_app="shop", fargo_env="staging"),
    stack("unrelated", NOW - timedelta(days=90)),
]


def test_previews_are_this_apps_tagged_stacks_grouped_by_environment() -> None:
    previews = group_previews(STACKS, "shop")
    assert [(p.env, p.stacks) for p in previews] == [
        ("pr-7", ("shop-pr-7-network", "shop-pr-7-services")),
        ("pr-8", ("shop-pr-8-network",)),
    ]
    # A preview is as old as its first stack.
    assert previews[0].age(NOW) == timedelta(days=9)


def test_prune_takes_only_previews_older_than_asked() -> None:
    previews = group_previews(STACKS, "shop")
    assert [p.env for p in previews_older_than(previews, parse_age("7d"), NOW)] == ["pr-7"]
    assert [p.env for p in previews_older_than(previews, parse_age("2h"), NOW)] == ["pr-7", "pr-8"]
    assert previews_older_than(previews, parse_age("2w"), NOW) == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", timedelta(days=7)),
        ("12h", timedelta(hours=12)),
        ("30m", timedelta(minutes=30)),
        ("2w", timedelta(weeks=2)),
        ("0s", timedelta(0)),
    ],
)
def test_ages_take_a_number_and_a_unit(text: str, expected: timedelta) -> None:
    assert parse_age(text) == expected


@pytest.mark.parametrize("text", ["7", "d", "7 days", "-1d", "1.5h"])
def test_a_bad_age_is_bad_input_with_a_hint(text: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_age(text)
    assert caught.value.exit_code == 2
    assert "7d" in (caught.value.hint or "")


def test_ages_read_in_their_two_largest_units() -> None:
    assert describe_age(timedelta(days=3, hours=4, minutes=5)) == "3d 4h"
    assert describe_age(timedelta(hours=5, minutes=12)) == "5h 12m"
    assert describe_age(timedelta(seconds=59)) == "0m"
