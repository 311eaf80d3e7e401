"""Services stack: per service a log group, roles and a task definition; an ECS service for
long-running ones (with routing, autoscaling and alarms) and a schedule for jobs."""

from __future__ import annotations

from typing import Any

from troposphere import GetAtt, Join, Ref, ecs
from troposphere import elasticloadbalancingv2 as elbv2

from fargo.model.app import App, HttpRoute, Service, StackKind
from fargo.synth import outputs as out
from fargo.synth.alarms import (
    add_topic,
    data_alarms,
    http_errors_alarm,
    load_balancer_alarm,
    service_alarms,
)
from fargo.synth.common import Inputs, add, finish, new_template, output
from fargo.synth.context import ServiceContext
from fargo.synth.routing import http_route
from fargo.synth.scaling import add_scaling
from fargo.synth.schedules import add_schedule
from fargo.synth.stack import StackTemplate
from fargo.synth.task_definition import add_task_definition

GRACE_PERIOD_SECONDS = 60


def synth_services(app: App) -> StackTemplate:
    template = new_template(app, StackKind.SERVICES, "task definitions, services and schedules")
    inputs = Inputs(template)
    alerting = add_topic(template, app)
    for service in app.services:
        _service(ServiceContext(template, app, service, inputs, alerting))
    load_balancer_alarm(template, app, inputs, alerting)
    data_alarms(template, app, inputs, alerting)
    return finish(template, app, StackKind.SERVICES, inputs.values)


def _service(ctx: ServiceContext) -> None:
    template, service = ctx.template, ctx.service
    parts = add_task_definition(ctx)
    task = parts.task
    output(template, out.task_definition_arn(service.name), Ref(task))
    if service.long_running:
        _ecs_service(ctx, task)
    else:
        add_schedule(ctx, task, (parts.execution, parts.code))


def _ecs_service(ctx: ServiceContext, task: ecs.TaskDefinition) -> None:
    template, service, prefix, inputs = ctx.template, ctx.service, ctx.prefix, ctx.inputs
    target_group: elbv2.TargetGroup | None = None
    extra: dict[str, Any] = {}
    deployment: dict[str, Any] = {}
    if service.route is not None and service.port is not None:
        target_group, rule = http_route(template, ctx.app, service, prefix, inputs)
        errors = http_errors_alarm(ctx, target_group)
        extra = {
            "LoadBalancers": [
                ecs.LoadBalancer(
                    ContainerName=service.name,
                    ContainerPort=service.port,
                    TargetGroupArn=Ref(target_group),
                )
            ],
            "HealthCheckGracePeriodSeconds": GRACE_PERIOD_SECONDS,
            # The rule must exist before ECS registers targets with its target group.
            "DependsOn": [rule.title],
        }
        # A deploy that makes the 5xx alarm fire is rolled back, like a failed health check.
        deployment["Alarms"] = ecs.DeploymentAlarms(
            AlarmNames=[Ref(errors)], Enable=True, Rollback=True
        )
    if not service.scaling.enabled:
        # With autoscaling the count is the scaler's; a template value would reset it.
        extra["DesiredCount"] = service.desired_count
    ecs_service = add(
        template,
        ecs.Service(
            f"{prefix}Service",
            Cluster=inputs.network(out.CLUSTER_NAME),
            ServiceName=service.name,
            TaskDefinition=Ref(task),
            CapacityProviderStrategy=_capacity(service),
            NetworkConfiguration=ecs.NetworkConfiguration(
                AwsvpcConfiguration=ecs.AwsvpcConfiguration(
                    Subnets=inputs.network(out.TASK_SUBNET_IDS),
                    SecurityGroups=[inputs.network(out.TASK_SECURITY_GROUP_ID)],
                    AssignPublicIp=inputs.network(out.ASSIGN_PUBLIC_IP),
                )
            ),
            DeploymentConfiguration=ecs.DeploymentConfiguration(
                DeploymentCircuitBreaker=ecs.DeploymentCircuitBreaker(Enable=True, Rollback=True),
                MinimumHealthyPercent=100,
                MaximumPercent=200,
                **deployment,
            ),
            PropagateTags="SERVICE",
            EnableECSManagedTags=True,
            **extra,
        ),
        f"runs {service.name} ({service.scaling.min}-{service.scaling.max} tasks); "
        "a failed rollout rolls back",
    )
    output(template, out.service_name(service.name), GetAtt(ecs_service, "Name"))
    if service.route is not None and (url := _url(ctx.app, service.route, inputs)) is not None:
        output(template, out.service_url(service.name), url)
    add_scaling(ctx, ecs_service, target_group)
    service_alarms(ctx, ecs_service, target_group)


def _url(app: App, route: HttpRoute, inputs: Inputs) -> str | Join | None:
    """Where the service answers. Behind the CDN, that is the distribution: with a domain
    fargo owns, the site host; otherwise a name this stack does not know (the edge stack's,
    or the user's distribution's), so there is no output and `edge/urls.py` says it."""
    base = route.url_path
    host = route.host
    domain, cdn = app.domain, app.cdn
    if cdn is not None and cdn.fronts(route):
        if domain is None or not cdn.owned:
            return None
        return f"https://{domain.site}{cdn.url_path(route)}"
    # With a domain, the load balancer answers HTTPS for the API host; plain HTTP only
    # redirects there.
    if domain is not None:
        return f"https://{host or domain.api}{base}"
    if host:
        return f"http://{host}{base}"
    return Join("", ["http://", inputs.network(out.LOAD_BALANCER_DNS_NAME), base])


def _capacity(service: Service) -> list[ecs.CapacityProviderStrategyItem]:
    if service.spot_base is None:
        return [ecs.CapacityProviderStrategyItem(CapacityProvider="FARGATE", Weight=1)]
    if service.spot_base == 0:
        # Only one provider of a strategy may have a base; with none, the weights alone
        # place every task, and FARGATE_SPOT is the only one with weight.
        return [ecs.CapacityProviderStrategyItem(CapacityProvider="FARGATE_SPOT", Weight=1)]
    # The base on-demand tasks keep the service up when Spot capacity is reclaimed.
    return [
        ecs.CapacityProviderStrategyItem(
            CapacityProvider="FARGATE", Base=service.spot_base, Weight=0
        ),
        ecs.CapacityProviderStrategyItem(CapacityProvider="FARGATE_SPOT", Weight=1),
    ]
