"""The app tier's resource types on the patched emulator, through CloudFormation.

Each test deploys small templates through change sets, as fargo does, and reads
the result back with the service's own describe calls: what ministack 1.5.33
does unpatched is checked as much as what src/fargo/local/patches/ adds. Every
test runs in a fresh 12-digit account (the ``aws`` fixture).
"""

from __future__ import annotations

import copy
import json
import secrets
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.emulator

_TIMEOUT_SECONDS = 30
_POLL_SECONDS = 0.1
_ECS_DIMENSION = "ecs:service:DesiredCount"
_ALB_LABEL = "app/web/50dc6c495c0c9188/targetgroup/api/943f017f100becff"

Template = dict[str, Any]


def _wait_stack(cfn: Any, stack: str) -> dict[str, Any]:
    deadline = time.monotonic() + _TIMEOUT_SECONDS
    while True:
        found: dict[str, Any] = cfn.describe_stacks(StackName=stack)["Stacks"][0]
        if not found["StackStatus"].endswith("_IN_PROGRESS"):
            return found
        assert time.monotonic() < deadline, f"{stack} still {found['StackStatus']}"
        time.sleep(_POLL_SECONDS)


def _failures(cfn: Any, stack: str) -> list[str]:
    events = cfn.describe_stack_events(StackName=stack)["StackEvents"]
    return [
        f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason')}"
        for e in events
        if e["ResourceStatus"].endswith("_FAILED")
    ]


def _change_set(cfn: Any, stack: str, template: Template, kind: str) -> dict[str, Any]:
    name = f"cs-{secrets.token_hex(4)}"
    cfn.create_change_set(
        StackName=stack,
        ChangeSetName=name,
        ChangeSetType=kind,
        TemplateBody=json.dumps(template),
        Capabilities=["CAPABILITY_IAM"],
    )
    deadline = time.monotonic() + _TIMEOUT_SECONDS
    while True:
        change_set: dict[str, Any] = cfn.describe_change_set(StackName=stack, ChangeSetName=name)
        if change_set["Status"] not in ("CREATE_PENDING", "CREATE_IN_PROGRESS"):
            assert change_set["Status"] == "CREATE_COMPLETE", change_set.get("StatusReason")
            return change_set
        assert time.monotonic() < deadline, f"change set {name} still {change_set['Status']}"
        time.sleep(_POLL_SECONDS)


def _replacements(change_set: dict[str, Any]) -> dict[str, str]:
    """Logical id -> Replacement of each Modify, "Remove" for each removal."""
    found = {}
    for change in change_set["Changes"]:
        rc = change["ResourceChange"]
        if rc["Action"] == "Modify":
            found[rc["LogicalResourceId"]] = rc["Replacement"]
        elif rc["Action"] == "Remove":
            found[rc["LogicalResourceId"]] = "Remove"
    return found


def _execute(cfn: Any, stack: str, change_set: dict[str, Any], expected: str) -> dict[str, Any]:
    cfn.execute_change_set(StackName=stack, ChangeSetName=change_set["ChangeSetName"])
    done = _wait_stack(cfn, stack)
    assert done["StackStatus"] == expected, _failures(cfn, stack)
    return done


def _create(cfn: Any, stack: str, template: Template) -> dict[str, str]:
    """Create the stack through a CREATE change set; return its outputs."""
    done = _execute(cfn, stack, _change_set(cfn, stack, template, "CREATE"), "CREATE_COMPLETE")
    return {o["OutputKey"]: o["OutputValue"] for o in done.get("Outputs", [])}


def _update(cfn: Any, stack: str, template: Template, expected: str = "UPDATE_COMPLETE") -> Any:
    """Update through an UPDATE change set; return its Replacement per resource."""
    change_set = _change_set(cfn, stack, template, "UPDATE")
    _execute(cfn, stack, change_set, expected)
    return _replacements(change_set)


def _delete(cfn: Any, stack: str) -> None:
    """Delete, and follow the stack by its ID: a deleted stack has no name."""
    stack_id = cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackId"]
    cfn.delete_stack(StackName=stack)
    assert _wait_stack(cfn, stack_id)["StackStatus"] == "DELETE_COMPLETE"


def _network() -> Template:
    """A VPC with a subnet in each of two zones and a security group."""
    subnets = {
        f"Subnet{n}": {
            "Type": "AWS::EC2::Subnet",
            "Properties": {
                "VpcId": {"Ref": "Vpc"},
                "CidrBlock": f"10.30.{n}.0/24",
                "AvailabilityZone": f"us-east-1{zone}",
            },
        }
        for n, zone in ((1, "a"), (2, "b"))
    }
    return {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.30.0.0/16"}},
        **subnets,
        "Group": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {"GroupDescription": "app tier", "VpcId": {"Ref": "Vpc"}},
        },
    }


def _ecs(service_name: str = "worker") -> Template:
    """A cluster, a Fargate task definition and a service running it."""
    return {
        **_network(),
        "Cluster": {"Type": "AWS::ECS::Cluster", "Properties": {"ClusterName": "app"}},
        "Task": {
            "Type": "AWS::ECS::TaskDefinition",
            "Properties": {
                "Family": "job",
                "Cpu": "256",
                "Memory": "512",
                "NetworkMode": "awsvpc",
                "RequiresCompatibilities": ["FARGATE"],
                "ContainerDefinitions": [
                    {"Name": "job", "Image": "registry.example/job:1", "Essential": True}
                ],
            },
        },
        "Service": {
            "Type": "AWS::ECS::Service",
            "Properties": {
                "ServiceName": service_name,
                "Cluster": {"Ref": "Cluster"},
                "TaskDefinition": {"Ref": "Task"},
                "LaunchType": "FARGATE",
                "NetworkConfiguration": {
                    "AwsvpcConfiguration": {
                        "Subnets": [{"Ref": "Subnet1"}],
                        "SecurityGroups": [{"Ref": "Group"}],
                        "AssignPublicIp": "ENABLED",
                    }
                },
            },
        },
    }


