"""The deploy lock's states, against the emulator's DynamoDB over HTTP: take, refuse while
held, take over a lease that ran out, renew, release, and repeat a write whose answer was
lost. Time is the lock's injected wall clock, so no test waits out a real lease."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from fargo.aws.cloudformation import CloudFormation
from fargo.aws.facade import Aws, AwsConfig
from fargo.bootstrap import Bootstrap, ensure_bootstrap, find_bootstrap
from fargo.execute.watch import StackWatcher
from fargo.lock import DeployLock, LockHeld, LockLost
from fargo.synth.bootstrap import STACK_NAME
from tests.conftest import Notes

KEY = "shop/staging"


class Clock:
    """A wall clock the test moves."""

    def __init__(self) -> None:
        self.now = 1_900_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fargo_aws(emulator_endpoint: str, account: str) -> Aws:
    return Aws(
        AwsConfig(
            region="us-east-1",
            endpoint_url=emulator_endpoint,
            static_credentials=(account, "test"),
            retry_mode="standard",
            max_attempts=3,
        )
    )


@pytest.fixture
def table(fargo_aws: Aws) -> str:
    watcher = StackWatcher(CloudFormation(fargo_aws), Notes(), poll_seconds=0.05)
    return ensure_bootstrap(fargo_aws, watcher).lock_table


def make_lock(
    aws: Aws, table: str, clock: Callable[[], float], *, command: str = "deploy", **kw: Any
) -> tuple[DeployLock, Notes]:
    notes = Notes()
    return DeployLock(aws, table, KEY, command, notes, now=clock, **kw), notes


def item(aws: Any, table: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = (
        aws("dynamodb")
        .get_item(TableName=table, Key={"pk": {"S": KEY}}, ConsistentRead=True)
        .get("Item")
    )
    return found


def test_bootstrap_is_created_once_and_found_read_only(fargo_aws: Aws, aws: Any) -> None:
    cfn = CloudFormation(fargo_aws)
    assert find_bootstrap(cfn) is None  # plan's lookup creates nothing
    assert aws("cloudformation").list_stacks()["StackSummaries"] == []

    watcher = StackWatcher(cfn, Notes(), poll_seconds=0.05)
    made = ensure_bootstrap(fargo_aws, watcher)
    (stack,) = aws("cloudformation").describe_stacks(StackName=STACK_NAME)["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert stack["EnableTerminationProtection"] is True
    table = aws("dynamodb").describe_table(TableName=made.lock_table)["Table"]
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    versioning = aws("s3").get_bucket_versioning(Bucket=made.artifact_bucket)
    assert versioning["Status"] == "Enabled"
    policy = json.loads(aws("s3").get_bucket_policy(Bucket=made.artifact_bucket)["Policy"])
    assert policy["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}

    before = fargo_aws.counter.total
    assert ensure_bootstrap(fargo_aws, watcher) == made
    assert find_bootstrap(cfn) == made
    assert fargo_aws.counter.writes == [("cloudformation", "CreateStack")]
    assert fargo_aws.counter.total == before + 2  # two DescribeStacks, no write


def test_a_failed_bootstrap_is_deleted_and_made_again(fargo_aws: Aws, aws: Any) -> None:
    """A first create that rolled back (say, permissions granted since) holds nothing."""
    cfn = aws("cloudformation")
    # SQS allows a delay of 0 to 900 seconds: the create fails and rolls back.
    broken = {
        "Resources": {"Nope": {"Type": "AWS::SQS::Queue", "Properties": {"DelaySeconds": 99999}}}
    }
    cfn.create_stack(StackName=STACK_NAME, TemplateBody=json.dumps(broken))
    deadline = time.monotonic() + 120
    while (
        status := cfn.describe_stacks(StackName=STACK_NAME)["Stacks"][0]["StackStatus"]
    ).endswith("IN_PROGRESS") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert status == "ROLLBACK_COMPLETE"

    made = ensure_bootstrap(
        fargo_aws, StackWatcher(CloudFormation(fargo_aws), Notes(), poll_seconds=0.05)
    )
    assert isinstance(made, Bootstrap)
    (stack,) = cfn.describe_stacks(StackName=STACK_NAME)["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE"


def test_a_free_lock_is_taken_recorded_and_released(fargo_aws: Aws, table: str, aws: Any) -> None:
    clock = Clock()
    lock, _ = make_lock(fargo_aws, table, clock)
    with lock:
        held = item(aws, table)
        assert held is not None
        assert held["command"] == {"S": "deploy"}
        assert "@" in held["who"]["S"]
        assert float(held["lease_expires"]["N"]) == clock.now + 90
        assert held["since"]["S"].endswith("Z")
    assert item(aws, table) is None


def test_a_held_lock_refuses_a_second_writer_naming_the_holder(
    fargo_aws: Aws, table: str, aws: Any
) -> None:
    clock = Clock()
    first, _ = make_lock(fargo_aws, table, clock)
    second, _ = make_lock(fargo_aws, table, clock, command="destroy")
    with first:
        holder = item(aws, table)
        assert holder is not None
        with pytest.raises(LockHeld) as refused:
            second.acquire()
        message = refused.value.render()
        assert f"{KEY} is locked by `deploy` by {holder['who']['S']}" in message
        assert f"pid {holder['pid']['N']}" in message
        assert f"since {holder['since']['S']}" in message
        assert "--wait" in message
        assert refused.value.exit_code == 1
        assert item(aws, table) == holder  # the refusal wrote nothing
    assert item(aws, table) is None


def test_a_waiting_writer_takes_the_lock_once_it_is_released(
    fargo_aws: Aws, table: str, aws: Any
) -> None:
    clock = Clock()
    first, _ = make_lock(fargo_aws, table, clock)
    first.acquire()
    slept: list[float] = []

    def sleep(seconds: float) -> None:  # the first writer finishes while the second waits
        slept.append(seconds)
        if len(slept) == 3:
            first.release()

    waiting = Aws(fargo_aws.config, sleep=sleep)
    second, notes = make_lock(waiting, table, clock, command="destroy", wait_seconds=600)
    with second:
        assert item(aws, table)["command"] == {"S": "destroy"}  # type: ignore[index]
    assert slept == [1.0, 2.0, 4.0]  # backing off
    assert any(line.startswith(f"{KEY} is locked by `deploy`") for line in notes.lines)


def test_a_lease_that_ran_out_is_taken_over_with_a_message(
    fargo_aws: Aws, table: str, aws: Any
) -> None:
    """A killed process never releases: once its lease ran out, the next writer takes over,
    and the killed one, should it wake, neither deletes the new lock nor reports success."""
    clock = Clock()
    killed, _ = make_lock(fargo_aws, table, clock)
    killed.acquire()
    stale = item(aws, table)
    assert stale is not None

    clock.now += 60  # within the lease: still held
    with pytest.raises(LockHeld):
        make_lock(fargo_aws, table, clock)[0].acquire()

    clock.now += 31  # 91 s: the lease of 90 s ran out
    next_writer, notes = make_lock(fargo_aws, table, clock, command="destroy")
    next_writer.acquire()
    (note,) = [line for line in notes.lines if line.startswith("took over")]
    assert f"from `deploy` by {stale['who']['S']}" in note
    assert "its lease ran out" in note
    taken = item(aws, table)
    assert taken is not None
    assert taken["command"] == {"S": "destroy"}

    with pytest.raises(LockLost, match="took it over"):
        killed.__exit__(None, None, None)  # it wakes and ends: the lock is not its own
    assert item(aws, table) == taken
    next_writer.release()
    assert item(aws, table) is None


def test_the_heartbeat_renews_the_lease_while_the_command_runs(
    fargo_aws: Aws, table: str, aws: Any
) -> None:
    clock = Clock()
    lock, _ = make_lock(fargo_aws, table, clock, renew_seconds=0.05)
    with lock:
        first = float(item(aws, table)["lease_expires"]["N"])  # type: ignore[index]
        clock.now += 500
        deadline = time.monotonic() + 5
        while float(item(aws, table)["lease_expires"]["N"]) == first:  # type: ignore[index]
            assert time.monotonic() < deadline, "the lease was never renewed"
            time.sleep(0.05)
        renewed = float(item(aws, table)["lease_expires"]["N"])  # type: ignore[index]
        assert renewed == clock.now + 90
        # Renewed, it is not taken over even past the first lease.
        with pytest.raises(LockHeld):
            make_lock(fargo_aws, table, clock)[0].acquire()


def lose_first_answer(aws: Aws, operation: str) -> list[str]:
    """The first `operation` reaches DynamoDB but its answer is lost: botocore sends it again,
    as it does after a dropped connection."""
    lost: list[str] = []

    def retry_once(request_dict: Any = None, **_: Any) -> float | None:
        del request_dict
        if not lost:
            lost.append(operation)
            return 0.0  # retry now
        return None

    aws.client("dynamodb").meta.events.register_first(
        f"needs-retry.dynamodb.{operation}", retry_once
    )
    return lost


def test_a_take_whose_answer_was_lost_still_holds_the_lock(
    fargo_aws: Aws, table: str, aws: Any
) -> None:
    clock = Clock()
    lost = lose_first_answer(fargo_aws, "PutItem")
    lock, notes = make_lock(fargo_aws, table, clock)
    with lock:
        assert lost == ["PutItem"]
        assert fargo_aws.counter.calls[("dynamodb", "PutItem")] == 1  # one call, sent twice
        assert item(aws, table) is not None
        assert not any(line.startswith("took over") for line in notes.lines)
    assert item(aws, table) is None


def test_a_release_whose_answer_was_lost_is_still_a_release(
    fargo_aws: Aws, table: str, aws: Any
) -> None:
    clock = Clock()
    lock, _ = make_lock(fargo_aws, table, clock)
    lock.acquire()
    lost = lose_first_answer(fargo_aws, "DeleteItem")
    lock.release()
    assert lost == ["DeleteItem"]
    assert lock.lost is None
    assert item(aws, table) is None
    again, _ = make_lock(fargo_aws, table, clock)
    again.acquire()  # free at once
    again.release()
