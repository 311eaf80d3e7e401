"""The gaps fargo's launcher closes in ministack, checked through the AWS APIs.

Each test deploys a small template through CloudFormation, as fargo does, and
reads the result back through the service's own describe call. Every test runs
in a fresh 12-digit account: ministack keys its state by the access key.
"""

import json
import secrets
import time
from collections.abc import Callable
from typing import Any

import boto3
import pytest

pytestmark = pytest.mark.emulator

_TIMEOUT_SECONDS = 30
_POLL_SECONDS = 0.1

Clients = Callable[[str], Any]


@pytest.fixture
def clients(emulator_endpoint: str) -> Clients:
    """A client factory bound to one fresh account on the emulator."""
    account = str(10**11 + secrets.randbelow(9 * 10**11))

    def client(service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=emulator_endpoint,
            region_name="us-east-1",
            aws_access_key_id=account,
            aws_secret_access_key="test",
        )

    return client


def _wait_stack(cfn: Any, stack_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + _TIMEOUT_SECONDS
    while True:
        stack: dict[str, Any] = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]
        if not stack["StackStatus"].endswith("_IN_PROGRESS"):
            return stack
        assert time.monotonic() < deadline, f"{stack_id} still {stack['StackStatus']}"
        time.sleep(_POLL_SECONDS)


def _failure_events(cfn: Any, stack_id: str) -> list[str]:
    events = cfn.describe_stack_events(StackName=stack_id)["StackEvents"]
    return [
        f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason')}"
        for e in events
        if e["ResourceStatus"].endswith("_FAILED")
    ]


def _deploy(cfn: Any, name: str, template: dict[str, Any]) -> dict[str, Any]:
    stack_id = cfn.create_stack(StackName=name, TemplateBody=json.dumps(template))["StackId"]
    stack = _wait_stack(cfn, stack_id)
    assert stack["StackStatus"] == "CREATE_COMPLETE", _failure_events(cfn, stack_id)
    return stack


def _update(cfn: Any, stack_id: str, template: dict[str, Any]) -> dict[str, Any]:
    cfn.update_stack(StackName=stack_id, TemplateBody=json.dumps(template))
    stack = _wait_stack(cfn, stack_id)
    assert stack["StackStatus"] == "UPDATE_COMPLETE", _failure_events(cfn, stack_id)
    return stack


def _delete(cfn: Any, stack_id: str) -> None:
    cfn.delete_stack(StackName=stack_id)
    assert _wait_stack(cfn, stack_id)["StackStatus"] == "DELETE_COMPLETE"


def _change_set(cfn: Any, stack_id: str, template: dict[str, Any]) -> dict[str, Any]:
    name = f"cs-{secrets.token_hex(4)}"
    cfn.create_change_set(StackName=stack_id, ChangeSetName=name, TemplateBody=json.dumps(template))
    deadline = time.monotonic() + _TIMEOUT_SECONDS
    while True:
        change_set: dict[str, Any] = cfn.describe_change_set(StackName=stack_id, ChangeSetName=name)
        if change_set["Status"] not in ("CREATE_PENDING", "CREATE_IN_PROGRESS"):
            return change_set
        assert time.monotonic() < deadline, f"change set {name} still {change_set['Status']}"
        time.sleep(_POLL_SECONDS)


