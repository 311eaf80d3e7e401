"""One small pricer per CloudFormation resource type, in a typed registry.

A pricer reads one resource (and the resources it refers to in the same template) and
returns its lines. Types AWS does not bill for are listed in FREE, with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fargo.cost.lines import Line, fixed, scaled, usage
from fargo.cost.prices import Price, PriceTable
from fargo.cost.schedule import DAYS_PER_MONTH, runs_per_month
from fargo.cost.usage import HOURS_PER_MONTH, Usage


class MissingPriceError(Exception):
    """The table has no line for a key a resource needs (an instance class or node type
    the table does not list): the estimator reports the resource as not priced."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True)
class Context:
    """What every pricer may read: the stack, the price table, the assumptions, and facts
    about the whole app (a CDN in front carries the egress instead of the load balancer)."""

    stack: Any  # fargo.cost.inputs.StackInput
    prices: PriceTable
    usage: Usage
    has_cdn: bool
    container_insights: bool = False  # the app's ECS cluster has Container Insights on

    def price(self, key: str) -> Price:
        found = self.prices.get(key)
        if found is None:
            raise MissingPriceError(key)
        return found

    def fixed_line(
        self, logical_id: str, item: str, quantity: float, key: str, **kw: float
    ) -> Line:
        return fixed(self.stack.name, logical_id, item, quantity, self.price(key), **kw)

    def used_line(self, logical_id: str, item: str, quantity: float, key: str) -> Line:
        return usage(self.stack.name, logical_id, item, quantity, self.price(key))

    def scaled_line(
        self,
        logical_id: str,
        item: str,
        per_unit: float,
        counts: tuple[float, float, float],
        key: str,
    ) -> Line:
        return scaled(
            self.stack.name, logical_id, item, per_unit, counts=counts, price=self.price(key)
        )

    def resource(self, node: Any) -> tuple[str, dict[str, Any]] | None:
        """The resource a `Ref` or `GetAtt` in this template points at."""
        name = None
        if isinstance(node, dict) and "Ref" in node:
            name = node["Ref"]
        elif isinstance(node, dict) and "Fn::GetAtt" in node:
            name = node["Fn::GetAtt"][0]
        found = self.stack.resources.get(name) if isinstance(name, str) else None
        return (name, found.get("Properties", {})) if found and name else None


Pricer = Callable[[Context, str, dict[str, Any]], list[Line]]


def refers_to(node: Any, logical_id: str) -> bool:
    """Whether a property value holds a `Ref` or `GetAtt` to `logical_id`."""
    if isinstance(node, dict):
        if node.get("Ref") == logical_id:
            return True
        att = node.get("Fn::GetAtt")
        if isinstance(att, list) and att and att[0] == logical_id:
            return True
        return any(refers_to(v, logical_id) for v in node.values())
    if isinstance(node, list):
        return any(refers_to(v, logical_id) for v in node)
    return False


H = HOURS_PER_MONTH


# --- compute ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Task:
    vcpu: float
    gb: float
    arch: str  # x86_64 or arm64


def _task(ctx: Context, node: Any) -> _Task | None:
    found = ctx.resource(node)
    if found is None:
        return None
    props = found[1]
    arch = str((props.get("RuntimePlatform") or {}).get("CpuArchitecture", "X86_64")).lower()
    return _Task(int(props["Cpu"]) / 1024, int(props["Memory"]) / 1024, arch)


def _counts(ctx: Context, logical_id: str, props: dict[str, Any]) -> tuple[int, int, int]:
    """(idle, always-on, busy) task counts: the scalable target's min and max, or the
    service's fixed desired count. A service that scales from zero is on at one task."""
    for target in ctx.stack.resources.values():
        p = target.get("Properties", {})
        if target["Type"] != "AWS::ApplicationAutoScaling::ScalableTarget":
            continue
        if refers_to(p.get("ResourceId"), logical_id):
            low, high = int(p["MinCapacity"]), int(p["MaxCapacity"])
            return low, max(low, 1), high
    desired = int(props.get("DesiredCount", 1))
    return desired, desired, desired


