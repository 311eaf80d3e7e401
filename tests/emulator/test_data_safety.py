"""The data-loss guard and destroy: data stores are never lost without an explicit flag."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.emulator.helpers import BOOTSTRAP, deployer, edit, last_updated, run_fargo

STACKS = ["fullstack-default-network", "fullstack-default-data", "fullstack-default-services"]
TO_SERVERLESS = (
    "  size: micro                  # db.t4g.micro",
    "  serverless: { min: 0, max: 2 }",
)


def test_switching_database_kind_is_refused_and_changes_nothing(
    fullstack: Path, emulator_endpoint: str, aws: Any
) -> None:
    deployer(fullstack, emulator_endpoint).deploy()
    before = last_updated(aws, STACKS)
    edit(fullstack, *TO_SERVERLESS)

    plan = run_fargo("plan", "-f", str(fullstack), "--endpoint-url", emulator_endpoint)
    assert plan.returncode == 3, plan.stderr
    assert "Database (AWS::RDS::DBInstance) would be deleted" in plan.stderr
    assert "--allow-data-loss" in plan.stderr
    assert "- Remove  Database (AWS::RDS::DBInstance)" in plan.stdout

    deploy = run_fargo(
        "deploy", "-f", str(fullstack), "--endpoint-url", emulator_endpoint, "--json"
    )
    assert deploy.returncode == 3
    refusal = json.loads(deploy.stdout)
    assert refusal["error"] == "UnsafeChange"
    assert refusal["exit_code"] == 3
    assert last_updated(aws, STACKS) == before
    cfn = aws("cloudformation")
    for name in STACKS:  # a refused plan leaves no pending change set behind either
        pending = [
            c
            for c in cfn.list_change_sets(StackName=name)["Summaries"]
            if c["ExecutionStatus"] == "AVAILABLE"
        ]
        assert pending == []

    allowed = run_fargo(
        "deploy",
        "-f",
        str(fullstack),
        "--endpoint-url",
        emulator_endpoint,
        "--allow-data-loss",
    )
    assert allowed.returncode == 0, allowed.stderr
    clusters = aws("rds").describe_db_clusters()["DBClusters"]
    assert [c["Engine"] for c in clusters] == ["aurora-postgresql"]
    snapshots = aws("rds").describe_db_snapshots()["DBSnapshots"]
    assert snapshots, "the replaced instance leaves a snapshot (DeletionPolicy: Snapshot)"


def test_destroy_asks_first_and_keeps_a_final_snapshot(
    fullstack: Path, emulator_endpoint: str, aws: Any
) -> None:
    deployer(fullstack, emulator_endpoint).deploy()
    (instance,) = aws("rds").describe_db_instances()["DBInstances"]

    unconfirmed = run_fargo("destroy", "-f", str(fullstack), "--endpoint-url", emulator_endpoint)
    assert unconfirmed.returncode == 3
    assert "--yes" in unconfirmed.stderr
    assert all(status.endswith("COMPLETE") for _, status in last_updated(aws, STACKS).values())

    done = run_fargo(
        "destroy", "-f", str(fullstack), "--endpoint-url", emulator_endpoint, "--yes", "--json"
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["deleted"] == list(reversed(STACKS))
    cfn = aws("cloudformation")
    live = [
        s["StackName"]
        for s in cfn.list_stacks()["StackSummaries"]
        if s["StackStatus"] != "DELETE_COMPLETE"
    ]
    assert live == [BOOTSTRAP]  # the account's own stack stays
    snapshots = aws("rds").describe_db_snapshots(
        DBInstanceIdentifier=instance["DBInstanceIdentifier"]
    )["DBSnapshots"]
    assert [s["DBSnapshotIdentifier"] for s in snapshots] == result["final_snapshots"]
    assert len(snapshots) == 1

    again = run_fargo("destroy", "-f", str(fullstack), "--endpoint-url", emulator_endpoint, "--yes")
    assert again.returncode == 0
    assert "not deployed" in again.stdout


WITH_DATABASE = """\
app: retire
services:
  api:
    image: nginx:1.27
    port: 8000
    http: { path: /api/*, healthcheck: /api/health }
    uses: [db]
database: { size: micro }
"""
WITHOUT_DATA = WITH_DATABASE.replace("    uses: [db]\n", "").replace(
    "database: { size: micro }\n", ""
)
RETIRE = ["retire-default-network", "retire-default-data", "retire-default-services"]


def test_removing_all_data_retires_the_data_stack_only_when_allowed(
    tmp_path: Path, emulator_endpoint: str, aws: Any
) -> None:
    manifest = tmp_path / "fargo.yml"
    manifest.write_text(WITH_DATABASE)
    deployer(manifest, emulator_endpoint).deploy()
    manifest.write_text(WITHOUT_DATA)

    refused = run_fargo("deploy", "-f", str(manifest), "--endpoint-url", emulator_endpoint)
    assert refused.returncode == 3
    assert "retire-default-data: Database (AWS::RDS::DBInstance) would be deleted" in (
        refused.stderr
    )
    assert last_updated(aws, RETIRE)[RETIRE[1]][1] == "CREATE_COMPLETE"

    plan = run_fargo("plan", "-f", str(manifest), "--endpoint-url", emulator_endpoint, "--json")
    assert plan.returncode == 3
    body = json.loads(plan.stdout)  # plan and refusal in one document
    assert body["error"]["error"] == "UnsafeChange"
    assert {"name": RETIRE[1], "action": "delete"}.items() <= body["stacks"][-1].items()

    allowed = run_fargo(
        "deploy", "-f", str(manifest), "--endpoint-url", emulator_endpoint, "--allow-data-loss"
    )
    assert allowed.returncode == 0, allowed.stderr
    cfn = aws("cloudformation")
    live = {
        s["StackName"]
        for s in cfn.list_stacks()["StackSummaries"]
        if s["StackStatus"] != "DELETE_COMPLETE"
    }
    assert live == {RETIRE[0], RETIRE[2], BOOTSTRAP}
    assert aws("rds").describe_db_snapshots()["DBSnapshots"]
