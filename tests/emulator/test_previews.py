"""Preview environments on the emulator: `--env pr-7` deploys one from `previews:`, and
`destroy --purge` leaves nothing of it, read back through each service's describe calls."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.emulator.helpers import BOOTSTRAP, app_buckets, edit, run_fargo, stack_outputs
from tests.integration.powerdns import PowerDns
from tests.integration.test_dns_powerdns import served

PREVIEWS = 'previews: { from: staging, names: "pr-*" }\n'
PREVIEW_STACKS = ["fullstack-pr-7-network", "fullstack-pr-7-data", "fullstack-pr-7-services"]


@pytest.fixture
def with_previews(fullstack: Path) -> Path:
    """The example with previews of staging, and a node cache, which keeps a final snapshot."""
    edit(fullstack, "cache: { engine: valkey }", "cache: { engine: valkey, node: cache.t4g.micro }")
    fullstack.write_text(fullstack.read_text() + PREVIEWS)
    return fullstack


def live_stacks(aws: Any) -> list[dict[str, Any]]:
    summaries = aws("cloudformation").list_stacks()["StackSummaries"]
    return [
        s
        for s in summaries
        if s["StackStatus"] != "DELETE_COMPLETE" and s["StackName"] != BOOTSTRAP
    ]


def _schedule_name(aws: Any) -> str:
    (schedule,) = aws("scheduler").list_schedules()["Schedules"]
    return str(schedule["Name"])


def test_a_preview_deploys_and_purge_leaves_nothing_billed(
    with_previews: Path, emulator_endpoint: str, aws: Any
) -> None:
    target = ["-f", str(with_previews), "--endpoint-url", emulator_endpoint]
    deployed = run_fargo("deploy", *target, "--env", "pr-7", "--json")
    assert deployed.returncode == 0, deployed.stderr

    cfn = aws("cloudformation")
    for name in PREVIEW_STACKS:
        (stack,) = cfn.describe_stacks(StackName=name)["Stacks"]
        tags = {t["Key"]: t["Value"] for t in stack["Tags"]}
        assert tags["fargo:preview"] == "true"
        assert tags["fargo:env"] == "pr-7"
    # staging's mail is not a preview's: no second SES identity for the same domain.
    assert aws("sesv2").list_email_identities()["EmailIdentities"] == []
    # Every service on Spot but api, whose Spot base environments.staging sets.
    ecs = aws("ecs")
    cluster = stack_outputs(aws, PREVIEW_STACKS[0])["ClusterArn"]
    arns = ecs.list_services(cluster=cluster)["serviceArns"]
    strategies = {
        s["serviceName"]: s["capacityProviderStrategy"]
        for s in ecs.describe_services(cluster=cluster, services=arns)["services"]
    }
    assert strategies["worker"] == [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]
    assert strategies["api"][0] == {"capacityProvider": "FARGATE", "weight": 0, "base": 1}
    schedule = aws("scheduler").get_schedule(Name=_schedule_name(aws))
    ecs_parameters = schedule["Target"]["EcsParameters"]
    assert "LaunchType" not in ecs_parameters
    assert ecs_parameters["CapacityProviderStrategy"] == [
        {"capacityProvider": "FARGATE_SPOT", "weight": 1}
    ]

    # Data a preview might hold: versions and a delete marker in its versioned bucket.
    s3 = aws("s3")
    (bucket,) = app_buckets(aws)
    s3.put_object(Bucket=bucket, Key="a.txt", Body=b"one")
    s3.put_object(Bucket=bucket, Key="a.txt", Body=b"two")
    s3.delete_object(Bucket=bucket, Key="a.txt")
    queues = aws("sqs").list_queues()["QueueUrls"]
    assert len(queues) == 3  # jobs, its dead-letter queue, the schedule's dead-letter queue

    done = run_fargo("destroy", *target, "--env", "pr-7", "--yes", "--purge", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["deleted"] == list(reversed(PREVIEW_STACKS))
    assert result["final_snapshots"] == []
    assert result["retained"] == []
    assert f"bucket {bucket}" in result["purged"]
    purged_queues = {line.rsplit("/", 1)[-1] for line in result["purged"] if "queue" in line}
    assert purged_queues == {url.rsplit("/", 1)[-1] for url in queues}
    assert sum(line.startswith("db snapshot ") for line in result["purged"]) == 1
    assert sum(line.startswith("cache snapshot ") for line in result["purged"]) == 1

    assert live_stacks(aws) == []
    for name in PREVIEW_STACKS:
        with pytest.raises(ClientError, match="does not exist"):
            cfn.describe_stacks(StackName=name)
    assert aws("sqs").list_queues().get("QueueUrls", []) == []
    assert app_buckets(aws) == []
    rds = aws("rds")
    assert rds.describe_db_snapshots()["DBSnapshots"] == []
    assert rds.describe_db_cluster_snapshots()["DBClusterSnapshots"] == []
    assert aws("elasticache").describe_snapshots()["Snapshots"] == []


def test_purge_deletes_the_final_snapshot_and_keeps_one_the_user_took(
    with_previews: Path, emulator_endpoint: str, aws: Any
) -> None:
    target = ["-f", str(with_previews), "--endpoint-url", emulator_endpoint, "--env", "pr-7"]
    assert run_fargo("deploy", *target).returncode == 0
    rds = aws("rds")
    (database,) = rds.describe_db_instances()["DBInstances"]
    rds.create_db_snapshot(
        DBSnapshotIdentifier="before-the-migration",
        DBInstanceIdentifier=database["DBInstanceIdentifier"],
    )

    done = run_fargo("destroy", *target, "--yes", "--purge", "--json")
    assert done.returncode == 0, done.stderr
    purged = json.loads(done.stdout)["purged"]
    assert sum(line.startswith("db snapshot ") for line in purged) == 1
    assert "db snapshot before-the-migration" not in purged
    left = [s["DBSnapshotIdentifier"] for s in rds.describe_db_snapshots()["DBSnapshots"]]
    assert left == ["before-the-migration"]


def test_purging_an_environment_that_is_not_a_preview_needs_allow_data_loss(
    with_previews: Path, emulator_endpoint: str, aws: Any
) -> None:
    target = ["-f", str(with_previews), "--endpoint-url", emulator_endpoint]
    assert run_fargo("deploy", *target, "--env", "staging").returncode == 0
    stacks = {s["StackName"] for s in live_stacks(aws)}

    refused = run_fargo("destroy", *target, "--env", "staging", "--yes", "--purge")
    assert refused.returncode == 3
    assert "nothing was deleted" in refused.stderr
    assert "--allow-data-loss" in refused.stderr
    assert {s["StackName"] for s in live_stacks(aws)} == stacks

    allowed = run_fargo(
        "destroy", *target, "--env", "staging", "--yes", "--purge", "--allow-data-loss"
    )
    assert allowed.returncode == 0, allowed.stderr
    assert "purged bucket fullstack-staging-data-bucketuploads" in allowed.stdout
    assert live_stacks(aws) == []
    assert app_buckets(aws) == []
    assert aws("rds").describe_db_snapshots()["DBSnapshots"] == []


def test_previews_list_shows_each_preview_and_prune_purges_those_older_than_asked(
    with_previews: Path, emulator_endpoint: str, aws: Any
) -> None:
    target = ["-f", str(with_previews), "--endpoint-url", emulator_endpoint]
    for env in ("pr-7", "pr-8", "staging"):
        deployed = run_fargo("deploy", *target, "--env", env)
        assert deployed.returncode == 0, deployed.stderr

    listed = run_fargo("previews", "list", *target, "--json")
    assert listed.returncode == 0, listed.stderr
    previews = json.loads(listed.stdout)["previews"]
    assert [p["env"] for p in previews] == ["pr-7", "pr-8"]  # oldest first; staging is none
    assert previews[0]["stacks"] == sorted(PREVIEW_STACKS)
    assert all(0 <= p["age_seconds"] < 600 for p in previews)
    text = run_fargo("previews", "list", *target)
    assert text.stdout.splitlines()[0].startswith("pr-7  0m  fullstack-pr-7-data")

    unconfirmed = run_fargo("previews", "prune", *target, "--older-than", "0s")
    assert unconfirmed.returncode == 3
    assert "--yes" in unconfirmed.stderr
    young = run_fargo("previews", "prune", *target, "--older-than", "7d", "--yes", "--json")
    assert young.returncode == 0, young.stderr
    assert json.loads(young.stdout) == {"pruned": [], "failed": []}
    assert len(live_stacks(aws)) == 9

    pruned = run_fargo("previews", "prune", *target, "--older-than", "0s", "--yes", "--json")
    assert pruned.returncode == 0, pruned.stderr
    body = json.loads(pruned.stdout)
    assert [p["env"] for p in body["pruned"]] == ["pr-7", "pr-8"]
    assert all(p["purged"] for p in body["pruned"])
    live = {s["StackName"] for s in live_stacks(aws)}
    assert live == {f"fullstack-staging-{kind}" for kind in ("network", "data", "services")}
    # staging's own bucket and queues are all that is left.
    assert app_buckets(aws) == [stack_outputs(aws, "fullstack-staging-data")["BucketUploadsName"]]
    assert all("-staging-" in url for url in aws("sqs").list_queues()["QueueUrls"])
    after = json.loads(run_fargo("previews", "list", *target, "--json").stdout)
    assert after == {"previews": []}


DOMAIN_MANIFEST = """\
app: shop
services:
  api:
    image: public.ecr.aws/docker/library/nginx:1.27
    port: 8000
    http: { path: /*, healthcheck: /health }
    uses: [mail]
mail: { domain: ZONE, from: no-reply@ZONE }
domain: { name: ZONE, dns: powerdns }
environments:
  staging: {}
previews: { from: staging, names: "pr-*", domain: "{env}.preview.ZONE" }
"""


def test_a_preview_gets_its_own_host_and_leaves_stagings_records_and_certificate(
    tmp_path: Path,
    pdns: PowerDns,
    monkeypatch: pytest.MonkeyPatch,
    emulator_endpoint: str,
    aws: Any,
) -> None:
    zone = "previews.example.test"
    pdns.create_zone(zone)
    monkeypatch.setenv("FARGO_POWERDNS_URL", pdns.api_url)
    monkeypatch.setenv("FARGO_POWERDNS_API_KEY", pdns.api_key)
    manifest = tmp_path / "fargo.yml"
    manifest.write_text(DOMAIN_MANIFEST.replace("ZONE", zone))
    target = ["-f", str(manifest), "--endpoint-url", emulator_endpoint]
    for env in ("staging", "pr-7"):
        deployed = run_fargo("deploy", *target, "--env", env)
        assert deployed.returncode == 0, deployed.stderr

    staging = stack_outputs(aws, "shop-staging-network")["LoadBalancerDnsName"]
    preview = stack_outputs(aws, "shop-pr-7-network")["LoadBalancerDnsName"]
    assert staging != preview
    assert served(pdns, f"api.{zone}", "CNAME") == [f"{staging}."]
    assert served(pdns, f"pr-7.preview.{zone}", "CNAME") == [f"{preview}."]
    acm = aws("acm")
    domains = sorted(
        acm.describe_certificate(CertificateArn=c["CertificateArn"])["Certificate"]["DomainName"]
        for c in acm.list_certificates()["CertificateSummaryList"]
    )
    assert domains == [f"api.{zone}", f"pr-7.preview.{zone}"]
    identities = aws("sesv2").list_email_identities()["EmailIdentities"]
    assert [i["IdentityName"] for i in identities] == [zone]  # staging's, once

    done = run_fargo("destroy", *target, "--env", "pr-7", "--yes", "--purge")
    assert done.returncode == 0, done.stderr
    assert served(pdns, f"pr-7.preview.{zone}", "CNAME") == []
    assert served(pdns, f"api.{zone}", "CNAME") == [f"{staging}."]
    (left,) = acm.list_certificates()["CertificateSummaryList"]
    assert left["DomainName"] == f"api.{zone}"
    assert {s["StackName"] for s in live_stacks(aws)} == {
        "shop-staging-network",
        "shop-staging-data",
        "shop-staging-services",
    }


def test_prune_goes_on_past_a_preview_it_cannot_load_and_says_so(
    with_previews: Path, emulator_endpoint: str, aws: Any
) -> None:
    target = ["-f", str(with_previews), "--endpoint-url", emulator_endpoint]
    edit(with_previews, 'names: "pr-*"', 'names: "p[rv]-*"')
    for env in ("pv-7", "pr-7"):
        deployed = run_fargo("deploy", *target, "--env", env)
        assert deployed.returncode == 0, deployed.stderr
    # The pattern narrows: pv-7's stacks remain, but the manifest no longer makes it.
    edit(with_previews, 'names: "p[rv]-*"', 'names: "pr-*"')

    pruned = run_fargo("previews", "prune", *target, "--older-than", "0s", "--yes", "--json")
    assert pruned.returncode == 2  # the manifest's error, bad input
    body = json.loads(pruned.stdout)
    assert [p["env"] for p in body["pruned"]] == ["pr-7"]
    (failed,) = body["failed"]
    assert failed["env"] == "pv-7"
    assert "pv-7" in json.dumps(failed["problems"])
    assert {s["StackName"] for s in live_stacks(aws)} == {
        f"fullstack-pv-7-{kind}" for kind in ("network", "data", "services")
    }
