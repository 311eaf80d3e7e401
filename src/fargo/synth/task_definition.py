"""A service's task definition with its log group and roles: the services stack's, and the
release stack's for the migration, made by the same code so they cannot drift apart."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import GetAtt, ecs, iam, logs

from fargo.synth.common import add, skip_check
from fargo.synth.containers import container
from fargo.synth.context import ServiceContext
from fargo.synth.iam import execution_role, task_role


@dataclass(frozen=True)
class TaskParts:
    task: ecs.TaskDefinition
    execution: iam.Role
    code: iam.Role


def add_task_definition(ctx: ServiceContext) -> TaskParts:
    template, app, service, prefix, inputs = (
        ctx.template,
        ctx.app,
        ctx.service,
        ctx.prefix,
        ctx.inputs,
    )
    log_group = add(
        template,
        logs.LogGroup(
            f"{prefix}LogGroup",
            LogGroupName=f"/fargo/{app.name}/{app.env}/{service.name}",
            RetentionInDays=app.log_retention_days,
        ),
        f"logs of {service.name}",
    )
    skip_check(
        log_group,
        "CKV_AWS_158",
        "encrypted by CloudWatch Logs' own key; a customer KMS key costs $1/month per key",
    )
    execution = execution_role(ctx, log_group)
    code = task_role(ctx)
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
            ExecutionRoleArn=GetAtt(execution, "Arn"),
            TaskRoleArn=GetAtt(code, "Arn"),
            ContainerDefinitions=[container(app, service, log_group, inputs)],
        ),
        f"{service.name}: {service.cpu} CPU units, {service.memory} MiB, {service.arch}",
    )
    return TaskParts(task, execution, code)