def _outputs(**values: Any) -> dict[str, Any]:
    return {key: {"Value": value} for key, value in values.items()}


def _get_att(logical_id: str, attribute: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, attribute]}


def test_serverless_cache_deploys_updates_and_deletes(aws: Any) -> None:
    cfn, elasticache = aws("cloudformation"), aws("elasticache")
    cache = {
        "Type": "AWS::ElastiCache::ServerlessCache",
        "Properties": {
            "ServerlessCacheName": "App-Cache",
            "Engine": "valkey",
            "MajorEngineVersion": "8",
            "SecurityGroupIds": [{"Ref": "Group"}],
            "SubnetIds": [{"Ref": "Subnet1"}, {"Ref": "Subnet2"}],
            "SnapshotRetentionLimit": 1,
            "Tags": [{"Key": "app", "Value": "shop"}],
        },
    }
    template: Template = {
        "Resources": {**_network(), "Cache": cache},
        "Outputs": _outputs(
            Name={"Ref": "Cache"},
            Address=_get_att("Cache", "Endpoint.Address"),
            Port=_get_att("Cache", "Endpoint.Port"),
            Reader=_get_att("Cache", "ReaderEndpoint.Address"),
            Arn=_get_att("Cache", "ARN"),
            Version=_get_att("Cache", "FullEngineVersion"),
            Status=_get_att("Cache", "Status"),
        ),
    }
    out = _create(cfn, "cache", template)

    (described,) = elasticache.describe_serverless_caches()["ServerlessCaches"]
    assert out["Name"] == described["ServerlessCacheName"] == "app-cache"
    assert described["Engine"] == "valkey"
    assert described["MajorEngineVersion"] == "8"
    assert described["Status"] == out["Status"] == "available"
    assert out["Address"] == described["Endpoint"]["Address"]
    assert out["Port"] == str(described["Endpoint"]["Port"])
    assert out["Reader"] == described["ReaderEndpoint"]["Address"]
    assert out["Arn"] == described["ARN"]
    assert out["Arn"].endswith(":serverlesscache:app-cache")
    assert out["Version"] == described["FullEngineVersion"]
    assert len(described["SubnetIds"]) == 2
    assert len(described["SecurityGroupIds"]) == 1
    tags = elasticache.list_tags_for_resource(ResourceName=out["Arn"])["TagList"]
    assert {"Key": "app", "Value": "shop"} in tags

    changed = copy.deepcopy(template)
    props = changed["Resources"]["Cache"]["Properties"]
    props.update(
        Description="sessions",
        SnapshotRetentionLimit=3,
        CacheUsageLimits={"DataStorage": {"Maximum": 5, "Unit": "GB"}},
    )
    assert _update(cfn, "cache", changed) == {"Cache": "False"}
    (described,) = elasticache.describe_serverless_caches()["ServerlessCaches"]
    assert described["Description"] == "sessions"
    assert described["SnapshotRetentionLimit"] == 3
    assert described["CacheUsageLimits"]["DataStorage"]["Maximum"] == 5
    assert described["ARN"] == out["Arn"]

    # A create-only change under the same name is refused, as on AWS.
    keyed = copy.deepcopy(changed)
    keyed["Resources"]["Cache"]["Properties"]["KmsKeyId"] = "alias/cache"
    assert _update(cfn, "cache", keyed, "UPDATE_ROLLBACK_COMPLETE") == {"Cache": "True"}
    assert "custom-named resource requires replacing" in " ".join(_failures(cfn, "cache"))

    _delete(cfn, "cache")
    assert elasticache.describe_serverless_caches()["ServerlessCaches"] == []


def test_replication_group_leaves_a_snapshot_when_its_stack_is_deleted(aws: Any) -> None:
    cfn, elasticache = aws("cloudformation"), aws("elasticache")
    template: Template = {
        "Resources": {
            **_network(),
            "SubnetGroup": {
                "Type": "AWS::ElastiCache::SubnetGroup",
                "Properties": {
                    "Description": "cache subnets",
                    "SubnetIds": [{"Ref": "Subnet1"}, {"Ref": "Subnet2"}],
                },
            },
            "Cache": {
                "Type": "AWS::ElastiCache::ReplicationGroup",
                "DeletionPolicy": "Snapshot",
                "UpdateReplacePolicy": "Snapshot",
                "Properties": {
                    "ReplicationGroupDescription": "sessions",
                    "Engine": "valkey",
                    "CacheNodeType": "cache.t4g.micro",
                    "NumCacheClusters": 1,
                    "TransitEncryptionEnabled": True,
                    "AtRestEncryptionEnabled": True,
                    "CacheSubnetGroupName": {"Ref": "SubnetGroup"},
                    "SecurityGroupIds": [{"Ref": "Group"}],
                },
            },
        },
        "Outputs": _outputs(
            Group={"Ref": "Cache"},
            SubnetGroup={"Ref": "SubnetGroup"},
            Address=_get_att("Cache", "PrimaryEndPoint.Address"),
            Port=_get_att("Cache", "PrimaryEndPoint.Port"),
        ),
    }
    out = _create(cfn, "nodes", template)

    (group,) = elasticache.describe_replication_groups()["ReplicationGroups"]
    assert group["ReplicationGroupId"] == out["Group"]
    assert group["TransitEncryptionEnabled"] is True
    assert group["AtRestEncryptionEnabled"] is True
    primary = group["NodeGroups"][0]["PrimaryEndpoint"]
    assert (out["Address"], out["Port"]) == (primary["Address"], str(primary["Port"]))
    (subnets,) = elasticache.describe_cache_subnet_groups()["CacheSubnetGroups"]
    assert subnets["CacheSubnetGroupName"] == out["SubnetGroup"]
    assert len(subnets["Subnets"]) == 2

    # AtRestEncryptionEnabled replaces the group; UpdateReplacePolicy keeps a snapshot.
    replaced = copy.deepcopy(template)
    replaced["Resources"]["Cache"]["Properties"]["AtRestEncryptionEnabled"] = False
    assert _update(cfn, "nodes", replaced) == {"Cache": "True"}
    snapshots = elasticache.describe_snapshots()["Snapshots"]
    assert [s["ReplicationGroupId"] for s in snapshots] == [out["Group"]]

    _delete(cfn, "nodes")
    assert elasticache.describe_replication_groups()["ReplicationGroups"] == []
    snapshots = elasticache.describe_snapshots()["Snapshots"]
    assert len(snapshots) == 2
    assert all(s["SnapshotName"].endswith("-final-snapshot") for s in snapshots)


