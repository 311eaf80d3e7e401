"""A queue's messages scale its worker, through CloudWatch alarms and Application Auto Scaling.

The template has the shapes fargo's templates give a worker with `queue:` and `count: { min: 0,
max: 4, backlog: 10 }` (src/fargo/synth/scaling.py): a scalable target, a backlog target
tracking policy on metric math, and the wake-from-zero step policy on an alarm over the
queue's ApproximateNumberOfMessagesVisible (Maximum, 60 s, >= 1). Expected behaviour is
AWS's: SQS publishes the metric, the alarm goes to ALARM when a message waits and invokes its
scaling action, the step (lower bound 0, ExactCapacity 1) sets the service's desired count to
1, and a scaling activity records it. Records-only emulator: the decision, not the container.
"""

from __future__ import annotations

import json
import time
from typing import Any

_WAKE_SECONDS = 30  # the emulator evaluates every few seconds; AWS takes up to ~2 minutes
_WORKER = "worker"


def _template(scale_in: bool) -> dict[str, Any]:
    queue_name = {"Fn::GetAtt": ["Jobs", "QueueName"]}
    resource_id = {
        "Fn::Join": ["/", ["service", {"Ref": "Cluster"}, {"Fn::GetAtt": ["Worker", "Name"]}]]
    }

    def metric(id_: str, namespace: str, name: str, dims: dict[str, Any], stat: str) -> Any:
        return {
            "Id": id_,
            "ReturnData": False,
            "MetricStat": {
                "Metric": {
                    "Namespace": namespace,
                    "MetricName": name,
                    "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
                },
                "Stat": stat,
            },
        }

    resources: dict[str, Any] = {
        "Jobs": {"Type": "AWS::SQS::Queue"},
        "Cluster": {"Type": "AWS::ECS::Cluster"},
        "Task": {
            "Type": "AWS::ECS::TaskDefinition",
            "Properties": {
                "Family": "worker",
                "NetworkMode": "awsvpc",
                "RequiresCompatibilities": ["FARGATE"],
                "Cpu": "256",
                "Memory": "512",
                "ContainerDefinitions": [{"Name": "worker", "Image": "busybox"}],
            },
        },
        "Worker": {
            "Type": "AWS::ECS::Service",
            "Properties": {
                "ServiceName": _WORKER,
                "Cluster": {"Ref": "Cluster"},
                "TaskDefinition": {"Ref": "Task"},
                "DesiredCount": 0,
                "LaunchType": "FARGATE",
            },
        },
        "Target": {
            "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
            "Properties": {
                "ServiceNamespace": "ecs",
                "ScalableDimension": "ecs:service:DesiredCount",
                "ResourceId": resource_id,
                "MinCapacity": 0,
                "MaxCapacity": 4,
            },
        },
        "Backlog": {
            "Type": "AWS::ApplicationAutoScaling::ScalingPolicy",
            "Properties": {
                "PolicyName": "worker-backlog",
                "PolicyType": "TargetTrackingScaling",
                "ScalingTargetId": {"Ref": "Target"},
                "TargetTrackingScalingPolicyConfiguration": {
                    "TargetValue": 10.0,
                    "ScaleOutCooldown": 60,
                    "ScaleInCooldown": 300,
                    "CustomizedMetricSpecification": {
                        "Metrics": [
                            metric(
                                "visible",
                                "AWS/SQS",
                                "ApproximateNumberOfMessagesVisible",
                                {"QueueName": queue_name},
                                "Sum",
                            ),
                            metric(
                                "tasks",
                                "ECS/ContainerInsights",
                                "RunningTaskCount",
                                {
                                    "ClusterName": {"Ref": "Cluster"},
                                    "ServiceName": {"Fn::GetAtt": ["Worker", "Name"]},
                                },
                                "Average",
                            ),
                            {"Id": "backlog", "Expression": "visible / tasks", "ReturnData": True},
                        ]
                    },
                },
            },
        },
        "Wake": {
            "Type": "AWS::ApplicationAutoScaling::ScalingPolicy",
            "Properties": {
                "PolicyName": "worker-wake",
                "PolicyType": "StepScaling",
                "ScalingTargetId": {"Ref": "Target"},
                "StepScalingPolicyConfiguration": {
                    "AdjustmentType": "ExactCapacity",
                    "Cooldown": 60,
                    "StepAdjustments": [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}],
                },
            },
        },
        "WakeAlarm": {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmName": "worker-wake",
                "Namespace": "AWS/SQS",
                "MetricName": "ApproximateNumberOfMessagesVisible",
                "Dimensions": [{"Name": "QueueName", "Value": queue_name}],
                "Statistic": "Maximum",
                "Period": 60,
                "EvaluationPeriods": 1,
                "Threshold": 1,
                "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                "TreatMissingData": "notBreaching",
                "AlarmActions": [{"Ref": "Wake"}],
            },
        },
        # Another queue's messages: the wake alarm watches its own queue only.
        "Other": {"Type": "AWS::SQS::Queue"},
    }
    if scale_in:
        # A step policy back to zero once no message has waited for a whole period.
        resources["Sleep"] = {
            "Type": "AWS::ApplicationAutoScaling::ScalingPolicy",
            "Properties": {
                "PolicyName": "worker-sleep",
                "PolicyType": "StepScaling",
                "ScalingTargetId": {"Ref": "Target"},
                "StepScalingPolicyConfiguration": {
                    "AdjustmentType": "ExactCapacity",
                    "StepAdjustments": [{"MetricIntervalUpperBound": 0, "ScalingAdjustment": 0}],
                },
            },
        }
        resources["SleepAlarm"] = {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmName": "worker-sleep",
                "Namespace": "AWS/SQS",
                "MetricName": "ApproximateNumberOfMessagesVisible",
                "Dimensions": [{"Name": "QueueName", "Value": queue_name}],
                "Statistic": "Maximum",
                "Period": 60,
                "EvaluationPeriods": 1,
                "Threshold": 1,
                "ComparisonOperator": "LessThanThreshold",
                "AlarmActions": [{"Ref": "Sleep"}],
            },
        }
    return {"Resources": resources}


