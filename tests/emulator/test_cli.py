"""The CLI as a user meets it: status, --json, exit codes, the emulator commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.emulator.helpers import BOOTSTRAP, run_fargo


def test_status_json_reports_stacks_services_and_endpoints(
    fullstack: Path, emulator_endpoint: str, aws: Any
) -> None:
    not_yet = run_fargo(
        "status", "-f", str(fullstack), "--endpoint-url", emulator_endpoint, "--json"
    )
    assert not_yet.returncode == 0
    assert {s["status"] for s in json.loads(not_yet.stdout)["stacks"]} == {"NOT_DEPLOYED"}

    deployed = run_fargo(
        "deploy", "-f", str(fullstack), "--endpoint-url", emulator_endpoint, "--json"
    )
    assert deployed.returncode == 0, deployed.stderr
    body = json.loads(deployed.stdout)
    assert body["changed"] is True
    assert body["endpoints"]["api"].endswith("/api/")

    shown = run_fargo(
        "status", "-f", str(fullstack), "--endpoint-url", emulator_endpoint, "--json", "--resources"
    )
    report = json.loads(shown.stdout)
    assert [s["status"] for s in report["stacks"]] == ["CREATE_COMPLETE"] * 3
    by_name = {s["name"]: s for s in report["services"]}
    assert sorted(by_name) == ["api", "worker"]  # the nightly job is a schedule, not a service
    api = by_name["api"]
    # ECS's counts as ECS reports them; the emulator counts a task it runs no container for.
    assert (api["desired"], api["running"]) == (1, 1)
    assert report["containers_running"] is False
    assert report["notes"] == [
        "the emulator runs no containers: the services' tasks are not running"
    ]
    assert api["url"] == body["endpoints"]["api"]
    human = run_fargo("status", "-f", str(fullstack), "--endpoint-url", emulator_endpoint)
    assert human.returncode == 0, human.stderr
    assert "running" not in human.stdout.split("services:")[1].split("note:")[0]
    assert "  api: 1 desired (" in human.stdout
    assert human.stdout.count("the emulator runs no containers") == 1
    types = {r["type"] for s in report["stacks"] for r in s["resources"]}
    assert {"AWS::ECS::Service", "AWS::RDS::DBInstance", "AWS::EC2::VPC"} <= types
    secret = aws("secretsmanager").get_secret_value(
        SecretId=report["stacks"][1]["outputs"]["DatabaseSecretArn"]
    )["SecretString"]
    assert json.loads(secret)["password"] not in shown.stdout


def test_production_destroy_refuses_a_protected_database_until_allowed(
    fullstack: Path, emulator_endpoint: str, aws: Any
) -> None:
    done = run_fargo(
        "deploy", "-f", str(fullstack), "--env", "prod", "--endpoint-url", emulator_endpoint
    )
    assert done.returncode == 0, done.stderr
    cfn = aws("cloudformation")
    data = cfn.describe_stacks(StackName="fullstack-prod-data")["Stacks"][0]
    assert data["EnableTerminationProtection"] is True
    refused = run_fargo(
        "destroy",
        "-f",
        str(fullstack),
        "--env",
        "prod",
        "--yes",
        "--endpoint-url",
        emulator_endpoint,
    )
    assert refused.returncode == 3
    assert "deletion protection; nothing was deleted" in refused.stderr
    live = [
        s["StackName"]
        for s in cfn.list_stacks()["StackSummaries"]
        if s["StackStatus"] != "DELETE_COMPLETE" and s["StackName"] != BOOTSTRAP
    ]
    assert len(live) == 3
    allowed = run_fargo(
        "destroy",
        "-f",
        str(fullstack),
        "--env",
        "prod",
        "--yes",
        "--allow-data-loss",
        "--endpoint-url",
        emulator_endpoint,
    )
    assert allowed.returncode == 0, allowed.stderr
    assert aws("rds").describe_db_snapshots()["DBSnapshots"]


def test_production_environment_deploys_with_nat_per_az(
    fullstack: Path, emulator_endpoint: str, aws: Any
) -> None:
    done = run_fargo(
        "deploy", "-f", str(fullstack), "--env", "prod", "--endpoint-url", emulator_endpoint
    )
    assert done.returncode == 0, done.stderr
    gateways = aws("ec2").describe_nat_gateways()["NatGateways"]
    assert len([g for g in gateways if g["State"] != "deleted"]) == 2
    (instance,) = aws("rds").describe_db_instances()["DBInstances"]
    assert instance["MultiAZ"] is True
    (service,) = aws("ecs").describe_services(
        cluster="fullstack-prod-network-Cluster", services=["api"]
    )["services"]
    assert service["desiredCount"] == 2
    assert service["networkConfiguration"]["awsvpcConfiguration"]["assignPublicIp"] == "DISABLED"


def test_bad_manifest_exits_2_with_line_and_hint_and_no_traceback(tmp_path: Path) -> None:
    manifest = tmp_path / "fargo.yml"
    cases = {
        "app: shop\nservices:\n  api: [broken\n": "fargo.yml:3",
        "app: shop\nservices:\n  api:\n    image: x\n    memroy: 512\n": "fargo.yml:5",
        "app: shop\nservices:\n  api:\n    image: x\n    cpu: 256\n    memory: 8192\n": (
            "fargo.yml:3"
        ),
    }
    for text, where in cases.items():
        manifest.write_text(text)
        done = run_fargo("render", "-f", str(manifest))
        assert done.returncode == 2, text
        assert where in done.stderr, done.stderr
        assert "hint:" in done.stderr
        assert "Traceback" not in done.stderr
    missing = run_fargo("render", "-f", str(tmp_path / "nope.yml"))
    assert missing.returncode == 2
    assert "file not found" in missing.stderr


def test_every_manifest_problem_is_in_one_json_answer(tmp_path: Path) -> None:
    manifest = tmp_path / "fargo.yml"
    manifest.write_text(
        "app: shop\n"
        "services:\n"
        "  api: { image: x, cpu: 300 }\n"
        "app: again\n"
        "environments:\n"
        "  prod: { region: mars }\n"
    )
    done = run_fargo("render", "-f", str(manifest), "--json")
    assert done.returncode == 2
    body = json.loads(done.stdout)
    assert body["exit_code"] == 2
    assert [(p["line"], p["path"], p["message"]) for p in body["problems"]] == [
        (4, "app", "duplicate key"),
        (3, "services.api.cpu", "300 CPU units is not a Fargate task size"),
        (6, "region", "in environment `prod`: `mars` is not an AWS region"),
    ]


def test_local_start_status_stop(tmp_path: Path) -> None:
    env = {"XDG_STATE_HOME": str(tmp_path)}  # keep clear of the user's own emulator
    # Records only: this is about the emulator's life, not containers (test_local_urls.py).
    started = run_fargo("local", "start", "--no-containers", "--json", env=env)
    assert started.returncode == 0, started.stderr
    endpoint = json.loads(started.stdout)["endpoint_url"]
    assert endpoint.startswith("http://127.0.0.1:")
    try:
        again = run_fargo("local", "start", "--no-containers", "--json", env=env)
        assert json.loads(again.stdout)["endpoint_url"] == endpoint  # idempotent
        status = run_fargo("local", "status", "--json", env=env)
        assert json.loads(status.stdout) == {
            "running": True,
            "endpoint_url": endpoint,
            "containers": False,
            "engine": None,
            "docker_host": None,
        }
    finally:
        stopped = run_fargo("local", "stop", env=env)
    assert stopped.returncode == 0
    assert f"stopped {endpoint}" in stopped.stdout
    status = run_fargo("local", "status", "--json", env=env)
    assert json.loads(status.stdout)["running"] is False