def _scaling_template() -> Template:
    queue_depth = {
        "Id": "visible",
        "ReturnData": False,
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/SQS",
                "MetricName": "ApproximateNumberOfMessagesVisible",
                "Dimensions": [{"Name": "QueueName", "Value": _get_att("Jobs", "QueueName")}],
            },
            "Stat": "Sum",
        },
    }
    running = {
        "Id": "running",
        "ReturnData": False,
        "MetricStat": {
            "Metric": {
                "Namespace": "ECS/ContainerInsights",
                "MetricName": "RunningTaskCount",
                "Dimensions": [
                    {"Name": "ClusterName", "Value": "app"},
                    {"Name": "ServiceName", "Value": "worker"},
                ],
            },
            "Stat": "Average",
        },
    }

    def tracking(name: str, configuration: dict[str, Any]) -> dict[str, Any]:
        return {
            "Type": "AWS::ApplicationAutoScaling::ScalingPolicy",
            "Properties": {
                "PolicyName": name,
                "PolicyType": "TargetTrackingScaling",
                "ScalingTargetId": {"Ref": "Target"},
                "TargetTrackingScalingPolicyConfiguration": configuration,
            },
        }

    return {
        "Resources": {
            **_ecs(),
            "Jobs": {"Type": "AWS::SQS::Queue", "Properties": {}},
            "Target": {
                "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
                "Properties": {
                    "ServiceNamespace": "ecs",
                    "ScalableDimension": _ECS_DIMENSION,
                    "ResourceId": {
                        "Fn::Join": [
                            "/",
                            ["service", {"Ref": "Cluster"}, _get_att("Service", "Name")],
                        ]
                    },
                    "MinCapacity": 2,
                    "MaxCapacity": 4,
                },
            },
            "Cpu": tracking(
                "cpu",
                {
                    "TargetValue": 60,
                    "ScaleInCooldown": 120,
                    "ScaleOutCooldown": 60,
                    "PredefinedMetricSpecification": {
                        "PredefinedMetricType": "ECSServiceAverageCPUUtilization"
                    },
                },
            ),
            "Memory": tracking(
                "memory",
                {
                    "TargetValue": 75,
                    "DisableScaleIn": True,
                    "PredefinedMetricSpecification": {
                        "PredefinedMetricType": "ECSServiceAverageMemoryUtilization"
                    },
                },
            ),
            "Requests": tracking(
                "requests",
                {
                    "TargetValue": 500,
                    "PredefinedMetricSpecification": {
                        "PredefinedMetricType": "ALBRequestCountPerTarget",
                        "ResourceLabel": _ALB_LABEL,
                    },
                },
            ),
            "Backlog": tracking(
                "backlog",
                {
                    "TargetValue": 10,
                    "CustomizedMetricSpecification": {
                        "Metrics": [
                            queue_depth,
                            running,
                            {
                                "Id": "perTask",
                                "Expression": "visible / running",
                                "ReturnData": True,
                            },
                        ]
                    },
                },
            ),
            "Wake": {
                "Type": "AWS::ApplicationAutoScaling::ScalingPolicy",
                "Properties": {
                    "PolicyName": "wake",
                    "PolicyType": "StepScaling",
                    "ScalingTargetId": {"Ref": "Target"},
                    "StepScalingPolicyConfiguration": {
                        "AdjustmentType": "ExactCapacity",
                        "Cooldown": 60,
                        "MetricAggregationType": "Maximum",
                        "StepAdjustments": [
                            {"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}
                        ],
                    },
                },
            },
        },
        "Outputs": _outputs(
            Target={"Ref": "Target"},
            TargetId=_get_att("Target", "Id"),
            Cpu={"Ref": "Cpu"},
            BacklogArn=_get_att("Backlog", "Arn"),
        ),
    }


def _check_policies(scaling: Any, cloudwatch: Any, out: dict[str, str]) -> None:
    """The five policies of _scaling_template, and the alarms target tracking made."""
    policies = {
        p["PolicyName"]: p
        for p in scaling.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]
    }
    assert set(policies) == {"cpu", "memory", "requests", "backlog", "wake"}
    assert policies["cpu"]["PolicyARN"] == out["Cpu"]
    assert out["Cpu"].startswith("arn:aws:autoscaling:us-east-1:")
    assert out["Cpu"].endswith(":resource/ecs/service/app/worker:policyName/cpu")
    assert policies["backlog"]["PolicyARN"] == out["BacklogArn"]
    cpu = policies["cpu"]["TargetTrackingScalingPolicyConfiguration"]
    assert cpu["TargetValue"] == 60
    assert cpu["PredefinedMetricSpecification"]["PredefinedMetricType"] == (
        "ECSServiceAverageCPUUtilization"
    )
    requests = policies["requests"]["TargetTrackingScalingPolicyConfiguration"]
    assert requests["PredefinedMetricSpecification"]["ResourceLabel"].startswith("app/web/")
    backlog = policies["backlog"]["TargetTrackingScalingPolicyConfiguration"]
    expressions = [m.get("Expression") for m in backlog["CustomizedMetricSpecification"]["Metrics"]]
    assert expressions == [None, None, "visible / running"]
    assert policies["wake"]["PolicyType"] == "StepScaling"
    assert policies["wake"]["StepScalingPolicyConfiguration"]["StepAdjustments"] == [
        {"MetricIntervalLowerBound": 0.0, "ScalingAdjustment": 1}
    ]
    # Target tracking creates its alarms, as on AWS: no scale-in alarm when it is disabled.
    alarm_counts = {name: len(p["Alarms"]) for name, p in policies.items()}
    assert alarm_counts == {"cpu": 2, "memory": 1, "requests": 2, "backlog": 2, "wake": 0}
    alarms = {a["AlarmName"]: a for a in cloudwatch.describe_alarms()["MetricAlarms"]}
    (high,) = [a for a in policies["requests"]["Alarms"] if "-AlarmHigh-" in a["AlarmName"]]
    assert alarms[high["AlarmName"]]["Dimensions"] == [
        {"Name": "TargetGroup", "Value": "targetgroup/api/943f017f100becff"}
    ]


