"""The whole example on the emulator: every part of the app tier, seen through AWS's own
describe APIs, and the data-loss guard on a database switch and a bucket rename."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.emulator.helpers import (
    app_buckets,
    deployer,
    edit,
    last_updated,
    run_fargo,
    stack_outputs,
)

STACKS = ["fullstack-default-network", "fullstack-default-data", "fullstack-default-services"]


def test_the_whole_example_deploys_and_describes(
    fullstack: Path, emulator_endpoint: str, aws: Any
) -> None:
    done = run_fargo("deploy", "-f", str(fullstack), "--endpoint-url", emulator_endpoint)
    assert done.returncode == 0, done.stderr
    data = stack_outputs(aws, STACKS[1])
    network = stack_outputs(aws, STACKS[0])

    (cache,) = aws("elasticache").describe_serverless_caches()["ServerlessCaches"]
    assert cache["Engine"] == "valkey"
    assert cache["Endpoint"]["Address"] == data["CacheHost"]

    sqs = aws("sqs")
    attributes = sqs.get_queue_attributes(QueueUrl=data["QueueJobsUrl"], AttributeNames=["All"])[
        "Attributes"
    ]
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == data["QueueJobsDeadLetterArn"]
    assert int(redrive["maxReceiveCount"]) == 5

    identity = aws("sesv2").get_email_identity(EmailIdentity="example.com")
    assert identity["DkimAttributes"]["SigningEnabled"] is True

    s3 = aws("s3")
    block = s3.get_public_access_block(Bucket=data["BucketUploadsName"])
    assert all(block["PublicAccessBlockConfiguration"].values())
    policy = json.loads(s3.get_bucket_policy(Bucket=data["BucketUploadsName"])["Policy"])
    assert policy["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}

    schedules = aws("scheduler").list_schedules()["Schedules"]
    (nightly,) = [
        aws("scheduler").get_schedule(Name=s["Name"], GroupName=s.get("GroupName", "default"))
        for s in schedules
    ]
    assert nightly["ScheduleExpression"] == "cron(0 3 * * ? *)"
    assert nightly["Target"]["Arn"] == network["ClusterArn"]

    alarms = {a["AlarmName"] for a in aws("cloudwatch").describe_alarms()["MetricAlarms"]}
    assert len(alarms) >= 8

    ecs = aws("ecs")
    (worker,) = ecs.describe_services(cluster=network["ClusterName"], services=["worker"])[
        "services"
    ]
    assert not worker.get("loadBalancers")
    targets = aws("application-autoscaling").describe_scalable_targets(ServiceNamespace="ecs")[
        "ScalableTargets"
    ]
    assert {t["ResourceId"].rsplit("/", 1)[-1] for t in targets} == {"api", "worker"}

    status = run_fargo(
        "status", "-f", str(fullstack), "--endpoint-url", emulator_endpoint, "--json"
    )
    records = json.loads(status.stdout)["dns_records"]
    assert [r["type"] for r in records] == ["CNAME"] * 3
    assert all(r["name"].endswith("._domainkey.example.com") for r in records)

    again = run_fargo("deploy", "-f", str(fullstack), "--endpoint-url", emulator_endpoint)
    assert again.returncode == 0, again.stderr
    assert "no changes" in again.stdout


def test_database_switch_and_bucket_rename_are_refused_until_allowed(
    fullstack: Path, emulator_endpoint: str, aws: Any
) -> None:
    deployer(fullstack, emulator_endpoint).deploy()
    before = last_updated(aws, STACKS)
    for old, new in (
        ("  size: micro                  # db.t4g.micro", "  serverless: { min: 0, max: 2 }"),
        ("  uploads: {}", "  files: {}"),
    ):
        manifest = fullstack.with_name(f"variant-{len(new)}.yml")
        manifest.write_text(fullstack.read_text())
        edit(manifest, old, new)
        if "files" in new:
            edit(manifest, "jobs, uploads]", "jobs, files]")
        for command in ("plan", "deploy"):
            done = run_fargo(command, "-f", str(manifest), "--endpoint-url", emulator_endpoint)
            assert done.returncode == 3, (command, new, done.stdout, done.stderr)
            assert "refusing to destroy data" in done.stderr
        assert last_updated(aws, STACKS) == before

    allowed = run_fargo(
        "deploy", "-f", str(manifest), "--endpoint-url", emulator_endpoint, "--allow-data-loss"
    )
    assert allowed.returncode == 0, allowed.stderr
    data = stack_outputs(aws, STACKS[1])
    assert "BucketFilesName" in data
    assert "BucketUploadsName" not in data
    buckets = set(app_buckets(aws))
    assert len(buckets) == 2  # the renamed-away bucket is retained, not deleted
    policy = aws("cloudformation").get_stack_policy(StackName=STACKS[1])["StackPolicyBody"]
    assert "LogicalResourceId/BucketFiles" in policy  # protection restored after the change


def test_destroy_keeps_buckets_and_snapshots(
    fullstack: Path, emulator_endpoint: str, aws: Any
) -> None:
    edit(fullstack, "cache: { engine: valkey }", "cache: { engine: valkey, node: cache.t4g.micro }")
    deployer(fullstack, emulator_endpoint).deploy()
    done = run_fargo(
        "destroy", "-f", str(fullstack), "--endpoint-url", emulator_endpoint, "--yes", "--json"
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert len(result["final_snapshots"]) == 2  # the database and the node cache
    assert any(kept.startswith("bucket ") for kept in result["retained"])
    buckets = app_buckets(aws)
    assert len(buckets) == 1
