"""Deleting fargo's SPA function right after the update that took it off the distribution.

CloudFront deploys an update to its edge locations over minutes (the distribution's Status
is `InProgress`, then `Deployed`), and until then the function is still in use: its
DeleteFunction answers FunctionInUse. The emulator deploys at once and cannot show that,
so CloudFront's answers come from botocore's Stubber, which checks every request against
CloudFront's own API model and fails on any call out of the expected order; the time is
fake. The plain flow runs against the emulator (tests/emulator/test_spa_errors.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.stub import Stubber

from fargo.aws.facade import Aws
from fargo.edge.spa_function import delete_function
from fargo.errors import EXIT_FAILED, AwsError
from tests.fixtures.cloudfront import load
from tests.unit.stubbed_aws import FakeTime, stubbed

NAME = "fargo-shop-prod-spa"
DISTRIBUTION = "E2ABCDEF123456"
ETAG = "E3UN6WX5RRO2AG"


@pytest.fixture
def cloudfront(aws: Aws) -> Iterator[Stubber]:
    with stubbed(aws, "cloudfront") as stubber:
        yield stubber


def expect_function(cloudfront: Stubber) -> None:
    summary = {
        "Name": NAME,
        "Status": "UNASSOCIATED",
        "FunctionConfig": {"Comment": "", "Runtime": "cloudfront-js-2.0"},
        "FunctionMetadata": {
            "FunctionARN": f"arn:aws:cloudfront::123456789012:function/{NAME}",
            "LastModifiedTime": datetime(2026, 1, 1, tzinfo=UTC),
        },
    }
    cloudfront.add_response(
        "describe_function",
        {"FunctionSummary": summary, "ETag": ETAG},
        {"Name": NAME, "Stage": "DEVELOPMENT"},
    )


def expect_status(cloudfront: Stubber, status: str) -> None:
    distribution: dict[str, Any] = {
        "Id": DISTRIBUTION,
        "ARN": f"arn:aws:cloudfront::123456789012:distribution/{DISTRIBUTION}",
        "Status": status,
        "LastModifiedTime": datetime(2026, 1, 1, tzinfo=UTC),
        "InProgressInvalidationBatches": 0,
        "DomainName": "d111111abcdef8.cloudfront.net",
        "DistributionConfig": load("spa"),
    }
    cloudfront.add_response(
        "get_distribution",
        {"Distribution": distribution, "ETag": "E1"},
        {"Id": DISTRIBUTION},
    )


def test_the_function_is_deleted_once_the_distribution_is_deployed(
    aws: Aws, cloudfront: Stubber, time: FakeTime
) -> None:
    expect_function(cloudfront)
    for status in ("InProgress", "InProgress", "InProgress", "Deployed"):
        expect_status(cloudfront, status)
    cloudfront.add_response("delete_function", {}, {"Name": NAME, "IfMatch": ETAG})

    assert delete_function(aws, NAME, detached_from=DISTRIBUTION, poll_seconds=5)
    # One poll per InProgress answer, backing off; none once it is Deployed.
    assert time.sleeps == [5, 10, 15]


def test_a_distribution_that_never_finishes_deploying_fails_without_a_delete(
    aws: Aws, cloudfront: Stubber, time: FakeTime
) -> None:
    expect_function(cloudfront)
    for _ in range(4):
        expect_status(cloudfront, "InProgress")

    with pytest.raises(AwsError) as caught:
        delete_function(aws, NAME, detached_from=DISTRIBUTION, poll_seconds=5, timeout_seconds=30)
    # No DeleteFunction was sent: the Stubber would have refused it as unexpected.
    assert f"{DISTRIBUTION} is still InProgress after 30s" in caught.value.message
    assert caught.value.hint
    assert caught.value.exit_code == EXIT_FAILED
    assert time.sleeps == [5, 10, 15]  # the last sleep is cut to the time left
    assert time.now == 30


def test_without_a_distribution_to_wait_for_it_deletes_at_once(
    aws: Aws, cloudfront: Stubber, time: FakeTime
) -> None:
    """The distribution is gone: nothing uses the function any more."""
    expect_function(cloudfront)
    cloudfront.add_response("delete_function", {}, {"Name": NAME, "IfMatch": ETAG})
    assert delete_function(aws, NAME)
    assert time.sleeps == []


def test_a_function_already_gone_needs_no_wait(aws: Aws, cloudfront: Stubber) -> None:
    cloudfront.add_client_error("describe_function", "NoSuchFunctionExists", http_status_code=404)
    assert not delete_function(aws, NAME, detached_from=DISTRIBUTION)
