"""`deploy --local` and `status --local` print where each HTTP service answers on this
machine: the emulated load balancer under the emulator's address, which routes by the
listener's rules. On the records-only session emulator nothing runs behind it, so the
listener's rule matches and the load balancer answers that its target group has no
registered targets (AWS's 503); the container emulator's tests get the app's 200.

The commands run with `--local` against the session emulator (XDG_STATE_HOME names its state
dir), in the test's own account.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from fargo.local.containers import RECORDS_ONLY, RESTART, engine_available
from fargo.local.engine import INSTALL_HINT
from tests.emulator.helpers import run_fargo


def test_deploy_and_status_print_the_local_url(
    fullstack: Path, emulator_state_home: Path, emulator_endpoint: str, aws: Any
) -> None:
    env = {"XDG_STATE_HOME": str(emulator_state_home), "FARGO_LOCAL_CONTAINERS": "0"}
    deployed = run_fargo("deploy", "-f", str(fullstack), "--local", "--json", env=env)
    assert deployed.returncode == 0, deployed.stderr
    body = json.loads(deployed.stdout)
    (balancer,) = aws("elbv2").describe_load_balancers()["LoadBalancers"]
    expected = f"{emulator_endpoint}/_alb/{balancer['LoadBalancerName']}/api/"
    # Only the HTTP service has one: the worker has no route.
    assert body["local_urls"] == {
        "api": {"url": expected, "host": None, "curl": f"curl {expected}", "note": None}
    }
    assert not expected.startswith(body["endpoints"]["api"])  # AWS's URL stays as it was

    human = run_fargo("status", "-f", str(fullstack), "--local", env=env)
    assert human.returncode == 0, human.stderr
    assert f"  api: {expected}\n" in human.stdout
    assert f"note: {RECORDS_ONLY}" in human.stdout
    shown = json.loads(
        run_fargo("status", "-f", str(fullstack), "--local", "--json", env=env).stdout
    )
    assert shown["local_urls"]["api"]["url"] == expected
    assert RECORDS_ONLY in shown["notes"]

    # An unsigned request, as a browser's: the listener's /api/* rule forwards it to the
    # api's target group, where the records-only emulator registered no task.
    answered = httpx.get(expected + "health", timeout=10)
    assert answered.status_code == 503
    assert answered.json() == {"message": "No registered targets in target group"}
    # A path no rule routes gets the listener's default action, fargo's 404.
    unrouted = httpx.get(expected.removesuffix("api/") + "elsewhere", timeout=10)
    assert (unrouted.status_code, unrouted.text) == (404, "not found")


def test_local_start_without_an_engine_says_so_once(tmp_path: Path, fullstack: Path) -> None:
    """Without Docker or Podman, `local start` keeps records only and says, once, that the
    app is not running and what to install; later commands do not repeat it, `local status`
    and `status --local` say it when asked."""
    (tmp_path / "bin").mkdir()
    env = {
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "PATH": str(tmp_path / "bin"),  # neither podman nor runc
        "DOCKER_HOST": f"unix://{tmp_path / 'none.sock'}",  # no Docker daemon
    }
    started = run_fargo("local", "start", env=env)
    try:
        assert started.returncode == 0, started.stderr
        assert started.stderr.count("the app is not running") == 1
        assert "apt-get install podman runc" in started.stderr
        again = run_fargo("local", "start", "--json", env=env)
        assert again.returncode == 0, again.stderr
        assert again.stderr == ""
        assert json.loads(again.stdout)["containers"] is False
        shown = run_fargo("local", "status", "--json", env=env)
        assert json.loads(shown.stdout) == {
            "running": True,
            "endpoint_url": started.stdout.strip(),
            "containers": False,
            "engine": None,
            "docker_host": None,
        }
        said = run_fargo("local", "status", env=env)
        assert "containers: none; no container engine here" in said.stdout
        status = run_fargo("status", "-f", str(fullstack), "--local", env=env)
        assert status.returncode == 0, status.stderr
        assert "the app is not running" not in status.stderr
        assert status.stdout.count("no container engine here") == 1
    finally:
        run_fargo("local", "stop", env=env)


def test_the_host_headers_port_picks_the_https_listener(
    account: str, emulator_endpoint: str
) -> None:
    """With a domain, HTTP (80) only redirects and the rules are on HTTPS (443): the local
    URL's Host header names :443, which is how the emulated load balancer picks a listener
    for a request on the emulator's own port. Made in the test's account and in eu-west-1,
    neither of which an unsigned request names."""
    elbv2 = boto3.client(
        "elbv2",
        endpoint_url=emulator_endpoint,
        region_name="eu-west-1",
        aws_access_key_id=account,
        aws_secret_access_key="test",
    )
    (balancer,) = elbv2.create_load_balancer(Name="local-url-listeners", Subnets=["subnet-1"])[
        "LoadBalancers"
    ]
    arn = balancer["LoadBalancerArn"]
    elbv2.create_listener(
        LoadBalancerArn=arn,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[
            {
                "Type": "redirect",
                "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"},
            }
        ],
    )
    elbv2.create_listener(
        LoadBalancerArn=arn,
        Protocol="HTTPS",
        Port=443,
        Certificates=[{"CertificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/x"}],
        DefaultActions=[
            {
                "Type": "fixed-response",
                "FixedResponseConfig": {
                    "StatusCode": "200",
                    "ContentType": "text/plain",
                    "MessageBody": "the https listener",
                },
            }
        ],
    )
    url = f"{emulator_endpoint}/_alb/local-url-listeners/"
    https = httpx.get(url, headers={"Host": "api.example.com:443"}, timeout=10)
    assert (https.status_code, https.text) == (200, "the https listener")
    http = httpx.get(url, headers={"Host": "api.example.com"}, timeout=10)
    assert http.status_code == 301
    assert http.headers["location"].startswith("https://api.example.com")


def test_a_records_only_emulator_says_how_to_get_containers(
    fullstack: Path, emulator_state_home: Path, emulator_endpoint: str
) -> None:
    """Containers are chosen when the emulator starts. The session emulator keeps records
    only: with an engine on this machine, `--local` says to restart it to run the app, and
    when containers are required it refuses, saying the same."""
    if not engine_available():
        pytest.skip(f"no container engine here: {INSTALL_HINT}")
    del emulator_endpoint  # the session emulator runs: `--local` must not start another
    env = {"XDG_STATE_HOME": str(emulator_state_home), "FARGO_LOCAL_CONTAINERS": "auto"}
    shown = run_fargo("status", "-f", str(fullstack), "--local", env=env)
    assert shown.returncode == 0, shown.stderr
    assert shown.stderr.count(f"to run the app, restart it: {RESTART}") == 1
    required = run_fargo(
        "status", "-f", str(fullstack), "--local", env={**env, "FARGO_LOCAL_CONTAINERS": "1"}
    )
    assert required.returncode == 1
    assert "keeping records only" in required.stderr
    assert f"restart it to run containers: {RESTART}" in required.stderr