def _on_demand(strategy: list[dict[str, Any]], tasks: int) -> int:
    """How many of `tasks` run on demand under a capacity provider strategy: the FARGATE
    base first, then by weight (fargo gives on demand weight 0 next to Spot)."""
    providers = {s["CapacityProvider"]: s for s in strategy}
    if "FARGATE_SPOT" not in providers:
        return tasks
    base = int(providers.get("FARGATE", {}).get("Base", 0))
    return min(base, tasks)


def _fargate_lines(
    ctx: Context,
    logical_id: str,
    task: _Task,
    counts: tuple[int, int, int],
    *,
    spot: bool,
    what: str,
) -> list[Line]:
    kind = "fargate_spot" if spot else "fargate"
    label = f"{what} {'Fargate Spot' if spot else 'Fargate'} {task.arch}"
    return [
        ctx.scaled_line(
            logical_id,
            f"{label}, {counts[1]} x {size:g} {unit}",
            size * H,
            counts,
            f"{kind}.{dimension}.{task.arch}",
        )
        for dimension, size, unit in (("vcpu_hour", task.vcpu, "vCPU"), ("gb_hour", task.gb, "GB"))
    ]


def price_ecs_service(ctx: Context, logical_id: str, props: dict[str, Any]) -> list[Line]:
    task = _task(ctx, props.get("TaskDefinition"))
    if task is None:
        return []
    idle, on, busy = _counts(ctx, logical_id, props)
    strategy = props.get("CapacityProviderStrategy") or [{"CapacityProvider": "FARGATE"}]
    split = [(_on_demand(strategy, n), n - _on_demand(strategy, n)) for n in (idle, on, busy)]
    lines = []
    demand = (split[0][0], split[1][0], split[2][0])
    on_spot = (split[0][1], split[1][1], split[2][1])
    if any(demand):
        lines += _fargate_lines(ctx, logical_id, task, demand, spot=False, what="tasks")
    if any(on_spot):
        lines += _fargate_lines(ctx, logical_id, task, on_spot, spot=True, what="tasks")
    network = (props.get("NetworkConfiguration") or {}).get("AwsvpcConfiguration") or {}
    if ctx.stack.value(network.get("AssignPublicIp")) == "ENABLED":
        # A task in a public subnet holds its own public IPv4 address while it runs.
        lines.append(
            ctx.scaled_line(
                logical_id,
                f"public IPv4 address, one per task ({on})",
                H,
                (idle, on, busy),
                "public_ipv4.hour",
            )
        )
    if ctx.container_insights:
        # Container Insights metrics exist while the service has a task running. Assumed:
        # 13 by service name and 9 by task definition family.
        awake = (min(idle, 1), 1, 1)
        lines.append(
            ctx.scaled_line(
                logical_id,
                f"Container Insights: {SERVICE_METRICS} metrics (assumed)",
                SERVICE_METRICS,
                awake,
                "cloudwatch.metric_month",
            )
        )
        lines.append(
            ctx.scaled_line(
                logical_id,
                f"Container Insights: {TASK_EVENTS_GB:g} GB logs/task (assumed)",
                TASK_EVENTS_GB,
                (idle, on, busy),
                "logs.ingest_gb",
            )
        )
    return lines


# Container Insights (ECS, not enhanced): its metrics are billed as custom metrics. The
# counts are assumptions, stated in each line: of the metrics CloudWatch lists for ECS,
# those kept per cluster, and per service (13 by ServiceName, 9 by TaskDefinitionFamily).
CLUSTER_METRICS = 10
SERVICE_METRICS = 22
# Performance log events: a task and a container event a minute, about 1 KB each.
TASK_EVENTS_GB = 0.1


def insights_enabled(props: dict[str, Any]) -> bool:
    """Whether an ECS cluster's settings turn Container Insights on (fargo's do)."""
    return any(
        s.get("Name") == "containerInsights" and s.get("Value") in ("enabled", "enhanced")
        for s in props.get("ClusterSettings") or []
    )


def price_cluster(ctx: Context, logical_id: str, props: dict[str, Any]) -> list[Line]:
    if not insights_enabled(props):
        return []
    return [
        ctx.fixed_line(
            logical_id,
            f"Container Insights: {CLUSTER_METRICS} metrics (assumed)",
            CLUSTER_METRICS,
            "cloudwatch.metric_month",
        )
    ]


