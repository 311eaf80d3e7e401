"""`cdn: { existing }` through deploy, plan and destroy: fargo's origin and /api/* behavior go
into a distribution it does not own, a redeploy leaves it alone, and destroy restores it."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from fargo.aws.facade import CallCounter
from tests.emulator.helpers import (
    LOCK_WRITES,
    deployer,
    distribution_config,
    edit,
    run_fargo,
    stack_outputs,
    write_manifest,
)
from tests.fixtures.cloudfront import differences

MANIFEST = """\
app: edge
services:
  api:
    image: public.ecr.aws/docker/library/nginx:1.27
    port: 8000
    http: { path: /api/*, healthcheck: /api/health }
cdn: { existing: DISTRIBUTION, path: /api/* }
"""

pytestmark = pytest.mark.parametrize("distribution", ["rich"], indirect=True)


@pytest.fixture
def manifest(tmp_path: Path, distribution: str) -> Path:
    return write_manifest(tmp_path, MANIFEST, distribution)


def test_deploy_splices_once_and_destroy_restores_the_original(
    manifest: Path, distribution: str, emulator_endpoint: str, cloudfront: Any, aws: Any
) -> None:
    original, etag = distribution_config(cloudfront, distribution)

    shown = run_fargo("plan", "-f", str(manifest), "--endpoint-url", emulator_endpoint)
    assert shown.returncode == 0, shown.stderr
    assert f"CloudFront {distribution}: add origin fargo-edge-default-api for /api/*" in (
        shown.stdout
    )
    assert distribution_config(cloudfront, distribution) == (original, etag)

    done = run_fargo("deploy", "-f", str(manifest), "--endpoint-url", emulator_endpoint)
    assert done.returncode == 0, done.stderr
    assert "not waiting for the API's health check" in done.stderr + done.stdout
    spliced, spliced_etag = distribution_config(cloudfront, distribution)
    assert spliced_etag != etag
    # Exactly one origin and one behavior more; with those two taken out by hand, every
    # other field is as it was.
    ours = "fargo-edge-default-api"
    stripped = copy.deepcopy(spliced)
    for key, match in (("Origins", "Id"), ("CacheBehaviors", "TargetOriginId")):
        items = stripped[key]["Items"]
        assert [i[match] for i in items].count(ours) == 1
        stripped[key]["Items"] = [i for i in items if i[match] != ours]
        stripped[key]["Quantity"] -= 1
    assert differences(original, stripped) == []
    (origin,) = [o for o in spliced["Origins"]["Items"] if o["Id"] == "fargo-edge-default-api"]
    network = stack_outputs(aws, "edge-default-network")
    assert origin["DomainName"] == network["LoadBalancerDnsName"]
    (header,) = origin["CustomHeaders"]["Items"]
    assert header["HeaderName"] == "X-Fargo-Origin-Verify"
    secret = aws("secretsmanager").get_secret_value(SecretId=network["OriginVerifySecretArn"])
    assert header["HeaderValue"] == secret["SecretString"]
    assert header["HeaderValue"] not in done.stdout + done.stderr
    behaviors = [b for b in spliced["CacheBehaviors"]["Items"] if b["PathPattern"] == "/api/*"]
    assert [b["TargetOriginId"] for b in behaviors] == ["fargo-edge-default-api"]

    # Recorded in the account, not on this machine.
    ledger = json.loads(
        aws("ssm").get_parameter(Name="/fargo/edge/default/edge")["Parameter"]["Value"]
    )
    assert ledger["splice"] == {
        "distribution": distribution,
        "origin_id": "fargo-edge-default-api",
        "path": "/api/*",
    }

    status = run_fargo("status", "-f", str(manifest), "--endpoint-url", emulator_endpoint, "--json")
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert report["edge"]["splice"] == ledger["splice"]
    # The services stack cannot know the distribution's name; status reads it from
    # CloudFront: the first of the rich fixture's aliases, and the path spliced in.
    assert {s["name"]: s["url"] for s in report["services"]} == {
        "api": "https://www.example.com/api/"
    }

    counter = CallCounter()
    _, result = deployer(manifest, emulator_endpoint, counter=counter).deploy()
    assert not result.changed
    assert ("cloudfront", "UpdateDistribution") not in counter.calls
    assert counter.writes == LOCK_WRITES
    assert distribution_config(cloudfront, distribution)[1] == spliced_etag

    gone = run_fargo("destroy", "-f", str(manifest), "--endpoint-url", emulator_endpoint, "--yes")
    assert gone.returncode == 0, gone.stderr
    assert f"CloudFront {distribution}: removed origin fargo-edge-default-api" in gone.stdout
    restored, _ = distribution_config(cloudfront, distribution)
    assert differences(original, restored) == []
    assert restored == original


def test_dropping_cdn_takes_the_splice_out_on_the_next_deploy(
    manifest: Path, distribution: str, emulator_endpoint: str, cloudfront: Any
) -> None:
    original, _ = distribution_config(cloudfront, distribution)
    deployer(manifest, emulator_endpoint).deploy()
    assert distribution_config(cloudfront, distribution)[0] != original

    edit(manifest, f"cdn: {{ existing: {distribution}, path: /api/* }}\n", "")
    _, result = deployer(manifest, emulator_endpoint).deploy()
    assert any("CloudFront" in line for line in result.edge)
    assert distribution_config(cloudfront, distribution)[0] == original


def test_a_path_routed_elsewhere_is_refused_before_any_stack_changes(
    manifest: Path, distribution: str, emulator_endpoint: str, cloudfront: Any, aws: Any
) -> None:
    """The rich fixture routes /legacy/* to another origin: asking for it is a conflict."""
    original = distribution_config(cloudfront, distribution)
    edit(manifest, "path: /api/* }", "path: /legacy/* }")
    done = run_fargo("deploy", "-f", str(manifest), "--endpoint-url", emulator_endpoint)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "/legacy/*" in done.stderr
    assert (
        aws("cloudformation").list_stacks(StackStatusFilter=["CREATE_COMPLETE"])["StackSummaries"]
        == []
    )
    assert distribution_config(cloudfront, distribution) == original
