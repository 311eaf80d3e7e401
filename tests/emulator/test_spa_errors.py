"""`cdn: { existing, spa_errors: function }` on the emulator: a single-page app's distribution
whose 403/404 answer /index.html with a 200 gets fargo's API splice and, instead of those
error pages, a published CloudFront Function on its default behavior only; the ledger
records what was replaced, a redeploy writes nothing, and destroy restores the whole
DistributionConfig exactly and deletes the function."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fargo.aws.facade import CallCounter
from tests.emulator.helpers import (
    LOCK_WRITES,
    deployer,
    distribution_config,
    run_fargo,
    write_manifest,
)
from tests.fixtures.cloudfront import differences

MANIFEST = """\
app: shop
services:
  api:
    image: nginx:1.27
    port: 8000
    http: { path: /api/*, healthcheck: /api/health }
cdn: { existing: DISTRIBUTION, spa_errors: function }
"""
FUNCTION = "fargo-shop-default-spa"

pytestmark = pytest.mark.parametrize("distribution", ["spa"], indirect=True)


@pytest.fixture
def manifest(tmp_path: Path, distribution: str) -> Path:
    return write_manifest(tmp_path, MANIFEST, distribution)


def test_deploy_replaces_the_error_pages_and_destroy_restores_them_exactly(
    manifest: Path, distribution: str, emulator_endpoint: str, cloudfront: Any, aws: Any
) -> None:
    original, etag = distribution_config(cloudfront, distribution)

    shown = run_fargo("plan", "-f", str(manifest), "--endpoint-url", emulator_endpoint)
    assert shown.returncode == 0, shown.stderr
    assert f"CloudFront {distribution}: CustomErrorResponses" in shown.stdout
    assert distribution_config(cloudfront, distribution) == (original, etag)

    deployer(manifest, emulator_endpoint).deploy()
    spliced, _ = distribution_config(cloudfront, distribution)
    # Only the 500 page is left; 403 and 404 now reach the viewer as the origin sent them.
    assert [i["ErrorCode"] for i in spliced["CustomErrorResponses"]["Items"]] == [500]
    function = cloudfront.describe_function(Name=FUNCTION, Stage="LIVE")["FunctionSummary"]
    arn = function["FunctionMetadata"]["FunctionARN"]
    assert spliced["DefaultCacheBehavior"]["FunctionAssociations"] == {
        "Quantity": 1,
        "Items": [{"FunctionARN": arn, "EventType": "viewer-request"}],
    }
    # The API's behavior runs no function: its 403 and 404 are the API's own.
    (api,) = spliced["CacheBehaviors"]["Items"]
    assert api["PathPattern"] == "/api/*"
    assert api["FunctionAssociations"] == {"Quantity": 0}
    code = cloudfront.get_function(Name=FUNCTION, Stage="LIVE")["FunctionCode"].read()
    assert b"request.uri = '/index.html'" in code

    ledger = json.loads(
        aws("ssm").get_parameter(Name="/fargo/shop/default/edge")["Parameter"]["Value"]
    )
    assert ledger["spa_errors"]["distribution"] == distribution
    assert ledger["spa_errors"]["function_arn"] == arn
    assert ledger["spa_errors"]["error_responses"] == original["CustomErrorResponses"]
    assert (
        ledger["spa_errors"]["function_associations"]
        == (original["DefaultCacheBehavior"]["FunctionAssociations"])
    )

    # Without an alias, the API answers on the distribution's own name.
    shown = run_fargo("status", "-f", str(manifest), "--endpoint-url", emulator_endpoint)
    assert shown.returncode == 0, shown.stderr
    name = cloudfront.get_distribution(Id=distribution)["Distribution"]["DomainName"]
    assert name.endswith(".cloudfront.net")
    assert f"https://{name}/api/" in shown.stdout

    counter = CallCounter()
    _, result = deployer(manifest, emulator_endpoint, counter=counter).deploy()
    assert not result.changed
    assert counter.writes == LOCK_WRITES

    gone = run_fargo("destroy", "-f", str(manifest), "--endpoint-url", emulator_endpoint, "--yes")
    assert gone.returncode == 0, gone.stderr
    assert f"CloudFront {distribution}: restored its custom error responses" in gone.stdout
    assert f"CloudFront function {FUNCTION} deleted" in gone.stdout
    restored, _ = distribution_config(cloudfront, distribution)
    assert differences(original, restored) == []
    assert restored == original
    with pytest.raises(cloudfront.exceptions.NoSuchFunctionExists):
        cloudfront.describe_function(Name=FUNCTION, Stage="DEVELOPMENT")


def test_a_viewer_request_function_of_theirs_is_refused_before_any_stack_changes(
    manifest: Path, distribution: str, emulator_endpoint: str, cloudfront: Any, aws: Any
) -> None:
    theirs = cloudfront.create_function(
        Name="theirs",
        FunctionConfig={"Comment": "", "Runtime": "cloudfront-js-2.0"},
        FunctionCode=b"function handler(event) { return event.request; }",
    )
    arn = theirs["FunctionSummary"]["FunctionMetadata"]["FunctionARN"]
    config, etag = distribution_config(cloudfront, distribution)
    config["DefaultCacheBehavior"]["FunctionAssociations"] = {
        "Quantity": 1,
        "Items": [{"FunctionARN": arn, "EventType": "viewer-request"}],
    }
    cloudfront.update_distribution(Id=distribution, IfMatch=etag, DistributionConfig=config)
    before = distribution_config(cloudfront, distribution)

    done = run_fargo("deploy", "-f", str(manifest), "--endpoint-url", emulator_endpoint)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "viewer requests" in done.stderr
    assert distribution_config(cloudfront, distribution) == before
    assert aws("cloudformation").list_stacks()["StackSummaries"] == []
