"""Alarms and where they go. Every HTTP service gets a 5xx-rate alarm that ECS watches during
a deploy, so a release that starts failing rolls back. With `alerts:`, an SNS topic mails
the team and the full set is added: response time, CPU and memory, the load balancer's own
5xx, dead letters, database."""

from __future__ import annotations

from typing import Any

from troposphere import GetAtt, Ref, Sub, Template, cloudwatch, ecs, kms, sns
from troposphere import elasticloadbalancingv2 as elbv2

from fargo.model.app import App
from fargo.synth import outputs as out
from fargo.synth.common import Inputs, add
from fargo.synth.context import Alerting, ServiceContext
from fargo.synth.ids import logical_id

_MINUTE = 60


def add_topic(template: Template, app: App) -> Alerting:
    if not app.alert_emails:
        return Alerting()
    key = _alert_key(template, app)
    topic = add(
        template,
        sns.Topic(
            "AlertTopic",
            DisplayName=f"{app.name}/{app.env} alerts",
            KmsMasterKeyId=Ref(key),
            Subscription=[sns.Subscription(Protocol="email", Endpoint=e) for e in app.alert_emails],
        ),
        "mails alarms to " + ", ".join(app.alert_emails),
    )
    return Alerting((Ref(topic),))


def _alert_key(template: Template, app: App) -> kms.Key:
    """CloudWatch cannot publish to a topic encrypted with the AWS-managed SNS key: the topic
    needs a key whose policy lets CloudWatch use it. In a key policy, Resource "*" means
    this key."""
    account_root = Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")
    return add(
        template,
        kms.Key(
            "AlertKey",
            Description=f"{app.name}/{app.env} alert topic encryption",
            EnableKeyRotation=True,
            PendingWindowInDays=7,
            KeyPolicy={
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "AccountAdministers",
                        "Effect": "Allow",
                        "Principal": {"AWS": account_root},
                        "Action": _KEY_ADMINISTRATION,
                        "Resource": "*",
                    },
                    {
                        "Sid": "CloudWatchPublishes",
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudwatch.amazonaws.com"},
                        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                        "Resource": "*",
                    },
                ],
            },
        ),
        "encrypts the alert topic; CloudWatch may use it to publish alarms",
    )


# Named one by one: no wildcard actions, even in a key policy.
_KEY_ADMINISTRATION = [
    "kms:CancelKeyDeletion",
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GenerateDataKey",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateKeyDescription",
]


def alarm(
    template: Template, title: str, description: str, alerting: Alerting, **spec: Any
) -> cloudwatch.Alarm:
    actions = {"AlarmActions": list(alerting.actions), "OKActions": list(alerting.actions)}
    return add(
        template,
        cloudwatch.Alarm(
            title,
            AlarmDescription=description,
            TreatMissingData="notBreaching",
            **(actions if alerting.actions else {}),
            **spec,
        ),
        description,
    )


def target_group_dimensions(
    inputs: Inputs, target_group: elbv2.TargetGroup
) -> list[cloudwatch.MetricDimension]:
    return [
        cloudwatch.MetricDimension(
            Name="LoadBalancer", Value=inputs.network(out.LOAD_BALANCER_FULL_NAME)
        ),
        cloudwatch.MetricDimension(
            Name="TargetGroup", Value=GetAtt(target_group, "TargetGroupFullName")
        ),
    ]


def http_errors_alarm(ctx: ServiceContext, target_group: elbv2.TargetGroup) -> cloudwatch.Alarm:
    """More than 5% of requests answered 5xx by the app, in 2 of 3 minutes."""
    dimensions = target_group_dimensions(ctx.inputs, target_group)

    def count(query_id: str, metric: str) -> cloudwatch.MetricDataQuery:
        return cloudwatch.MetricDataQuery(
            Id=query_id,
            ReturnData=False,
            MetricStat=cloudwatch.MetricStat(
                Metric=cloudwatch.Metric(
                    Namespace="AWS/ApplicationELB", MetricName=metric, Dimensions=dimensions
                ),
                Period=_MINUTE,
                Stat="Sum",
            ),
        )

    return alarm(
        ctx.template,
        f"{ctx.prefix}ErrorRateAlarm",
        f"{ctx.service.name}: over 5% of requests fail with 5xx",
        ctx.alerting,
        Metrics=[
            count("errors", "HTTPCode_Target_5XX_Count"),
            count("requests", "RequestCount"),
            cloudwatch.MetricDataQuery(
                Id="rate",
                Label="5xx %",
                Expression="100 * FILL(errors, 0) / FILL(requests, 1)",
                ReturnData=True,
            ),
        ],
        EvaluationPeriods=3,
        DatapointsToAlarm=2,
        Threshold=5,
        ComparisonOperator="GreaterThanThreshold",
    )


