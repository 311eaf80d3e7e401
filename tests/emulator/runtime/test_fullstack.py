"""examples/fullstack really runs on `--local`: one deploy, then the app is used as a user
would, through the local URL fargo prints, and each claim is checked where it lands.

The deploy is the example as written (its Dockerfile built with buildah on the offline Debian
python base), with one environment overlay, `e2e`, that runs the nightly job every minute.
Everything else talks to the containers the emulator runs: the note is read back from the
Postgres container, the worker's mail from the emulator's SES outbox, the cached read from
the Valkey/Redis container (the API says `X-Cache: hit`), the upload from S3, the lines from
CloudWatch Logs, the running counts from the container engine.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import boto3
import httpx
import psycopg
import pytest
import yaml

from fargo.aws.facade import EMULATOR_ACCESS_KEY
from fargo.local.server import Emulator
from tests.conftest import EXAMPLES, ROOT

T = TypeVar("T")

APP = "fullstack"
ENV = "e2e"
BASE = "localhost/fargo-python:3.11"
# A deploy that builds the image, starts Postgres, the cache and three services' tasks.
DEPLOY_TIMEOUT_S = 900
# How long the app has to do each asynchronous thing it is asked to (worker, schedule, ECS).
WAIT_S = 180.0


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = WAIT_S) -> T:
    """Poll `probe` until it returns something truthy; fail saying what did not happen."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            found = probe()
        except (httpx.HTTPError, psycopg.Error, OSError) as error:
            found, last_error = None, error
        if found:
            return found
        time.sleep(2.0)
    detail = f" (last error: {type(last_error).__name__}: {last_error})" if last_error else ""
    pytest.fail(f"within {timeout:.0f} s, {what} did not happen{detail}")


@dataclass(frozen=True)
class Deployed:
    manifest: Path
    env: dict[str, str]  # what a fargo command of this module runs with
    deploy_output: str
    endpoint_url: str
    docker_host: str

    def fargo(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "fargo", *args, "-f", str(self.manifest), "--env", ENV],
            capture_output=True,
            text=True,
            check=False,
            env=self.env,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    def client(self, service: str) -> Any:
        # The account `--local` deploys into: fargo's emulator credentials.
        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id=EMULATOR_ACCESS_KEY,
            aws_secret_access_key="fargo-local",
        )

    def outputs(self, kind: str) -> dict[str, str]:
        cfn = self.client("cloudformation")
        (stack,) = cfn.describe_stacks(StackName=f"{APP}-{ENV}-{kind}")["Stacks"]
        return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}

    @property
    def cluster(self) -> str:
        return self.outputs("network")["ClusterName"]

    def task_definition(self, service: str) -> dict[str, Any]:
        described = self.client("ecs").describe_task_definition(
            taskDefinition=f"{APP}-{ENV}-{service}"
        )
        return dict(described["taskDefinition"])

    def container(self, service: str) -> dict[str, Any]:
        return dict(self.task_definition(service)["containerDefinitions"][0])

    def status(self) -> dict[str, Any]:
        shown = self.fargo("status", "--local", "--json", timeout=120)
        assert shown.returncode == 0, shown.stderr[-3000:] + shown.stdout[-3000:]
        return dict(json.loads(shown.stdout))

    def service_counts(self) -> dict[str, tuple[int, int]]:
        """`fargo status --local --json`: each service's (running, desired)."""
        return {s["name"]: (s["running"], s["desired"]) for s in self.status()["services"]}


