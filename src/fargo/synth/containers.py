"""The container of a task definition: image, command, logs, health check, and the
environment and secrets that connect it to what it `uses:`."""

from __future__ import annotations

import shlex
from typing import Any

from troposphere import Join, Ref, Sub, ecs, logs

from fargo.model.app import App, SecretRef, Service
from fargo.synth import outputs as out
from fargo.synth.common import Inputs


def env_suffix(name: str) -> str:
    """`uploads` → `UPLOADS`, `big-jobs` → `BIG_JOBS`: the part after QUEUE_URL_ / BUCKET_."""
    return name.upper().replace("-", "_")


def built_by(service: Service) -> str:
    if service.built_by is None:
        raise ValueError(f"{service.name} has neither an image reference nor a build")
    return service.built_by


def container(
    app: App, service: Service, log_group: logs.LogGroup, inputs: Inputs
) -> ecs.ContainerDefinition:
    injected, secrets = connections(app, service, inputs)
    user = dict(service.environment)
    # What the user sets explicitly wins over what fargo injects under the same name.
    environment = [*user.items(), *((k, v) for k, v in injected if k not in user)]
    secrets += [ecs.Secret(Name=s.env_name, ValueFrom=secret_arn(s)) for s in service.secrets]
    extra: dict[str, Any] = {}
    if service.command:
        extra["Command"] = list(service.command)
    if secrets:
        extra["Secrets"] = secrets
    if service.port is not None:
        extra["PortMappings"] = [ecs.PortMapping(ContainerPort=service.port, Protocol="tcp")]
    if service.route is not None and service.port is not None:
        extra["HealthCheck"] = container_health(service.port, service.route.healthcheck)
    return ecs.ContainerDefinition(
        Name=service.name,
        Image=service.image if service.image is not None else inputs.image(built_by(service)),
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


def connections(
    app: App, service: Service, inputs: Inputs
) -> tuple[list[tuple[str, object]], list[ecs.Secret]]:
    """Environment and secrets for each thing the service uses (the documented contract)."""
    environment: list[tuple[str, object]] = []
    secrets: list[ecs.Secret] = []
    uses = service.uses
    if uses.database:
        environment += [
            ("DB_HOST", inputs.data(out.DATABASE_HOST)),
            ("DB_PORT", inputs.data(out.DATABASE_PORT)),
            ("DB_NAME", inputs.data(out.DATABASE_NAME)),
        ]
        arn = inputs.data(out.DATABASE_SECRET_ARN)
        secrets += [
            ecs.Secret(Name="DB_USER", ValueFrom=Join("", [arn, ":username::"])),
            ecs.Secret(Name="DB_PASSWORD", ValueFrom=Join("", [arn, ":password::"])),
        ]
    if uses.cache:
        url = ["rediss://", inputs.data(out.CACHE_HOST), ":", inputs.data(out.CACHE_PORT)]
        environment.append(("REDIS_URL", Join("", url)))
    for name in uses.queues:
        key = out.queue_url(name)
        environment.append((f"QUEUE_URL_{env_suffix(name)}", inputs.data(key)))
    for name in uses.buckets:
        key = out.bucket_name(name)
        environment.append((f"BUCKET_{env_suffix(name)}", inputs.data(key)))
    if uses.mail and app.mail is not None:
        environment += [
            ("MAIL_FROM", app.mail.sender),
            ("MAIL_CONFIGURATION_SET", inputs.data(out.MAIL_CONFIGURATION_SET)),
        ]
    return environment, secrets


def container_health(port: int, path: str) -> ecs.HealthCheck:
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


def secret_arn(secret: SecretRef) -> Sub:
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
