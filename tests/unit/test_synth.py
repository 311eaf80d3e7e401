"""What the templates must say, checked on the synthesized JSON."""

from __future__ import annotations

import importlib

from fargo.model import StackKind
from tests.unit.synth_helpers import resources_of, stacks_from_text

MANIFEST = """\
app: shop
services:
  api:
    image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/shop-api:abc
    port: 8000
    http: { path: /api/*, healthcheck: /api/health }
    uses: [db]
    secrets: { STRIPE_KEY: "secretsmanager:shop/stripe", FLAG: "ssm:/shop/flag" }
    env: { DEBUG: false }
  admin:
    image: { from: api }
    port: 8000
    http: { path: /api/admin/*, host: admin.example.com }
    spot: true
  worker:
    image: { from: api }
    command: [python, -m, app.worker]
database: { size: micro }
tags: { team: payments }
environments:
  prod: { profile: production }
  aurora: { database: { serverless: { min: 0, max: 8 }, size: null } }
  allspot: { services: { admin: { spot: { base: 0 } }, worker: { spot: { base: 2 } } } }
"""

# Every troposphere module whose types the templates use; the test then knows, from
# troposphere's own property tables, which of those types take Tags.
TAGGABLE = {
    cls.resource_type
    for name in (
        "applicationautoscaling",
        "cloudwatch",
        "ec2",
        "ecs",
        "elasticache",
        "elasticloadbalancingv2",
        "iam",
        "kms",
        "logs",
        "rds",
        "s3",
        "scheduler",
        "secretsmanager",
        "ses",
        "sns",
        "sqs",
    )
    for cls in vars(importlib.import_module(f"troposphere.{name}")).values()
    if isinstance(cls, type) and hasattr(cls, "resource_type") and "Tags" in cls.props
}


def test_three_stacks_in_deploy_order_with_upstream_parameters() -> None:
    stacks = stacks_from_text(MANIFEST)
    assert list(stacks) == [StackKind.NETWORK, StackKind.DATA, StackKind.SERVICES]
    assert [t.name for t in stacks.values()] == [
        "shop-default-network",
        "shop-default-data",
        "shop-default-services",
    ]
    for template in stacks.values():
        declared = set(template.body.get("Parameters", {}))
        assert declared == set(template.parameters), template.name
        for key, source in template.parameters.items():
            assert not isinstance(source, str), key
            upstream = stacks[source.stack].body["Outputs"]
            assert source.key in upstream, f"{template.name}.{key} has no upstream output"
    assert "Export" not in str(stacks[StackKind.NETWORK].body["Outputs"])


def test_every_taggable_resource_carries_app_env_and_user_tags() -> None:
    from tests.unit.test_synth_app_tier import MANIFEST as APP_TIER  # noqa: PLC0415

    tagged = 0
    for template in [
        *stacks_from_text(MANIFEST).values(),
        *stacks_from_text(
            APP_TIER.replace("app: shop", "app: shop\ntags: { team: payments }")
        ).values(),
    ]:
        for name, resource in template.body["Resources"].items():
            if resource["Type"] not in TAGGABLE:
                continue
            raw = resource["Properties"]["Tags"]
            tags = raw if isinstance(raw, dict) else {t["Key"]: t["Value"] for t in raw}
            assert tags["fargo:app"] == "shop", name
            assert tags["fargo:env"] == "default", name
            assert tags["team"] == "payments", name
            tagged += 1
        assert template.tags["fargo:env"] == "default"
    assert tagged > 40


def test_lean_network_has_no_nat_and_public_task_subnets() -> None:
    network = stacks_from_text(MANIFEST)[StackKind.NETWORK]
    assert not resources_of(network, "AWS::EC2::NatGateway")
    assert network.body["Outputs"]["AssignPublicIp"]["Value"] == "ENABLED"
    cluster = resources_of(network, "AWS::ECS::Cluster")["Cluster"]["Properties"]
    assert cluster["CapacityProviders"] == ["FARGATE", "FARGATE_SPOT"]
    assert len(resources_of(network, "AWS::EC2::Subnet")) == 4  # 2 public + 2 data
    tasks_sg = resources_of(network, "AWS::EC2::SecurityGroup")["TaskSecurityGroup"]
    ingress = tasks_sg["Properties"]["SecurityGroupIngress"]
    assert [rule.get("SourceSecurityGroupId") for rule in ingress] == [
        {"Ref": "LoadBalancerSecurityGroup"}
    ]
    assert all("CidrIp" not in rule for rule in ingress)


