"""Services stack: per service a log group, roles, task definition, ECS service and, for HTTP
services, a target group and listener rule tuned for fast, safe rolling deploys."""

from __future__ import annotations

import re
import shlex
from typing import Any

from troposphere import GetAtt, Join, Output, Ref, Sub, Template, ecs, iam, logs
from troposphere import elasticloadbalancingv2 as elbv2

from fargo.model.app import App, SecretRef, Service, StackKind
from fargo.synth.common import add, finish, logical_id, new_template, parameter
from fargo.synth.stack import ParameterValue, StackOutput, StackTemplate

# Rollout tuning: ALB checks every 10 s, two passes make a target healthy, and draining
# waits 15 s instead of the default 300 s, so a rolling deploy finishes in about a minute.
HEALTH_INTERVAL_SECONDS = 10
HEALTH_TIMEOUT_SECONDS = 5
HEALTHY_THRESHOLD = 2
UNHEALTHY_THRESHOLD = 3
DEREGISTRATION_DELAY_SECONDS = 15
GRACE_PERIOD_SECONDS = 60
_ECR_IMAGE = re.compile(r"^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/([^:@]+)")

_NETWORK_INPUTS = ("TaskSubnetIds", "TaskSecurityGroupId", "ClusterName", "AssignPublicIp")
_HTTP_INPUTS = ("VpcId", "HttpListenerArn", "LoadBalancerDnsName")
_DATABASE_INPUTS = ("DatabaseSecretArn", "DatabaseHost", "DatabasePort", "DatabaseName")


def synth_services(app: App) -> StackTemplate:
    template = new_template(app, StackKind.SERVICES, "task definitions and ECS services")
    inputs: dict[str, ParameterValue] = {}
    needs_http = any(s.route for s in app.services)
    needs_db = any(s.uses_database for s in app.services)
    for key in (
        *_NETWORK_INPUTS,
        *(_HTTP_INPUTS if needs_http else ()),
        *(_DATABASE_INPUTS if needs_db else ()),
    ):
        kind = "CommaDelimitedList" if key.endswith("Ids") else "String"
        parameter(template, key, kind)
        source = StackKind.DATA if key.startswith("Database") else StackKind.NETWORK
        inputs[key] = StackOutput(source, key)
    for service in app.services:
        _service(template, app, service)
    return finish(template, app, StackKind.SERVICES, inputs)


def _service(template: Template, app: App, service: Service) -> None:
    prefix = logical_id(service.name)
    log_group = add(
        template,
        logs.LogGroup(
            f"{prefix}LogGroup",
            LogGroupName=f"/fargo/{app.name}/{app.env}/{service.name}",
            RetentionInDays=app.log_retention_days,
        ),
        f"logs of {service.name}",
    )
    execution_role = _execution_role(template, app, service, prefix, log_group)
    task_role = add(
        template,
        iam.Role(f"{prefix}TaskRole", AssumeRolePolicyDocument=_ecs_tasks_trust()),
        f"identity of {service.name}'s code; it is granted only what the service uses",
    )
    task = add(
        template,
        ecs.TaskDefinition(
            f"{prefix}TaskDefinition",
            Family=f"{app.name}-{app.env}-{service.name}",
            Cpu=str(service.cpu),
            Memory=str(service.memory),
            NetworkMode="awsvpc",
            RequiresCompatibilities=["FARGATE"],
            RuntimePlatform=ecs.RuntimePlatform(
                CpuArchitecture="ARM64" if service.arch == "arm64" else "X86_64",
                OperatingSystemFamily="LINUX",
            ),
            ExecutionRoleArn=GetAtt(execution_role, "Arn"),
            TaskRoleArn=GetAtt(task_role, "Arn"),
            ContainerDefinitions=[_container(app, service, log_group)],
        ),
        f"{service.name}: {service.cpu} CPU units, {service.memory} MiB, {service.arch}",
    )
    balancers: list[ecs.LoadBalancer] = []
    depends: list[str] = []
    if service.route is not None and service.port is not None:
        target_group, rule = _http_route(template, service, prefix)
        balancers.append(
            ecs.LoadBalancer(
                ContainerName=service.name,
                ContainerPort=service.port,
                TargetGroupArn=Ref(target_group),
            )
        )
        depends.append(rule.title)
    extra: dict[str, Any] = {}
    if balancers:
        # The rule must exist before ECS registers targets with its target group.
        extra = {
            "LoadBalancers": balancers,
            "HealthCheckGracePeriodSeconds": GRACE_PERIOD_SECONDS,
            "DependsOn": depends,
        }
    ecs_service = add(
        template,
        ecs.Service(
            f"{prefix}Service",
            Cluster=Ref("ClusterName"),
            ServiceName=service.name,
            TaskDefinition=Ref(task),
            DesiredCount=service.desired_count,
            CapacityProviderStrategy=_capacity(service),
            NetworkConfiguration=ecs.NetworkConfiguration(
                AwsvpcConfiguration=ecs.AwsvpcConfiguration(
                    Subnets=Ref("TaskSubnetIds"),
                    SecurityGroups=[Ref("TaskSecurityGroupId")],
                    AssignPublicIp=Ref("AssignPublicIp"),
                )
            ),
            DeploymentConfiguration=ecs.DeploymentConfiguration(
                DeploymentCircuitBreaker=ecs.DeploymentCircuitBreaker(Enable=True, Rollback=True),
                MinimumHealthyPercent=100,
                MaximumPercent=200,
            ),
            PropagateTags="SERVICE",
            EnableECSManagedTags=True,
            **extra,
        ),
        f"runs {service.desired_count} x {service.name}; a failed rollout rolls back",
    )
    template.add_output(Output(f"{prefix}ServiceName", Value=GetAtt(ecs_service, "Name")))
    template.add_output(Output(f"{prefix}TaskDefinitionArn", Value=Ref(task)))
    if service.route is not None:
        base = (service.route.path or "/").rstrip("*") or "/"
        host = service.route.host
        url = (
            f"http://{host}{base}"
            if host
            else Join("", ["http://", Ref("LoadBalancerDnsName"), base])
        )
        template.add_output(Output(f"{prefix}Url", Value=url))


