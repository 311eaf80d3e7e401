"""The ETag round trip against the emulator: attach and detach through fargo's Aws facade,
a concurrent edit kept, and If-Match enforced as CloudFront enforces it."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from fargo.aws.facade import Aws, AwsConfig, CallCounter
from fargo.edge.distribution import ATTEMPTS, attach, detach, preview
from fargo.edge.splice import ApiOrigin, SpliceConflict, api_behavior, api_origin, splice
from fargo.errors import FargoError, InputError
from fargo.local.patches.cloudfront import STALE_IF_MATCH
from tests.emulator.helpers import create_distribution, distribution_config
from tests.fixtures.cloudfront import NAMES, differences, load

API = ApiOrigin(
    origin_id="fargo-shop-prod-api",
    domain_name="shop-prod-1234567890.us-east-1.elb.amazonaws.com",
    https=True,
    header_name="X-Fargo-Origin-Verify",
    header_value="emulator-secret",
)
UPDATE = ("cloudfront", "UpdateDistribution")


class Fargo:
    """fargo's side: an Aws facade that counts its calls and records its sleeps."""

    def __init__(self, endpoint: str, account: str) -> None:
        self.sleeps: list[float] = []
        self.counter = CallCounter()
        config = AwsConfig(
            region="us-east-1",
            endpoint_url=endpoint,
            static_credentials=(account, "test"),
            retry_mode="standard",
            max_attempts=3,
        )
        self.aws = Aws(config, sleep=self.sleeps.append, counter=self.counter)

    def before_update(self, hook: Callable[..., None]) -> None:
        """Run `hook` just before each UpdateDistribution fargo sends (after its GET)."""
        self.aws.client("cloudfront").meta.events.register(
            "before-call.cloudfront.UpdateDistribution", hook
        )


@pytest.fixture
def fargo(emulator_endpoint: str, account: str) -> Fargo:
    return Fargo(emulator_endpoint, account)


def _someone_edits(
    cloudfront: Any, distribution_id: str, edit: Callable[[dict[str, Any]], None]
) -> None:
    config, etag = distribution_config(cloudfront, distribution_id)
    edit(config)
    cloudfront.update_distribution(Id=distribution_id, IfMatch=etag, DistributionConfig=config)


def _add_alias_and_error_page(config: dict[str, Any]) -> None:
    config["Comment"] = "edited by the web team while fargo deployed"
    aliases = config["Aliases"]
    aliases["Items"] = [*aliases.get("Items", []), "shop.example.com"]
    aliases["Quantity"] = len(aliases["Items"])
    errors = config["CustomErrorResponses"]
    errors["Items"] = [
        *errors.get("Items", []),
        {
            "ErrorCode": 503,
            "ResponsePagePath": "/down.html",
            "ResponseCode": "503",
            "ErrorCachingMinTTL": 5,
        },
    ]
    errors["Quantity"] = len(errors["Items"])


@pytest.mark.parametrize("name", NAMES)
def test_emulator_round_trips_rich_configs_unchanged(cloudfront: Any, name: str) -> None:
    created = cloudfront.create_distribution(DistributionConfig=load(name))
    distribution_id = created["Distribution"]["Id"]
    config, etag = distribution_config(cloudfront, distribution_id)
    assert differences(load(name), config) == []
    assert etag == created["ETag"]
    got = cloudfront.get_distribution(Id=distribution_id)
    assert got["ETag"] == etag
    assert differences(load(name), got["Distribution"]["DistributionConfig"]) == []

    updated = cloudfront.update_distribution(
        Id=distribution_id, IfMatch=etag, DistributionConfig=config
    )
    again, new_etag = distribution_config(cloudfront, distribution_id)
    assert differences(load(name), again) == []
    assert new_etag == updated["ETag"] != etag


