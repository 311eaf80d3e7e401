"""Scheduled jobs: EventBridge Scheduler runs the job's task definition, with retries and a
dead-letter queue for runs it could not start."""

from __future__ import annotations

from typing import Any

from troposphere import GetAtt, Ref, ecs, scheduler

from fargo.synth import outputs as out
from fargo.synth.common import add
from fargo.synth.context import ServiceContext
from fargo.synth.iam import role

_RETRIES = 2
_MAX_EVENT_AGE_SECONDS = 3600  # a nightly job that could not start within an hour is skipped


def add_schedule(ctx: ServiceContext, task: ecs.TaskDefinition, roles: tuple[Any, ...]) -> None:
    template, app, service, prefix, inputs = (
        ctx.template,
        ctx.app,
        ctx.service,
        ctx.prefix,
        ctx.inputs,
    )
    if service.schedule is None:
        return
    dead_letter = inputs.data(out.SCHEDULE_DEAD_LETTER_ARN)
    invoker = role(
        template,
        f"{prefix}SchedulerRole",
        "scheduler.amazonaws.com",
        [
            {
                "Sid": "RunOwnTask",
                "Effect": "Allow",
                "Action": ["ecs:RunTask"],
                "Resource": [Ref(task)],
                "Condition": {"ArnEquals": {"ecs:cluster": inputs.network(out.CLUSTER_ARN)}},
            },
            {
                "Sid": "PassOwnRoles",
                "Effect": "Allow",
                "Action": ["iam:PassRole"],
                "Resource": [GetAtt(r, "Arn") for r in roles],
                "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
            },
            {
                "Sid": "DeadLetters",
                "Effect": "Allow",
                "Action": ["sqs:SendMessage"],
                "Resource": [dead_letter],
            },
        ],
        f"lets EventBridge Scheduler start {service.name}",
    )
    add(
        template,
        scheduler.Schedule(
            f"{prefix}Schedule",
            Description=f"runs {app.name}/{app.env} {service.name} on {service.schedule}",
            ScheduleExpression=service.schedule,
            ScheduleExpressionTimezone="UTC",
            FlexibleTimeWindow=scheduler.FlexibleTimeWindow(Mode="OFF"),
            State="ENABLED",
            Target=scheduler.Target(
                Arn=inputs.network(out.CLUSTER_ARN),
                RoleArn=GetAtt(invoker, "Arn"),
                EcsParameters=scheduler.EcsParameters(
                    TaskDefinitionArn=Ref(task),
                    TaskCount=1,
                    **_placement(service.spot_base),
                    NetworkConfiguration=scheduler.NetworkConfiguration(
                        AwsvpcConfiguration=scheduler.AwsVpcConfiguration(
                            Subnets=inputs.network(out.TASK_SUBNET_IDS),
                            SecurityGroups=[inputs.network(out.TASK_SECURITY_GROUP_ID)],
                            AssignPublicIp=inputs.network(out.ASSIGN_PUBLIC_IP),
                        )
                    ),
                    PropagateTags="TASK_DEFINITION",
                    EnableECSManagedTags=True,
                ),
                RetryPolicy=scheduler.RetryPolicy(
                    MaximumRetryAttempts=_RETRIES,
                    MaximumEventAgeInSeconds=_MAX_EVENT_AGE_SECONDS,
                ),
                DeadLetterConfig=scheduler.DeadLetterConfig(Arn=dead_letter),
            ),
        ),
        f"runs {service.name} on {service.schedule} (UTC)",
    )


def _placement(spot_base: int | None) -> dict[str, Any]:
    """LaunchType FARGATE, or Fargate Spot for a job whose service says `spot`.

    A job runs one task per run, so a base of on-demand tasks would keep every run off
    Spot: any `spot` setting puts the job on Spot. LaunchType and CapacityProviderStrategy
    are mutually exclusive in EcsParameters, as in RunTask.
    """
    if spot_base is None:
        return {"LaunchType": "FARGATE"}
    return {
        "CapacityProviderStrategy": [
            scheduler.CapacityProviderStrategyItem(CapacityProvider="FARGATE_SPOT", Weight=1)
        ]
    }