def test_application_autoscaling_targets_and_policies(aws: Any) -> None:
    cfn, scaling = aws("cloudformation"), aws("application-autoscaling")
    cloudwatch = aws("cloudwatch")
    template = _scaling_template()
    out = _create(cfn, "scaling", template)

    assert out["Target"] == out["TargetId"] == f"service/app/worker|{_ECS_DIMENSION}|ecs"
    (target,) = scaling.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]
    assert (target["ResourceId"], target["MinCapacity"], target["MaxCapacity"]) == (
        "service/app/worker",
        2,
        4,
    )
    assert target["RoleARN"].endswith("/AWSServiceRoleForApplicationAutoScaling_ECSService")
    # The service started at the default desired count of 1; registration lifts it to the minimum.
    (service,) = aws("ecs").describe_services(cluster="app", services=["worker"])["services"]
    assert service["desiredCount"] == 2

    _check_policies(scaling, cloudwatch, out)

    changed = copy.deepcopy(template)
    changed["Resources"]["Target"]["Properties"]["MaxCapacity"] = 8
    tracked = changed["Resources"]["Cpu"]["Properties"]["TargetTrackingScalingPolicyConfiguration"]
    tracked["TargetValue"] = 70
    del changed["Resources"]["Requests"]
    assert _update(cfn, "scaling", changed) == {
        "Target": "False",
        "Cpu": "False",
        "Requests": "Remove",
    }
    (target,) = scaling.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]
    assert target["MaxCapacity"] == 8
    policies = {
        p["PolicyName"]: p
        for p in scaling.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]
    }
    assert "requests" not in policies
    assert policies["cpu"]["PolicyARN"] == out["Cpu"]
    assert policies["cpu"]["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 70

    _delete(cfn, "scaling")
    assert scaling.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"] == []
    assert scaling.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"] == []
    assert cloudwatch.describe_alarms()["MetricAlarms"] == []

    # The API refuses what AWS refuses.
    with pytest.raises(ClientError, match="ECS service doesn't exist"):
        scaling.register_scalable_target(
            ServiceNamespace="ecs",
            ResourceId="service/app/gone",
            ScalableDimension=_ECS_DIMENSION,
            MinCapacity=1,
            MaxCapacity=2,
        )
    with pytest.raises(ClientError) as refused:
        scaling.put_scaling_policy(
            PolicyName="orphan",
            ServiceNamespace="ecs",
            ResourceId="service/app/gone",
            ScalableDimension=_ECS_DIMENSION,
            PolicyType="StepScaling",
            StepScalingPolicyConfiguration={"AdjustmentType": "ChangeInCapacity"},
        )
    assert refused.value.response["Error"]["Code"] == "ObjectNotFoundException"


def test_queue_with_dead_letter_queue_and_queue_policy(aws: Any, account: str) -> None:
    cfn, sqs = aws("cloudformation"), aws("sqs")
    template: Template = {
        "Resources": {
            "DeadLetter": {
                "Type": "AWS::SQS::Queue",
                "Properties": {"MessageRetentionPeriod": 1209600, "SqsManagedSseEnabled": True},
            },
            "Jobs": {
                "Type": "AWS::SQS::Queue",
                "Properties": {
                    "VisibilityTimeout": 60,
                    "KmsMasterKeyId": "alias/aws/sqs",
                    "RedrivePolicy": {
                        "deadLetterTargetArn": _get_att("DeadLetter", "Arn"),
                        "maxReceiveCount": 5,
                    },
                },
            },
            "JobsPolicy": {
                "Type": "AWS::SQS::QueuePolicy",
                "Properties": {
                    "Queues": [{"Ref": "Jobs"}],
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Deny",
                                "Principal": "*",
                                "Action": "sqs:*",
                                "Resource": _get_att("Jobs", "Arn"),
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        ],
                    },
                },
            },
        },
        "Outputs": _outputs(
            Url={"Ref": "Jobs"},
            Arn=_get_att("Jobs", "Arn"),
            Name=_get_att("Jobs", "QueueName"),
            DeadLetterArn=_get_att("DeadLetter", "Arn"),
        ),
    }
    out = _create(cfn, "queues", template)

    # Ref is the queue URL; ministack names its own host there, GetQueueUrl the one it was
    # asked on, so only the path is compared.
    url = sqs.get_queue_url(QueueName=out["Name"])["QueueUrl"]
    assert out["Url"].rsplit("/", 2)[1:] == url.rsplit("/", 2)[1:] == [account, out["Name"]]
    attributes = sqs.get_queue_attributes(QueueUrl=out["Url"], AttributeNames=["All"])["Attributes"]
    assert attributes["QueueArn"] == out["Arn"]
    assert out["Arn"].endswith(f":{out['Name']}")
    assert json.loads(attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": out["DeadLetterArn"],
        "maxReceiveCount": 5,
    }
    assert attributes["KmsMasterKeyId"] == "alias/aws/sqs"
    assert attributes["VisibilityTimeout"] == "60"
    policy = json.loads(attributes["Policy"])
    assert policy["Statement"][0]["Resource"] == out["Arn"]
    dead_letter_url = sqs.get_queue_url(QueueName=out["DeadLetterArn"].rsplit(":", 1)[-1])
    dead_letter = sqs.get_queue_attributes(
        QueueUrl=dead_letter_url["QueueUrl"], AttributeNames=["All"]
    )["Attributes"]
    assert dead_letter["SqsManagedSseEnabled"] == "true"
    assert dead_letter["MessageRetentionPeriod"] == "1209600"

    changed = copy.deepcopy(template)
    jobs = changed["Resources"]["Jobs"]["Properties"]
    jobs["RedrivePolicy"]["maxReceiveCount"] = 3
    del jobs["KmsMasterKeyId"]
    jobs["SqsManagedSseEnabled"] = True
    assert _update(cfn, "queues", changed)["Jobs"] == "False"
    attributes = sqs.get_queue_attributes(QueueUrl=out["Url"], AttributeNames=["All"])["Attributes"]
    assert json.loads(attributes["RedrivePolicy"])["maxReceiveCount"] == 3
    assert "KmsMasterKeyId" not in attributes
    assert attributes["SqsManagedSseEnabled"] == "true"

    _delete(cfn, "queues")
    assert not sqs.list_queues().get("QueueUrls")