def price_scaling_policy(ctx: Context, logical_id: str, props: dict[str, Any]) -> list[Line]:
    """Target tracking creates and manages two CloudWatch alarms per policy (one to scale
    out, one to scale in); over metric math each is billed per metric it queries. Step
    scaling uses alarms the template declares, priced there."""
    if props.get("PolicyType") != "TargetTrackingScaling":
        return []
    config = props.get("TargetTrackingScalingPolicyConfiguration") or {}
    queries = (config.get("CustomizedMetricSpecification") or {}).get("Metrics") or []
    metrics = sum(1 for q in queries if "MetricStat" in q) or 1
    return [
        ctx.fixed_line(
            logical_id,
            f"target tracking: 2 alarms x {metrics} metric(s)",
            2 * metrics,
            "cloudwatch.alarm_month",
        )
    ]


def price_schedule(ctx: Context, logical_id: str, props: dict[str, Any]) -> list[Line]:
    target = props.get("Target") or {}
    ecs_params = target.get("EcsParameters") or {}
    task = _task(ctx, ecs_params.get("TaskDefinitionArn"))
    expression = str(props.get("ScheduleExpression", ""))
    counted = runs_per_month(expression)
    # An expression the counter does not read is priced as daily, and the line says so.
    runs = DAYS_PER_MONTH if counted is None else counted
    said = f"{expression} read as daily" if counted is None else expression
    lines = [
        ctx.used_line(
            logical_id,
            f"{runs:,.4g} runs of {said}",
            runs / 1e6,
            "eventbridge_scheduler.invocations_million",
        )
    ]
    if task is None:
        return lines
    spot = any(
        s.get("CapacityProvider") == "FARGATE_SPOT"
        for s in ecs_params.get("CapacityProviderStrategy") or []
    )
    kind = "fargate_spot" if spot else "fargate"
    hours = runs * ctx.usage.job_minutes / 60
    for dimension, size, unit in (("vcpu_hour", task.vcpu, "vCPU"), ("gb_hour", task.gb, "GB")):
        lines.append(
            ctx.used_line(
                logical_id,
                f"{runs:,.4g} runs x {ctx.usage.job_minutes:g} min x {size:g} {unit}",
                hours * size,
                f"{kind}.{dimension}.{task.arch}",
            )
        )
    return lines


# --- network ---------------------------------------------------------------------------


def price_load_balancer(ctx: Context, logical_id: str, props: dict[str, Any]) -> list[Line]:
    lines = [ctx.fixed_line(logical_id, "load balancer hours", H, "alb.hour")]
    # LCUs: the larger of new connections (25 a second per LCU, a request each at worst)
    # and processed bytes (1 GB an hour per LCU).
    seconds = H * 3600
    lcus = max(ctx.usage.requests / seconds / 25, ctx.usage.egress_gb / H)
    lines.append(ctx.used_line(logical_id, f"{lcus:.3f} LCU average", lcus * H, "alb.lcu_hour"))
    if props.get("Scheme", "internet-facing") == "internet-facing":
        zones = len(props.get("Subnets") or []) or 2
        lines.append(
            ctx.fixed_line(
                logical_id,
                f"public IPv4 addresses, one per AZ ({zones})",
                zones * H,
                "public_ipv4.hour",
            )
        )
        if not ctx.has_cdn:
            lines.append(
                ctx.used_line(
                    logical_id,
                    "data transfer out to the internet",
                    ctx.usage.egress_gb,
                    "data_transfer.internet_gb",
                )
            )
    return lines


def price_nat_gateway(ctx: Context, logical_id: str, props: dict[str, Any]) -> list[Line]:
    del props
    gateways = sum(1 for r in ctx.stack.resources.values() if r["Type"] == "AWS::EC2::NatGateway")
    return [
        ctx.fixed_line(logical_id, "NAT gateway hours", H, "nat.hour"),
        ctx.used_line(logical_id, "data processed", ctx.usage.nat_gb / gateways, "nat.gb"),
    ]


def price_eip(ctx: Context, logical_id: str, props: dict[str, Any]) -> list[Line]:
    del props
    return [ctx.fixed_line(logical_id, "Elastic IP (public IPv4) hours", H, "public_ipv4.hour")]