def e2e_manifest(directory: Path) -> Path:
    """The example's manifest with an `e2e` environment whose nightly job runs every minute.

    The build context points back at the example, so the copy builds the same Dockerfile.
    """
    manifest = yaml.safe_load((EXAMPLES / "fullstack" / "fargo.yml").read_text())
    manifest["services"]["api"]["image"]["build"]["context"] = str(EXAMPLES / "fullstack")
    manifest["environments"][ENV] = {"services": {"nightly": {"schedule": "rate(1 minute)"}}}
    path = directory / "fargo.yml"
    path.write_text(yaml.safe_dump(manifest, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def deployed(
    emulator: Emulator,
    emulator_state_home: Path,
    data_images: list[str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Deployed]:
    """One `fargo deploy --local --env e2e` of the example for the whole module, with the
    local postgres and redis images in the engine (`data_images`); destroyed, data and all,
    once the module is done, so its every-minute job, services and data containers do not
    load the runtime tests after it."""
    assert emulator.docker_host is not None
    assert data_images
    prepared = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "prepare-demo-base.py")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert prepared.returncode == 0, prepared.stderr[-3000:]
    env = {
        # fargo's own emulator credentials (`--local`), not a test account's.
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "FARGO_"))},
        # `--local` finds the session's container emulator in its state dir.
        "XDG_STATE_HOME": str(emulator_state_home),
        "FULLSTACK_BASE": BASE,
        # The base is in buildah's storage: auto-detection could pick podman.
        "FULLSTACK_BUILDER": "buildah",
    }
    result = Deployed(
        manifest=e2e_manifest(tmp_path_factory.mktemp("e2e")),
        env=env,
        deploy_output="",
        endpoint_url=emulator.endpoint_url,
        docker_host=emulator.docker_host,
    )
    done = result.fargo("deploy", "--local", timeout=DEPLOY_TIMEOUT_S)
    errors = [line for line in done.stderr.splitlines() if "error" in line.lower()]
    assert done.returncode == 0, "deploy --local failed:\n" + "\n".join(
        [*errors[:20], done.stderr[-2000:], done.stdout[-2000:]]
    )
    yield Deployed(**{**result.__dict__, "deploy_output": done.stdout + done.stderr})
    gone = result.fargo(
        "destroy", "--local", "--yes", "--purge", "--allow-data-loss", timeout=DEPLOY_TIMEOUT_S
    )
    assert gone.returncode == 0, gone.stderr[-3000:] + gone.stdout[-3000:]


LOCAL_URL = re.compile(r"http://127\.0\.0\.1:\d+/\S*")


def printed_url(deployed: Deployed) -> str | None:
    """The API's local URL as `deploy --local` printed it."""
    for url in LOCAL_URL.findall(deployed.deploy_output):
        if urlsplit(url).path.rstrip("/").endswith("/api"):
            return str(url)
    return None


@pytest.fixture(scope="module")
def api(deployed: Deployed) -> Iterator[httpx.Client]:
    """An HTTP client on the API's local URL (the load balancer, through the emulator).

    The printed URL when deploy printed one; otherwise the load balancer's path on the
    emulator, so the app's own checks still run (test_deploy_prints_a_local_url fails).
    """
    url = printed_url(deployed)
    if url is None:
        services_url = deployed.outputs("services").get("ApiUrl", "")
        host = urlsplit(services_url).hostname or ""
        balancers = deployed.client("elbv2").describe_load_balancers()["LoadBalancers"]
        names = [b["LoadBalancerName"] for b in balancers if b["DNSName"] == host]
        assert names, f"no load balancer answers to the API's URL {services_url!r}"
        url = f"{deployed.endpoint_url}/_alb/{names[0]}/api/"
    with httpx.Client(base_url=url.rstrip("/") + "/", timeout=30.0) as client:
        yield client


@pytest.fixture(scope="module")
def engine(deployed: Deployed) -> Iterator[httpx.Client]:
    """The container engine's Docker API (a Docker daemon or fargo's Podman service)."""
    assert deployed.docker_host.startswith("unix://"), deployed.docker_host
    transport = httpx.HTTPTransport(uds=deployed.docker_host.removeprefix("unix://"))
    with httpx.Client(transport=transport, base_url="http://engine/v1.41", timeout=60) as client:
        yield client


def running_containers(engine: httpx.Client, service: str) -> list[str]:
    """Ids of the running containers of `service`'s task definition family."""
    family = f"com.amazonaws.ecs.task-definition-family={APP}-{ENV}-{service}"
    filters = json.dumps({"label": [family], "status": ["running"]})
    listed = engine.get("/containers/json", params={"filters": filters})
    listed.raise_for_status()
    return [c["Id"] for c in listed.json()]


@pytest.fixture(scope="module")
def note(api: httpx.Client) -> dict[str, Any]:
    """A note posted through the local URL at the start of the module."""
    body = f"e2e note {uuid.uuid4().hex}"
    created = wait_for(
        "a POST /api/notes answered 201",
        lambda: (
            response
            if (response := api.post("notes", json={"body": body})).status_code == 201
            else None
        ),
        timeout=60,
    )
    saved = dict(created.json())
    assert saved["body"] == body
    assert saved["processed_at"] is None
    return saved