@pytest.mark.parametrize("name", NAMES)
def test_attach_adds_one_origin_and_one_behavior_and_detach_restores(
    fargo: Fargo, cloudfront: Any, name: str
) -> None:
    distribution_id = create_distribution(cloudfront, name)
    _, etag = distribution_config(cloudfront, distribution_id)

    attached = attach(fargo.aws, distribution_id, API)
    config, etag_now = distribution_config(cloudfront, distribution_id)
    assert attached.changed
    assert attached.etag_before == etag
    assert attached.etag_after == etag_now != etag
    assert differences(splice(load(name), API), config) == []
    changed = differences(load(name), config)
    assert all(path.startswith(("Origins.", "CacheBehaviors.")) for path in changed), changed
    assert config["Origins"]["Items"][-1] == api_origin(API)
    assert api_behavior(API) in config["CacheBehaviors"]["Items"]
    assert fargo.counter.calls[UPDATE] == 1
    assert "Origins.Quantity" in "\n".join(attached.diff)
    assert all("emulator-secret" not in line for line in attached.diff)

    again = attach(fargo.aws, distribution_id, API)
    assert not again.changed
    assert again.diff == []
    assert fargo.counter.calls[UPDATE] == 1, "a second attach must not write"
    assert distribution_config(cloudfront, distribution_id)[1] == etag_now == again.etag_after

    detached = detach(fargo.aws, distribution_id, API.origin_id, API.path_pattern)
    restored, _ = distribution_config(cloudfront, distribution_id)
    assert detached.changed
    assert differences(load(name), restored) == []
    assert fargo.counter.calls[UPDATE] == 2

    assert not detach(fargo.aws, distribution_id, API.origin_id, API.path_pattern).changed
    assert fargo.counter.calls[UPDATE] == 2


def test_rotated_secret_is_written_in_place(fargo: Fargo, cloudfront: Any) -> None:
    distribution_id = create_distribution(cloudfront, "rich")
    attach(fargo.aws, distribution_id, API)
    before, _ = distribution_config(cloudfront, distribution_id)
    rotated = ApiOrigin(**{**API.__dict__, "header_value": "rotated-secret"})
    result = attach(fargo.aws, distribution_id, rotated)
    after, _ = distribution_config(cloudfront, distribution_id)
    assert result.changed
    assert differences(before, after) == ["Origins.Items[4].CustomHeaders.Items[0].HeaderValue"]
    assert result.diff == [
        "Origins.Items[4].CustomHeaders.Items[0].HeaderValue: **** → **** (changed)"
    ]


def test_concurrent_edit_between_get_and_put_is_kept(fargo: Fargo, cloudfront: Any) -> None:
    distribution_id = create_distribution(cloudfront, "rich")
    edits: list[str] = []

    def someone_else(**_: Any) -> None:
        if not edits:  # once: the second PUT, after fargo read again, goes through
            _someone_edits(cloudfront, distribution_id, _add_alias_and_error_page)
            edits.append(distribution_config(cloudfront, distribution_id)[1])

    fargo.before_update(someone_else)
    result = attach(fargo.aws, distribution_id, API)

    config, etag = distribution_config(cloudfront, distribution_id)
    expected = load("rich")
    _add_alias_and_error_page(expected)
    assert differences(splice(expected, API), config) == []
    assert fargo.counter.calls[UPDATE] == 2  # the first was refused with 412
    assert fargo.sleeps == [0.5]
    assert result.changed
    assert result.etag_before == edits[0]
    assert result.etag_after == etag
    assert not any("Comment" in line or "Aliases" in line for line in result.diff)


def test_attach_gives_up_when_the_distribution_keeps_changing(
    fargo: Fargo, cloudfront: Any
) -> None:
    distribution_id = create_distribution(cloudfront, "bare")
    comments: list[str] = []

    def someone_else(**_: Any) -> None:
        comments.append(f"edit {len(comments)}")
        _someone_edits(cloudfront, distribution_id, lambda c: c.update(Comment=comments[-1]))

    fargo.before_update(someone_else)
    with pytest.raises(FargoError, match=f"each of {ATTEMPTS} attempts") as refused:
        attach(fargo.aws, distribution_id, API)
    assert refused.value.exit_code == 1
    assert fargo.counter.calls[UPDATE] == ATTEMPTS
    assert fargo.sleeps == [0.5, 1.0, 2.0, 4.0]
    config, _ = distribution_config(cloudfront, distribution_id)
    assert config["Comment"] == f"edit {ATTEMPTS - 1}"
    assert config["CacheBehaviors"] == {"Quantity": 0}, "no write of fargo's may land"


