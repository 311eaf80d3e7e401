"""Upgrading fargo keeps a deployed app up.

examples/fullstack is deployed by fargo as it was at a baseline commit (tests/upgrade/BASELINE,
moved forward on purpose), then planned and deployed by this tree. The upgrade may replace or
remove no database, cache, queue, bucket, secret, ECS service or load balancer, unless
tests/upgrade/migrations.toml says why. The baseline runs from its own source, taken from git
history, in this venv: its dependencies are the same.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.emulator.helpers import run_fargo, stack_outputs

ROOT = Path(__file__).parents[2]
UPGRADE = ROOT / "tests" / "upgrade"

# What keeps the app up or holds its data. A replacement starts empty or under a new name
# (a new load balancer has a new DNS name; a new ECS service drains the old one's tasks).
PROTECTED = frozenset(
    {
        "AWS::RDS::DBInstance",
        "AWS::RDS::DBCluster",
        "AWS::ElastiCache::ServerlessCache",
        "AWS::ElastiCache::ReplicationGroup",
        "AWS::ElastiCache::CacheCluster",
        "AWS::SQS::Queue",
        "AWS::S3::Bucket",
        "AWS::SecretsManager::Secret",
        "AWS::ECS::Service",
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
    }
)
# The example builds its image; a ready reference spares the upgrade a build (as the
# `fullstack` fixture does).
BUILT = (
    '    image:\n      build: { context: ., args: { BASE: "${FULLSTACK_BASE:-python:3.12-slim}" } }'
)


@dataclass(frozen=True)
class Change:
    stack: str
    logical_id: str
    change: str  # Replace | Remove

    def render(self) -> str:
        return f"{self.stack}: {self.change} {self.logical_id}"


def baseline_commit() -> str:
    lines = (UPGRADE / "BASELINE").read_text().splitlines()
    (commit,) = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    return commit


def git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False
    )


def checkout_baseline(commit: str, into: Path) -> Path:
    """The baseline's src/ and examples/fullstack under `into`. Fails, never skips, when git
    history cannot provide them: a clone made with --depth lacks the commit."""
    if git("rev-parse", "--git-dir").returncode != 0:
        pytest.fail(f"the upgrade test needs fargo's git history; {ROOT} is not a git checkout")
    if git("cat-file", "-e", f"{commit}^{{commit}}").returncode != 0:
        shallow = git("rev-parse", "--is-shallow-repository").stdout.strip() == "true"
        why = (
            "this clone is shallow: run `git fetch --unshallow` (CI needs a full clone)"
            if shallow
            else "fetch it (`git fetch origin main`), or move tests/upgrade/BASELINE to a "
            "commit of main"
        )
        pytest.fail(f"baseline commit {commit} is not in this repository's history: {why}")
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", commit, "src", "examples/fullstack"],
        capture_output=True,
        check=True,
    )
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into


def ready_manifest(source: Path) -> Path:
    manifest = source / "examples" / "fullstack" / "fargo.yml"
    text = manifest.read_text()
    assert BUILT in text, "the baseline example's image section differs; update BUILT"
    manifest.write_text(text.replace(BUILT, "    image: fullstack-api:test"))
    return manifest


def allowed_changes() -> dict[Change, str]:
    notes = tomllib.loads((UPGRADE / "migrations.toml").read_text()).get("allowed", [])
    allowed = {}
    for note in notes:
        assert note.get("why", "").strip(), f"a migration note must say why: {note}"
        allowed[Change(note["stack"], note["logical_id"], note["change"])] = note["why"]
    return allowed


def protected_changes(plan: dict[str, Any]) -> dict[Change, str]:
    """Replacements (True or Conditional) and removals of protected resources in a plan's
    --json document, including the resources of stacks it deletes; each with its type."""
    found = {}
    for stack in plan["stacks"]:
        for change in stack["changes"]:
            if change["type"] not in PROTECTED:
                continue
            if change["action"] == "Remove":
                kind = "Remove"
            elif change.get("replacement") in ("True", "Conditional"):
                kind = "Replace"
            else:
                continue
            found[Change(stack["name"], change["logical_id"], kind)] = change["type"]
    return found


def ecs_services(aws: Any) -> dict[str, str]:
    """The app's ECS services, name → ARN (a replaced service has a new ARN)."""
    cluster = stack_outputs(aws, "fullstack-default-network")["ClusterName"]
    arns = aws("ecs").list_services(cluster=cluster)["serviceArns"]
    assert arns, "the example deploys ECS services"
    described = aws("ecs").describe_services(cluster=cluster, services=arns)["services"]
    return {s["serviceName"]: s["serviceArn"] for s in described}


def test_upgrading_from_the_baseline_replaces_nothing_that_keeps_the_app_up(
    tmp_path: Path, emulator_endpoint: str, aws: Any
) -> None:
    commit = baseline_commit()
    baseline = checkout_baseline(commit, tmp_path / "baseline")
    manifest = ready_manifest(baseline)
    at_baseline = {"PYTHONPATH": str(baseline / "src")}
    # The baseline must really run from its own source, not this tree's.
    probe = subprocess.run(
        [sys.executable, "-c", "import fargo; print(fargo.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **at_baseline},
    )
    assert Path(probe.stdout.strip()).is_relative_to(baseline), probe.stdout

    first = run_fargo(
        "deploy", "-f", str(manifest), "--endpoint-url", emulator_endpoint, env=at_baseline
    )
    assert first.returncode == 0, f"the baseline {commit} failed to deploy:\n{first.stderr}"
    before = ecs_services(aws)

    plan = run_fargo("plan", "-f", str(manifest), "--endpoint-url", emulator_endpoint, "--json")
    assert plan.returncode in (0, 3), plan.stderr  # 3: the data-loss guard refuses it
    changes = protected_changes(json.loads(plan.stdout))
    allowed = allowed_changes()
    unexplained = sorted(c.render() for c in changes if c not in allowed)
    assert not unexplained, (
        f"upgrading from {commit} would replace or remove what keeps the app up:\n  "
        + "\n  ".join(unexplained)
        + "\nmake the change keep them, or explain it in tests/upgrade/migrations.toml"
    )
    stale = sorted(c.render() for c in allowed if c not in changes)
    assert not stale, f"migration notes the upgrade no longer needs: {stale}"

    # What the notes allow may need the flag; nothing else can reach the guard (above).
    flag = ["--allow-data-loss"] if allowed else []
    upgraded = run_fargo("deploy", "-f", str(manifest), "--endpoint-url", emulator_endpoint, *flag)
    assert upgraded.returncode == 0, upgraded.stderr
    if "AWS::ECS::Service" not in changes.values():
        assert ecs_services(aws) == before  # the same ECS services, never replaced
    again = run_fargo("deploy", "-f", str(manifest), "--endpoint-url", emulator_endpoint)
    assert again.returncode == 0, again.stderr
    assert "no changes" in again.stdout