def database_conninfo(deployed: Deployed) -> str:
    """How the host reaches the Postgres container: the RDS endpoint, with the credentials
    the tasks get from Secrets Manager (the secret their task definition names)."""
    container = deployed.container("api")
    secrets = {s["name"]: s["valueFrom"] for s in container.get("secrets", [])}
    env = {e["name"]: e["value"] for e in container.get("environment", [])}
    assert "DB_PASSWORD" in secrets, f"the api task gets no DB_PASSWORD secret: {secrets}"
    manager = deployed.client("secretsmanager")

    def secret(value_from: str) -> str:
        # ECS's `arn:...:secret:NAME-xxxxxx:json-key::` form names a key of a JSON secret.
        arn, _, rest = value_from.partition(":secret:")
        name, *key = rest.split(":")
        stored = manager.get_secret_value(SecretId=f"{arn}:secret:{name}")["SecretString"]
        return str(json.loads(stored)[key[0]]) if key and key[0] else str(stored)

    (instance,) = deployed.client("rds").describe_db_instances()["DBInstances"]
    endpoint = instance["Endpoint"]
    return psycopg.conninfo.make_conninfo(
        host=endpoint["Address"],
        port=str(endpoint["Port"]),
        dbname=env.get("DB_NAME", "postgres"),
        user=secret(secrets["DB_USER"]) if "DB_USER" in secrets else env["DB_USER"],
        password=secret(secrets["DB_PASSWORD"]),
        connect_timeout=5,
    )


def test_deploy_prints_a_local_url(deployed: Deployed) -> None:
    url = printed_url(deployed)
    assert url is not None, (
        "deploy --local printed no URL on 127.0.0.1 for the API:\n" + deployed.deploy_output[-3000:]
    )
    answered = httpx.get(url.rstrip("/") + "/health", timeout=30)
    assert answered.status_code == 200, answered.text
    assert answered.json() == {"status": "ok"}


def test_the_note_is_stored_in_the_postgres_container(
    deployed: Deployed, note: dict[str, Any]
) -> None:
    with psycopg.connect(database_conninfo(deployed)) as conn:
        row = conn.execute("SELECT body FROM notes WHERE id = %s", (note["id"],)).fetchone()
    assert row == (note["body"],)


def test_the_worker_processes_the_note_and_mails(
    deployed: Deployed, api: httpx.Client, note: dict[str, Any]
) -> None:
    """The worker (count min 0) wakes for the job, marks the note processed, sends mail."""

    def processed() -> dict[str, Any] | None:
        # The list is read from Postgres (GET /notes/{id} may answer from the cache).
        listed = api.get("notes", params={"limit": 1000})
        found = [n for n in listed.json() if n["id"] == note["id"]] if listed.is_success else []
        return found[0] if found and found[0]["processed_at"] else None

    wait_for(f"the worker marked note {note['id']} processed (processed_at set)", processed)

    subject = f"Note {note['id']} processed"

    def mailed() -> list[dict[str, Any]]:
        outbox = httpx.get(
            f"{deployed.endpoint_url}/_ministack/ses/messages",
            params={"account": EMULATOR_ACCESS_KEY},
            timeout=10,
        ).json()["messages"]
        return [m for m in outbox.get(EMULATOR_ACCESS_KEY, []) if m["Subject"] == subject]

    (mail,) = wait_for(f"the SES outbox held the mail {subject!r}", mailed, timeout=30)
    assert mail["Source"] == "no-reply@example.com"
    assert mail["To"] == ["success@simulator.amazonses.com"]
    assert note["body"] in mail["BodyText"]


def test_a_repeated_read_is_served_from_the_cache(api: httpx.Client, note: dict[str, Any]) -> None:
    """The first read fills the cache; a later one is served from it. The app gives the
    cache 0.5 s and falls back to Postgres, so the very first connection (TLS to Valkey) on
    a loaded machine may miss: reads repeat until one hits."""
    first = api.get(f"notes/{note['id']}")
    assert first.status_code == 200, first.text

    def cached() -> httpx.Response | None:
        read = api.get(f"notes/{note['id']}")
        assert read.status_code == 200, read.text
        return read if read.headers.get("X-Cache") == "hit" else None

    second = wait_for("a read served from the cache (X-Cache: hit)", cached, timeout=30)
    assert second.json() == first.json()


def test_an_upload_round_trips_through_s3(deployed: Deployed, api: httpx.Client) -> None:
    content = f"uploaded {uuid.uuid4().hex}\n".encode()
    stored = api.post("uploads", content=content, headers={"Content-Type": "text/plain"})
    assert stored.status_code == 201, stored.text
    key = stored.json()["key"]
    assert stored.json()["size"] == len(content)

    read = api.get(f"uploads/{quote(key)}")
    assert read.status_code == 200, read.text
    assert read.content == content
    assert read.headers["content-type"].startswith("text/plain")

    # It is in the bucket the task was given, not only somewhere the API can read.
    env = {e["name"]: e["value"] for e in deployed.container("api").get("environment", [])}
    held = deployed.client("s3").get_object(Bucket=env["BUCKET_UPLOADS"], Key=key)
    assert held["Body"].read() == content


