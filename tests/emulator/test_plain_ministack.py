"""Against a plain, unpatched ministack 1.5.33, --endpoint-url deploys every template that
uses only the types and properties ministack supports. Here: a queue worker with Postgres and
SQS (an HTTP service brings a metric-math alarm, which plain ministack rejects)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from fargo.local.processes import spawn, terminate
from fargo.local.server import free_port, healthy
from fargo.local.venv import ensure_venv
from tests.emulator.helpers import run_fargo


@pytest.fixture(scope="module")
def plain_ministack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    python = ensure_venv(progress=False)
    port = free_port()
    scratch = tmp_path_factory.mktemp("plain-ministack")
    env = {
        **os.environ,
        "BIND_HOST": "127.0.0.1",
        "GATEWAY_PORT": str(port),
        "TMPDIR": str(scratch),
        "LOG_LEVEL": "WARNING",
    }
    process = spawn([str(python), "-m", "ministack"], scratch / "log", env)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while not healthy(endpoint) and time.monotonic() < deadline:
        assert process.poll() is None, (scratch / "log").read_text()
        time.sleep(0.1)
    try:
        assert healthy(endpoint), f"ministack never answered:\n{(scratch / 'log').read_text()}"
        yield endpoint
    finally:
        terminate(process.pid)  # and reaped


SUPPORTED_ONLY = """\
app: plain
services:
  worker:
    image: busybox:1.36
    command: [sleep, infinity]
    queue: jobs
    count: 1
    uses: [db]
database: { size: micro }
queues:
  jobs: {}
"""


def test_supported_types_deploy_on_plain_ministack(
    plain_ministack: str, tmp_path: Path, account: str
) -> None:
    manifest = tmp_path / "fargo.yml"
    manifest.write_text(SUPPORTED_ONLY)
    done = run_fargo("deploy", "-f", str(manifest), "--endpoint-url", plain_ministack, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["changed"] is True
    ecs = boto3.client(
        "ecs",
        endpoint_url=plain_ministack,
        region_name="us-east-1",
        aws_access_key_id=account,
        aws_secret_access_key="test",
    )
    (service,) = ecs.describe_services(
        cluster="plain-default-network-Cluster", services=["worker"]
    )["services"]
    assert service["desiredCount"] == 1
    assert "loadBalancers" not in service or service["loadBalancers"] == []
    again = run_fargo("deploy", "-f", str(manifest), "--endpoint-url", plain_ministack)
    assert again.returncode == 0, again.stderr
    assert "no changes" in again.stdout