def _deploy(aws: Any, scale_in: bool) -> None:
    cfn = aws("cloudformation")
    cfn.create_stack(StackName="scaling", TemplateBody=json.dumps(_template(scale_in)))
    deadline = time.monotonic() + 60
    while (status := cfn.describe_stacks(StackName="scaling")["Stacks"][0]["StackStatus"]).endswith(
        "_IN_PROGRESS"
    ):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert status == "CREATE_COMPLETE", cfn.describe_stack_events(StackName="scaling")


def _desired(aws: Any) -> int:
    ecs = aws("ecs")
    (cluster,) = ecs.list_clusters()["clusterArns"]
    (service,) = ecs.describe_services(cluster=cluster, services=[_WORKER])["services"]
    return int(service["desiredCount"])


def _wait_for_desired(aws: Any, wanted: int, seconds: float) -> float:
    start = time.monotonic()
    while _desired(aws) != wanted:
        assert time.monotonic() - start < seconds, f"desired count still {_desired(aws)}"
        time.sleep(0.5)
    return time.monotonic() - start


def _queue_url(aws: Any, logical_id: str) -> str:
    resource = aws("cloudformation").describe_stack_resource(
        StackName="scaling", LogicalResourceId=logical_id
    )["StackResourceDetail"]
    return str(resource["PhysicalResourceId"])


def test_a_waiting_message_wakes_the_worker_from_zero(aws: Any) -> None:
    _deploy(aws, scale_in=False)
    assert _desired(aws) == 0
    # Messages on another queue wake nothing.
    aws("sqs").send_message(QueueUrl=_queue_url(aws, "Other"), MessageBody="not for the worker")
    time.sleep(8)
    assert _desired(aws) == 0
    aws("sqs").send_message(QueueUrl=_queue_url(aws, "Jobs"), MessageBody='{"job": 1}')
    _wait_for_desired(aws, 1, _WAKE_SECONDS)
    (alarm,) = aws("cloudwatch").describe_alarms(AlarmNames=["worker-wake"])["MetricAlarms"]
    assert alarm["StateValue"] == "ALARM"
    activities = aws("application-autoscaling").describe_scaling_activities(ServiceNamespace="ecs")[
        "ScalingActivities"
    ]
    assert [a["Description"] for a in activities] == ["Setting desired count to 1."]
    assert activities[0]["StatusCode"] == "Successful"
    assert "worker-wake" in activities[0]["Cause"]


def test_the_worker_sleeps_once_the_queue_is_empty(aws: Any) -> None:
    """A scale-in step policy on the same metric (Maximum < 1): once the minute's datapoint
    sees no waiting message, the count goes back to zero."""
    _deploy(aws, scale_in=True)
    sqs = aws("sqs")
    url = _queue_url(aws, "Jobs")
    sqs.send_message(QueueUrl=url, MessageBody='{"job": 1}')
    _wait_for_desired(aws, 1, _WAKE_SECONDS)
    (message,) = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    _wait_for_desired(aws, 0, _WAKE_SECONDS)
    activities = aws("application-autoscaling").describe_scaling_activities(ServiceNamespace="ecs")[
        "ScalingActivities"
    ]
    # Newest first.
    assert [a["Description"] for a in activities] == [
        "Setting desired count to 0.",
        "Setting desired count to 1.",
    ]
    assert "worker-sleep" in activities[0]["Cause"]