def test_the_scheduled_job_ran(deployed: Deployed) -> None:
    """`rate(1 minute)`: a task of the nightly task definition ran to completion, exit 0."""
    ecs = deployed.client("ecs")
    family = f"{APP}-{ENV}-nightly"

    def finished() -> list[dict[str, Any]]:
        arns = ecs.list_tasks(cluster=deployed.cluster, family=family, desiredStatus="STOPPED")
        if not arns["taskArns"]:
            return []
        tasks = ecs.describe_tasks(cluster=deployed.cluster, tasks=arns["taskArns"])["tasks"]
        return [t for t in tasks if t["lastStatus"] == "STOPPED"]

    stopped = wait_for(f"a scheduled task of {family} stopped", finished, timeout=WAIT_S)
    exits = [c.get("exitCode") for t in stopped for c in t["containers"]]
    assert 0 in exits, (
        f"no scheduled run exited 0: {exits}, {[t.get('stoppedReason') for t in stopped]}"
    )


# The line each service's process writes once it runs (uvicorn, app.worker, app.nightly).
LOG_LINES = {
    "api": "Application startup complete",
    "worker": "worker polling",
    "nightly": "nightly: deleted",
}


@pytest.mark.parametrize("service", sorted(LOG_LINES))
def test_the_log_group_holds_the_service_lines(
    deployed: Deployed, note: dict[str, Any], service: str
) -> None:
    del note  # posted first, so the worker has woken
    options = deployed.container(service)["logConfiguration"]["options"]
    logs = deployed.client("logs")

    def logged() -> list[dict[str, Any]]:
        found = logs.filter_log_events(
            logGroupName=options["awslogs-group"], filterPattern=f'"{LOG_LINES[service]}"'
        )
        return list(found["events"])

    events = wait_for(
        f"the log group {options['awslogs-group']} held {LOG_LINES[service]!r} from {service}",
        logged,
    )
    prefix = options["awslogs-stream-prefix"]
    assert all(e["logStreamName"].startswith(f"{prefix}/") for e in events), [
        e["logStreamName"] for e in events
    ]


def test_status_counts_match_the_containers(deployed: Deployed, engine: httpx.Client) -> None:
    counts = deployed.service_counts()
    running, desired = counts["api"]
    assert desired >= 1
    assert running == desired, counts
    assert len(running_containers(engine, "api")) == running


def test_a_stopped_container_is_replaced(deployed: Deployed, engine: httpx.Client) -> None:
    """A container stopped behind ECS's back: its task stops, the service's running count
    drops, and ECS starts a replacement until running matches desired again."""
    (before,) = running_containers(engine, "api")
    _, desired = deployed.service_counts()["api"]
    stopped = engine.post(f"/containers/{before}/stop", params={"t": 5})
    assert stopped.status_code in (204, 304), stopped.text

    seen: list[tuple[int, int]] = []

    def dropped() -> bool:
        seen.append(deployed.service_counts()["api"])
        return seen[-1][0] < desired

    wait_for(f"status showed the api's running count drop below {desired}", dropped, timeout=60)

    def replaced() -> list[str]:
        now = running_containers(engine, "api")
        counts = deployed.service_counts()["api"]
        seen.append(counts)
        return now if now and before not in now and counts[0] == desired else []

    after = wait_for(f"ECS replaced the stopped api container (counts seen: {seen})", replaced)
    assert before not in after


def test_a_one_off_task_reports_its_exit_code(deployed: Deployed) -> None:
    ecs = deployed.client("ecs")
    described = ecs.describe_services(cluster=deployed.cluster, services=["api"])["services"]
    network = described[0]["networkConfiguration"] if described else {}
    started = ecs.run_task(
        cluster=deployed.cluster,
        taskDefinition=f"{APP}-{ENV}-api",
        launchType="FARGATE",
        networkConfiguration=network,
        overrides={"containerOverrides": [{"name": "api", "command": ["sh", "-c", "exit 3"]}]},
    )
    assert not started.get("failures"), started["failures"]
    arn = started["tasks"][0]["taskArn"]

    def done() -> dict[str, Any] | None:
        (task,) = ecs.describe_tasks(cluster=deployed.cluster, tasks=[arn])["tasks"]
        return dict(task) if task["lastStatus"] == "STOPPED" else None

    task = wait_for("the one-off `exit 3` task stopped", done, timeout=120)
    assert task["containers"][0].get("exitCode") == 3, task["containers"]
    assert task["stopCode"] == "EssentialContainerExited"