def test_preview_reads_only(fargo: Fargo, cloudfront: Any) -> None:
    distribution_id = create_distribution(cloudfront, "catch_alls")
    _, etag = distribution_config(cloudfront, distribution_id)
    planned = preview(fargo.aws, distribution_id, API)
    assert planned.changed
    assert planned.etag_before == planned.etag_after == etag
    assert fargo.counter.writes == []
    assert distribution_config(cloudfront, distribution_id)[1] == etag
    assert attach(fargo.aws, distribution_id, API).diff == planned.diff
    assert not preview(fargo.aws, distribution_id, API).changed


def test_path_taken_by_another_origin_is_refused_without_a_write(
    fargo: Fargo, cloudfront: Any
) -> None:
    distribution_id = create_distribution(cloudfront, "catch_alls")
    taken = ApiOrigin(**{**API.__dict__, "path_pattern": "/api/admin/*"})
    with pytest.raises(SpliceConflict) as refused:
        attach(fargo.aws, distribution_id, taken)
    assert refused.value.exit_code == 3
    assert fargo.counter.writes == []
    assert (
        differences(load("catch_alls"), distribution_config(cloudfront, distribution_id)[0]) == []
    )


def test_missing_distribution(fargo: Fargo) -> None:
    gone = detach(fargo.aws, "E0000NOSUCHDIST", API.origin_id, API.path_pattern)
    assert (gone.found, gone.changed, gone.etag_before) == (False, False, None)
    assert "no longer exists" in gone.diff[0]
    with pytest.raises(InputError, match="does not exist") as refused:
        attach(fargo.aws, "E0000NOSUCHDIST", API)
    assert refused.value.exit_code == 2
    with pytest.raises(InputError):
        preview(fargo.aws, "E0000NOSUCHDIST", API)


def _refusal(call: Callable[[], Any]) -> tuple[int, str, str]:
    with pytest.raises(ClientError) as refused:
        call()
    error = refused.value.response
    return (
        error["ResponseMetadata"]["HTTPStatusCode"],
        error["Error"]["Code"],
        error["Error"]["Message"],
    )


def test_update_without_or_with_a_stale_if_match_is_refused(cloudfront: Any) -> None:
    distribution_id = create_distribution(cloudfront, "rich")
    config, stale = distribution_config(cloudfront, distribution_id)
    edited = copy.deepcopy(config)
    edited["Comment"] = "changed"
    current = cloudfront.update_distribution(
        Id=distribution_id, IfMatch=stale, DistributionConfig=edited
    )["ETag"]

    attempt = copy.deepcopy(config)
    attempt["Comment"] = "lost update"
    missing = _refusal(
        lambda: cloudfront.update_distribution(Id=distribution_id, DistributionConfig=attempt)
    )
    assert missing == (
        400,
        "InvalidIfMatchVersion",
        "The If-Match version is missing or not valid for the resource.",
    )
    assert _refusal(
        lambda: cloudfront.update_distribution(
            Id=distribution_id, IfMatch=stale, DistributionConfig=attempt
        )
    ) == (412, "PreconditionFailed", STALE_IF_MATCH)
    assert STALE_IF_MATCH == (
        "The request failed because it didn't meet the preconditions in one or more "
        "request-header fields."
    )
    assert _refusal(lambda: cloudfront.delete_distribution(Id=distribution_id, IfMatch=stale)) == (
        412,
        "PreconditionFailed",
        STALE_IF_MATCH,
    )
    after, etag = distribution_config(cloudfront, distribution_id)
    assert etag == current
    assert after["Comment"] == "changed"
    assert differences(edited, after) == []