def _outputs(stack: dict[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def _vpc_resources() -> dict[str, Any]:
    """A VPC with two subnets in different zones, as an RDS subnet group needs."""
    subnets = {
        f"Subnet{n}": {
            "Type": "AWS::EC2::Subnet",
            "Properties": {
                "VpcId": {"Ref": "Vpc"},
                "CidrBlock": f"10.20.{n}.0/24",
                "AvailabilityZone": f"us-east-1{zone}",
            },
        }
        for n, zone in ((1, "a"), (2, "b"))
    }
    return {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.20.0.0/16"}},
        **subnets,
    }


_SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-AbCdEf"


def test_task_definition_keeps_nested_container_settings(clients: Clients) -> None:
    container = {
        "Name": "web",
        "Image": "registry.example/web:1",
        "Essential": True,
        "Command": ["serve", "--port", "8000"],
        "Environment": [{"Name": "MODE", "Value": "prod"}],
        "Secrets": [{"Name": "DATABASE_URL", "ValueFrom": _SECRET_ARN}],
        "HealthCheck": {
            "Command": ["CMD-SHELL", "curl -f http://localhost:8000/health"],
            "Interval": 15,
            "Timeout": 5,
            "Retries": 3,
            "StartPeriod": 10,
        },
        "LogConfiguration": {
            "LogDriver": "awslogs",
            "Options": {"awslogs-group": "/app/web", "awslogs-stream-prefix": "web"},
        },
        "PortMappings": [{"ContainerPort": 8000, "Protocol": "tcp"}],
        "DockerLabels": {"Team": "Core"},
        "Ulimits": [{"Name": "nofile", "SoftLimit": 1024, "HardLimit": 4096}],
    }
    template = {
        "Resources": {
            "Task": {
                "Type": "AWS::ECS::TaskDefinition",
                "Properties": {
                    "Family": "web",
                    "Cpu": "256",
                    "Memory": "512",
                    "NetworkMode": "awsvpc",
                    "RequiresCompatibilities": ["FARGATE"],
                    "RuntimePlatform": {
                        "CpuArchitecture": "ARM64",
                        "OperatingSystemFamily": "LINUX",
                    },
                    "ContainerDefinitions": [container],
                },
            },
        },
        "Outputs": {"Task": {"Value": {"Ref": "Task"}}},
    }
    stack = _deploy(clients("cloudformation"), "task", template)

    described = clients("ecs").describe_task_definition(taskDefinition=_outputs(stack)["Task"])
    task = described["taskDefinition"]
    (web,) = task["containerDefinitions"]
    assert web["secrets"] == [{"name": "DATABASE_URL", "valueFrom": _SECRET_ARN}]
    assert web["healthCheck"] == {
        "command": ["CMD-SHELL", "curl -f http://localhost:8000/health"],
        "interval": 15,
        "timeout": 5,
        "retries": 3,
        "startPeriod": 10,
    }
    assert web["logConfiguration"] == {
        "logDriver": "awslogs",
        "options": {"awslogs-group": "/app/web", "awslogs-stream-prefix": "web"},
    }
    assert web["environment"] == [{"name": "MODE", "value": "prod"}]
    assert web["command"] == ["serve", "--port", "8000"]
    assert web["essential"] is True
    assert web["dockerLabels"] == {"Team": "Core"}
    assert web["ulimits"] == [{"name": "nofile", "softLimit": 1024, "hardLimit": 4096}]
    assert task["runtimePlatform"] == {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"}


def test_eip_and_nat_gateway_are_provisioned_and_released(clients: Clients) -> None:
    template = {
        "Resources": {
            **_vpc_resources(),
            "Address": {
                "Type": "AWS::EC2::EIP",
                "Properties": {"Domain": "vpc", "Tags": [{"Key": "role", "Value": "nat"}]},
            },
            "Nat": {
                "Type": "AWS::EC2::NatGateway",
                "Properties": {
                    "SubnetId": {"Ref": "Subnet1"},
                    "AllocationId": {"Fn::GetAtt": ["Address", "AllocationId"]},
                },
            },
        },
        "Outputs": {
            "Ip": {"Value": {"Ref": "Address"}},
            "IpAttribute": {"Value": {"Fn::GetAtt": ["Address", "PublicIp"]}},
            "Allocation": {"Value": {"Fn::GetAtt": ["Address", "AllocationId"]}},
            "Nat": {"Value": {"Ref": "Nat"}},
            "Subnet": {"Value": {"Ref": "Subnet1"}},
        },
    }
    cfn, ec2 = clients("cloudformation"), clients("ec2")
    stack = _deploy(cfn, "network", template)
    out = _outputs(stack)

    assert out["Ip"] == out["IpAttribute"]
    (address,) = ec2.describe_addresses(AllocationIds=[out["Allocation"]])["Addresses"]
    assert address["PublicIp"] == out["Ip"]
    assert address["Domain"] == "vpc"
    assert {"Key": "role", "Value": "nat"} in address["Tags"]
    (nat,) = ec2.describe_nat_gateways(NatGatewayIds=[out["Nat"]])["NatGateways"]
    assert nat["State"] == "available"
    assert nat["SubnetId"] == out["Subnet"]

    _delete(cfn, stack["StackId"])
    assert ec2.describe_addresses()["Addresses"] == []
    (nat,) = ec2.describe_nat_gateways(NatGatewayIds=[out["Nat"]])["NatGateways"]
    assert nat["State"] == "deleted"


def _group_rules(ec2: Any, group_id: str) -> tuple[list[Any], list[Any]]:
    (group,) = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"]
    return group["IpPermissions"], group["IpPermissionsEgress"]


def test_security_group_rule_resources_add_and_remove_rules(clients: Clients) -> None:
    groups = {
        name: {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {"GroupDescription": name, "VpcId": {"Ref": "Vpc"}},
        }
        for name in ("Database", "Service")
    }
    rules = {
        "FromService": {
            "Type": "AWS::EC2::SecurityGroupIngress",
            "Properties": {
                "GroupId": {"Ref": "Database"},
                "IpProtocol": "tcp",
                "FromPort": 5432,
                "ToPort": 5432,
                "SourceSecurityGroupId": {"Ref": "Service"},
            },
        },
        "ToDatabase": {
            "Type": "AWS::EC2::SecurityGroupEgress",
            "Properties": {
                "GroupId": {"Ref": "Service"},
                "IpProtocol": "tcp",
                "FromPort": 5432,
                "ToPort": 5432,
                "DestinationSecurityGroupId": {"Ref": "Database"},
            },
        },
    }
    outputs = {
        "Database": {"Value": {"Ref": "Database"}},
        "Service": {"Value": {"Ref": "Service"}},
        "Rule": {"Value": {"Fn::GetAtt": ["FromService", "Id"]}},
    }
    resources = {**_vpc_resources(), **groups}
    cfn, ec2 = clients("cloudformation"), clients("ec2")
    stack = _deploy(cfn, "rules", {"Resources": {**resources, **rules}, "Outputs": outputs})
    out = _outputs(stack)

    assert out["Rule"].startswith("sgr-")
    ingress, _ = _group_rules(ec2, out["Database"])
    assert [(r["FromPort"], [p["GroupId"] for p in r["UserIdGroupPairs"]]) for r in ingress] == [
        (5432, [out["Service"]]),
    ]
    _, egress = _group_rules(ec2, out["Service"])
    assert any([p["GroupId"] for p in r["UserIdGroupPairs"]] == [out["Database"]] for r in egress)

    outputs.pop("Rule")
    _update(cfn, stack["StackId"], {"Resources": resources, "Outputs": outputs})
    assert _group_rules(ec2, out["Database"])[0] == []
    _, egress = _group_rules(ec2, out["Service"])
    assert not any(r["UserIdGroupPairs"] for r in egress)


def test_template_with_null_value_is_refused(clients: Clients) -> None:
    queue = {"Type": "AWS::SQS::Queue", "DependsOn": None}
    cfn = clients("cloudformation")

    with pytest.raises(cfn.exceptions.ClientError) as refused:
        cfn.create_stack(StackName="nulls", TemplateBody=json.dumps({"Resources": {"Q": queue}}))
    error = refused.value.response["Error"]
    assert error["Code"] == "ValidationError"
    assert "[/Resources/Q/DependsOn] 'null' values are not allowed" in error["Message"]


@pytest.mark.parametrize(
    "url",
    [
        "https://{bucket}.s3.us-east-1.amazonaws.com/{key}",  # what fargo sends
        "https://{bucket}.s3.amazonaws.com/{key}",
        "https://s3.us-east-1.amazonaws.com/{bucket}/{key}",  # path-style, as before
    ],
)
def test_template_url_names_its_bucket_in_the_host_or_the_path(clients: Clients, url: str) -> None:
    s3, cfn = clients("s3"), clients("cloudformation")
    bucket = f"kept-templates-{secrets.token_hex(4)}"  # bucket names are global
    s3.create_bucket(Bucket=bucket)
    # The key's first segment is not a bucket: read as path-style, this URL finds nothing.
    key = "templates/queue/1.json"
    template = {"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(template).encode())

    stack_id = cfn.create_stack(
        StackName="from-url", TemplateURL=url.format(bucket=bucket, key=key)
    )["StackId"]

    assert _wait_stack(cfn, stack_id)["StackStatus"] == "CREATE_COMPLETE"
    assert cfn.get_template(StackName=stack_id)["TemplateBody"] == template


def test_change_set_with_only_output_changes_executes(clients: Clients) -> None:
    resources = {"Queue": {"Type": "AWS::SQS::Queue"}}
    cfn = clients("cloudformation")
    stack = _deploy(cfn, "outputs", {"Resources": resources, "Outputs": {"A": {"Value": "one"}}})
    changed = {
        "Resources": resources,
        "Outputs": {
            "A": {"Value": "two"},
            "QueueArn": {"Value": {"Fn::GetAtt": ["Queue", "Arn"]}},
        },
    }

    change_set = _change_set(cfn, stack["StackId"], changed)
    assert change_set["Status"] == "CREATE_COMPLETE", change_set.get("StatusReason")
    assert change_set["ExecutionStatus"] == "AVAILABLE"
    assert change_set["Changes"] == []

    cfn.execute_change_set(StackName=stack["StackId"], ChangeSetName=change_set["ChangeSetId"])
    updated = _wait_stack(cfn, stack["StackId"])
    assert updated["StackStatus"] == "UPDATE_COMPLETE"
    out = _outputs(updated)
    assert out["A"] == "two"
    assert out["QueueArn"].startswith("arn:aws:sqs:us-east-1:")


def test_change_set_is_found_by_stack_name_or_stack_id(clients: Clients) -> None:
    resources = {"Queue": {"Type": "AWS::SQS::Queue"}}
    cfn = clients("cloudformation")
    stack = _deploy(cfn, "lookup", {"Resources": resources})
    added = {"Resources": {**resources, "Other": {"Type": "AWS::SQS::Queue"}}}
    cfn.create_change_set(StackName="lookup", ChangeSetName="add", TemplateBody=json.dumps(added))

    by_name = cfn.describe_change_set(StackName="lookup", ChangeSetName="add")
    by_id = cfn.describe_change_set(StackName=stack["StackId"], ChangeSetName="add")
    assert by_id["ChangeSetId"] == by_name["ChangeSetId"]
    cfn.delete_change_set(StackName=stack["StackId"], ChangeSetName="add")
    assert cfn.list_change_sets(StackName="lookup")["Summaries"] == []


def _db_instance(policy: str, **extra: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::RDS::DBInstance",
        "DeletionPolicy": policy,
        "UpdateReplacePolicy": policy,
        "Properties": {
            "Engine": "postgres",
            "DBInstanceClass": "db.t4g.micro",
            "AllocatedStorage": "20",
            "MasterUsername": "app",
            "MasterUserPassword": "not-a-real-password",
            **extra,
        },
    }


def _db_cluster(**extra: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::RDS::DBCluster",
        "DeletionPolicy": "Snapshot",
        "UpdateReplacePolicy": "Snapshot",
        "Properties": {
            "Engine": "aurora-postgresql",
            "MasterUsername": "app",
            "MasterUserPassword": "not-a-real-password",
            **extra,
        },
    }


def test_deletion_policies_snapshot_and_retain_databases(clients: Clients) -> None:
    template = {
        "Resources": {
            "Snapshotted": _db_instance("Snapshot"),
            "Kept": _db_instance("Retain"),
            "Cluster": _db_cluster(),
        },
        "Outputs": {name: {"Value": {"Ref": name}} for name in ("Snapshotted", "Kept", "Cluster")},
    }
    cfn, rds = clients("cloudformation"), clients("rds")
    stack = _deploy(cfn, "data", template)
    out = _outputs(stack)

    _delete(cfn, stack["StackId"])
    instances = [i["DBInstanceIdentifier"] for i in rds.describe_db_instances()["DBInstances"]]
    assert instances == [out["Kept"]]
    snapshots = rds.describe_db_snapshots(DBInstanceIdentifier=out["Snapshotted"])["DBSnapshots"]
    assert [s["Status"] for s in snapshots] == ["available"]
    assert rds.describe_db_clusters()["DBClusters"] == []
    cluster_snapshots = rds.describe_db_cluster_snapshots(DBClusterIdentifier=out["Cluster"])
    assert len(cluster_snapshots["DBClusterSnapshots"]) == 1


@pytest.mark.parametrize(
    ("before", "after", "snapshots"),
    [
        pytest.param(
            _db_instance("Snapshot"),
            _db_instance("Snapshot", DBName="other"),
            1,
            id="instance-snapshot",
        ),
        # ministack's update handler replaces on an engine change itself, and
        # deletes the predecessor through its own queued call, not the registry.
        pytest.param(
            _db_instance("Snapshot"),
            _db_instance("Snapshot", Engine="mysql"),
            1,
            id="instance-engine-snapshot",
        ),
        pytest.param(
            _db_instance("Delete"),
            _db_instance("Delete", DBName="other"),
            0,
            id="instance-delete",
        ),
        pytest.param(
            _db_cluster(),
            _db_cluster(DatabaseName="other"),
            1,
            id="cluster-snapshot",
        ),
    ],
)
def test_update_replace_policy_snapshots_replaced_database(
    clients: Clients, before: dict[str, Any], after: dict[str, Any], snapshots: int
) -> None:
    cfn, rds = clients("cloudformation"), clients("rds")
    outputs = {"Database": {"Value": {"Ref": "Database"}}}
    stack = _deploy(cfn, "data", {"Resources": {"Database": before}, "Outputs": outputs})
    replaced = _outputs(stack)["Database"]

    updated = _update(cfn, stack["StackId"], {"Resources": {"Database": after}, "Outputs": outputs})
    assert _outputs(updated)["Database"] != replaced
    if before["Type"] == "AWS::RDS::DBCluster":
        taken = rds.describe_db_cluster_snapshots(DBClusterIdentifier=replaced)
        assert len(taken["DBClusterSnapshots"]) == snapshots
    else:
        taken = rds.describe_db_snapshots(DBInstanceIdentifier=replaced)
        assert len(taken["DBSnapshots"]) == snapshots


def _data_template(database: dict[str, Any] | None) -> dict[str, Any]:
    groups = {
        name: {
            "Type": "AWS::RDS::DBSubnetGroup",
            "Properties": {
                "DBSubnetGroupDescription": name,
                "SubnetIds": [{"Ref": "Subnet1"}, {"Ref": "Subnet2"}],
            },
        }
        for name in ("Subnets", "OtherSubnets")
    }
    resources = {**_vpc_resources(), **groups}
    if database is not None:
        resources["Database"] = database
    return {"Resources": resources}


_INSTANCE = {"DBSubnetGroupName": {"Ref": "Subnets"}}


@pytest.mark.parametrize(
    ("before", "after", "action", "replacement"),
    [
        pytest.param(
            _db_instance("Snapshot", **_INSTANCE),
            _db_instance("Snapshot", **_INSTANCE, DBInstanceClass="db.t4g.small"),
            "Modify",
            "False",
            id="instance-class-in-place",
        ),
        pytest.param(
            _db_instance("Snapshot", **_INSTANCE),
            _db_instance("Snapshot", **_INSTANCE, Engine="mysql"),
            "Modify",
            "True",
            id="instance-engine",
        ),
        pytest.param(
            _db_instance("Snapshot", **_INSTANCE),
            _db_instance("Snapshot", **_INSTANCE, DBInstanceIdentifier="renamed-db"),
            "Modify",
            "True",
            id="instance-identifier",
        ),
        pytest.param(
            _db_instance("Snapshot", **_INSTANCE),
            _db_instance("Snapshot", DBSubnetGroupName={"Ref": "OtherSubnets"}),
            "Modify",
            "True",
            id="instance-subnet-group",
        ),
        pytest.param(
            _db_instance("Snapshot", **_INSTANCE),
            None,
            "Remove",
            None,
            id="instance-removed",
        ),
        pytest.param(
            _db_cluster(),
            _db_cluster(Engine="aurora-mysql"),
            "Modify",
            "True",
            id="cluster-engine",
        ),
        pytest.param(
            _db_cluster(),
            _db_cluster(MasterUsername="owner"),
            "Modify",
            "True",
            id="cluster-master-username",
        ),
    ],
)
def test_change_sets_report_database_replacement(
    clients: Clients,
    before: dict[str, Any],
    after: dict[str, Any] | None,
    action: str,
    replacement: str | None,
) -> None:
    cfn = clients("cloudformation")
    stack = _deploy(cfn, "data", _data_template(before))

    change_set = _change_set(cfn, stack["StackId"], _data_template(after))
    (change,) = [
        c["ResourceChange"]
        for c in change_set["Changes"]
        if c["ResourceChange"]["LogicalResourceId"] == "Database"
    ]
    assert change["Action"] == action
    assert change.get("Replacement") == replacement
    if action == "Remove":
        assert change["PolicyAction"] == "Snapshot"


def test_change_sets_report_task_definition_replacement(clients: Clients) -> None:
    def template(image: str) -> dict[str, Any]:
        container = {"Name": "web", "Image": image, "PortMappings": [{"ContainerPort": 80}]}
        task = {
            "Type": "AWS::ECS::TaskDefinition",
            "Properties": {
                "Family": "web",
                "Cpu": "256",
                "Memory": "512",
                "NetworkMode": "awsvpc",
                "RequiresCompatibilities": ["FARGATE"],
                "ContainerDefinitions": [container],
            },
        }
        service = {
            "Type": "AWS::ECS::Service",
            "Properties": {
                "Cluster": {"Ref": "Cluster"},
                "ServiceName": "web",
                "LaunchType": "FARGATE",
                "TaskDefinition": {"Ref": "Task"},
                "DesiredCount": 1,
                "NetworkConfiguration": {
                    "AwsvpcConfiguration": {"Subnets": [{"Ref": "Subnet1"}]},
                },
            },
        }
        resources = {"Cluster": {"Type": "AWS::ECS::Cluster"}, "Task": task, "Service": service}
        return {
            "Resources": {**_vpc_resources(), **resources},
            "Outputs": {"Cluster": {"Value": {"Ref": "Cluster"}}},
        }

    cfn, ecs = clients("cloudformation"), clients("ecs")
    stack = _deploy(cfn, "web", template("web:1"))

    change_set = _change_set(cfn, stack["StackId"], template("web:2"))
    replacement = {
        c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"]["Replacement"]
        for c in change_set["Changes"]
    }
    assert replacement == {"Task": "True", "Service": "False"}

    cfn.execute_change_set(ChangeSetName=change_set["ChangeSetId"])
    assert _wait_stack(cfn, stack["StackId"])["StackStatus"] == "UPDATE_COMPLETE"
    cluster = _outputs(stack)["Cluster"]
    (service,) = ecs.describe_services(cluster=cluster, services=["web"])["services"]
    assert service["taskDefinition"].endswith("task-definition/web:2")
    inactive = ecs.list_task_definitions(familyPrefix="web", status="INACTIVE")
    assert [arn.rsplit("/", 1)[-1] for arn in inactive["taskDefinitionArns"]] == ["web:1"]


def test_secret_ref_is_its_arn(clients: Clients) -> None:
    username = "{{resolve:secretsmanager:${Secret}:SecretString:username}}"
    password = "{{resolve:secretsmanager:${Secret}:SecretString:password}}"
    secret = {
        "Type": "AWS::SecretsManager::Secret",
        "Properties": {
            "GenerateSecretString": {
                "SecretStringTemplate": json.dumps({"username": "owner"}),
                "GenerateStringKey": "password",
                "ExcludePunctuation": True,
            },
        },
    }
    database = _db_instance(
        "Delete", MasterUsername={"Fn::Sub": username}, MasterUserPassword={"Fn::Sub": password}
    )
    template = {
        "Resources": {"Secret": secret, "Database": database},
        "Outputs": {
            "Secret": {"Value": {"Ref": "Secret"}},
            "Database": {"Value": {"Ref": "Database"}},
        },
    }
    cfn, secretsmanager, rds = clients("cloudformation"), clients("secretsmanager"), clients("rds")
    out = _outputs(_deploy(cfn, "secret", template))

    assert out["Secret"].startswith("arn:aws:secretsmanager:us-east-1:")
    assert secretsmanager.describe_secret(SecretId=out["Secret"])["ARN"] == out["Secret"]
    (instance,) = rds.describe_db_instances(DBInstanceIdentifier=out["Database"])["DBInstances"]
    assert instance["MasterUsername"] == "owner"


def test_batch_delete_image_by_tag_removes_that_tag_only(clients: Clients) -> None:
    """AWS (BatchDeleteImage): "You can remove a tag from an image by specifying the image's
    tag in your request. When you remove the last tag from an image, the image is deleted";
    an image id by digest deletes the image with all its tags."""
    ecr = clients("ecr")
    ecr.create_repository(repositoryName="tags/api")

    def push(config: str, *tags: str) -> str:
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": "sha256:" + config * 64,
                "size": 2,
            },
            "layers": [],
        }
        for tag in tags:
            pushed = ecr.put_image(
                repositoryName="tags/api", imageManifest=json.dumps(manifest), imageTag=tag
            )
        return str(pushed["image"]["imageId"]["imageDigest"])

    def tags() -> dict[str, set[str]]:
        images = ecr.describe_images(repositoryName="tags/api")["imageDetails"]
        return {i["imageDigest"]: set(i.get("imageTags", [])) for i in images}

    first = push("1", "src-1", "release-default-1", "release-default-2")
    gone = ecr.batch_delete_image(
        repositoryName="tags/api", imageIds=[{"imageTag": "release-default-1"}]
    )
    assert gone["imageIds"] == [{"imageDigest": first, "imageTag": "release-default-1"}]
    assert gone["failures"] == []
    assert tags() == {first: {"src-1", "release-default-2"}}

    missing = ecr.batch_delete_image(
        repositoryName="tags/api", imageIds=[{"imageTag": "release-default-1"}]
    )
    assert [f["failureCode"] for f in missing["failures"]] == ["ImageNotFound"]

    ecr.batch_delete_image(repositoryName="tags/api", imageIds=[{"imageTag": "src-1"}])
    ecr.batch_delete_image(repositoryName="tags/api", imageIds=[{"imageTag": "release-default-2"}])
    assert tags() == {}  # gone with its last tag

    # Ids by tag and by digest in one request: each as asked, answered in the request's order.
    second = push("2", "src-2", "release-default-3")
    third = push("3", "src-3", "release-default-4")
    both = ecr.batch_delete_image(
        repositoryName="tags/api",
        imageIds=[{"imageTag": "release-default-3"}, {"imageDigest": third}],
    )
    assert [i["imageDigest"] for i in both["imageIds"]] == [second, third]
    assert both["failures"] == []
    assert tags() == {second: {"src-2"}}  # by digest: the image with every tag it had
