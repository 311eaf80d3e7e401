"""The example architectures, deployed as a user would write them, and read back through the
emulator's describe APIs: what each manifest promises is what AWS would hold.

- examples/storefront: a server-rendered web app on `/*` and a host-routed API on one load
  balancer, CloudFront in front of the web app, its assets from S3, the site at the apex;
- examples/spa-api: an API spliced into an existing single-page-app distribution whose
  error pages are moved into a CloudFront Function;
- examples/workers: NAT, RDS, a node cache, a worker and a cron job, and a preview
  environment per pull request that `destroy --purge` removes entirely;
- examples/learning: one service on Fargate Spot only and Aurora Serverless that pauses.
"""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest

from fargo.model.app import ORIGIN_VERIFY_HEADER
from tests.conftest import EXAMPLES
from tests.emulator.helpers import (
    BOOTSTRAP,
    app_buckets,
    run_fargo,
    stack_outputs,
    through_load_balancer,
)
from tests.fixtures.cloudfront import load

# AWS's published ids: the hosted zone of every CloudFront distribution (Route 53
# AliasTarget reference) and the managed policies (CloudFront Developer Guide).
CLOUDFRONT_ZONE = "Z2FDTNDATAQYW2"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
USE_ORIGIN_CACHE_CONTROL_HEADERS_QUERY_STRINGS = "4cc15a8a-d715-48a4-82b8-cc0b614638fe"


def copy_example(name: str, tmp_path: Path) -> Path:
    """A private copy, so what deploy writes beside the manifest stays out of the repo."""
    target = tmp_path / name
    shutil.copytree(EXAMPLES / name, target)
    return target / "fargo.yml"


def hosted_zone(aws: Any, name: str) -> str:
    created = aws("route53").create_hosted_zone(Name=name, CallerReference=str(uuid.uuid4()))
    return str(created["HostedZone"]["Id"])


def record_sets(aws: Any, zone_id: str, name: str) -> dict[str, dict[str, Any]]:
    listed = aws("route53").list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    return {r["Type"]: r for r in listed if r["Name"] == f"{name}."}


def services_strategies(aws: Any, cluster: str) -> dict[str, list[dict[str, Any]]]:
    ecs = aws("ecs")
    arns = ecs.list_services(cluster=cluster)["serviceArns"]
    return {
        s["serviceName"]: s["capacityProviderStrategy"]
        for s in ecs.describe_services(cluster=cluster, services=arns)["services"]
    }


