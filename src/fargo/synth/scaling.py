"""Autoscaling of an ECS service: target tracking on CPU, memory, ALB requests per task, and,
for workers, queue backlog per task, with a step policy that wakes a worker scaled to zero."""

from __future__ import annotations

from typing import Any

from troposphere import GetAtt, Join, Ref, Template, cloudwatch, ecs
from troposphere import applicationautoscaling as scaling
from troposphere import elasticloadbalancingv2 as elbv2

from fargo.model.app import Service
from fargo.synth import outputs as out
from fargo.synth.common import Inputs, add
from fargo.synth.context import ServiceContext

_COOLDOWN_OUT_SECONDS = 60
_COOLDOWN_IN_SECONDS = 300  # scale in slowly: a flapping service costs more than a spare task


def add_scaling(
    ctx: ServiceContext, ecs_service: ecs.Service, target_group: elbv2.TargetGroup | None
) -> None:
    template, service, prefix, inputs = ctx.template, ctx.service, ctx.prefix, ctx.inputs
    plan = service.scaling
    if not plan.enabled:
        return
    target = add(
        template,
        scaling.ScalableTarget(
            f"{prefix}ScalableTarget",
            ServiceNamespace="ecs",
            ScalableDimension="ecs:service:DesiredCount",
            ResourceId=Join(
                "/", ["service", inputs.network(out.CLUSTER_NAME), GetAtt(ecs_service, "Name")]
            ),
            MinCapacity=plan.min,
            MaxCapacity=plan.max,
        ),
        f"{service.name} scales between {plan.min} and {plan.max} tasks",
    )
    predefined = {
        "Cpu": (plan.cpu, "ECSServiceAverageCPUUtilization"),
        "Memory": (plan.memory, "ECSServiceAverageMemoryUtilization"),
    }
    for name, (value, metric) in predefined.items():
        if value is not None:
            _tracking(
                template,
                prefix,
                name,
                target,
                value,
                PredefinedMetricSpecification=(
                    scaling.PredefinedMetricSpecification(PredefinedMetricType=metric)
                ),
            )
    if plan.requests is not None and target_group is not None:
        label = Join(
            "/",
            [
                inputs.network(out.LOAD_BALANCER_FULL_NAME),
                GetAtt(target_group, "TargetGroupFullName"),
            ],
        )
        _tracking(
            template,
            prefix,
            "Requests",
            target,
            plan.requests,
            PredefinedMetricSpecification=scaling.PredefinedMetricSpecification(
                PredefinedMetricType="ALBRequestCountPerTarget", ResourceLabel=label
            ),
        )
    if plan.backlog is not None and service.queue is not None:
        queue_name = inputs.data(out.queue_name(service.queue))
        _tracking(
            template,
            prefix,
            "Backlog",
            target,
            plan.backlog,
            CustomizedMetricSpecification=_backlog_metric(queue_name, inputs, ecs_service),
        )
        if plan.min == 0:
            _wake_from_zero(template, service, prefix, target, queue_name)


def _tracking(
    template: Template, prefix: str, name: str, target: Any, value: int, **metric: Any
) -> None:
    add(
        template,
        scaling.ScalingPolicy(
            f"{prefix}{name}Scaling",
            PolicyName=f"{prefix}-{name.lower()}",
            PolicyType="TargetTrackingScaling",
            ScalingTargetId=Ref(target),
            TargetTrackingScalingPolicyConfiguration=scaling.TargetTrackingScalingPolicyConfiguration(
                TargetValue=float(value),
                ScaleOutCooldown=_COOLDOWN_OUT_SECONDS,
                ScaleInCooldown=_COOLDOWN_IN_SECONDS,
                **metric,
            ),
        ),
        f"keeps {name.lower()} per task near {value}",
    )


def _backlog_metric(
    queue_name: Ref, inputs: Inputs, ecs_service: ecs.Service
) -> scaling.CustomizedMetricSpecification:
    """Messages waiting per running task: the queue's depth divided by the task count."""
    return scaling.CustomizedMetricSpecification(
        Metrics=[
            scaling.TargetTrackingMetricDataQuery(
                Id="visible",
                ReturnData=False,
                MetricStat=scaling.TargetTrackingMetricStat(
                    Metric=scaling.TargetTrackingMetric(
                        Namespace="AWS/SQS",
                        MetricName="ApproximateNumberOfMessagesVisible",
                        Dimensions=[
                            scaling.TargetTrackingMetricDimension(
                                Name="QueueName", Value=queue_name
                            )
                        ],
                    ),
                    Stat="Sum",
                ),
            ),
            scaling.TargetTrackingMetricDataQuery(
                Id="tasks",
                ReturnData=False,
                MetricStat=scaling.TargetTrackingMetricStat(
                    Metric=scaling.TargetTrackingMetric(
                        Namespace="ECS/ContainerInsights",
                        MetricName="RunningTaskCount",
                        Dimensions=[
                            scaling.TargetTrackingMetricDimension(
                                Name="ClusterName", Value=inputs.network(out.CLUSTER_NAME)
                            ),
                            scaling.TargetTrackingMetricDimension(
                                Name="ServiceName", Value=GetAtt(ecs_service, "Name")
                            ),
                        ],
                    ),
                    Stat="Average",
                ),
            ),
            # With no task running the ratio has no value; the wake-up policy covers that.
            scaling.TargetTrackingMetricDataQuery(
                Id="backlog", Expression="visible / tasks", ReturnData=True
            ),
        ]
    )


def _wake_from_zero(
    template: Template, service: Service, prefix: str, target: Any, queue_name: Ref
) -> None:
    """Target tracking multiplies the current count, so it cannot leave zero: a step policy
    starts one task as soon as a message waits."""
    policy = add(
        template,
        scaling.ScalingPolicy(
            f"{prefix}WakeScaling",
            PolicyName=f"{prefix}-wake",
            PolicyType="StepScaling",
            ScalingTargetId=Ref(target),
            StepScalingPolicyConfiguration=scaling.StepScalingPolicyConfiguration(
                AdjustmentType="ExactCapacity",
                Cooldown=_COOLDOWN_OUT_SECONDS,
                StepAdjustments=[
                    scaling.StepAdjustment(MetricIntervalLowerBound=0, ScalingAdjustment=1)
                ],
            ),
        ),
        f"starts {service.name} from zero when work arrives",
    )
    add(
        template,
        cloudwatch.Alarm(
            f"{prefix}WakeAlarm",
            AlarmDescription=f"messages wait for {service.name}",
            Namespace="AWS/SQS",
            MetricName="ApproximateNumberOfMessagesVisible",
            Dimensions=[cloudwatch.MetricDimension(Name="QueueName", Value=queue_name)],
            Statistic="Maximum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            TreatMissingData="notBreaching",
            AlarmActions=[Ref(policy)],
        ),
        f"wakes {service.name} when its queue has messages",
    )
