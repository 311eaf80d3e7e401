"""Roles with least privilege: each statement names only this service's own resources."""

from __future__ import annotations

import re
from typing import Any

from troposphere import GetAtt, Join, Ref, Sub, Template, iam, logs

from fargo.model.app import App, SecretRef, Service
from fargo.synth import outputs as out
from fargo.synth.common import add
from fargo.synth.containers import secret_arn
from fargo.synth.context import ServiceContext
from fargo.synth.ids import logical_id

_ECR_IMAGE = re.compile(r"^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/([^:@]+)")
Statement = dict[str, Any]


def trust(service_principal: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": service_principal},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": Ref("AWS::AccountId")}},
            }
        ],
    }


def role(
    template: Template, title: str, principal: str, statements: list[Statement], description: str
) -> iam.Role:
    extra: dict[str, Any] = {}
    if statements:
        extra["Policies"] = [
            iam.Policy(
                PolicyName="least-privilege",
                PolicyDocument={"Version": "2012-10-17", "Statement": statements},
            )
        ]
    return add(
        template, iam.Role(title, AssumeRolePolicyDocument=trust(principal), **extra), description
    )


def execution_role(ctx: ServiceContext, log_group: logs.LogGroup) -> iam.Role:
    """What ECS itself needs to start the task: write its logs, pull its image, read its
    secrets."""
    service, inputs = ctx.service, ctx.inputs
    statements: list[Statement] = [
        {
            "Sid": "WriteOwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": GetAtt(log_group, "Arn"),
        }
    ]
    statements += _image_pull(ctx.app, service)
    secret_arns: list[object] = [
        _secret_resource(s) for s in service.secrets if s.source == "secretsmanager"
    ]
    if service.uses.database:
        secret_arns.append(inputs.data(out.DATABASE_SECRET_ARN))
    if secret_arns:
        statements.append(_allow("ReadOwnSecrets", ["secretsmanager:GetSecretValue"], secret_arns))
    parameters = [secret_arn(s) for s in service.secrets if s.source == "ssm"]
    if parameters:
        statements.append(_allow("ReadOwnParameters", ["ssm:GetParameters"], parameters))
    return role(
        ctx.template,
        f"{ctx.prefix}ExecutionRole",
        "ecs-tasks.amazonaws.com",
        statements,
        f"lets ECS start {service.name}: its logs, image and secrets only",
    )


def task_role(ctx: ServiceContext) -> iam.Role:
    """What the service's own code may do: exactly what its `uses:` names."""
    template, app, service, prefix, inputs = (
        ctx.template,
        ctx.app,
        ctx.service,
        ctx.prefix,
        ctx.inputs,
    )
    statements: list[Statement] = []
    for name in service.uses.queues:
        arn = inputs.data(out.queue_arn(name))
        statements.append(
            _allow(
                f"UseQueue{logical_id(name)}",
                [
                    "sqs:ChangeMessageVisibility",
                    "sqs:DeleteMessage",
                    "sqs:GetQueueAttributes",
                    "sqs:GetQueueUrl",
                    "sqs:ReceiveMessage",
                    "sqs:SendMessage",
                ],
                [arn],
            )
        )
    for name in service.uses.buckets:
        arn = inputs.data(out.bucket_arn(name))
        statements += [
            _allow(f"ListBucket{logical_id(name)}", ["s3:ListBucket"], [arn]),
            _allow(
                f"UseObjects{logical_id(name)}",
                ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
                [Join("", [arn, "/*"])],
            ),
        ]
    if service.uses.mail and app.mail is not None:
        statements.append(
            _allow(
                "SendMail",
                ["ses:SendEmail", "ses:SendRawEmail"],
                [
                    Sub(
                        "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/"
                        "${Domain}",
                        Domain=inputs.data(out.MAIL_DOMAIN),
                    ),
                    Sub(
                        "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:"
                        "configuration-set/${Set}",
                        Set=inputs.data(out.MAIL_CONFIGURATION_SET),
                    ),
                ],
            )
        )
    return role(
        template,
        f"{prefix}TaskRole",
        "ecs-tasks.amazonaws.com",
        statements,
        f"identity of {service.name}'s code: only what it uses",
    )


def _allow(sid: str, actions: list[str], resources: list[object]) -> Statement:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}


def _image_pull(app: App, service: Service) -> list[Statement]:
    if service.built_by is not None:
        # fargo's own repository: <app>/<service>, in this account and region.
        repository = Sub(
            "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/"
            f"{repository_name(app.name, service.built_by)}"
        )
    else:
        ecr = _ECR_IMAGE.match(service.image or "")
        if not ecr:
            return []  # a public image: no credentials involved
        account, region, name = ecr.groups()
        repository = Sub(f"arn:${{AWS::Partition}}:ecr:{region}:{account}:repository/{name}")
    return [
        # GetAuthorizationToken has no resource-level permission in IAM.
        _allow("RegistryLogin", ["ecr:GetAuthorizationToken"], ["*"]),
        _allow(
            "PullOwnImage",
            ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            [repository],
        ),
    ]


def repository_name(app: str, service: str) -> str:
    """The ECR repository fargo pushes `service`'s image to, shared by all environments."""
    return f"{app}/{service}"


def _secret_resource(secret: SecretRef) -> Sub:
    # Secrets Manager appends "-" and six random characters to every secret's ARN.
    return Sub(
        "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:"
        f"{secret.name}-??????"
    )