def _capacity(service: Service) -> list[ecs.CapacityProviderStrategyItem]:
    if not service.spot:
        return [ecs.CapacityProviderStrategyItem(CapacityProvider="FARGATE", Weight=1)]
    # One on-demand task as the base keeps the service up when Spot capacity is reclaimed.
    return [
        ecs.CapacityProviderStrategyItem(CapacityProvider="FARGATE", Base=1, Weight=0),
        ecs.CapacityProviderStrategyItem(CapacityProvider="FARGATE_SPOT", Weight=1),
    ]


def _container(app: App, service: Service, log_group: logs.LogGroup) -> ecs.ContainerDefinition:
    environment = list(service.environment)
    secrets = [ecs.Secret(Name=s.env_name, ValueFrom=_secret_arn(s)) for s in service.secrets]
    if service.uses_database:
        environment += [
            ("DB_HOST", Ref("DatabaseHost")),
            ("DB_PORT", Ref("DatabasePort")),
            ("DB_NAME", Ref("DatabaseName")),
        ]
        secrets += [
            ecs.Secret(Name="DB_USER", ValueFrom=Sub("${DatabaseSecretArn}:username::")),
            ecs.Secret(Name="DB_PASSWORD", ValueFrom=Sub("${DatabaseSecretArn}:password::")),
        ]
    extra: dict[str, Any] = {}
    if service.command:
        extra["Command"] = list(service.command)
    if secrets:
        extra["Secrets"] = secrets
    if service.port is not None:
        extra["PortMappings"] = [ecs.PortMapping(ContainerPort=service.port, Protocol="tcp")]
    if service.route is not None and service.port is not None:
        extra["HealthCheck"] = _container_health(service.port, service.route.healthcheck)
    return ecs.ContainerDefinition(
        Name=service.name,
        Image=service.image,
        Essential=True,
        Environment=[ecs.Environment(Name=k, Value=v) for k, v in environment],
        LogConfiguration=ecs.LogConfiguration(
            LogDriver="awslogs",
            Options={
                "awslogs-group": Ref(log_group),
                "awslogs-region": Ref("AWS::Region"),
                "awslogs-stream-prefix": service.name,
            },
        ),
        **extra,
    )


def _container_health(port: int, path: str) -> ecs.HealthCheck:
    """Probe the app from inside its container with whatever the image has: curl, wget or
    Python (slim Python images carry neither curl nor wget)."""
    url = f"http://127.0.0.1:{port}{path}"
    quoted = shlex.quote(url)  # `&` and `?` are legal in the path and special to the shell
    script = shlex.quote(f"import urllib.request; urllib.request.urlopen({url!r}, timeout=4)")
    probe = (
        f"curl -fsS {quoted} >/dev/null 2>&1 || wget -qO- {quoted} >/dev/null 2>&1 || "
        f"python3 -c {script}"
    )
    return ecs.HealthCheck(
        Command=["CMD-SHELL", probe], Interval=10, Timeout=5, Retries=3, StartPeriod=30
    )


