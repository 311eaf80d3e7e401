"""The estimator against figures computed by hand from the price table.

Expected values multiply the table's published rates by 730 hours (AWS's month) and the
sizes in the manifest or template; they never come from the estimator.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from fargo.cli.main import cli
from fargo.cost.estimate import estimate, estimate_app
from fargo.cost.inputs import StackInput
from fargo.cost.prices import load_prices
from fargo.cost.usage import Usage, parse_count, parse_gb
from fargo.errors import InputError
from fargo.manifest.load import load_manifest
from fargo.model import build_app
from fargo.synth.bootstrap import bootstrap_template

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p.parent for p in (ROOT / "examples").glob("*/fargo.yml"))
TABLE = load_prices("us-east-1")
H = 730


def rate(key: str) -> float:
    return TABLE[key].price


def _service(cpu: str, memory: str, arch: str, count: int, public: bool = False) -> dict[str, Any]:
    return {
        "Task": {
            "Type": "AWS::ECS::TaskDefinition",
            "Properties": {
                "Cpu": cpu,
                "Memory": memory,
                "RuntimePlatform": {"CpuArchitecture": arch},
            },
        },
        "Service": {
            "Type": "AWS::ECS::Service",
            "Properties": {
                "TaskDefinition": {"Ref": "Task"},
                "DesiredCount": count,
                "CapacityProviderStrategy": [{"CapacityProvider": "FARGATE", "Weight": 1}],
                "NetworkConfiguration": {
                    "AwsvpcConfiguration": {"AssignPublicIp": "ENABLED" if public else "DISABLED"}
                },
            },
        },
    }


def _monthly(resources: dict[str, Any], usage: Usage | None = None) -> float:
    return estimate(
        [StackInput("s", {"Resources": resources}, {})], "us-east-1", usage
    ).monthly_total


def test_an_always_on_quarter_vcpu_task_costs_about_nine_dollars() -> None:
    assert _monthly(_service("256", "512", "X86_64", 1)) == pytest.approx(9.0, rel=0.10)
    assert _monthly(_service("256", "512", "ARM64", 1)) == pytest.approx(7.2, rel=0.10)


def test_a_task_with_a_public_ip_adds_one_address() -> None:
    with_ip = _monthly(_service("256", "512", "X86_64", 1, public=True))
    without = _monthly(_service("256", "512", "X86_64", 1))
    assert with_ip - without == pytest.approx(3.65, rel=0.01)


def _alb(subnets: int = 2) -> dict[str, Any]:
    return {
        "LoadBalancer": {
            "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
            "Properties": {
                "Scheme": "internet-facing",
                "Subnets": [{"Ref": f"Subnet{i}"} for i in range(subnets)],
            },
        }
    }


def _nat() -> dict[str, Any]:
    return {
        "NatAddress": {"Type": "AWS::EC2::EIP", "Properties": {"Domain": "vpc"}},
        "Nat": {"Type": "AWS::EC2::NatGateway", "Properties": {}},
    }


def test_alb_nat_and_public_ipv4_known_figures() -> None:
    lines = estimate([StackInput("s", {"Resources": {**_alb(), **_nat()}}, {})], "us-east-1").lines
    by_item = {(line.resource, line.price.key): line.monthly for line in lines}
    assert by_item[("LoadBalancer", "alb.hour")] == pytest.approx(16.4, rel=0.10)
    assert by_item[("Nat", "nat.hour")] == pytest.approx(32.9, rel=0.10)
    assert by_item[("NatAddress", "public_ipv4.hour")] == pytest.approx(3.65, rel=0.01)
    # An internet-facing ALB holds a public IPv4 address in each of its AZs.
    assert by_item[("LoadBalancer", "public_ipv4.hour")] == pytest.approx(2 * 3.65, rel=0.01)


def test_the_ecs_fargate_api_layout_comes_to_about_seventy_dollars_plus_ipv4() -> None:
    # Two 0.25 vCPU / 0.5 GB tasks, an ALB and one NAT gateway: AWS's reference figure ~$70,
    # from before public IPv4 was billed; the three addresses (ALB x2, NAT EIP) come on top.
    resources = {**_service("256", "512", "X86_64", 2), **_alb(), **_nat()}
    total = _monthly(resources, Usage(egress_gb=0, nat_gb=0, requests=0))
    ipv4 = 3 * H * rate("public_ipv4.hour")
    assert total - ipv4 == pytest.approx(70, rel=0.10)


def test_fullstack_lean_always_on_matches_a_hand_computation() -> None:
    # Every line of examples/fullstack on the lean profile, from the table and the default
    # assumptions: 1M requests, 10 GB egress, 1 GB logs per log group, 100K messages per
    # queue, 5 GB per bucket, 1,000 emails, 10 minutes per scheduled run.
    app = build_app(load_manifest(ROOT / "examples/fullstack/fargo.yml", None))
    task = H * (0.25 * rate("fargate.vcpu_hour.x86_64") + 0.5 * rate("fargate.gb_hour.x86_64"))
    ipv4 = H * rate("public_ipv4.hour")
    metric = rate("cloudwatch.metric_month")
    # ALB LCUs: the larger of new connections (25/s per LCU) and bytes (1 GB/h per LCU).
    lcus = max(1e6 / (H * 3600) / 25, 10 / H)
    network = (
        10 * metric  # Container Insights cluster metrics (assumed 10)
        + H * rate("alb.hour")
        + lcus * H * rate("alb.lcu_hour")
        + 2 * ipv4  # the ALB's two AZs
        + 10 * rate("data_transfer.internet_gb")
    )
    data = (
        rate("secretsmanager.secret_month")
        + H * rate("rds.instance_hour.db.t4g.micro.single_az")
        + 20 * rate("rds.storage_gb_month.gp3")
        + 1 * rate("logs.ingest_gb")  # the postgresql log export
        + 0.1 * H * rate("elasticache_serverless.gb_hour.valkey")  # Valkey's 100 MB minimum
        + 2 * rate("elasticache_serverless.ecpu_million.valkey")  # 2 ECPU per request
        + 0.3 * rate("sqs.requests_million")  # jobs: send, receive, delete; DLQs unpriced
        + 5 * rate("s3.gb_month")
        + 1 * rate("ses.thousand_emails")
    )
    nightly_runs = 365 / 12  # cron(0 3 * * ? *): daily
    nightly_hours = nightly_runs * 10 / 60
    # Ten standard alarms (api 3, worker 3, load balancer, dead letters, database 2), the
    # api's error-rate metric math alarm over 2 metrics, and target tracking's two alarms
    # per policy: api cpu and requests (1 metric each), worker backlog (2 metrics).
    alarm_metrics = 10 + 2 + 2 * 1 + 2 * 1 + 2 * 2
    services = (
        rate("kms.key_month")
        + 1000 / 1e6 * rate("sns.requests_million")
        + 3 * (rate("logs.ingest_gb") + 14 / 30 * rate("logs.storage_gb_month"))
        + alarm_metrics * rate("cloudwatch.alarm_month")
        # api (min 1) and the worker awake at one task, in public subnets, each with its
        # Container Insights metrics (assumed 22) and performance logs (assumed 0.1 GB)
        + 2 * (task + ipv4 + 22 * metric + 0.1 * rate("logs.ingest_gb"))
        + nightly_runs / 1e6 * rate("eventbridge_scheduler.invocations_million")
        + nightly_hours
        * (0.25 * rate("fargate.vcpu_hour.x86_64") + 0.5 * rate("fargate.gb_hour.x86_64"))
    )
    # The release stack: the migration's log group (1 GB, kept 14 days); its one-off task runs
    # a few seconds a deploy, which the estimate does not price.
    release = rate("logs.ingest_gb") + 14 / 30 * rate("logs.storage_gb_month")
    assert rate("cloudwatch.alarm_month.metric_math") == rate("cloudwatch.alarm_month")
    assert estimate_app(app).monthly_total == pytest.approx(
        network + data + release + services, abs=0.10
    )


def test_nat_per_az_on_two_azs_adds_two_gateways_and_their_addresses(tmp_path: Path) -> None:
    def total(nat: str) -> float:
        manifest = yaml.safe_load((ROOT / "examples/fullstack/fargo.yml").read_text())
        manifest["network"] = {"nat": nat, "azs": 2}
        path = tmp_path / f"{nat}.yml"
        path.write_text(yaml.safe_dump(manifest))
        return estimate_app(build_app(load_manifest(path, None))).monthly_total

    delta = total("per-az") - total("none")
    ipv4 = H * rate("public_ipv4.hour")
    gateways = 2 * H * rate("nat.hour") + 10 * rate("nat.gb")
    # Two gateways and their two Elastic IPs; the two always-on tasks move to private
    # subnets and give up their own public addresses.
    assert delta == pytest.approx(gateways + 2 * ipv4 - 2 * ipv4, rel=0.05)
    assert delta == pytest.approx(66, rel=0.10)


def _environments(example: Path) -> list[str | None]:
    data = yaml.safe_load((example / "fargo.yml").read_text())
    return [None, *sorted(data.get("environments") or {})]


@pytest.mark.parametrize(
    ("example", "env"),
    [(e, env) for e in EXAMPLES for env in _environments(e)],
    ids=lambda v: v.name if isinstance(v, Path) else str(v),
)
def test_every_resource_type_fargo_emits_is_priced_or_free(example: Path, env: str | None) -> None:
    result = estimate_app(build_app(load_manifest(example / "fargo.yml", env)))
    assert result.unpriced == ()
    assert result.monthly_total > 0


def test_the_bootstrap_stack_is_priced_or_free() -> None:
    body = bootstrap_template()
    assert estimate([StackInput("fargo-bootstrap", body, {})], "us-east-1").unpriced == ()


def test_usage_quantities_parse_with_units() -> None:
    assert parse_count("5M", "--requests") == 5_000_000
    assert parse_count("250k", "--requests") == 250_000
    assert parse_gb("50GB", "--egress") == 50
    assert parse_gb("1TB", "--egress") == 1024
    with pytest.raises(InputError):
        parse_gb("lots", "--egress")


def test_cost_cli_json_has_totals_and_lines_with_sources() -> None:
    result = CliRunner().invoke(
        cli, ["cost", "-f", str(ROOT / "examples/learning/fargo.yml"), "--json", "--requests", "5M"]
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["assumptions"]["requests"] == 5_000_000
    # Aurora at min 0 pauses: the idle figure is below the always-on one.
    assert body["idle_total"] < body["monthly_total"]
    line = body["lines"][0]
    assert {"resource", "stack", "quantity", "unit_price", "monthly", "source"} <= set(line)
    assert line["source"]["url"].startswith("https://aws.amazon.com/")
    assert sum(x["monthly"] for x in body["lines"]) == pytest.approx(
        body["monthly_total"], abs=0.05
    )


def test_cost_refuses_a_region_without_a_table(tmp_path: Path) -> None:
    manifest = yaml.safe_load((ROOT / "examples/learning/fargo.yml").read_text())
    manifest["region"] = "ap-southeast-7"
    path = tmp_path / "fargo.yml"
    path.write_text(yaml.safe_dump(manifest))
    result = CliRunner().invoke(cli, ["cost", "-f", str(path)])
    assert result.exit_code == 2
    assert "ap-southeast-7" in result.output
    assert "us-east-1" in result.output


def test_container_insights_target_tracking_and_log_exports_are_priced() -> None:
    cluster = {
        "Type": "AWS::ECS::Cluster",
        "Properties": {"ClusterSettings": [{"Name": "containerInsights", "Value": "enabled"}]},
    }
    policy = {
        "Type": "AWS::ApplicationAutoScaling::ScalingPolicy",
        "Properties": {
            "PolicyType": "TargetTrackingScaling",
            "TargetTrackingScalingPolicyConfiguration": {"TargetValue": 60.0},
        },
    }
    database = {
        "Type": "AWS::RDS::DBInstance",
        "Properties": {
            "DBInstanceClass": "db.t4g.micro",
            "AllocatedStorage": 20,
            "EnableCloudwatchLogsExports": ["postgresql"],
        },
    }
    resources = {"Cluster": cluster, "Scaling": policy, "Database": database}
    lines = estimate([StackInput("s", {"Resources": resources}, {})], "us-east-1").lines
    by_item = {(line.resource, line.price.key): line for line in lines}
    # Container Insights metrics are billed as custom metrics; 10 per cluster assumed.
    insights = by_item[("Cluster", "cloudwatch.metric_month")]
    assert insights.monthly == pytest.approx(10 * 0.30)
    assert "assumed" in insights.item
    # Target tracking creates two alarms (scale out, scale in) for its one metric.
    assert by_item[("Scaling", "cloudwatch.alarm_month")].monthly == pytest.approx(2 * 0.10)
    # The exported postgresql log is ingested at the log assumption (1 GB).
    exported = by_item[("Database", "logs.ingest_gb")]
    assert exported.monthly == pytest.approx(1 * rate("logs.ingest_gb"))


def test_a_service_in_an_insights_cluster_carries_its_metrics_while_a_task_runs() -> None:
    cluster = {
        "Type": "AWS::ECS::Cluster",
        "Properties": {"ClusterSettings": [{"Name": "containerInsights", "Value": "enabled"}]},
    }
    resources = {"Cluster": cluster, **_service("256", "512", "X86_64", 2)}
    lines = estimate([StackInput("s", {"Resources": resources}, {})], "us-east-1").lines
    (metrics,) = [
        line
        for line in lines
        if line.resource == "Service" and line.price.key == "cloudwatch.metric_month"
    ]
    assert metrics.monthly == pytest.approx(22 * 0.30)  # per service, not per task


def test_the_dead_letter_queues_fargo_creates_are_not_priced_as_busy_queues() -> None:
    queue = {"Type": "AWS::SQS::Queue", "Properties": {}}
    resources = {"ScheduleDeadLetter": queue, "QueueJobsDeadLetter": queue, "QueueJobs": queue}
    lines = estimate([StackInput("s", {"Resources": resources}, {})], "us-east-1").lines
    assert [line.resource for line in lines] == ["QueueJobs"]


_PRICE = re.compile(r"\$([0-9.,]+)(?:-([0-9.,]+))?\*?$")


@pytest.mark.parametrize("env", [None, "staging", "prod"], ids=str)
def test_fargo_cost_text_shows_every_json_line_with_its_unit_price_and_date(
    env: str | None,
) -> None:
    args = ["cost", "-f", str(ROOT / "examples/fullstack/fargo.yml")]
    args += ["--env", env] if env else []
    text = CliRunner().invoke(cli, args)
    body = json.loads(CliRunner().invoke(cli, [*args, "--json"]).output)
    assert text.exit_code == 0, text.output
    rows = [
        row.split()
        for row in text.output.splitlines()
        if row.startswith("  ") and re.search(r"\d{4}-\d{2}-\d{2}$", row)
    ]
    assert len(rows) == len(body["lines"])
    for row, line in zip(rows, body["lines"], strict=True):
        assert row[0] == line["resource"]
        assert row[-1] == line["source"]["as_of"]
        # The unit price column: the third figure from the right ($unit, $monthly, date).
        unit = _PRICE.match(row[-3])
        assert unit is not None, row
        shown_high = float((unit.group(2) or unit.group(1)).replace(",", ""))
        assert shown_high == pytest.approx(line["unit_price"], rel=1e-6)
        if "unit_price_low" in line:
            assert float(unit.group(1)) == pytest.approx(line["unit_price_low"], rel=1e-6)


def test_behind_an_existing_distribution_the_load_balancer_sends_nothing_to_the_internet() -> None:
    # examples/spa-api: `cdn: existing`, CloudFront (the user's, in no template) fetches from
    # the load balancer; AWS bills no data transfer out from an origin to CloudFront.
    app = build_app(load_manifest(ROOT / "examples/spa-api/fargo.yml", None))
    assert app.cdn is not None
    assert app.cdn.existing is not None
    keys = [line.price.key for line in estimate_app(app).lines]
    assert "alb.hour" in keys
    assert "data_transfer.internet_gb" not in keys


def test_cost_profile_prices_the_manifest_as_if_its_profile_were_another() -> None:
    example = str(ROOT / "examples/fullstack/fargo.yml")

    def priced(*args: str) -> dict[str, Any]:
        result = CliRunner().invoke(cli, ["cost", "-f", example, "--json", *args])
        assert result.exit_code == 0, result.output
        body: dict[str, Any] = json.loads(result.output)
        return body

    lean, standard = priced(), priced("--profile", "standard")
    assert (lean["profile"], standard["profile"]) == ("lean", "standard")
    # The standard profile puts the tasks behind one NAT gateway (profiles in
    # docs/architecture.md): its hours and Elastic IP come in, the tasks' own IPs go.
    nat = [x for x in standard["lines"] if x["source"]["key"] == "nat.hour"]
    assert len(nat) == 1
    assert not [x for x in lean["lines"] if x["source"]["key"] == "nat.hour"]
    # After the overlay: prod's larger api, priced on the lean profile, has no NAT either.
    prod_lean = priced("--env", "prod", "--profile", "lean")
    assert prod_lean["profile"] == "lean"
    assert not [x for x in prod_lean["lines"] if x["source"]["key"] == "nat.hour"]
    bad = CliRunner().invoke(cli, ["cost", "-f", example, "--profile", "huge"])
    assert bad.exit_code == 2