def service_alarms(
    ctx: ServiceContext, ecs_service: ecs.Service, target_group: elbv2.TargetGroup | None
) -> None:
    if not ctx.alerting.full:
        return
    template, service, prefix, alerting = ctx.template, ctx.service, ctx.prefix, ctx.alerting
    ecs_dimensions = [
        cloudwatch.MetricDimension(Name="ClusterName", Value=ctx.inputs.network(out.CLUSTER_NAME)),
        cloudwatch.MetricDimension(Name="ServiceName", Value=GetAtt(ecs_service, "Name")),
    ]
    for name, metric, limit in (("Cpu", "CPUUtilization", 85), ("Memory", "MemoryUtilization", 90)):
        alarm(
            template,
            f"{prefix}{name}Alarm",
            f"{service.name}: {name.lower()} above {limit}% for 5 minutes",
            alerting,
            Namespace="AWS/ECS",
            MetricName=metric,
            Dimensions=ecs_dimensions,
            Statistic="Average",
            Period=_MINUTE,
            EvaluationPeriods=5,
            Threshold=limit,
            ComparisonOperator="GreaterThanThreshold",
        )
    if target_group is not None:
        alarm(
            template,
            f"{prefix}LatencyAlarm",
            f"{service.name}: p90 response time above 2 s for 5 minutes",
            alerting,
            Namespace="AWS/ApplicationELB",
            MetricName="TargetResponseTime",
            Dimensions=target_group_dimensions(ctx.inputs, target_group),
            ExtendedStatistic="p90",
            Period=_MINUTE,
            EvaluationPeriods=5,
            Threshold=2,
            ComparisonOperator="GreaterThanThreshold",
        )


# The load balancer's own 5xx (no healthy target, a target that reset the connection or timed
# out): 10 in a minute, in 2 of 3 minutes, is more than a client's odd request.
ELB_5XX_PER_MINUTE = 10


def load_balancer_alarm(template: Template, app: App, inputs: Inputs, alerting: Alerting) -> None:
    """502/503/504 the load balancer answers itself. CloudWatch has this metric only per load
    balancer, not per target group, so it says nothing of which service failed: it alerts,
    and is never a service's deployment alarm, so one service's outage cannot roll back
    another's deploy."""
    if not alerting.full or not app.load_balanced:
        return
    alarm(
        template,
        "LoadBalancerErrorsAlarm",
        f"the load balancer itself answered 502/503/504 {ELB_5XX_PER_MINUTE}+ times a minute, "
        "in 2 of 3 minutes",
        alerting,
        Namespace="AWS/ApplicationELB",
        MetricName="HTTPCode_ELB_5XX_Count",
        Dimensions=[
            cloudwatch.MetricDimension(
                Name="LoadBalancer", Value=inputs.network(out.LOAD_BALANCER_FULL_NAME)
            )
        ],
        Statistic="Sum",
        Period=_MINUTE,
        EvaluationPeriods=3,
        DatapointsToAlarm=2,
        Threshold=ELB_5XX_PER_MINUTE,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )


def data_alarms(template: Template, app: App, inputs: Inputs, alerting: Alerting) -> None:
    if not alerting.full:
        return
    for queue in app.queues:
        alarm(
            template,
            f"Queue{logical_id(queue.name)}DeadLetterAlarm",
            f"messages of {queue.name} failed {queue.max_receives} times and wait in its DLQ",
            alerting,
            Namespace="AWS/SQS",
            MetricName="ApproximateNumberOfMessagesVisible",
            Dimensions=[
                cloudwatch.MetricDimension(
                    Name="QueueName",
                    Value=inputs.data(out.queue_dead_letter_name(queue.name)),
                )
            ],
            Statistic="Maximum",
            Period=5 * _MINUTE,
            EvaluationPeriods=1,
            Threshold=0,
            ComparisonOperator="GreaterThanThreshold",
        )
    database = app.database
    if database is None:
        return
    dimension = "DBClusterIdentifier" if database.kind == "serverless" else "DBInstanceIdentifier"
    identity = [
        cloudwatch.MetricDimension(Name=dimension, Value=inputs.data(out.DATABASE_IDENTIFIER))
    ]
    alarm(
        template,
        "DatabaseCpuAlarm",
        "database CPU above 80% for 10 minutes",
        alerting,
        Namespace="AWS/RDS",
        MetricName="CPUUtilization",
        Dimensions=identity,
        Statistic="Average",
        Period=5 * _MINUTE,
        EvaluationPeriods=2,
        Threshold=80,
        ComparisonOperator="GreaterThanThreshold",
    )
    if database.kind == "instance":  # Aurora storage grows by itself
        free_bytes = database.allocated_storage * 1024**3 // 10
        alarm(
            template,
            "DatabaseStorageAlarm",
            f"database free storage below 10% ({free_bytes // 1024**2} MiB)",
            alerting,
            Namespace="AWS/RDS",
            MetricName="FreeStorageSpace",
            Dimensions=identity,
            Statistic="Minimum",
            Period=5 * _MINUTE,
            EvaluationPeriods=1,
            Threshold=free_bytes,
            ComparisonOperator="LessThanThreshold",
        )
