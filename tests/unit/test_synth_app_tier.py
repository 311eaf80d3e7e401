"""The app tier in the templates: cache, queues, workers, mail, buckets, schedules,
autoscaling, alarms, production settings and the data stack's protection."""

from __future__ import annotations

from typing import Any

import pytest

from fargo.model import StackKind
from fargo.synth import StackTemplate
from tests.unit.synth_helpers import resources_of, stacks_from_text

MANIFEST = """\
app: shop
services:
  api:
    image: nginx:1.27
    port: 8000
    http: { path: /api/*, healthcheck: /api/health }
    count: { min: 1, max: 4, cpu: 60, memory: 70, requests: 500 }
    uses: [db, cache, jobs, uploads, mail]
  worker:
    image: { from: api }
    command: [python, -m, app.worker]
    queue: jobs
    count: { min: 0, max: 3 }
    uses: [mail]
  nightly:
    image: { from: api }
    command: [python, -m, app.nightly]
    schedule: "cron(0 3 * * ? *)"
    uses: [db]
database: { size: micro }
cache: { engine: valkey }
queues:
  jobs: { visibility: 90, dlq: { max_receives: 4 } }
buckets:
  uploads: {}
mail: { domain: example.com, from: no-reply@example.com }
alerts: { email: [ops@example.com, dev@example.com] }
environments:
  prod: { profile: production, database: { size: medium } }
  nodes: { cache: { engine: redis, node: cache.t4g.micro } }
  spot: { services: { nightly: { spot: true } } }
"""


@pytest.fixture(scope="module")
def stacks() -> dict[StackKind, StackTemplate]:
    return stacks_from_text(MANIFEST)


def props(template: StackTemplate, logical_id: str) -> dict[str, Any]:
    return template.body["Resources"][logical_id]["Properties"]  # type: ignore[no-any-return]


def container_env(template: StackTemplate, service: str) -> dict[str, Any]:
    (container,) = props(template, f"{service}TaskDefinition")["ContainerDefinitions"]
    return {e["Name"]: e["Value"] for e in container["Environment"]}


def policy_statements(template: StackTemplate, role: str) -> dict[str, dict[str, Any]]:
    policies = props(template, role).get("Policies", [])
    return {s["Sid"]: s for p in policies for s in p["PolicyDocument"]["Statement"]}


def test_serverless_cache_is_private_and_injected_as_tls_url(stacks: dict) -> None:
    data, services = stacks[StackKind.DATA], stacks[StackKind.SERVICES]
    cache = props(data, "Cache")
    assert cache["Engine"] == "valkey"
    assert cache["SubnetIds"] == {"Ref": "DataSubnetIds"}
    group = props(data, "CacheSecurityGroup")
    (rule,) = group["SecurityGroupIngress"]
    assert (rule["FromPort"], rule["SourceSecurityGroupId"]) == (
        6379,
        {"Ref": "TaskSecurityGroupId"},
    )
    url = container_env(services, "Api")["REDIS_URL"]["Fn::Join"][1]
    assert url[0] == "rediss://"
    assert "REDIS_URL" not in container_env(services, "Worker")  # it does not use the cache


def test_node_cache_encrypts_and_snapshots() -> None:
    data = stacks_from_text(MANIFEST, "nodes")[StackKind.DATA]
    group = data.body["Resources"]["Cache"]
    assert group["Type"] == "AWS::ElastiCache::ReplicationGroup"
    assert group["DeletionPolicy"] == group["UpdateReplacePolicy"] == "Snapshot"
    assert group["Properties"]["TransitEncryptionEnabled"] is True
    assert group["Properties"]["AtRestEncryptionEnabled"] is True


