"""An HTTP service's target group and listener rule, tuned for fast, safe rolling deploys.

Behind the CDN. CloudFront's request to the load balancer carries a Host header: the
origin's name where the behavior forwards no Host (the API path of `existing` and `static`:
the API host, or the load balancer's own name), the viewer's where the cache policy keys on
Host (the default behavior of `cdn: { app }`: the site host, or *.cloudfront.net). A rule
is forwarded-to by CloudFront when it has no host condition or its host is one of those
(`Cdn.fronts`); only those rules require CloudFront's secret header. A rule for any other
host (`http: { host: api.example.com }` beside an app on `/*`) never sees CloudFront's
requests, so it answers directly.
"""

from __future__ import annotations

from troposphere import Ref, Template
from troposphere import elasticloadbalancingv2 as elbv2

from fargo.model.app import ORIGIN_VERIFY_HEADER, App, Service
from fargo.synth import outputs as out
from fargo.synth.common import Inputs, add
from fargo.synth.listeners import api_listener_arn
from fargo.synth.origin_verify import header_value

# ALB checks every 10 s, two passes make a target healthy, and draining waits 15 s instead of
# the default 300 s, so a rolling deploy finishes in about a minute.
HEALTH_INTERVAL_SECONDS = 10
HEALTH_TIMEOUT_SECONDS = 5
HEALTHY_THRESHOLD = 2
UNHEALTHY_THRESHOLD = 3
DEREGISTRATION_DELAY_SECONDS = 15


def http_route(
    template: Template, app: App, service: Service, prefix: str, inputs: Inputs
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
            VpcId=inputs.network(out.VPC_ID),
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
    if app.cdn is not None and app.cdn.fronts(route):
        # Only CloudFront knows the value: a request that comes around it matches no rule.
        conditions.append(
            elbv2.Condition(
                Field="http-header",
                HttpHeaderConfig=elbv2.HttpHeaderConfig(
                    HttpHeaderName=ORIGIN_VERIFY_HEADER, Values=[header_value(inputs)]
                ),
            )
        )
    where = " on ".join(x for x in (route.path, route.host) if x)
    rule = add(
        template,
        elbv2.ListenerRule(
            f"{prefix}ListenerRule",
            ListenerArn=inputs.network(api_listener_arn(app)),
            Priority=route.priority,
            Conditions=conditions,
            Actions=[elbv2.ListenerRuleAction(Type="forward", TargetGroupArn=Ref(target_group))],
        ),
        f"sends {where} to {service.name}",
    )
    return target_group, rule