def test_bucket_configuration_policy_and_retain(aws: Any) -> None:
    cfn, s3 = aws("cloudformation"), aws("s3")
    template: Template = {
        "Resources": {
            "Uploads": {
                "Type": "AWS::S3::Bucket",
                "DeletionPolicy": "Retain",
                "UpdateReplacePolicy": "Retain",
                "Properties": {
                    "PublicAccessBlockConfiguration": dict.fromkeys(
                        (
                            "BlockPublicAcls",
                            "BlockPublicPolicy",
                            "IgnorePublicAcls",
                            "RestrictPublicBuckets",
                        ),
                        True,
                    ),
                    "BucketEncryption": {
                        "ServerSideEncryptionConfiguration": [
                            {
                                "BucketKeyEnabled": True,
                                "ServerSideEncryptionByDefault": {
                                    "SSEAlgorithm": "aws:kms",
                                    "KMSMasterKeyID": "alias/aws/s3",
                                },
                            }
                        ]
                    },
                    "VersioningConfiguration": {"Status": "Enabled"},
                    "LifecycleConfiguration": {
                        "Rules": [
                            {
                                "Id": "expire-old-versions",
                                "Status": "Enabled",
                                "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
                                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
                            }
                        ]
                    },
                    "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                    "Tags": [{"Key": "app", "Value": "shop"}],
                },
            },
            "UploadsPolicy": {
                "Type": "AWS::S3::BucketPolicy",
                "Properties": {
                    "Bucket": {"Ref": "Uploads"},
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Deny",
                                "Principal": "*",
                                "Action": "s3:*",
                                "Resource": [
                                    _get_att("Uploads", "Arn"),
                                    {"Fn::Sub": "${Uploads.Arn}/*"},
                                ],
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        ],
                    },
                },
            },
        },
        "Outputs": _outputs(
            Name={"Ref": "Uploads"}, Arn=_get_att("Uploads", "Arn"), Policy={"Ref": "UploadsPolicy"}
        ),
    }
    out = _create(cfn, "buckets", template)
    bucket = out["Name"]
    assert out["Arn"] == f"arn:aws:s3:::{bucket}"
    assert out["Policy"] == bucket

    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    (rule,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": "alias/aws/s3",
    }
    assert rule["BucketKeyEnabled"] is True
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    (lifecycle,) = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert lifecycle["ID"] == "expire-old-versions"
    assert lifecycle["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30
    assert lifecycle["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 7
    ownership = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]
    assert ownership["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "app", "Value": "shop"}]
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    assert policy["Statement"][0]["Resource"] == [out["Arn"], f"{out['Arn']}/*"]

    # Configuration changes update the bucket in place: not a replacement fargo must guard.
    changed = copy.deepcopy(template)
    props = changed["Resources"]["Uploads"]["Properties"]
    props["VersioningConfiguration"] = {"Status": "Suspended"}
    del props["BucketEncryption"]
    del props["LifecycleConfiguration"]
    assert _update(cfn, "buckets", changed)["Uploads"] == "False"
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"
    (rule,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    with pytest.raises(ClientError, match="NoSuchLifecycleConfiguration"):
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)

    _delete(cfn, "buckets")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == [bucket]
    with pytest.raises(ClientError, match="NoSuchBucketPolicy"):
        s3.get_bucket_policy(Bucket=bucket)


def test_email_identity_publishes_its_dkim_records(aws: Any) -> None:
    cfn, sesv2 = aws("cloudformation"), aws("sesv2")
    template: Template = {
        "Resources": {
            "Mail": {
                "Type": "AWS::SES::ConfigurationSet",
                "Properties": {
                    "Name": "shop-mail",
                    "SendingOptions": {"SendingEnabled": True},
                    "ReputationOptions": {"ReputationMetricsEnabled": True},
                    "SuppressionOptions": {"SuppressedReasons": ["BOUNCE", "COMPLAINT"]},
                },
            },
            "Identity": {
                "Type": "AWS::SES::EmailIdentity",
                "Properties": {
                    "EmailIdentity": "shop.example.com",
                    "DkimSigningAttributes": {"NextSigningKeyLength": "RSA_2048_BIT"},
                    "DkimAttributes": {"SigningEnabled": True},
                    "ConfigurationSetAttributes": {"ConfigurationSetName": {"Ref": "Mail"}},
                },
            },
        },
        "Outputs": {
            "Identity": {"Value": {"Ref": "Identity"}},
            "ConfigurationSet": {"Value": {"Ref": "Mail"}},
            **{
                f"{kind}{n}": {"Value": _get_att("Identity", f"DkimDNSToken{kind}{n}")}
                for kind in ("Name", "Value")
                for n in (1, 2, 3)
            },
        },
    }
    out = _create(cfn, "mail", template)

    assert out["Identity"] == "shop.example.com"
    assert out["ConfigurationSet"] == "shop-mail"
    identity = sesv2.get_email_identity(EmailIdentity="shop.example.com")
    dkim = identity["DkimAttributes"]
    assert dkim["SigningEnabled"] is True
    assert dkim["Status"] == "PENDING"
    assert dkim["NextSigningKeyLength"] == "RSA_2048_BIT"
    assert identity["ConfigurationSetName"] == "shop-mail"
    for n, token in enumerate(dkim["Tokens"], 1):
        assert out[f"Name{n}"] == f"{token}._domainkey.shop.example.com"
        assert out[f"Value{n}"] == f"{token}.dkim.amazonses.com"
    mail = sesv2.get_configuration_set(ConfigurationSetName="shop-mail")
    assert mail["SendingOptions"]["SendingEnabled"] is True
    assert mail["SuppressionOptions"]["SuppressedReasons"] == ["BOUNCE", "COMPLAINT"]

    changed = copy.deepcopy(template)
    changed["Resources"]["Identity"]["Properties"]["DkimAttributes"]["SigningEnabled"] = False
    assert _update(cfn, "mail", changed) == {"Identity": "False"}
    dkim_after = sesv2.get_email_identity(EmailIdentity="shop.example.com")["DkimAttributes"]
    assert dkim_after["SigningEnabled"] is False
    assert dkim_after["Tokens"] == dkim["Tokens"]

    _delete(cfn, "mail")
    assert sesv2.list_email_identities()["EmailIdentities"] == []
    assert sesv2.list_configuration_sets()["ConfigurationSets"] == []


def test_schedule_runs_an_ecs_task_definition(aws: Any) -> None:
    cfn, scheduler = aws("cloudformation"), aws("scheduler")
    network_configuration = {
        "AwsvpcConfiguration": {
            "Subnets": [{"Ref": "Subnet1"}, {"Ref": "Subnet2"}],
            "SecurityGroups": [{"Ref": "Group"}],
            "AssignPublicIp": "DISABLED",
        }
    }
    template: Template = {
        "Resources": {
            **_ecs(),
            "SchedulerRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "scheduler.amazonaws.com"},
                                "Action": "sts:AssumeRole",
                            }
                        ],
                    }
                },
            },
            "Missed": {"Type": "AWS::SQS::Queue", "Properties": {}},
            "Nightly": {
                "Type": "AWS::Scheduler::Schedule",
                "Properties": {
                    "Description": "nightly job",
                    "ScheduleExpression": "cron(0 3 * * ? *)",
                    "ScheduleExpressionTimezone": "Europe/Berlin",
                    "State": "ENABLED",
                    "FlexibleTimeWindow": {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15},
                    "Target": {
                        "Arn": _get_att("Cluster", "Arn"),
                        "RoleArn": _get_att("SchedulerRole", "Arn"),
                        "EcsParameters": {
                            "TaskDefinitionArn": {"Ref": "Task"},
                            "LaunchType": "FARGATE",
                            "TaskCount": 1,
                            "NetworkConfiguration": network_configuration,
                        },
                        "RetryPolicy": {
                            "MaximumEventAgeInSeconds": 3600,
                            "MaximumRetryAttempts": 2,
                        },
                        "DeadLetterConfig": {"Arn": _get_att("Missed", "Arn")},
                    },
                },
            },
            "Frequent": {
                "Type": "AWS::Scheduler::Schedule",
                "Properties": {
                    "Name": "every-five-minutes",
                    "ScheduleExpression": "rate(5 minutes)",
                    "FlexibleTimeWindow": {"Mode": "OFF"},
                    "Target": {
                        "Arn": _get_att("Cluster", "Arn"),
                        "RoleArn": _get_att("SchedulerRole", "Arn"),
                        "EcsParameters": {
                            "TaskDefinitionArn": {"Ref": "Task"},
                            "CapacityProviderStrategy": [
                                {"CapacityProvider": "FARGATE_SPOT", "Weight": 1, "Base": 0}
                            ],
                            "NetworkConfiguration": network_configuration,
                        },
                    },
                },
            },
        },
        "Outputs": _outputs(
            Nightly={"Ref": "Nightly"},
            NightlyArn=_get_att("Nightly", "Arn"),
            Frequent={"Ref": "Frequent"},
            Cluster=_get_att("Cluster", "Arn"),
            Task={"Ref": "Task"},
            Missed=_get_att("Missed", "Arn"),
        ),
    }
    out = _create(cfn, "schedules", template)

    nightly = scheduler.get_schedule(Name=out["Nightly"])
    assert nightly["Arn"] == out["NightlyArn"]
    assert nightly["ScheduleExpression"] == "cron(0 3 * * ? *)"
    assert nightly["ScheduleExpressionTimezone"] == "Europe/Berlin"
    assert nightly["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15}
    target = nightly["Target"]
    assert target["Arn"] == out["Cluster"]
    assert target["DeadLetterConfig"] == {"Arn": out["Missed"]}
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 2}
    ecs = target["EcsParameters"]
    assert ecs["TaskDefinitionArn"] == out["Task"]
    assert ecs["LaunchType"] == "FARGATE"
    vpc = ecs["NetworkConfiguration"]["awsvpcConfiguration"]
    assert (len(vpc["Subnets"]), len(vpc["SecurityGroups"]), vpc["AssignPublicIp"]) == (
        2,
        1,
        "DISABLED",
    )
    frequent = scheduler.get_schedule(Name="every-five-minutes")
    assert frequent["ScheduleExpression"] == "rate(5 minutes)"
    assert frequent["Target"]["EcsParameters"]["CapacityProviderStrategy"] == [
        {"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}
    ]

    changed = copy.deepcopy(template)
    props = changed["Resources"]["Nightly"]["Properties"]
    props["ScheduleExpression"] = "cron(30 4 * * ? *)"
    del props["Target"]["RetryPolicy"]
    del props["Description"]
    assert _update(cfn, "schedules", changed) == {"Nightly": "False"}
    nightly = scheduler.get_schedule(Name=out["Nightly"])
    assert nightly["ScheduleExpression"] == "cron(30 4 * * ? *)"
    assert "RetryPolicy" not in nightly["Target"]
    assert not nightly.get("Description")

    _delete(cfn, "schedules")
    assert scheduler.list_schedules()["Schedules"] == []


def test_alarms_topic_and_service_deployment_alarms(aws: Any) -> None:
    cfn, cloudwatch, sns = aws("cloudformation"), aws("cloudwatch"), aws("sns")
    backlog = [
        {
            "Id": "visible",
            "ReturnData": False,
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/SQS",
                    "MetricName": "ApproximateNumberOfMessagesVisible",
                    "Dimensions": [{"Name": "QueueName", "Value": "jobs"}],
                },
                "Period": 60,
                "Stat": "Sum",
            },
        },
        {
            "Id": "running",
            "ReturnData": False,
            "MetricStat": {
                "Metric": {
                    "Namespace": "ECS/ContainerInsights",
                    "MetricName": "RunningTaskCount",
                    "Dimensions": [
                        {"Name": "ClusterName", "Value": "app"},
                        {"Name": "ServiceName", "Value": "api"},
                    ],
                },
                "Period": 60,
                "Stat": "Average",
            },
        },
        {"Id": "perTask", "Expression": "visible / running", "Label": "backlog per task"},
    ]
    ecs = _ecs("api")
    ecs["Service"]["Properties"]["DeploymentConfiguration"] = {
        "MaximumPercent": 200,
        "MinimumHealthyPercent": 100,
        "Alarms": {"AlarmNames": [{"Ref": "Errors"}], "Enable": True, "Rollback": True},
    }
    template: Template = {
        "Resources": {
            **ecs,
            "Key": {
                "Type": "AWS::KMS::Key",
                "Properties": {
                    "EnableKeyRotation": True,
                    "KeyPolicy": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {
                                    "AWS": {"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:root"}
                                },
                                "Action": "kms:*",
                                "Resource": "*",
                            }
                        ],
                    },
                },
            },
            "Logs": {
                "Type": "AWS::Logs::LogGroup",
                "Properties": {
                    "LogGroupName": "/shop/api",
                    "RetentionInDays": 30,
                    "KmsKeyId": _get_att("Key", "Arn"),
                },
            },
            "Alerts": {
                "Type": "AWS::SNS::Topic",
                "Properties": {"DisplayName": "shop alerts", "KmsMasterKeyId": "alias/aws/sns"},
            },
            "OnCall": {
                "Type": "AWS::SNS::Subscription",
                "Properties": {
                    "TopicArn": {"Ref": "Alerts"},
                    "Protocol": "email",
                    "Endpoint": "ops@example.com",
                },
            },
            "Errors": {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {
                    "AlarmDescription": "api 5xx",
                    "Namespace": "AWS/ApplicationELB",
                    "MetricName": "HTTPCode_Target_5XX_Count",
                    "Dimensions": [{"Name": "LoadBalancer", "Value": "app/web/50dc6c495c0c9188"}],
                    "Statistic": "Sum",
                    "Period": 60,
                    "EvaluationPeriods": 3,
                    "DatapointsToAlarm": 2,
                    "Threshold": 10,
                    "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                    "TreatMissingData": "notBreaching",
                    "AlarmActions": [{"Ref": "Alerts"}],
                },
            },
            "Backlog": {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {
                    "AlarmDescription": "jobs waiting per task",
                    "Metrics": backlog,
                    "EvaluationPeriods": 5,
                    "Threshold": 100,
                    "ComparisonOperator": "GreaterThanThreshold",
                    "AlarmActions": [{"Ref": "Alerts"}],
                    "OKActions": [{"Ref": "Alerts"}],
                },
            },
        },
        "Outputs": _outputs(
            Errors={"Ref": "Errors"},
            ErrorsArn=_get_att("Errors", "Arn"),
            Backlog={"Ref": "Backlog"},
            Topic={"Ref": "Alerts"},
            TopicName=_get_att("Alerts", "TopicName"),
            Subscription={"Ref": "OnCall"},
            Key={"Ref": "Key"},
            KeyArn=_get_att("Key", "Arn"),
            Logs={"Ref": "Logs"},
            Service={"Ref": "Service"},
        ),
    }
    out = _create(cfn, "alarms", template)

    alarms = {a["AlarmName"]: a for a in cloudwatch.describe_alarms()["MetricAlarms"]}
    errors = alarms[out["Errors"]]
    assert errors["AlarmArn"] == out["ErrorsArn"]
    assert (errors["MetricName"], errors["DatapointsToAlarm"], errors["TreatMissingData"]) == (
        "HTTPCode_Target_5XX_Count",
        2,
        "notBreaching",
    )
    assert errors["AlarmActions"] == [out["Topic"]]
    math = alarms[out["Backlog"]]
    assert "MetricName" not in math
    assert "Namespace" not in math
    assert [q["Id"] for q in math["Metrics"]] == ["visible", "running", "perTask"]
    assert math["Metrics"][2]["Expression"] == "visible / running"
    assert math["Metrics"][0]["MetricStat"]["Metric"]["MetricName"] == (
        "ApproximateNumberOfMessagesVisible"
    )
    assert (math["Threshold"], math["EvaluationPeriods"]) == (100.0, 5)

    assert out["Topic"].endswith(f":{out['TopicName']}")
    attributes = sns.get_topic_attributes(TopicArn=out["Topic"])["Attributes"]
    assert attributes["KmsMasterKeyId"] == "alias/aws/sns"
    (subscription,) = sns.list_subscriptions_by_topic(TopicArn=out["Topic"])["Subscriptions"]
    assert subscription["SubscriptionArn"] == out["Subscription"]
    assert (subscription["Protocol"], subscription["Endpoint"]) == ("email", "ops@example.com")

    key = aws("kms").describe_key(KeyId=out["Key"])["KeyMetadata"]
    assert key["Arn"] == out["KeyArn"]
    (logs,) = aws("logs").describe_log_groups(logGroupNamePrefix="/shop/api")["logGroups"]
    assert (out["Logs"], logs["kmsKeyId"], logs["retentionInDays"]) == (
        "/shop/api",
        out["KeyArn"],
        30,
    )

    (service,) = aws("ecs").describe_services(cluster="app", services=[out["Service"]])["services"]
    assert service["deploymentConfiguration"]["alarms"] == {
        "alarmNames": [out["Errors"]],
        "enable": True,
        "rollback": True,
    }

    changed = copy.deepcopy(template)
    resources = changed["Resources"]
    resources["Backlog"]["Properties"]["Threshold"] = 50
    resources["Logs"]["Properties"]["RetentionInDays"] = 14
    resources["Service"]["Properties"]["DeploymentConfiguration"]["Alarms"]["Rollback"] = False
    resources["OnCall"]["Properties"]["Endpoint"] = "pager@example.com"
    assert _update(cfn, "alarms", changed) == {
        "Backlog": "False",
        "Logs": "False",
        "Service": "False",
        "OnCall": "True",
    }
    alarms = {a["AlarmName"]: a for a in cloudwatch.describe_alarms()["MetricAlarms"]}
    assert alarms[out["Backlog"]]["Threshold"] == 50.0
    (logs,) = aws("logs").describe_log_groups(logGroupNamePrefix="/shop/api")["logGroups"]
    assert logs["retentionInDays"] == 14
    (service,) = aws("ecs").describe_services(cluster="app", services=[out["Service"]])["services"]
    assert service["deploymentConfiguration"]["alarms"]["rollback"] is False
    (subscription,) = sns.list_subscriptions_by_topic(TopicArn=out["Topic"])["Subscriptions"]
    assert subscription["Endpoint"] == "pager@example.com"

    _delete(cfn, "alarms")
    assert cloudwatch.describe_alarms()["MetricAlarms"] == []
    assert sns.list_topics()["Topics"] == []