def price_vpc_endpoint(ctx: Context, logical_id: str, props: dict[str, Any]) -> list[Line]:
    if props.get("VpcEndpointType", "Gateway") != "Interface":
        return [ctx.fixed_line(logical_id, "gateway endpoint (free)", 1, "free")]
    zones = len(props.get("SubnetIds") or []) or 1
    return [
        ctx.fixed_line(
            logical_id, f"interface endpoint hours, {zones} AZ", zones * H, "vpc_endpoint.hour"
        )
    ]


# --- data ------------------------------------------------------------------------------


def _log_exports(ctx: Context, logical_id: str, props: dict[str, Any]) -> list[Line]:
    """Logs RDS exports to CloudWatch Logs (EnableCloudwatchLogsExports): ingestion under
    the log assumption, per exported log."""
    return [
        ctx.used_line(
            logical_id,
            f"{name} logs to CloudWatch ({ctx.usage.log_gb:g} GB assumed)",
            ctx.usage.log_gb,
            "logs.ingest_gb",
        )
        for name in props.get("EnableCloudwatchLogsExports") or []
    ]


def price_db_instance(ctx: Context, logical_id: str, props: dict[str, Any]) -> list[Line]:
    cls = str(props.get("DBInstanceClass"))
    if cls == "db.serverless":
        return _aurora_instance(ctx, logical_id, props)
    exports = _log_exports(ctx, logical_id, props)
    multi_az = str(ctx.stack.value(props.get("MultiAZ", False))).lower() == "true"
    az = "multi_az" if multi_az else "single_az"
    storage = float(props.get("AllocatedStorage", 20))
    storage_key = "rds.storage_gb_month.gp3" + (".multi_az" if multi_az else "")
    return [
        ctx.fixed_line(
            logical_id, f"{cls} {az.replace('_', '-')}", H, f"rds.instance_hour.{cls}.{az}"
        ),
        ctx.fixed_line(logical_id, f"{storage:g} GB gp3 storage", storage, storage_key),
        *exports,
    ]


def _aurora_instance(ctx: Context, logical_id: str, props: dict[str, Any]) -> list[Line]:
    cluster = ctx.resource(props.get("DBClusterIdentifier"))
    scaling = (cluster[1] if cluster else {}).get("ServerlessV2ScalingConfiguration") or {}
    low, high = float(scaling.get("MinCapacity", 0.5)), float(scaling.get("MaxCapacity", 1))
    # Awake, Aurora Serverless v2 runs at 0.5 ACU at least; at 0 it is paused.
    awake = max(low, 0.5)
    return [
        ctx.scaled_line(
            logical_id,
            f"Aurora Serverless v2 {low:g}-{high:g} ACU, {awake:g} ACU awake",
            H,
            (low, awake, high),
            "aurora.acu_hour",
        )
    ]


def price_db_cluster(ctx: Context, logical_id: str, props: dict[str, Any]) -> list[Line]:
    gb = ctx.usage.database_gb
    return [
        ctx.fixed_line(logical_id, f"{gb:g} GB Aurora storage", gb, "aurora.storage_gb_month"),
        *_log_exports(ctx, logical_id, props),
    ]


def price_serverless_cache(ctx: Context, logical_id: str, props: dict[str, Any]) -> list[Line]:
    engine = "valkey" if str(props.get("Engine")).lower() == "valkey" else "redis"
    minimum = ctx.price(f"elasticache_serverless.min_gb.{engine}").price
    ecpu = ctx.usage.requests * ctx.usage.cache_ecpu_per_request / 1e6
    return [
        ctx.fixed_line(
            logical_id,
            f"{engine} serverless, {minimum:g} GB metered minimum",
            minimum * H,
            f"elasticache_serverless.gb_hour.{engine}",
        ),
        ctx.used_line(
            logical_id,
            f"{ecpu:g} million ECPU",
            ecpu,
            f"elasticache_serverless.ecpu_million.{engine}",
        ),
    ]