def test_production_profile_uses_nat_per_az_and_private_subnets() -> None:
    network = stacks_from_text(MANIFEST, "prod")[StackKind.NETWORK]
    assert len(resources_of(network, "AWS::EC2::NatGateway")) == 2
    assert len(resources_of(network, "AWS::EC2::EIP")) == 2
    assert network.body["Outputs"]["AssignPublicIp"]["Value"] == "DISABLED"
    assert network.body["Outputs"]["TaskSubnetIds"]["Value"]["Fn::Join"][1] == [
        {"Ref": "PrivateSubnet1"},
        {"Ref": "PrivateSubnet2"},
    ]


def test_database_keeps_its_data_and_stays_private() -> None:
    data = stacks_from_text(MANIFEST)[StackKind.DATA]
    (db,) = resources_of(data, "AWS::RDS::DBInstance").values()
    assert db["DeletionPolicy"] == db["UpdateReplacePolicy"] == "Snapshot"
    props = db["Properties"]
    assert props["DBInstanceClass"] == "db.t4g.micro"
    assert props["StorageEncrypted"] is True
    assert props["PubliclyAccessible"] is False
    assert props["BackupRetentionPeriod"] >= 1
    assert "resolve:secretsmanager" in props["MasterUserPassword"]["Fn::Sub"]
    sg = resources_of(data, "AWS::EC2::SecurityGroup")["DatabaseSecurityGroup"]["Properties"]
    assert [r["SourceSecurityGroupId"] for r in sg["SecurityGroupIngress"]] == [
        {"Ref": "TaskSecurityGroupId"}
    ]
    assert resources_of(data, "AWS::SecretsManager::Secret")


def test_production_database_is_multi_az_with_long_backups() -> None:
    data = stacks_from_text(MANIFEST, "prod")[StackKind.DATA]
    props = resources_of(data, "AWS::RDS::DBInstance")["Database"]["Properties"]
    assert props["MultiAZ"] is True
    assert props["DeletionProtection"] is True
    assert props["BackupRetentionPeriod"] == 30


def test_serverless_database_allows_zero_acu() -> None:
    data = stacks_from_text(MANIFEST, "aurora")[StackKind.DATA]
    (cluster,) = resources_of(data, "AWS::RDS::DBCluster").values()
    assert cluster["DeletionPolicy"] == "Snapshot"
    scaling = cluster["Properties"]["ServerlessV2ScalingConfiguration"]
    assert scaling == {"MinCapacity": 0, "MaxCapacity": 8}
    (writer,) = resources_of(data, "AWS::RDS::DBInstance").values()
    assert writer["Properties"]["DBInstanceClass"] == "db.serverless"


def test_services_roll_fast_and_safely() -> None:
    services = stacks_from_text(MANIFEST)[StackKind.SERVICES]
    api = services.body["Resources"]["ApiService"]["Properties"]
    assert api["DeploymentConfiguration"]["DeploymentCircuitBreaker"] == {
        "Enable": True,
        "Rollback": True,
    }
    assert api["HealthCheckGracePeriodSeconds"] > 0
    assert api["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == {
        "Ref": "AssignPublicIp"
    }
    group = services.body["Resources"]["ApiTargetGroup"]["Properties"]
    assert group["HealthCheckIntervalSeconds"] <= 10
    assert group["HealthyThresholdCount"] == 2
    delay = {a["Key"]: a["Value"] for a in group["TargetGroupAttributes"]}
    assert int(delay["deregistration_delay.timeout_seconds"]) <= 30
    assert group["TargetType"] == "ip"


