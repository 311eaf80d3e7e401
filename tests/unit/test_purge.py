"""`destroy --purge` on answers the emulator cannot produce: a final snapshot RDS is still
writing (InvalidDBSnapshotState) and one already deleted (DBSnapshotNotFound). RDS's answers
come from botocore's Stubber, which checks each request against RDS's own API model. The
whole purge runs against the emulator (tests/emulator/test_previews.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from botocore.stub import Stubber

from fargo.aws.facade import Aws, AwsConfig
from fargo.errors import AwsError
from fargo.execute.purge import Leftover, Purger
from fargo.progress import SilentReporter

SNAPSHOT = "shop-pr-7-data-database-1a2b3c-final-snapshot"


@pytest.fixture
def slept() -> list[float]:
    return []


@pytest.fixture
def aws(slept: list[float]) -> Aws:
    return Aws(
        AwsConfig(region="us-east-1", static_credentials=("AKIDEXAMPLE", "secret")),
        sleep=slept.append,
    )


@pytest.fixture
def rds(aws: Aws) -> Iterator[Stubber]:
    with Stubber(aws.client("rds")) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def test_a_snapshot_still_being_written_is_deleted_once_it_is_done(
    aws: Aws, rds: Stubber, slept: list[float]
) -> None:
    request = {"DBSnapshotIdentifier": SNAPSHOT}
    for _ in range(2):
        rds.add_client_error(
            "delete_db_snapshot",
            "InvalidDBSnapshotState",
            "Cannot delete the snapshot because it is not in available state",
            expected_params=request,
        )
    rds.add_response(
        "delete_db_snapshot", {"DBSnapshot": {"DBSnapshotIdentifier": SNAPSHOT}}, request
    )
    purged = Purger(aws, SilentReporter()).purge([Leftover("db-snapshot", SNAPSHOT)])
    assert purged == (f"db snapshot {SNAPSHOT}",)
    assert len(slept) == 2


def test_a_snapshot_already_gone_is_passed_over(aws: Aws, rds: Stubber) -> None:
    rds.add_client_error(
        "delete_db_snapshot", "DBSnapshotNotFound", f"DBSnapshot {SNAPSHOT} not found."
    )
    assert Purger(aws, SilentReporter()).purge([Leftover("db-snapshot", SNAPSHOT)]) == ()


def test_a_snapshot_that_never_finishes_is_an_error_with_a_hint(
    aws: Aws, rds: Stubber, slept: list[float]
) -> None:
    for _ in range(60):
        rds.add_client_error("delete_db_snapshot", "InvalidDBSnapshotState", "not available")
    with pytest.raises(AwsError) as caught:
        Purger(aws, SilentReporter()).purge([Leftover("db-snapshot", SNAPSHOT)])
    assert SNAPSHOT in caught.value.message
    assert "destroy --purge again" in (caught.value.hint or "")
    assert sum(slept) >= 9 * 60  # it waited minutes, not seconds, before giving up
