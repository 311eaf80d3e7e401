"""Commands that write to the same app and environment, run at the same time as separate
processes: their writes never interleave.

The first command's calls go through a proxy that holds them once it has taken the lock,
so the second reliably meets a command in the middle of its work."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.emulator.helpers import FARGO, edit, end_group, run_fargo

KEY = "fullstack/default"
STACKS = ["fullstack-default-network", "fullstack-default-data", "fullstack-default-services"]
# Raw CloudFormation errors as fargo would print an untranslated one.
RAW = ("cloudformation:", "AlreadyExistsException", "InvalidChangeSetStatus", "Traceback")


class GatedProxy:
    """Forwards requests to the emulator, and stops forwarding them once the lock has been
    taken through it (a DynamoDB PutItem passed), until `release`: the command that took the
    lock is held in the middle of its work, as a slow network would hold it."""

    def __init__(self, upstream: str) -> None:
        client = self._client = httpx.Client(base_url=upstream, timeout=60)
        gate = self._gate = threading.Event()
        gate.set()

        class Handler(BaseHTTPRequestHandler):
            def _forward(self) -> None:
                gate.wait()
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                answer = client.request(self.command, self.path, content=body, headers=headers)
                if self.headers.get("X-Amz-Target", "").endswith(".PutItem"):
                    gate.clear()
                self.send_response(answer.status_code)
                for name, value in answer.headers.items():
                    if name.lower() not in {"content-length", "transfer-encoding", "connection"}:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:
                del format, args

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def release(self) -> None:
        self._gate.set()

    def close(self) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()
        self._client.close()


@pytest.fixture
def gated(emulator_endpoint: str) -> Iterator[GatedProxy]:
    proxy = GatedProxy(emulator_endpoint)
    yield proxy
    proxy.close()


@pytest.fixture
def other(fullstack: Path, tmp_path: Path) -> Path:
    """The same app and environment, with a different service setting and queue."""
    (tmp_path / "other").mkdir()
    copy = tmp_path / "other" / "fargo.yml"
    shutil.copy(fullstack, copy)
    edit(copy, "LOG_LEVEL: info", "LOG_LEVEL: debug")
    edit(copy, "jobs: { visibility: 60", "jobs: { visibility: 90")
    return copy


# The commands a test started; each test ends with all of them ended (see `reaped`).
STARTED: list[subprocess.Popen[str]] = []


@pytest.fixture(autouse=True)
def reaped() -> Iterator[None]:
    """A test that fails while a command it started still runs does not leave that command
    running into the next test, where it would still write to the emulator and be reported
    as a leaked process there."""
    yield
    while STARTED:
        end_group(STARTED.pop())


def start(manifest: Path, endpoint: str, *args: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [*FARGO, *args, "-f", str(manifest), "--endpoint-url", endpoint],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=dict(os.environ),
        start_new_session=True,  # its own process group: `reaped` ends what it started too
    )
    STARTED.append(process)
    return process


def lock_table_made(aws: Any) -> str | None:
    """The lock table's name, once the bootstrap stack has created it."""
    (stack,) = aws("cloudformation").describe_stacks(StackName="fargo-bootstrap")["Stacks"]
    # While the stack is being created it has no outputs yet.
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    return outputs.get("LockTable")


def lock_table(aws: Any) -> str:
    table = lock_table_made(aws)
    assert table is not None, "the bootstrap stack has no lock table yet"
    return table


def holder(aws: Any) -> dict[str, Any] | None:
    try:
        table = lock_table_made(aws)
    except ClientError:
        return None  # no bootstrap stack yet
    if table is None:
        return None
    found: dict[str, Any] | None = (
        aws("dynamodb")
        .get_item(TableName=table, Key={"pk": {"S": KEY}}, ConsistentRead=True)
        .get("Item")
    )
    return found


def wait_for_lock(aws: Any, process: subprocess.Popen[str]) -> dict[str, Any]:
    """The lock item once `process` holds it."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = holder(aws)
        if found is not None and found["pid"]["N"] == str(process.pid):
            return found
        assert process.poll() is None, f"it ended first: {process.communicate()}"
        time.sleep(0.02)
    raise AssertionError("the first command never took the lock")


def until_waiting(process: subprocess.Popen[str]) -> str:
    """`process`'s progress lines up to the one that says it waits for the lock."""
    assert process.stderr is not None
    seen = ""
    for line in process.stderr:
        seen += line
        if "waiting up to" in line:
            return seen
    raise AssertionError(f"it never waited:\n{seen}")


def finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=300)
    return process.returncode, out, err


def unchanged(manifest: Path, endpoint: str) -> bool:
    """The deployed stacks hold exactly what `manifest` asks for."""
    done = run_fargo("plan", "-f", str(manifest), "--endpoint-url", endpoint, "--json")
    assert done.returncode == 0, done.stderr
    return bool(json.loads(done.stdout)["unchanged"])


def live_stacks(aws: Any) -> dict[str, str]:
    summaries = aws("cloudformation").list_stacks()["StackSummaries"]
    return {s["StackName"]: s["StackStatus"] for s in summaries if s["StackName"] in STACKS}


def test_a_second_deploy_exits_1_naming_the_holder_and_the_first_lands_whole(
    fullstack: Path, other: Path, emulator_endpoint: str, gated: GatedProxy, aws: Any
) -> None:
    first = start(fullstack, gated.url, "deploy")
    held = wait_for_lock(aws, first)

    code, _, err = finish(start(other, emulator_endpoint, "deploy"))
    assert code == 1, err
    assert f"{KEY} is locked by `deploy` by {held['who']['S']} (pid {first.pid})" in err
    assert f"since {held['since']['S']}" in err
    assert "hint:" in err
    assert "--wait" in err

    gated.release()
    code, _, err = finish(first)
    assert code == 0, err
    assert not any(raw in err for raw in RAW)
    assert unchanged(fullstack, emulator_endpoint)
    assert not unchanged(other, emulator_endpoint)
    assert holder(aws) is None  # released


def test_a_waiting_deploy_goes_second_and_its_manifest_lands_whole(
    fullstack: Path, other: Path, emulator_endpoint: str, gated: GatedProxy, aws: Any
) -> None:
    first = start(fullstack, gated.url, "deploy")
    wait_for_lock(aws, first)
    second = start(other, emulator_endpoint, "deploy", "--wait", "5m")
    waiting = until_waiting(second)
    assert "is locked by `deploy` by " in waiting
    assert f"(pid {first.pid})" in waiting
    assert "waiting up to 300 s" in waiting

    gated.release()
    first_code, _, first_err = finish(first)
    second_code, _, second_err = finish(second)
    assert first_code == 0, first_err
    assert second_code == 0, second_err
    for err in (first_err, second_err):
        assert not any(raw in err for raw in RAW)
    # The one that held the lock last wrote every stack; nothing of the first is left over.
    assert unchanged(other, emulator_endpoint)
    assert not unchanged(fullstack, emulator_endpoint)


def test_two_first_deploys_started_together_both_land_one_after_the_other(
    fullstack: Path, other: Path, emulator_endpoint: str, aws: Any
) -> None:
    """A fresh account: both create the bootstrap stack at once, then queue for the lock."""
    one = start(fullstack, emulator_endpoint, "deploy", "--wait", "5m")
    two = start(other, emulator_endpoint, "deploy", "--wait", "5m")
    done: list[tuple[Path, tuple[int, str, str]]] = []
    deadline = time.monotonic() + 600
    while len(done) < 2:  # in the order they end: the last one held the lock last
        assert time.monotonic() < deadline, "the two deploys did not both end in 10 minutes"
        for manifest, process in ((fullstack, one), (other, two)):
            if process.poll() is not None and manifest not in [m for m, _ in done]:
                done.append((manifest, finish(process)))
        time.sleep(0.02)
    for _, (code, _, err) in done:
        assert code == 0, err
        assert not any(raw in err for raw in RAW)
    (last, _), (first, _) = done[1], done[0]
    assert unchanged(last, emulator_endpoint)
    assert not unchanged(first, emulator_endpoint)
    assert len(aws("cloudformation").describe_stacks(StackName="fargo-bootstrap")["Stacks"]) == 1


