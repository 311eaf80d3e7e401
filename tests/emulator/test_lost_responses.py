"""Deploys converge when AWS's answers to CloudFormation writes are lost.

A proxy in front of the emulator (tests/emulator/lost_answers.py) passes every write on and
loses its answer on a seeded share of them, as a network that drops responses does: the write
took effect, and fargo's SDK meets what it did when it sends it again. The retry budget is
fargo's own against an endpoint (standard mode, `max_attempts` 3, which botocore counts as
retries: a call goes out at most four times); the proxy counts each attempt. Each deploy
must converge on the first try, leave no fargo change set unexecuted, and a deploy right
after must find nothing to change.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.emulator.helpers import BOOTSTRAP, run_fargo
from tests.emulator.lost_answers import CLOUDFORMATION_WRITES, Figures, LostAnswers

MANIFEST = """\
app: lossy
services:
  api:
    image: public.ecr.aws/docker/library/nginx:1.27
    port: 8000
    http: { path: /*, healthcheck: /health }
    env: { GREETING: "${GREETING}" }
    uses: [jobs]
queues:
  jobs: {}
"""
STACKS = ("lossy-default-network", "lossy-default-data", "lossy-default-services")
RATE = 0.2
SEED = 20_240_610
DEPLOYS = 10


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    path = tmp_path / "fargo.yml"
    path.write_text(MANIFEST)
    return path


@pytest.fixture
def figures(capsys: pytest.CaptureFixture[str]) -> Iterator[Figures]:
    """What the proxy saw over the test, printed for the record even when output is captured."""
    seen = Figures()
    yield seen
    writes, lost = sum(seen.writes.values()), sum(seen.lost.values())
    share = f"{lost / writes:.0%}" if writes else "-"
    with capsys.disabled():
        print(  # noqa: T201 - the figures the suite is run for
            f"\nlost answers: {seen.calls} calls, {writes} CloudFormation writes, "
            f"{lost} answers lost ({share}), {seen.retries} retries by the SDK; "
            f"lost by call: {dict(sorted(seen.lost.items()))}"
        )


def _account() -> dict[str, str]:
    key = "".join(random.choices("0123456789", k=12))  # noqa: S311 - an id, not a secret
    return {"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": "test"}


def _cloudformation(endpoint: str, account: dict[str, str]) -> Any:
    return boto3.client(
        "cloudformation",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=account["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=account["AWS_SECRET_ACCESS_KEY"],
    )


def _deploy(manifest: Path, endpoint: str, env: dict[str, str]) -> str:
    done = run_fargo("deploy", "-f", str(manifest), "--endpoint-url", endpoint, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout


def _unexecuted_fargo_change_sets(cfn: Any) -> dict[str, list[str]]:
    left: dict[str, list[str]] = {}
    for stack in STACKS:
        for summary in cfn.list_change_sets(StackName=stack)["Summaries"]:
            executed = summary["ExecutionStatus"].startswith("EXECUTE_")
            if summary["ChangeSetName"].startswith("fargo-") and not executed:
                left.setdefault(stack, []).append(summary["ChangeSetName"])
    return left


def _converged(endpoint: str, account: dict[str, str], greeting: str) -> None:
    """Every stack complete, no fargo change set left unexecuted, the manifest's value live."""
    cfn = _cloudformation(endpoint, account)
    statuses = {s: cfn.describe_stacks(StackName=s)["Stacks"][0]["StackStatus"] for s in STACKS}
    assert set(statuses.values()) <= {"CREATE_COMPLETE", "UPDATE_COMPLETE"}, statuses
    assert _unexecuted_fargo_change_sets(cfn) == {}
    (services,) = cfn.describe_stacks(StackName=STACKS[2])["Stacks"]
    resources = cfn.list_stack_resources(StackName=STACKS[2])["StackResourceSummaries"]
    task = next(r for r in resources if r["ResourceType"] == "AWS::ECS::TaskDefinition")
    ecs = boto3.client(
        "ecs",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=account["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=account["AWS_SECRET_ACCESS_KEY"],
    )
    definition = ecs.describe_task_definition(taskDefinition=task["PhysicalResourceId"])
    (container,) = definition["taskDefinition"]["containerDefinitions"]
    env = {e["name"]: e["value"] for e in container.get("environment", [])}
    assert env.get("GREETING") == greeting, services["StackStatus"]


def test_ten_deploys_converge_with_a_fifth_of_the_answers_lost(
    manifest: Path, emulator_endpoint: str, figures: Figures
) -> None:
    for n in range(DEPLOYS):
        account = _account()
        # Odd runs update what a clean deploy made; even runs create from nothing.
        if n % 2:
            _deploy(manifest, emulator_endpoint, {**account, "GREETING": "before"})
        env = {**account, "GREETING": f"deploy-{n}"}
        with LostAnswers(emulator_endpoint, rate=RATE, seed=SEED + n) as proxy:
            _deploy(manifest, proxy.endpoint, env)
            again = _deploy(manifest, proxy.endpoint, env)
        figures.add(proxy.figures)
        assert "lossy/default: no changes" in again, f"deploy {n}: {again}"
        _converged(emulator_endpoint, account, f"deploy-{n}")
    assert sum(figures.lost.values()) > 0, "no answer was lost: the proxy did nothing"
    assert figures.retries > 0


def test_a_deploy_converges_when_every_write_loses_its_answer_on_every_attempt(
    manifest: Path, emulator_endpoint: str, figures: Figures
) -> None:
    """The SDK's attempts all lose their answer: the state read back settles each write,
    through a create, an update, a no-op and a destroy."""
    account = _account()
    env = {**account, "GREETING": "first"}
    with LostAnswers(emulator_endpoint, rate=1.0, seed=SEED) as proxy:
        _deploy(manifest, proxy.endpoint, env)
        env["GREETING"] = "second"
        _deploy(manifest, proxy.endpoint, env)
        again = _deploy(manifest, proxy.endpoint, env)
        _converged(emulator_endpoint, account, "second")
        gone = run_fargo(
            "destroy", "-f", str(manifest), "--endpoint-url", proxy.endpoint, "--yes", env=env
        )
    figures.add(proxy.figures)
    assert "lossy/default: no changes" in again
    assert gone.returncode == 0, gone.stdout + gone.stderr
    # CreateStack: the account's first write command makes the bootstrap stack.
    assert {
        "CreateStack",
        "CreateChangeSet",
        "ExecuteChangeSet",
        "SetStackPolicy",
        "DeleteStack",
    } <= set(figures.lost)
    assert set(figures.lost) <= CLOUDFORMATION_WRITES
    listed = _cloudformation(emulator_endpoint, account).list_stacks()["StackSummaries"]
    statuses = {s["StackName"]: s["StackStatus"] for s in listed}
    # The bootstrap stack outlives the app's destroy; the app's stacks are gone.
    assert statuses.pop(BOOTSTRAP) == "CREATE_COMPLETE"
    assert set(statuses) == set(STACKS)
    assert set(statuses.values()) == {"DELETE_COMPLETE"}, statuses


def test_the_next_run_removes_change_sets_a_run_left_behind(
    manifest: Path, emulator_endpoint: str
) -> None:
    """A run stopped between making a change set and executing or deleting it leaves it
    behind. The next run (here `plan`, which changes no stack) removes it, and leaves alone a
    change set fargo did not make."""
    account = _account()
    env = {**account, "GREETING": "kept"}
    _deploy(manifest, emulator_endpoint, env)
    cfn = _cloudformation(emulator_endpoint, account)
    template = cfn.get_template(StackName=STACKS[2])["TemplateBody"]
    body = template if isinstance(template, str) else json.dumps(template)
    parameters = [
        {"ParameterKey": p["ParameterKey"], "UsePreviousValue": True}
        for p in cfn.describe_stacks(StackName=STACKS[2])["Stacks"][0].get("Parameters", [])
    ]
    for name in ("fargo-1700000000000-0badc0de", "someone-elses"):
        cfn.create_change_set(
            StackName=STACKS[2],
            ChangeSetName=name,
            TemplateBody=body,
            Parameters=parameters,
            Capabilities=["CAPABILITY_IAM"],
        )
    planned = run_fargo("plan", "-f", str(manifest), "--endpoint-url", emulator_endpoint, env=env)
    assert planned.returncode == 0, planned.stderr
    assert "fargo-1700000000000-0badc0de" in planned.stdout + planned.stderr
    assert _unexecuted_fargo_change_sets(cfn) == {}
    names = {c["ChangeSetName"] for c in cfn.list_change_sets(StackName=STACKS[2])["Summaries"]}
    assert "someone-elses" in names