def price_replication_group(ctx: Context, logical_id: str, props: dict[str, Any]) -> list[Line]:
    engine = "valkey" if str(props.get("Engine")).lower() == "valkey" else "redis"
    node = str(props.get("CacheNodeType"))
    nodes = int(props.get("NumCacheClusters", 1))
    return [
        ctx.fixed_line(
            logical_id,
            f"{nodes} x {node} ({engine})",
            nodes * H,
            f"elasticache.node_hour.{node}.{engine}",
        )
    ]


# The dead-letter queues synth creates, by the logical ids it gives them: a queue's
# (`Queue<Name>DeadLetter`, referred to by its queue's RedrivePolicy) and the scheduler's
# (`ScheduleDeadLetter`, referred to from the services stack). They hold failures only.
_DEAD_LETTER = re.compile(r"^(ScheduleDeadLetter|Queue\w+DeadLetter)$")


def price_queue(ctx: Context, logical_id: str, props: dict[str, Any]) -> list[Line]:
    del props
    dead_letter = _DEAD_LETTER.match(logical_id) or any(
        refers_to(r.get("Properties", {}).get("RedrivePolicy"), logical_id)
        for r in ctx.stack.resources.values()
        if r["Type"] == "AWS::SQS::Queue"
    )
    if dead_letter:
        return []
    # Each message is sent, received and deleted: three requests.
    requests = ctx.usage.messages * 3 / 1e6
    return [ctx.used_line(logical_id, "send, receive, delete", requests, "sqs.requests_million")]


def price_bucket(ctx: Context, logical_id: str, props: dict[str, Any]) -> list[Line]:
    del props
    gb = ctx.usage.bucket_gb
    return [ctx.fixed_line(logical_id, f"{gb:g} GB stored", gb, "s3.gb_month")]


def price_secret(ctx: Context, logical_id: str, props: dict[str, Any]) -> list[Line]:
    del props
    return [ctx.fixed_line(logical_id, "secret", 1, "secretsmanager.secret_month")]


def price_log_group(ctx: Context, logical_id: str, props: dict[str, Any]) -> list[Line]:
    retention = int(props.get("RetentionInDays", 30))
    stored = ctx.usage.log_gb * min(retention, 365) / 30
    return [
        ctx.used_line(logical_id, "log ingestion", ctx.usage.log_gb, "logs.ingest_gb"),
        ctx.used_line(
            logical_id, f"stored ({retention} days kept)", stored, "logs.storage_gb_month"
        ),
    ]


def price_alarm(ctx: Context, logical_id: str, props: dict[str, Any]) -> list[Line]:
    metrics = props.get("Metrics")
    if metrics:
        # A metric math alarm is billed per metric it queries.
        count = sum(1 for m in metrics if "MetricStat" in m)
        return [
            ctx.fixed_line(
                logical_id,
                f"metric math alarm over {count} metrics",
                count,
                "cloudwatch.alarm_month.metric_math",
            )
        ]
    return [ctx.fixed_line(logical_id, "standard alarm", 1, "cloudwatch.alarm_month")]


def price_kms_key(ctx: Context, logical_id: str, props: dict[str, Any]) -> list[Line]:
    del props
    return [ctx.fixed_line(logical_id, "customer managed key", 1, "kms.key_month")]


def price_topic(ctx: Context, logical_id: str, props: dict[str, Any]) -> list[Line]:
    del props
    # Alerts only: a few hundred publishes a month.
    return [ctx.used_line(logical_id, "alert publishes", 1000 / 1e6, "sns.requests_million")]


def price_email_identity(ctx: Context, logical_id: str, props: dict[str, Any]) -> list[Line]:
    del props
    emails = ctx.usage.emails
    return [ctx.used_line(logical_id, f"{emails:g} emails", emails / 1000, "ses.thousand_emails")]


# --- edge ------------------------------------------------------------------------------


def price_distribution(ctx: Context, logical_id: str, props: dict[str, Any]) -> list[Line]:
    del props
    return [
        ctx.used_line(
            logical_id, "data transfer out", ctx.usage.egress_gb, "cloudfront.gb.first_tier"
        ),
        ctx.used_line(
            logical_id, "HTTPS requests", ctx.usage.requests / 1e4, "cloudfront.requests_10k.https"
        ),
    ]


def price_cloudfront_function(ctx: Context, logical_id: str, props: dict[str, Any]) -> list[Line]:
    del props
    return [
        ctx.used_line(
            logical_id, "invocations", ctx.usage.requests / 1e6, "cloudfront.function_million"
        )
    ]


