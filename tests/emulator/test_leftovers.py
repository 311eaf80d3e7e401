"""What data-loss paths leave behind is named: a bucket a rename let go of (DeletionPolicy
Retain) by that deploy, by status and by destroy; a stack policy an interrupted
--allow-data-loss update left open by plan and status, and closed by deploy and destroy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.emulator.helpers import app_buckets, deployer, edit, run_fargo, stack_outputs

DATA = "fullstack-default-data"
# What the executor sets while a data-loss update runs: a process killed then leaves it.
ALLOW_ALL = {
    "Statement": [{"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"}]
}


def rename_bucket(manifest: Path) -> None:
    edit(manifest, "  uploads: {}", "  files: {}")
    edit(manifest, "jobs, uploads]", "jobs, files]")


def fargo_json(command: str, manifest: Path, endpoint: str, *extra: str) -> dict[str, Any]:
    done = run_fargo(command, "-f", str(manifest), "--endpoint-url", endpoint, "--json", *extra)
    assert done.returncode == 0, done.stderr
    body: dict[str, Any] = json.loads(done.stdout)
    return body


def test_a_bucket_a_rename_lets_go_of_is_named_until_purged(
    fullstack: Path, emulator_endpoint: str, aws: Any
) -> None:
    deployer(fullstack, emulator_endpoint).deploy()
    old = stack_outputs(aws, DATA)["BucketUploadsName"]
    rename_bucket(fullstack)

    deployed = fargo_json("deploy", fullstack, emulator_endpoint, "--allow-data-loss")
    (kept,) = deployed["leftovers"]
    assert (kept["kind"], kept["identifier"]) == ("bucket", old)
    assert (kept["stack"], kept["logical_id"]) == (DATA, "BucketUploads")
    assert f"aws s3 rb s3://{old}" in kept["delete"]
    assert "fargo destroy --purge" in kept["delete"]
    aws("s3").head_bucket(Bucket=old)  # Retain: AWS still holds it

    # Another run, as from another machine, reads it from the account.
    status = fargo_json("status", fullstack, emulator_endpoint)
    assert [(k["kind"], k["identifier"]) for k in status["leftovers"]] == [("bucket", old)]
    text = run_fargo("status", "-f", str(fullstack), "--endpoint-url", emulator_endpoint)
    assert f"kept (DeletionPolicy Retain): bucket {old} (was BucketUploads in {DATA})" in (
        text.stdout
    )

    destroyed = fargo_json("destroy", fullstack, emulator_endpoint, "--yes")
    named = {k["identifier"]: k for k in destroyed["leftovers"]}
    (current,) = [k["identifier"] for k in named.values() if k["logical_id"] == "BucketFiles"]
    assert old in named
    assert {k["kind"] for k in named.values()} == {"bucket", "queue"}
    # The stacks are gone; what they kept is still named, and still there.
    after = fargo_json("status", fullstack, emulator_endpoint)
    assert {k["identifier"] for k in after["leftovers"]} == set(named)
    assert set(app_buckets(aws)) == {old, current}

    purged = fargo_json(
        "destroy", fullstack, emulator_endpoint, "--yes", "--purge", "--allow-data-loss"
    )
    assert f"bucket {old}" in purged["purged"]
    assert f"bucket {current}" in purged["purged"]
    assert app_buckets(aws) == []
    assert aws("sqs").list_queues().get("QueueUrls", []) == []
    assert fargo_json("status", fullstack, emulator_endpoint)["leftovers"] == []


def test_a_leftover_deleted_by_hand_is_no_longer_named(
    fullstack: Path, emulator_endpoint: str, aws: Any
) -> None:
    deployer(fullstack, emulator_endpoint).deploy()
    old = stack_outputs(aws, DATA)["BucketUploadsName"]
    rename_bucket(fullstack)
    deployer(fullstack, emulator_endpoint, allow_data_loss=True).deploy()
    assert [
        k["identifier"] for k in fargo_json("status", fullstack, emulator_endpoint)["leftovers"]
    ] == [old]

    aws("s3").delete_bucket(Bucket=old)  # empty: nothing was ever written to it
    assert fargo_json("status", fullstack, emulator_endpoint)["leftovers"] == []


def denied(policy: dict[str, Any]) -> set[str]:
    """The logical ids a stack policy denies replacing and deleting."""
    return {
        resource.removeprefix("LogicalResourceId/")
        for statement in policy["Statement"]
        if statement["Effect"] == "Deny"
        and {"Update:Replace", "Update:Delete"} <= set(statement["Action"])
        for resource in statement["Resource"]
    }


def test_a_stack_policy_left_open_is_warned_about_then_closed(
    fullstack: Path, emulator_endpoint: str, aws: Any
) -> None:
    deployer(fullstack, emulator_endpoint).deploy()
    cfn = aws("cloudformation")
    protecting = json.loads(cfn.get_stack_policy(StackName=DATA)["StackPolicyBody"])
    assert {"Database", "BucketUploads", "QueueJobs"} <= denied(protecting)
    cfn.set_stack_policy(StackName=DATA, StackPolicyBody=json.dumps(ALLOW_ALL))

    plan = fargo_json("plan", fullstack, emulator_endpoint)
    (warning,) = [w for w in plan["warnings"] if w["code"] == "stack-policy-open"]
    assert DATA in warning["message"]
    status = fargo_json("status", fullstack, emulator_endpoint)
    assert any(DATA in w and "open" in w for w in status["warnings"])
    # plan and status only read
    assert json.loads(cfn.get_stack_policy(StackName=DATA)["StackPolicyBody"]) == ALLOW_ALL

    again = run_fargo("deploy", "-f", str(fullstack), "--endpoint-url", emulator_endpoint)
    assert again.returncode == 0, again.stderr
    assert f"{DATA}: the stack policy was left open" in again.stderr
    assert denied(json.loads(cfn.get_stack_policy(StackName=DATA)["StackPolicyBody"])) == denied(
        protecting
    )
    assert fargo_json("plan", fullstack, emulator_endpoint)["warnings"] == []
    assert fargo_json("status", fullstack, emulator_endpoint)["warnings"] == []

    cfn.set_stack_policy(StackName=DATA, StackPolicyBody=json.dumps(ALLOW_ALL))
    gone = run_fargo("destroy", "-f", str(fullstack), "--endpoint-url", emulator_endpoint, "--yes")
    assert gone.returncode == 0, gone.stderr
    assert f"{DATA}: the stack policy was left open" in gone.stderr
