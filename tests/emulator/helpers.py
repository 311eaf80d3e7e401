"""Run fargo the way a user does, and read back what it made."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import httpx

from fargo.aws.facade import CallCounter
from fargo.deployer import Deployer, Target, open_deployer
from tests.fixtures.cloudfront import load

FARGO = [sys.executable, "-m", "fargo"]
# What a deploy that changes nothing still writes: its lock, taken and let go (fargo.lock).
LOCK_WRITES = [("dynamodb", "DeleteItem"), ("dynamodb", "PutItem")]
# The account and region's own stack (the lock table), which outlives every app's destroy.
BOOTSTRAP = "fargo-bootstrap"


def run_fargo(
    *args: str,
    env: dict[str, str] | None = None,
    stdin: str | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """`stdin`: what the command reads (a secret's value); without it, no input at all.
    The command runs in its own process group, so a timeout ends what it started too (a
    builder left running would hold its storage and load the next tests)."""
    with subprocess.Popen(
        [*FARGO, *args],
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
        start_new_session=True,
    ) as process:
        try:
            out, err = process.communicate(stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            end_group(process)
            raise
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def end_group(process: subprocess.Popen[str]) -> None:
    """Kill the process group `process` leads (it was started with start_new_session), and
    reap it: what it started ends with it. One already reaped is left alone: its pid may
    name another process group by now."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):  # it ended just now
            os.killpg(process.pid, signal.SIGKILL)
    process.communicate(timeout=30)


def deployer(
    manifest: Path,
    endpoint: str,
    *,
    env: str | None = None,
    allow_data_loss: bool = False,
    counter: CallCounter | None = None,
) -> Deployer:
    return open_deployer(
        manifest, env, Target(endpoint), allow_data_loss=allow_data_loss, counter=counter
    )


def app_buckets(aws: Any) -> list[str]:
    """The account's buckets but the bootstrap stack's artifact bucket, which every deploy
    makes (CloudFormation names it after the stack: `fargo-bootstrap-artifactbucket-...`)."""
    names = [b["Name"] for b in aws("s3").list_buckets()["Buckets"]]
    return [n for n in names if not n.startswith(f"{BOOTSTRAP}-")]


def last_updated(aws: Any, names: list[str]) -> dict[str, Any]:
    cfn = aws("cloudformation")
    times = {}
    for name in names:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        times[name] = (stack.get("LastUpdatedTime"), stack["StackStatus"])
    return times


def stack_outputs(aws: Any, name: str) -> dict[str, str]:
    """A deployed stack's outputs, read back through DescribeStacks."""
    (stack,) = aws("cloudformation").describe_stacks(StackName=name)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def create_distribution(cloudfront: Any, name: str) -> str:
    """A distribution fargo does not own, made from a stored config (tests/fixtures/cloudfront)."""
    created = cloudfront.create_distribution(DistributionConfig=load(name))
    return str(created["Distribution"]["Id"])


def distribution_config(cloudfront: Any, distribution_id: str) -> tuple[dict[str, Any], str]:
    """The DistributionConfig and its ETag, as someone else reads them."""
    reply = cloudfront.get_distribution_config(Id=distribution_id)
    return reply["DistributionConfig"], reply["ETag"]


def write_manifest(directory: Path, text: str, distribution_id: str) -> Path:
    """fargo.yml in `directory`, its `DISTRIBUTION` placeholder the distribution's id."""
    path = directory / "fargo.yml"
    path.write_text(textwrap.dedent(text).replace("DISTRIBUTION", distribution_id))
    return path


def edit(manifest: Path, old: str, new: str) -> None:
    text = manifest.read_text()
    assert old in text, f"{old!r} not in {manifest}"
    manifest.write_text(text.replace(old, new, 1))


def through_load_balancer(
    endpoint: str,
    account: str,
    host: str,
    *,
    port: int = 80,
    load_balancer_arn: str | None = None,
    path: str = "/health",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """A request for `host` to the emulator's load balancer, on the listener at `port`.

    The emulator reads the listener's port from Host and the account from the credential in
    Authorization. It finds the load balancer by Host when that is its DNS name; for any
    other host (what the rules route on) name it with `load_balancer_arn`, which the
    request then carries in its path, `/_alb/<name>/`."""
    credential = f"{account}/20260101/us-east-1/elasticloadbalancing/aws4_request"
    prefix = f"/_alb/{load_balancer_arn.split('/')[-2]}" if load_balancer_arn else ""
    return httpx.get(
        f"{endpoint}{prefix}{path}",
        headers={
            "Host": f"{host}:{port}",
            "Authorization": f"AWS4-HMAC-SHA256 Credential={credential}, "
            "SignedHeaders=host, Signature=0",
            **(headers or {}),
        },
    )