def price_table(ctx: Context, logical_id: str, props: dict[str, Any]) -> list[Line]:
    del props
    # fargo's deploy lease: a few writes per deploy.
    return [ctx.used_line(logical_id, "lease writes", 1000 / 1e6, "dynamodb.write_million")]


def price_function(ctx: Context, logical_id: str, props: dict[str, Any]) -> list[Line]:
    del props
    return [
        ctx.used_line(logical_id, "requests", ctx.usage.requests / 1e6, "lambda.requests_million")
    ]


PRICERS: dict[str, Pricer] = {
    "AWS::ECS::Service": price_ecs_service,
    "AWS::ECS::Cluster": price_cluster,
    "AWS::ApplicationAutoScaling::ScalingPolicy": price_scaling_policy,
    "AWS::Scheduler::Schedule": price_schedule,
    "AWS::ElasticLoadBalancingV2::LoadBalancer": price_load_balancer,
    "AWS::EC2::NatGateway": price_nat_gateway,
    "AWS::EC2::EIP": price_eip,
    "AWS::EC2::VPCEndpoint": price_vpc_endpoint,
    "AWS::RDS::DBInstance": price_db_instance,
    "AWS::RDS::DBCluster": price_db_cluster,
    "AWS::ElastiCache::ServerlessCache": price_serverless_cache,
    "AWS::ElastiCache::ReplicationGroup": price_replication_group,
    "AWS::SQS::Queue": price_queue,
    "AWS::S3::Bucket": price_bucket,
    "AWS::SecretsManager::Secret": price_secret,
    "AWS::Logs::LogGroup": price_log_group,
    "AWS::CloudWatch::Alarm": price_alarm,
    "AWS::KMS::Key": price_kms_key,
    "AWS::SNS::Topic": price_topic,
    "AWS::SES::EmailIdentity": price_email_identity,
    "AWS::CloudFront::Distribution": price_distribution,
    "AWS::CloudFront::Function": price_cloudfront_function,
    "AWS::DynamoDB::Table": price_table,
    "AWS::Lambda::Function": price_function,
}

# Types AWS bills nothing for themselves (what they carry is priced where it is billed).
FREE: dict[str, str] = {
    "AWS::EC2::VPC": "VPCs are free",
    "AWS::EC2::Subnet": "subnets are free",
    "AWS::EC2::RouteTable": "route tables are free",
    "AWS::EC2::Route": "routes are free",
    "AWS::EC2::SubnetRouteTableAssociation": "free",
    "AWS::EC2::InternetGateway": "internet gateways are free; data out is priced on the egress",
    "AWS::EC2::VPCGatewayAttachment": "free",
    "AWS::EC2::SecurityGroup": "security groups are free",
    "AWS::EC2::SecurityGroupIngress": "security group rules are free",
    "AWS::EC2::SecurityGroupEgress": "security group rules are free",
    "AWS::IAM::Role": "IAM is free",
    "AWS::IAM::Policy": "IAM is free",
    "AWS::ECS::TaskDefinition": "priced on the service or schedule that runs it",
    "AWS::ElasticLoadBalancingV2::Listener": "priced with the load balancer",
    "AWS::ElasticLoadBalancingV2::ListenerRule": "priced with the load balancer (LCU rules)",
    "AWS::ElasticLoadBalancingV2::ListenerCertificate": "free",
    "AWS::ElasticLoadBalancingV2::TargetGroup": "priced with the load balancer",
    "AWS::ApplicationAutoScaling::ScalableTarget": "Application Auto Scaling is free",
    "AWS::RDS::DBSubnetGroup": "free",
    "AWS::ElastiCache::SubnetGroup": "free",
    "AWS::SecretsManager::SecretTargetAttachment": "free; the secret is priced",
    "AWS::S3::BucketPolicy": "free",
    "AWS::SQS::QueuePolicy": "free",
    "AWS::SNS::Subscription": "email deliveries of alerts fall in SNS's free thousand",
    "AWS::SES::ConfigurationSet": "free; emails are priced on the identity",
    "AWS::CloudFront::OriginAccessControl": "free",
}