def test_stack_policy_denies_replacing_and_removing_a_protected_resource(aws: Any) -> None:
    cfn, sqs = aws("cloudformation"), aws("sqs")
    template: Template = {
        "Resources": {
            "Orders": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "orders"}},
            "Scratch": {"Type": "AWS::SQS::Queue", "Properties": {}},
        }
    }
    _create(cfn, "guarded", template)
    policy = {
        "Statement": [
            {"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"},
            {
                "Effect": "Deny",
                "Action": ["Update:Replace", "Update:Delete"],
                "Principal": "*",
                "Resource": "LogicalResourceId/Orders",
            },
        ]
    }
    cfn.set_stack_policy(StackName="guarded", StackPolicyBody=json.dumps(policy))
    assert json.loads(cfn.get_stack_policy(StackName="guarded")["StackPolicyBody"]) == policy

    def refused(changed: Template, action: str) -> None:
        _update(cfn, "guarded", changed, "UPDATE_ROLLBACK_COMPLETE")
        events = cfn.describe_stack_events(StackName="guarded")["StackEvents"]
        failed = next(e for e in events if e["ResourceStatus"] == "UPDATE_FAILED")
        assert failed["LogicalResourceId"] == "Orders"
        assert failed["ResourceStatusReason"] == (
            f"Action denied by stack policy: Statement [#2] does not allow [{action}] "
            "for resource [LogicalResourceId/Orders];"
        )
        rollback = next(e for e in events if e["ResourceStatus"] == "UPDATE_ROLLBACK_IN_PROGRESS")
        assert "failed to update: [Orders]" in rollback["ResourceStatusReason"]
        queues = [url.rsplit("/", 1)[-1] for url in sqs.list_queues()["QueueUrls"]]
        assert "orders" in queues
        assert len(queues) == 2

    renamed = copy.deepcopy(template)
    renamed["Resources"]["Orders"]["Properties"]["QueueName"] = "orders-v2"
    refused(renamed, "Update:Replace")
    removed = copy.deepcopy(template)
    del removed["Resources"]["Orders"]
    refused(removed, "Update:Delete")
    in_place = copy.deepcopy(template)
    in_place["Resources"]["Orders"]["Properties"]["VisibilityTimeout"] = 90
    in_place["Resources"]["Scratch"]["Properties"]["QueueName"] = "scratch-v2"
    assert _update(cfn, "guarded", in_place) == {"Orders": "False", "Scratch": "True"}

    # A Deny on "*" covers every resource; a during-update policy lifts it for one UpdateStack.
    deny_all = {
        "Statement": [{"Effect": "Deny", "Action": "Update:*", "Principal": "*", "Resource": "*"}]
    }
    cfn.set_stack_policy(StackName="guarded", StackPolicyBody=json.dumps(deny_all))
    touched = copy.deepcopy(in_place)
    touched["Resources"]["Scratch"]["Properties"]["VisibilityTimeout"] = 5
    _update(cfn, "guarded", touched, "UPDATE_ROLLBACK_COMPLETE")
    events = cfn.describe_stack_events(StackName="guarded")["StackEvents"]
    failed = next(e for e in events if e["ResourceStatus"] == "UPDATE_FAILED")
    assert failed["ResourceStatusReason"] == (
        "Action denied by stack policy: Statement [#1] does not allow [Update:*] for resource [*];"
    )
    allow_all = {
        "Statement": [{"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"}]
    }
    cfn.update_stack(
        StackName="guarded",
        TemplateBody=json.dumps(touched),
        StackPolicyDuringUpdateBody=json.dumps(allow_all),
    )
    assert _wait_stack(cfn, "guarded")["StackStatus"] == "UPDATE_COMPLETE"
    assert json.loads(cfn.get_stack_policy(StackName="guarded")["StackPolicyBody"]) == deny_all


def test_termination_protection_refuses_stack_delete(aws: Any) -> None:
    cfn = aws("cloudformation")
    _create(
        cfn, "protected", {"Resources": {"Jobs": {"Type": "AWS::SQS::Queue", "Properties": {}}}}
    )
    cfn.update_termination_protection(StackName="protected", EnableTerminationProtection=True)
    assert cfn.describe_stacks(StackName="protected")["Stacks"][0]["EnableTerminationProtection"]
    with pytest.raises(
        ClientError, match="cannot be deleted while TerminationProtection is enabled"
    ):
        cfn.delete_stack(StackName="protected")
    assert _wait_stack(cfn, "protected")["StackStatus"] == "CREATE_COMPLETE"
    cfn.update_termination_protection(StackName="protected", EnableTerminationProtection=False)
    _delete(cfn, "protected")
