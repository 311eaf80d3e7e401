"""`cdn: { static }` on the emulator: the edge stack's private bucket behind an origin
access control, and the publisher uploading only what changed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fargo.aws.facade import Aws, AwsConfig, CallCounter
from fargo.edge.site import MANIFEST_KEY, SiteResult, SiteSource, publish_site
from fargo.edge.site_files import IMMUTABLE, REVALIDATE
from fargo.progress import SilentReporter
from tests.emulator.helpers import deployer, stack_outputs

MANIFEST = """\
app: site
services:
  api:
    image: nginx:1.27
    port: 80
    http: { path: /api/*, healthcheck: /api/health }
cdn: { static: ./site }
"""

HASHED = "assets/app-3f9a1c2b.js"
SITE = {
    "index.html": "<!doctype html><script src=/assets/app-3f9a1c2b.js></script>",
    HASHED: "console.log('v1')",
    "style.css": "body { color: black }",
    "docs/index.html": "<h1>docs</h1>",
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "fargo.yml").write_text(MANIFEST)
    for key, text in SITE.items():
        path = tmp_path / "site" / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


@pytest.fixture
def outputs(project: Path, emulator_endpoint: str, aws: Any) -> dict[str, str]:
    deployer(project / "fargo.yml", emulator_endpoint).deploy()
    stack = aws("cloudformation").describe_stacks(StackName="site-default-edge")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    return {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}


def publisher(endpoint: str, account: str) -> Aws:
    return Aws(
        AwsConfig(
            region="us-east-1",
            endpoint_url=endpoint,
            static_credentials=(account, "test"),
            retry_mode="standard",
            max_attempts=3,
        ),
        counter=CallCounter(),
    )


def publish(client: Aws, directory: Path, outputs: dict[str, str]) -> SiteResult:
    return publish_site(
        client,
        SiteSource(directory, outputs["SiteBucketName"]),
        distribution_id=outputs["DistributionId"],
        reporter=SilentReporter(),
    )


def test_edge_stack_serves_a_private_bucket_through_an_origin_access_control(
    outputs: dict[str, str], aws: Any
) -> None:
    cloudfront = aws("cloudfront")
    distribution = cloudfront.get_distribution(Id=outputs["DistributionId"])["Distribution"]
    assert distribution["DomainName"] == outputs["DistributionDomainName"]
    assert distribution["ARN"] == outputs["DistributionArn"]
    config = distribution["DistributionConfig"]
    origins = {o["Id"]: o for o in config["Origins"]["Items"]}
    site = origins["site"]
    assert site["DomainName"].startswith(outputs["SiteBucketName"] + ".s3.")
    control_id = site["OriginAccessControlId"]
    assert control_id
    control = cloudfront.get_origin_access_control(Id=control_id)["OriginAccessControl"]
    signing = control["OriginAccessControlConfig"]
    assert (signing["OriginAccessControlOriginType"], signing["SigningBehavior"]) == (
        "s3",
        "always",
    )

    # The API origin carries the secret the load balancer checks, resolved by CloudFormation.
    (api,) = (o for o in origins.values() if o["Id"] != "site")
    (header,) = api["CustomHeaders"]["Items"]
    assert header["HeaderName"] == "X-Fargo-Origin-Verify"
    network_outputs = stack_outputs(aws, "site-default-network")
    secret = aws("secretsmanager").get_secret_value(
        SecretId=network_outputs["OriginVerifySecretArn"]
    )["SecretString"]
    assert header["HeaderValue"] == secret
    assert api["DomainName"] == network_outputs["LoadBalancerDnsName"]

    (behavior,) = config["CacheBehaviors"]["Items"]
    assert behavior["PathPattern"] == "/api/*"
    assert behavior["TargetOriginId"] == api["Id"]
    associations = config["DefaultCacheBehavior"]["FunctionAssociations"]
    (function,) = associations["Items"]
    assert function["EventType"] == "viewer-request"
    assert function["FunctionARN"].endswith(":function/site-default-site-request")
    assert (
        "FunctionAssociations" not in behavior or behavior["FunctionAssociations"]["Quantity"] == 0
    )

    block = aws("s3").get_public_access_block(Bucket=outputs["SiteBucketName"])
    assert block["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    policy = json.loads(aws("s3").get_bucket_policy(Bucket=outputs["SiteBucketName"])["Policy"])
    (read,) = (s for s in policy["Statement"] if s["Sid"] == "CloudFrontReadsTheSite")
    assert read["Condition"]["StringEquals"]["AWS:SourceArn"] == outputs["DistributionArn"]


def test_publish_uploads_only_what_changed_and_invalidates_only_its_path(
    project: Path, outputs: dict[str, str], emulator_endpoint: str, account: str, aws: Any
) -> None:
    s3 = aws("s3")
    bucket = outputs["SiteBucketName"]
    # Whatever deploy published, start from a bucket that has no record of it.
    s3.delete_object(Bucket=bucket, Key=MANIFEST_KEY)
    directory = project / "site"

    first = publish(publisher(emulator_endpoint, account), directory, outputs)
    assert sorted(first.uploaded) == sorted(SITE)
    assert first.invalidated == ("/", "/docs/", "/docs/index.html", "/index.html", "/style.css")
    page = s3.head_object(Bucket=bucket, Key="index.html")
    assert page["ContentType"].startswith("text/html")
    assert page["CacheControl"] == REVALIDATE
    asset = s3.head_object(Bucket=bucket, Key=HASHED)
    assert asset["ContentType"].startswith("text/javascript")
    assert asset["CacheControl"] == IMMUTABLE
    assert s3.get_object(Bucket=bucket, Key="docs/index.html")["Body"].read() == b"<h1>docs</h1>"
    invalidation = aws("cloudfront").get_invalidation(
        DistributionId=outputs["DistributionId"], Id=first.invalidation_id
    )["Invalidation"]
    assert sorted(invalidation["InvalidationBatch"]["Paths"]["Items"]) == list(first.invalidated)

    again = publisher(emulator_endpoint, account)
    nothing = publish(again, directory, outputs)
    assert nothing == SiteResult((), (), (), (), None)
    assert again.counter.writes == []
    assert again.counter.total > 0  # it did read the manifest

    (directory / "style.css").write_text("body { color: navy }")
    changed = publisher(emulator_endpoint, account)
    one = publish(changed, directory, outputs)
    assert one.uploaded == ("style.css",)
    assert one.invalidated == ("/style.css",)
    calls = changed.counter.calls
    # The file, then the manifest; one invalidation, of exactly that path.
    assert calls[("s3", "PutObject")] == 2
    assert calls[("cloudfront", "CreateInvalidation")] == 1
    assert changed.counter.writes == [("cloudfront", "CreateInvalidation"), ("s3", "PutObject")]
    invalidation = aws("cloudfront").get_invalidation(
        DistributionId=outputs["DistributionId"], Id=one.invalidation_id
    )["Invalidation"]
    assert invalidation["InvalidationBatch"]["Paths"]["Items"] == ["/style.css"]
    body = s3.get_object(Bucket=bucket, Key="style.css")["Body"].read()
    assert body == b"body { color: navy }"


def test_removed_files_are_deleted_but_hashed_assets_stay(
    project: Path, outputs: dict[str, str], emulator_endpoint: str, account: str, aws: Any
) -> None:
    directory = project / "site"
    publish(publisher(emulator_endpoint, account), directory, outputs)
    (directory / "style.css").unlink()
    (directory / HASHED).unlink()
    (directory / "assets" / "app-77aa01bc.js").write_text("console.log('v2')")

    result = publish(publisher(emulator_endpoint, account), directory, outputs)
    assert result.uploaded == ("assets/app-77aa01bc.js",)
    assert result.deleted == ("style.css",)
    assert result.kept == (HASHED,)
    assert result.invalidated == ("/style.css",)
    keys = {
        o["Key"]
        for o in aws("s3").list_objects_v2(Bucket=outputs["SiteBucketName"]).get("Contents", [])
    }
    assert "style.css" not in keys
    assert {HASHED, "assets/app-77aa01bc.js", MANIFEST_KEY} <= keys


def test_edge_stack_updates_in_place_and_destroy_keeps_only_the_bucket(
    project: Path, outputs: dict[str, str], emulator_endpoint: str, aws: Any
) -> None:
    cloudfront = aws("cloudfront")
    name = "site-default-site-request"
    live = cloudfront.get_function(Name=name, Stage="LIVE")["FunctionCode"].read().decode()
    assert "'/index.html'" in live

    manifest = project / "fargo.yml"
    manifest.write_text(MANIFEST.replace("{ static: ./site }", "{ static: ./site, spa: false }"))
    deployer(manifest, emulator_endpoint).deploy()
    stack = aws("cloudformation").describe_stacks(StackName="site-default-edge")["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    updated = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    # CloudFront changes in place: the same distribution, its name and its bucket.
    assert updated == outputs
    live = cloudfront.get_function(Name=name, Stage="LIVE")["FunctionCode"].read().decode()
    assert "'index.html'" in live  # the directory index now

    control_id = cloudfront.get_distribution(Id=outputs["DistributionId"])["Distribution"][
        "DistributionConfig"
    ]["Origins"]["Items"][0]["OriginAccessControlId"]
    deployer(manifest, emulator_endpoint).destroy()
    with pytest.raises(cloudfront.exceptions.NoSuchDistribution):
        cloudfront.get_distribution(Id=outputs["DistributionId"])
    with pytest.raises(cloudfront.exceptions.NoSuchOriginAccessControl):
        cloudfront.get_origin_access_control(Id=control_id)
    with pytest.raises(cloudfront.exceptions.NoSuchFunctionExists):
        cloudfront.describe_function(Name=name, Stage="DEVELOPMENT")
    # DeletionPolicy Retain: the site's files outlive the stack.
    aws("s3").head_bucket(Bucket=outputs["SiteBucketName"])