def test_storefront_puts_cloudfront_in_front_of_the_web_app_and_not_the_api(
    tmp_path: Path, emulator_endpoint: str, aws: Any, account: str
) -> None:
    manifest = copy_example("storefront", tmp_path)
    zone_id = hosted_zone(aws, "example.com")

    done = run_fargo("deploy", "-f", str(manifest), "--endpoint-url", emulator_endpoint)
    assert done.returncode == 0, done.stderr

    # Where each service answers: the web app at the site (CloudFront), the API directly.
    assert "  api: https://api.example.com/\n" in done.stdout
    assert "  web: https://example.com/\n" in done.stdout
    network = stack_outputs(aws, "storefront-default-network")
    edge = stack_outputs(aws, "storefront-default-edge")
    arn = network["LoadBalancerArn"]
    # The API is routed by its host and is not behind the CDN: without CloudFront's header
    # its rule still matches (503: no containers run here), never the listener's 403.
    api = through_load_balancer(
        emulator_endpoint, account, "api.example.com", port=443, load_balancer_arn=arn
    )
    assert api.status_code == 503, api.text
    assert "no registered targets" in api.text.lower()
    # The web app is behind it: without the header, 403; with it, the web rule.
    web = through_load_balancer(
        emulator_endpoint, account, "example.com", port=443, load_balancer_arn=arn
    )
    assert web.status_code == 403
    secret = aws("secretsmanager").get_secret_value(SecretId=network["OriginVerifySecretArn"])
    verify = {ORIGIN_VERIFY_HEADER: secret["SecretString"]}
    web = through_load_balancer(
        emulator_endpoint,
        account,
        "example.com",
        port=443,
        load_balancer_arn=arn,
        headers=verify,
    )
    assert web.status_code == 503, web.text

    config = aws("cloudfront").get_distribution_config(Id=edge["DistributionId"])[
        "DistributionConfig"
    ]
    assert config["Aliases"]["Items"] == ["example.com"]
    origins = {o["Id"]: o for o in config["Origins"]["Items"]}
    default = config["DefaultCacheBehavior"]
    app_origin = origins[default["TargetOriginId"]]
    assert "CustomOriginConfig" in app_origin
    assert app_origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert default["CachePolicyId"] == USE_ORIGIN_CACHE_CONTROL_HEADERS_QUERY_STRINGS
    assert default["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER
    assert default["AllowedMethods"]["Quantity"] == 7
    (assets,) = config["CacheBehaviors"]["Items"]
    assert assets["PathPattern"] == "/_next/static/*"
    assert assets["CachePolicyId"] == CACHING_OPTIMIZED
    bucket_origin = origins[assets["TargetOriginId"]]
    assert bucket_origin["DomainName"].startswith(edge["SiteBucketName"] + ".s3.")
    assert bucket_origin["OriginAccessControlId"]
    key = "_next/static/chunks/main-3f9a1c2b.js"
    body = aws("s3").get_object(Bucket=edge["SiteBucketName"], Key=key)["Body"].read()
    assert body == (EXAMPLES / "storefront/web/.next/static/chunks/main-3f9a1c2b.js").read_bytes()

    # The site sits at the zone's apex: Route 53 answers it with aliases, never a CNAME.
    apex = record_sets(aws, zone_id, "example.com")
    assert "CNAME" not in apex
    assert apex["A"]["AliasTarget"]["HostedZoneId"] == CLOUDFRONT_ZONE
    assert apex["A"]["AliasTarget"]["DNSName"] == f"{edge['DistributionDomainName']}."
    assert record_sets(aws, zone_id, "api.example.com")["A"]["AliasTarget"]["DNSName"] == (
        f"{network['LoadBalancerDnsName'].lower()}."
    )


@pytest.fixture
def spa_distribution(aws: Any) -> str:
    created = aws("cloudfront").create_distribution(DistributionConfig=load("spa"))
    return str(created["Distribution"]["Id"])


def test_spa_api_joins_an_existing_distribution_and_moves_its_error_pages(
    tmp_path: Path, emulator_endpoint: str, aws: Any, spa_distribution: str
) -> None:
    manifest = copy_example("spa-api", tmp_path)
    hosted_zone(aws, "example.com")
    cloudfront = aws("cloudfront")
    original = cloudfront.get_distribution_config(Id=spa_distribution)["DistributionConfig"]
    env = {"SPA_DISTRIBUTION_ID": spa_distribution}
    target = ["-f", str(manifest), "--endpoint-url", emulator_endpoint]

    # The pre-flight checks find the secret missing; `fargo secrets set` is the fix.
    refused = run_fargo("plan", *target, "--json", env=env)
    assert refused.returncode == 2
    failed = {c["name"]: c for c in json.loads(refused.stdout)["checks"]}
    assert failed["secret:STRIPE_KEY"]["status"] == "FAILED"
    assert failed["cdn-distribution"]["status"] == "OK"
    stored = run_fargo("secrets", "set", "stripe", *target, env=env, stdin="sk_test_42\n")
    assert stored.returncode == 0, stored.stderr

    # Without `spa_errors`, plan warns that the distribution's error pages swallow the API's.
    plain = manifest.parent / "plain.yml"
    plain.write_text(manifest.read_text().replace(", spa_errors: function", ""))
    warned = run_fargo(
        "plan", "-f", str(plain), "--endpoint-url", emulator_endpoint, "--json", env=env
    )
    assert warned.returncode == 0, warned.stderr
    assert "cdn-error-pages" in {w["code"] for w in json.loads(warned.stdout)["warnings"]}

    planned = run_fargo("plan", *target, "--json", env=env)
    assert planned.returncode == 0, planned.stderr
    assert "cdn-error-pages" not in {w["code"] for w in json.loads(planned.stdout)["warnings"]}

    done = run_fargo("deploy", *target, env=env)
    assert done.returncode == 0, done.stderr
    assert "sk_test_42" not in done.stdout + done.stderr
    # The API answers through the distribution (it has no alias): deploy says so.
    name = cloudfront.get_distribution(Id=spa_distribution)["Distribution"]["DomainName"]
    assert f"  api: https://{name}/api/\n" in done.stdout
    config = cloudfront.get_distribution_config(Id=spa_distribution)["DistributionConfig"]
    api = next(b for b in config["CacheBehaviors"]["Items"] if b["PathPattern"] == "/api/*")
    assert api["CachePolicyId"] == CACHING_DISABLED
    assert api["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER
    origin = next(o for o in config["Origins"]["Items"] if o["Id"] == api["TargetOriginId"])
    assert origin["DomainName"] == "api.example.com"
    codes = {e["ErrorCode"] for e in config["CustomErrorResponses"].get("Items", [])}
    assert not codes & {403, 404}
    (function,) = config["DefaultCacheBehavior"]["FunctionAssociations"]["Items"]
    assert function["EventType"] == "viewer-request"

    gone = run_fargo("destroy", *target, "--yes", env=env)
    assert gone.returncode == 0, gone.stderr
    restored = cloudfront.get_distribution_config(Id=spa_distribution)["DistributionConfig"]
    assert restored == original


def test_workers_preview_is_built_from_staging_on_spot_and_purged_to_nothing(
    tmp_path: Path, emulator_endpoint: str, aws: Any
) -> None:
    manifest = copy_example("workers", tmp_path)
    zone_id = hosted_zone(aws, "example.com")
    target = ["-f", str(manifest), "--endpoint-url", emulator_endpoint, "--env", "pr-7"]

    done = run_fargo("deploy", *target)
    assert done.returncode == 0, done.stderr

    network = stack_outputs(aws, "orders-pr-7-network")
    ec2 = aws("ec2")
    gateways = ec2.describe_nat_gateways(
        Filters=[{"Name": "vpc-id", "Values": [network["VpcId"]]}]
    )["NatGateways"]
    assert len(gateways) == 1  # nat: single
    strategies = services_strategies(aws, network["ClusterArn"])
    spot_only = [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]
    assert strategies == {"api": spot_only, "worker": spot_only}
    (schedule,) = aws("scheduler").list_schedules()["Schedules"]
    ecs_parameters = aws("scheduler").get_schedule(Name=schedule["Name"])["Target"]["EcsParameters"]
    assert ecs_parameters["CapacityProviderStrategy"] == spot_only
    (group,) = aws("elasticache").describe_replication_groups()["ReplicationGroups"]
    assert group["CacheNodeType"] == "cache.t4g.micro"
    (database,) = aws("rds").describe_db_instances()["DBInstances"]
    assert database["DBInstanceClass"].startswith("db.t4g.")
    # The preview's own host, not staging's; and no SES identity of staging's.
    assert record_sets(aws, zone_id, "pr-7.preview.example.com")["A"]["AliasTarget"]
    assert record_sets(aws, zone_id, "staging-api.example.com") == {}

    purged = run_fargo("destroy", *target, "--yes", "--purge")
    assert purged.returncode == 0, purged.stderr
    summaries = aws("cloudformation").list_stacks()["StackSummaries"]
    live = [s["StackName"] for s in summaries if s["StackStatus"] != "DELETE_COMPLETE"]
    assert live == [BOOTSTRAP]  # the account's own stack stays, and its bucket
    assert aws("sqs").list_queues().get("QueueUrls", []) == []
    assert app_buckets(aws) == []
    assert aws("rds").describe_db_snapshots()["DBSnapshots"] == []
    assert aws("elasticache").describe_snapshots()["Snapshots"] == []


def test_learning_runs_every_task_on_spot_and_a_database_that_pauses(
    tmp_path: Path, emulator_endpoint: str, aws: Any
) -> None:
    manifest = copy_example("learning", tmp_path)
    done = run_fargo("deploy", "-f", str(manifest), "--endpoint-url", emulator_endpoint)
    assert done.returncode == 0, done.stderr

    network = stack_outputs(aws, "learning-default-network")
    strategies = services_strategies(aws, network["ClusterArn"])
    # spot: { base: 0 }: no FARGATE base, every task on Fargate Spot.
    assert strategies == {"api": [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]}
    ecs = aws("ecs")
    (service,) = ecs.describe_services(cluster=network["ClusterArn"], services=["api"])["services"]
    definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])
    assert definition["taskDefinition"]["runtimePlatform"]["cpuArchitecture"] == "ARM64"
    (cluster,) = aws("rds").describe_db_clusters()["DBClusters"]
    scaling = cluster["ServerlessV2ScalingConfiguration"]
    assert (scaling["MinCapacity"], scaling["MaxCapacity"]) == (0, 1)