def test_task_definition_logs_health_secrets_and_env() -> None:
    services = stacks_from_text(MANIFEST)[StackKind.SERVICES]
    task = services.body["Resources"]["ApiTaskDefinition"]["Properties"]
    assert task["RequiresCompatibilities"] == ["FARGATE"]
    assert task["NetworkMode"] == "awsvpc"
    (container,) = task["ContainerDefinitions"]
    assert container["LogConfiguration"]["LogDriver"] == "awslogs"
    assert container["HealthCheck"]["Command"][0] == "CMD-SHELL"
    assert "/api/health" in container["HealthCheck"]["Command"][1]
    env = {e["Name"]: e["Value"] for e in container["Environment"]}
    assert env["DEBUG"] == "false"
    assert env["DB_HOST"] == {"Ref": "DatabaseHost"}
    secrets = {s["Name"] for s in container["Secrets"]}
    assert secrets == {"STRIPE_KEY", "FLAG", "DB_USER", "DB_PASSWORD"}
    log_group = services.body["Resources"]["ApiLogGroup"]["Properties"]
    assert log_group["RetentionInDays"] == 14


def test_listener_rules_put_the_most_specific_route_first() -> None:
    services = stacks_from_text(MANIFEST)[StackKind.SERVICES]
    rules = resources_of(services, "AWS::ElasticLoadBalancingV2::ListenerRule")
    admin = rules["AdminListenerRule"]["Properties"]
    api = rules["ApiListenerRule"]["Properties"]
    assert admin["Priority"] < api["Priority"]
    fields = {c["Field"] for c in admin["Conditions"]}
    assert fields == {"path-pattern", "host-header"}


def test_spot_keeps_an_on_demand_base() -> None:
    services = stacks_from_text(MANIFEST)[StackKind.SERVICES]
    strategy = services.body["Resources"]["AdminService"]["Properties"]["CapacityProviderStrategy"]
    assert strategy[0] == {"CapacityProvider": "FARGATE", "Base": 1, "Weight": 0}
    assert strategy[1]["CapacityProvider"] == "FARGATE_SPOT"


def test_spot_base_zero_puts_every_task_on_spot() -> None:
    """Only one provider of a strategy may have a base (AWS::ECS::Service
    CapacityProviderStrategyItem); with base 0 none has one, and the weights alone place
    the tasks: every one on FARGATE_SPOT."""
    services = stacks_from_text(MANIFEST, "allspot")[StackKind.SERVICES]
    resources = services.body["Resources"]
    strategy = resources["AdminService"]["Properties"]["CapacityProviderStrategy"]
    assert not [item for item in strategy if item["CapacityProvider"] == "FARGATE"]
    assert [item.get("Base", 0) for item in strategy] == [0]
    assert strategy == [{"CapacityProvider": "FARGATE_SPOT", "Weight": 1}]
    worker = resources["WorkerService"]["Properties"]["CapacityProviderStrategy"]
    assert worker[0] == {"CapacityProvider": "FARGATE", "Base": 2, "Weight": 0}
    assert worker[1]["CapacityProvider"] == "FARGATE_SPOT"
    assert worker[1]["Weight"] > 0
    api = resources["ApiService"]["Properties"]["CapacityProviderStrategy"]
    assert api == [{"CapacityProvider": "FARGATE", "Weight": 1}]


def test_from_service_reuses_the_image() -> None:
    services = stacks_from_text(MANIFEST)[StackKind.SERVICES]
    images = {
        name: r["Properties"]["ContainerDefinitions"][0]["Image"]
        for name, r in resources_of(services, "AWS::ECS::TaskDefinition").items()
    }
    assert images["AdminTaskDefinition"] == images["ApiTaskDefinition"]


def test_provenance_stamp() -> None:
    network = stacks_from_text(MANIFEST)[StackKind.NETWORK]
    stamp = network.body["Metadata"]["fargo"]
    assert stamp["app"] == "shop"
    assert len(stamp["manifest"]) == 64
    for resource in network.body["Resources"].values():
        assert resource["Metadata"]["fargo"]["description"]


def test_a_service_without_http_has_no_balancer_and_no_dependency() -> None:
    services = stacks_from_text(MANIFEST)[StackKind.SERVICES]
    worker = services.body["Resources"]["WorkerService"]
    assert "DependsOn" not in worker
    assert "LoadBalancers" not in worker["Properties"]
    task = services.body["Resources"]["WorkerTaskDefinition"]["Properties"]
    (container,) = task["ContainerDefinitions"]
    assert container["Command"] == ["python", "-m", "app.worker"]
    assert "HealthCheck" not in container
    assert "PortMappings" not in container
