"""`migrate:` on the container emulator: the migration really runs in its container, from
the release's image, and exits with its own code. One app for the module, deployed three
times: a migration that exits 0 (it runs, then the services roll), a no-op deploy (nothing
written, nothing run), and a release whose migration exits 1 (deploy exits 1, and the
services stack and the running task definition stay as they were)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fargo.aws.facade import CallCounter
from fargo.local.server import Emulator
from tests.emulator.helpers import LOCK_WRITES, deployer, run_fargo

APP = "migrating"
SERVICES_STACK = f"{APP}-default-services"
# Where deploy records the task definition whose migration last succeeded.
RECORD = f"/fargo/{APP}/default/migrated"
# The offline base has python3 and no coreutils.
SLEEP = "import time; time.sleep(100000)"
MIGRATION = "import os, sys; print('migrating to', os.environ['RELEASE']); sys.exit({code})"
MANIFEST = """\
app: migrating
services:
  api:
    image: {image}
    command: [python3, -c, "{sleep}"]
    env: {{ RELEASE: "{release}" }}
migrate:
  command: [python3, -c, "{migration}"]
  service: api
  timeout: 5m
"""


def _write(manifest: Path, image: str, release: str, code: int) -> None:
    migration = MIGRATION.format(code=code)
    manifest.write_text(
        MANIFEST.format(image=image, sleep=SLEEP, release=release, migration=migration)
    )


def _migration_tasks(ecs: Any, cluster: str) -> list[dict[str, Any]]:
    arns = ecs.list_tasks(cluster=cluster, startedBy="fargo-migrate", desiredStatus="STOPPED")
    if not arns["taskArns"]:
        return []
    return list(ecs.describe_tasks(cluster=cluster, tasks=arns["taskArns"])["tasks"])


def _forced_migration(
    manifest: Path, endpoint: tuple[str, ...], aws: Any, task_definition: str
) -> None:
    """`plan --migrate` shows what `deploy --migrate` runs: the migration, forced, of the
    deployed release; then `deploy --migrate` runs it again, alone: the services stay."""
    shown = run_fargo("plan", "--migrate", "--json", "-f", str(manifest), *endpoint)
    assert shown.returncode == 0, shown.stderr[-3000:]
    (step,) = [s for s in json.loads(shown.stdout)["steps"] if s["kind"] == "run-release-task"]
    assert (step["forced"], step["task_definition"]) == (True, task_definition)

    cfn = aws("cloudformation")
    (before,) = cfn.describe_stacks(StackName=SERVICES_STACK)["Stacks"]
    forced = run_fargo("deploy", "--migrate", "-f", str(manifest), *endpoint)
    said = forced.stdout + forced.stderr
    assert forced.returncode == 0, said[-3000:]
    assert "run-release-task: migration: python3 -c" in said
    assert "step run-release-task: done, exited 0" in said
    assert f"step apply-stack: {SERVICES_STACK}: no changes" in said
    (unchanged,) = cfn.describe_stacks(StackName=SERVICES_STACK)["Stacks"]
    assert unchanged.get("LastUpdatedTime") == before.get("LastUpdatedTime")


def test_the_migration_gates_the_services(
    tmp_path: Path, emulator: Emulator, python_image: str, aws: Any
) -> None:
    manifest = tmp_path / "fargo.yml"
    endpoint = ("--endpoint-url", emulator.endpoint_url)
    ecs, cfn = aws("ecs"), aws("cloudformation")

    # 1. A migration that exits 0 runs, then the services stack is created.
    _write(manifest, python_image, "v1", 0)
    first = run_fargo("deploy", "-f", str(manifest), *endpoint)
    assert first.returncode == 0, first.stderr[-3000:] + first.stdout[-3000:]
    assert "migrating to v1" in first.stderr + first.stdout  # its log line, streamed
    (cluster,) = ecs.list_clusters()["clusterArns"]
    (migration,) = _migration_tasks(ecs, cluster)
    assert [c["exitCode"] for c in migration["containers"]] == [0]
    assert migration["taskDefinitionArn"].split("/")[-1].startswith(f"{APP}-default-api-migrate:")
    events = cfn.describe_stack_events(StackName=SERVICES_STACK)["StackEvents"]
    services_began = min(e["Timestamp"] for e in events)
    assert migration["stoppedAt"] <= services_began
    assert "api: rollout COMPLETED" in first.stdout

    # The step ran between the release stack and the services stack, as plan listed it.
    said = first.stdout + first.stderr
    assert said.index("step run-release-task: done, exited 0") < said.index(
        f"step apply-stack: {SERVICES_STACK}"
    )

    # 2. Nothing changed: the migration is not run again and nothing is written. The plan
    # says so before anything runs: it has no migration step.
    counter = CallCounter()
    planned, result = deployer(manifest, emulator.endpoint_url, counter=counter).deploy()
    assert "run-release-task" not in [s.kind for s in planned.steps]
    assert not result.changed
    assert result.migration is None
    assert counter.writes == LOCK_WRITES
    assert len(_migration_tasks(ecs, cluster)) == 1

    _forced_migration(manifest, endpoint, aws, migration["taskDefinitionArn"])
    assert len(_migration_tasks(ecs, cluster)) == 2

    # 3. A new release whose migration exits 1: deploy exits 1, the services are untouched.
    (before,) = cfn.describe_stacks(StackName=SERVICES_STACK)["Stacks"]
    (running,) = ecs.describe_services(cluster=cluster, services=["api"])["services"]
    _write(manifest, python_image, "v2", 1)
    failed = run_fargo("deploy", "-f", str(manifest), *endpoint)
    assert failed.returncode == 1, failed.stdout
    said = failed.stderr + failed.stdout
    assert "exited with code 1" in said
    assert "migrating to v2" in said  # the last log lines come with the failure
    (after,) = cfn.describe_stacks(StackName=SERVICES_STACK)["Stacks"]
    assert after.get("LastUpdatedTime") == before.get("LastUpdatedTime")
    (still,) = ecs.describe_services(cluster=cluster, services=["api"])["services"]
    assert still["taskDefinition"] == running["taskDefinition"]
    assert len(_migration_tasks(ecs, cluster)) == 3

    # 4. destroy forgets which release migrated: nothing of the app is left in the account.
    ssm = aws("ssm")
    assert ssm.get_parameter(Name=RECORD)["Parameter"]["Value"]
    gone = run_fargo("destroy", "-f", str(manifest), *endpoint, "--yes")
    assert gone.returncode == 0, gone.stderr[-3000:]
    with pytest.raises(ssm.exceptions.ParameterNotFound):
        ssm.get_parameter(Name=RECORD)