def test_destroy_beside_a_deploy_waits_and_then_deletes_everything(
    fullstack: Path, emulator_endpoint: str, gated: GatedProxy, aws: Any
) -> None:
    deploying = start(fullstack, gated.url, "deploy")
    wait_for_lock(aws, deploying)
    destroying = start(fullstack, emulator_endpoint, "destroy", "--yes", "--wait", "5m")
    assert "waiting up to 300 s" in until_waiting(destroying)

    gated.release()
    code, _, err = finish(deploying)
    assert code == 0, err
    code, _, err = finish(destroying)
    assert code == 0, err
    assert live_stacks(aws) == dict.fromkeys(STACKS, "DELETE_COMPLETE")


def test_destroy_beside_a_deploy_without_wait_exits_1_and_deletes_nothing(
    fullstack: Path, emulator_endpoint: str, gated: GatedProxy, aws: Any
) -> None:
    deploying = start(fullstack, gated.url, "deploy")
    wait_for_lock(aws, deploying)
    code, out, err = finish(start(fullstack, emulator_endpoint, "destroy", "--yes", "--json"))
    assert code == 1, err
    refusal = json.loads(out)
    assert refusal["error"] == "LockHeld"
    assert refusal["holder"]["pid"] == deploying.pid
    assert refusal["holder"]["command"] == "deploy"

    gated.release()
    code, _, err = finish(deploying)
    assert code == 0, err
    assert live_stacks(aws) == dict.fromkeys(STACKS, "CREATE_COMPLETE")
    assert unchanged(fullstack, emulator_endpoint)


def test_a_lock_whose_lease_ran_out_is_taken_over_with_a_message(
    fullstack: Path, emulator_endpoint: str, aws: Any
) -> None:
    """A deploy killed with -9 left its lock; its lease ran out a minute ago."""
    first = run_fargo("deploy", "-f", str(fullstack), "--endpoint-url", emulator_endpoint)
    assert first.returncode == 0, first.stderr
    edit(fullstack, "LOG_LEVEL: info", "LOG_LEVEL: warning")
    killed = {
        "pk": {"S": KEY},
        "token": {"S": "a-killed-deploy"},
        "who": {"S": "ci@runner-7"},
        "pid": {"N": "4242"},
        "command": {"S": "deploy"},
        "since": {"S": "2026-01-02T03:04:05Z"},
        "lease_expires": {"N": str(time.time() - 60)},
    }
    aws("dynamodb").put_item(TableName=lock_table(aws), Item=killed)

    done = run_fargo("deploy", "-f", str(fullstack), "--endpoint-url", emulator_endpoint)
    assert done.returncode == 0, done.stderr
    assert (
        f"took over the lock of {KEY} from `deploy` by ci@runner-7 (pid 4242), since "
        "2026-01-02T03:04:05Z: its lease ran out" in done.stderr
    )
    assert holder(aws) is None
    assert unchanged(fullstack, emulator_endpoint)


def test_a_live_lock_stops_deploy_before_any_write(
    fullstack: Path, emulator_endpoint: str, aws: Any
) -> None:
    first = run_fargo("deploy", "-f", str(fullstack), "--endpoint-url", emulator_endpoint)
    assert first.returncode == 0, first.stderr
    before = {
        s["StackName"]: s.get("LastUpdatedTime")
        for s in aws("cloudformation").describe_stacks()["Stacks"]
    }
    edit(fullstack, "LOG_LEVEL: info", "LOG_LEVEL: warning")
    live = {
        "pk": {"S": KEY},
        "token": {"S": "someone-else"},
        "who": {"S": "ana@laptop"},
        "pid": {"N": "77"},
        "command": {"S": "destroy"},
        "since": {"S": "2026-01-02T03:04:05Z"},
        "lease_expires": {"N": str(time.time() + 600)},
    }
    aws("dynamodb").put_item(TableName=lock_table(aws), Item=live)

    done = run_fargo(
        "deploy", "-f", str(fullstack), "--endpoint-url", emulator_endpoint, "--wait", "2s"
    )
    assert done.returncode == 1
    assert (
        f"{KEY} is locked by `destroy` by ana@laptop (pid 77), since 2026-01-02T03:04:05Z "
        "after waiting" in done.stderr
    )
    assert "; nothing was changed" in done.stderr
    after = {
        s["StackName"]: s.get("LastUpdatedTime")
        for s in aws("cloudformation").describe_stacks()["Stacks"]
    }
    assert after == before
    assert holder(aws) == live  # the lock is the other's, untouched