def test_queue_has_encryption_and_dead_letters_and_scoped_access(stacks: dict) -> None:
    data, services = stacks[StackKind.DATA], stacks[StackKind.SERVICES]
    queue = props(data, "QueueJobs")
    assert queue["SqsManagedSseEnabled"] is True
    assert queue["VisibilityTimeout"] == 90
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["QueueJobsDeadLetter", "Arn"]},
        "maxReceiveCount": 4,
    }
    assert props(data, "QueueJobsDeadLetter")["SqsManagedSseEnabled"] is True
    assert container_env(services, "Api")["QUEUE_URL_JOBS"] == {"Ref": "QueueJobsUrl"}
    grant = policy_statements(services, "WorkerTaskRole")["UseQueueJobs"]
    assert grant["Resource"] == [{"Ref": "QueueJobsArn"}]
    assert {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:SendMessage"} <= set(grant["Action"])


def test_worker_has_no_load_balancer_and_scales_on_backlog_from_zero(stacks: dict) -> None:
    services = stacks[StackKind.SERVICES]
    worker = props(services, "WorkerService")
    assert "LoadBalancers" not in worker
    assert "DesiredCount" not in worker  # the scaler owns the count
    target = props(services, "WorkerScalableTarget")
    assert (target["MinCapacity"], target["MaxCapacity"]) == (0, 3)
    backlog = props(services, "WorkerBacklogScaling")
    metrics = backlog["TargetTrackingScalingPolicyConfiguration"]["CustomizedMetricSpecification"]
    assert [m["Id"] for m in metrics["Metrics"]] == ["visible", "tasks", "backlog"]
    wake = props(services, "WorkerWakeScaling")
    assert wake["StepScalingPolicyConfiguration"]["AdjustmentType"] == "ExactCapacity"
    alarm = props(services, "WorkerWakeAlarm")
    assert alarm["AlarmActions"] == [{"Ref": "WorkerWakeScaling"}]


def test_web_service_scales_on_cpu_memory_and_requests(stacks: dict) -> None:
    services = stacks[StackKind.SERVICES]
    kinds = {
        name: p["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"][
            "PredefinedMetricType"
        ]
        for name, p in (
            (n, r["Properties"])
            for n, r in resources_of(services, "AWS::ApplicationAutoScaling::ScalingPolicy").items()
            if n.startswith("Api")
        )
    }
    assert kinds == {
        "ApiCpuScaling": "ECSServiceAverageCPUUtilization",
        "ApiMemoryScaling": "ECSServiceAverageMemoryUtilization",
        "ApiRequestsScaling": "ALBRequestCountPerTarget",
    }


def test_mail_identity_with_dkim_and_scoped_send(stacks: dict) -> None:
    data, services = stacks[StackKind.DATA], stacks[StackKind.SERVICES]
    identity = props(data, "MailIdentity")
    assert identity["EmailIdentity"] == "example.com"
    assert identity["DkimAttributes"] == {"SigningEnabled": True}
    outputs = data.body["Outputs"]
    assert {f"MailDkim{i}Name" for i in (1, 2, 3)} <= set(outputs)
    assert container_env(services, "Worker")["MAIL_FROM"] == "no-reply@example.com"
    send = policy_statements(services, "WorkerTaskRole")["SendMail"]
    assert send["Action"] == ["ses:SendEmail", "ses:SendRawEmail"]
    assert "identity/${Domain}" in send["Resource"][0]["Fn::Sub"][0]


def test_bucket_is_private_encrypted_versioned_tls_only_and_kept(stacks: dict) -> None:
    data, services = stacks[StackKind.DATA], stacks[StackKind.SERVICES]
    bucket = data.body["Resources"]["BucketUploads"]
    assert bucket["DeletionPolicy"] == bucket["UpdateReplacePolicy"] == "Retain"
    block = bucket["Properties"]["PublicAccessBlockConfiguration"]
    assert len(block) == 4
    assert all(block.values())
    assert bucket["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}
    rules = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rules[0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    (deny,) = props(data, "BucketUploadsPolicy")["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert container_env(services, "Api")["BUCKET_UPLOADS"] == {"Ref": "BucketUploadsName"}
    grants = policy_statements(services, "ApiTaskRole")
    assert grants["ListBucketUploads"]["Resource"] == [{"Ref": "BucketUploadsArn"}]


def test_scheduled_job_runs_through_scheduler_with_retries_and_dead_letters(
    stacks: dict,
) -> None:
    services = stacks[StackKind.SERVICES]
    assert "NightlyService" not in services.body["Resources"]
    schedule = props(services, "NightlySchedule")
    assert schedule["ScheduleExpression"] == "cron(0 3 * * ? *)"
    target = schedule["Target"]
    assert target["EcsParameters"]["TaskDefinitionArn"] == {"Ref": "NightlyTaskDefinition"}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 2
    assert target["DeadLetterConfig"] == {"Arn": {"Ref": "ScheduleDeadLetterArn"}}
    role = policy_statements(services, "NightlySchedulerRole")
    assert role["RunOwnTask"]["Resource"] == [{"Ref": "NightlyTaskDefinition"}]
    assert "ScheduleDeadLetter" in stacks[StackKind.DATA].body["Resources"]


def test_a_job_runs_on_fargate_unless_its_service_says_spot(stacks: dict) -> None:
    """EventBridge Scheduler's EcsParameters take LaunchType or CapacityProviderStrategy,
    never both; a job of a `spot` service runs on FARGATE_SPOT, even with `spot: true`'s
    on-demand base, which would put a one-task run on FARGATE."""
    on_demand = props(stacks[StackKind.SERVICES], "NightlySchedule")["Target"]["EcsParameters"]
    assert on_demand["LaunchType"] == "FARGATE"
    assert "CapacityProviderStrategy" not in on_demand
    spot = stacks_from_text(MANIFEST, "spot")[StackKind.SERVICES]
    parameters = props(spot, "NightlySchedule")["Target"]["EcsParameters"]
    assert "LaunchType" not in parameters
    assert parameters["CapacityProviderStrategy"] == [
        {"CapacityProvider": "FARGATE_SPOT", "Weight": 1}
    ]


def test_alarms_go_to_the_alert_topic_and_guard_deploys(stacks: dict) -> None:
    services = stacks[StackKind.SERVICES]
    topic = props(services, "AlertTopic")
    assert [s["Endpoint"] for s in topic["Subscription"]] == ["ops@example.com", "dev@example.com"]
    alarms = resources_of(services, "AWS::CloudWatch::Alarm")
    expected = {
        "ApiErrorRateAlarm",
        "ApiLatencyAlarm",
        "ApiCpuAlarm",
        "ApiMemoryAlarm",
        "WorkerCpuAlarm",
        "QueueJobsDeadLetterAlarm",
        "DatabaseCpuAlarm",
        "DatabaseStorageAlarm",
    }
    assert expected <= set(alarms)
    assert props(services, "DatabaseCpuAlarm")["AlarmActions"] == [{"Ref": "AlertTopic"}]
    deployment = props(services, "ApiService")["DeploymentConfiguration"]
    assert deployment["Alarms"] == {
        "AlarmNames": [{"Ref": "ApiErrorRateAlarm"}],
        "Enable": True,
        "Rollback": True,
    }


def test_without_alerts_only_deployment_alarms_remain() -> None:
    text = MANIFEST.replace("alerts: { email: [ops@example.com, dev@example.com] }\n", "")
    services = stacks_from_text(text)[StackKind.SERVICES]
    alarms = set(resources_of(services, "AWS::CloudWatch::Alarm"))
    assert alarms == {"ApiErrorRateAlarm", "WorkerWakeAlarm"}
    assert "AlertTopic" not in services.body["Resources"]


def test_data_stack_protection_and_production_settings(stacks: dict) -> None:
    data = stacks[StackKind.DATA]
    policy = data.stack_policy
    assert policy is not None
    denied = policy["Statement"][1]
    assert denied["Action"] == ["Update:Replace", "Update:Delete"]
    assert set(denied["Resource"]) >= {
        "LogicalResourceId/Database",
        "LogicalResourceId/Cache",
        "LogicalResourceId/QueueJobs",
        "LogicalResourceId/BucketUploads",
    }
    assert data.termination_protection is False
    prod = stacks_from_text(MANIFEST, "prod")
    assert prod[StackKind.DATA].termination_protection is True
    database = props(prod[StackKind.DATA], "Database")
    assert database["EnablePerformanceInsights"] is True
    assert database["PerformanceInsightsRetentionPeriod"] == 7
    api = props(prod[StackKind.SERVICES], "ApiScalableTarget")
    assert api["MinCapacity"] == 2  # production keeps two tasks, one per zone
    worker = props(prod[StackKind.SERVICES], "WorkerScalableTarget")
    assert worker["MinCapacity"] == 0  # scale to zero was asked for explicitly


def test_alert_topic_uses_a_key_cloudwatch_may_use(stacks: dict) -> None:
    services = stacks[StackKind.SERVICES]
    assert props(services, "AlertTopic")["KmsMasterKeyId"] == {"Ref": "AlertKey"}
    statements = props(services, "AlertKey")["KeyPolicy"]["Statement"]
    publisher = next(s for s in statements if s["Sid"] == "CloudWatchPublishes")
    assert publisher["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert all("*" not in action for s in statements for action in s["Action"])


def test_a_scheduled_job_alone_still_gets_its_dead_letter_queue() -> None:
    text = """\
    app: cron
    services:
      nightly: { image: busybox, command: [date], schedule: "rate(1 day)" }
    """
    stacks = stacks_from_text(text)
    assert StackKind.DATA in stacks
    queue = stacks[StackKind.DATA].body["Resources"]["ScheduleDeadLetter"]
    assert queue["DeletionPolicy"] == "Retain"
    assert stacks[StackKind.SERVICES].parameters["ScheduleDeadLetterArn"].stack is StackKind.DATA