def _http_route(
    template: Template, service: Service, prefix: str
) -> tuple[elbv2.TargetGroup, elbv2.ListenerRule]:
    route = service.route
    if route is None or service.port is None:
        raise ValueError(f"{service.name} has no HTTP route")
    target_group = add(
        template,
        elbv2.TargetGroup(
            f"{prefix}TargetGroup",
            TargetType="ip",
            Protocol="HTTP",
            Port=service.port,
            VpcId=Ref("VpcId"),
            HealthCheckPath=route.healthcheck,
            HealthCheckIntervalSeconds=HEALTH_INTERVAL_SECONDS,
            HealthCheckTimeoutSeconds=HEALTH_TIMEOUT_SECONDS,
            HealthyThresholdCount=HEALTHY_THRESHOLD,
            UnhealthyThresholdCount=UNHEALTHY_THRESHOLD,
            Matcher=elbv2.Matcher(HttpCode="200-399"),
            TargetGroupAttributes=[
                elbv2.TargetGroupAttribute(
                    Key="deregistration_delay.timeout_seconds",
                    Value=str(DEREGISTRATION_DELAY_SECONDS),
                )
            ],
        ),
        f"{service.name}'s tasks, health-checked at {route.healthcheck}",
    )
    conditions = []
    if route.path is not None:
        conditions.append(
            elbv2.Condition(
                Field="path-pattern",
                PathPatternConfig=elbv2.PathPatternConfig(Values=[route.path]),
            )
        )
    if route.host is not None:
        conditions.append(
            elbv2.Condition(
                Field="host-header", HostHeaderConfig=elbv2.HostHeaderConfig(Values=[route.host])
            )
        )
    where = " on ".join(x for x in (route.path, route.host) if x)
    rule = add(
        template,
        elbv2.ListenerRule(
            f"{prefix}ListenerRule",
            ListenerArn=Ref("HttpListenerArn"),
            Priority=route.priority,
            Conditions=conditions,
            Actions=[elbv2.ListenerRuleAction(Type="forward", TargetGroupArn=Ref(target_group))],
        ),
        f"sends {where} to {service.name}",
    )
    return target_group, rule


def _ecs_tasks_trust() -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def _execution_role(
    template: Template, app: App, service: Service, prefix: str, log_group: logs.LogGroup
) -> iam.Role:
    """What ECS itself needs to start the task: write its logs, pull its image, read its
    secrets. Each statement names only this service's resources."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "WriteOwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": GetAtt(log_group, "Arn"),
        }
    ]
    ecr = _ECR_IMAGE.match(service.image)
    if ecr:
        account, region, repository = ecr.groups()
        statements += [
            {
                # GetAuthorizationToken has no resource-level permission in IAM.
                "Sid": "RegistryLogin",
                "Effect": "Allow",
                "Action": ["ecr:GetAuthorizationToken"],
                "Resource": "*",
            },
            {
                "Sid": "PullOwnImage",
                "Effect": "Allow",
                "Action": [
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                ],
                "Resource": Sub(
                    f"arn:${{AWS::Partition}}:ecr:{region}:{account}:repository/{repository}"
                ),
            },
        ]
    secret_arns = [_secret_resource(s) for s in service.secrets if s.source == "secretsmanager"]
    if service.uses_database:
        secret_arns.append(Ref("DatabaseSecretArn"))
    if secret_arns:
        statements.append(
            {
                "Sid": "ReadOwnSecrets",
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue"],
                "Resource": secret_arns,
            }
        )
    parameters = [_secret_arn(s) for s in service.secrets if s.source == "ssm"]
    if parameters:
        statements.append(
            {
                "Sid": "ReadOwnParameters",
                "Effect": "Allow",
                "Action": ["ssm:GetParameters"],
                "Resource": parameters,
            }
        )
    return add(
        template,
        iam.Role(
            f"{prefix}ExecutionRole",
            AssumeRolePolicyDocument=_ecs_tasks_trust(),
            Policies=[
                iam.Policy(
                    PolicyName="start-task",
                    PolicyDocument={"Version": "2012-10-17", "Statement": statements},
                )
            ],
        ),
        f"lets ECS start {service.name}: its logs, image and secrets only",
    )


def _secret_arn(secret: SecretRef) -> Sub:
    if secret.source == "ssm":
        return Sub(
            f"arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter{secret.name}"
        )
    # ECS resolves a partial ARN (no random suffix); a JSON key is appended as :KEY::
    key = f":{secret.json_key}::" if secret.json_key else ""
    return Sub(
        "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:"
        f"{secret.name}{key}"
    )


def _secret_resource(secret: SecretRef) -> Sub:
    # Secrets Manager appends "-" and six random characters to every secret's ARN.
    return Sub(
        "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:"
        f"{secret.name}-??????"
    )
