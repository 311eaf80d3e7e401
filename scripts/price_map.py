"""Which SKU of which AWS price-list offer file gives each key of fargo's price table.

Read by scripts/price-table.py. One `Rate` per key: the offer code (with fallbacks, tried in
order), the product family and attributes that select exactly one SKU, the usage type (written
without its region prefix: `REGION_PREFIXES` adds it), the unit the offer file states for the
price (checked, so a per-request price is never taken for a per-million one), and the factor
that turns it into the table's unit.

Keys listed in `HAND_KEPT` have no line in the bulk files (Fargate Spot moves with capacity, the
ElastiCache Serverless minimums are a billing rule): they are carried over from the existing
table as they stand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum

PRICE_LIST_HOST = "https://pricing.us-east-1.amazonaws.com"


class Prefix(Enum):
    """How a region shows in a usage type."""

    ABBREVIATION = "abbreviation"  # "USE2-NatGateway-Hours"; us-east-1 also bare
    REGION_CODE = "region_code"  # "us-east-2-KMS-Keys" (KMS)
    NONE = "none"  # written whole, e.g. CloudFront's edge group "US-DataTransfer-Out-Bytes"


# Usage-type prefixes per region, as AWS's Cost and Usage Reports and price lists spell them.
REGION_PREFIXES: dict[str, str] = {
    "us-east-1": "USE1",
    "us-east-2": "USE2",
    "us-west-1": "USW1",
    "us-west-2": "USW2",
    "ca-central-1": "CAN1",
    "sa-east-1": "SAE1",
    "eu-west-1": "EU",
    "eu-west-2": "EUW2",
    "eu-west-3": "EUW3",
    "eu-central-1": "EUC1",
    "eu-north-1": "EUN1",
    "eu-south-1": "EUS1",
    "ap-northeast-1": "APN1",
    "ap-northeast-2": "APN2",
    "ap-northeast-3": "APN3",
    "ap-southeast-1": "APS1",
    "ap-southeast-2": "APS2",
    "ap-south-1": "APS3",
}
# The one region whose older usage types carry no prefix at all ("NatGateway-Hours").
BARE_USAGE_TYPE_REGION = "us-east-1"


@dataclass(frozen=True)
class Rate:
    """The SKU and price dimension behind one price-table key."""

    key: str
    offers: tuple[str, ...]  # offer codes, tried in order; the first with a match is used
    usage_type: str | None  # without region prefix; None when the attributes suffice
    unit: str  # the table's unit
    offer_units: frozenset[str]  # units the offer file may state for this price (any case)
    description: str
    family: str | None = None  # productFamily
    attributes: dict[str, str] = field(default_factory=dict)
    per: Decimal = Decimal(1)  # table price = offer price x per (e.g. 1,000,000 requests)
    prefix: Prefix = Prefix.ABBREVIATION
    global_offer: bool = False  # the offer has one file for all regions (CloudFront, Route 53)


HOURS = frozenset({"Hrs", "hours", "Hours"})
GB = frozenset({"GB"})
GB_MONTH = frozenset({"GB-Mo", "GB-Month"})
REQUESTS = frozenset({"Requests", "Request", "API Requests"})
MILLION = Decimal(1_000_000)
THOUSAND = Decimal(1_000)
TEN_THOUSAND = Decimal(10_000)

RDS_CLASSES = ("db.t4g.micro", "db.t4g.small", "db.t4g.medium", "db.m7g.large")
CACHE_NODES = ("cache.t4g.micro", "cache.t4g.small", "cache.t4g.medium", "cache.m7g.large")
CACHE_ENGINES = {"valkey": "Valkey", "redis": "Redis"}
DEPLOYMENTS = {"single_az": "Single-AZ", "multi_az": "Multi-AZ"}


def _fargate() -> list[Rate]:
    rates = []
    for arch, infix, label in (("x86_64", "", "x86"), ("arm64", "ARM-", "ARM (Graviton)")):
        rates += [
            Rate(
                f"fargate.vcpu_hour.{arch}",
                ("AmazonECS",),
                f"Fargate-{infix}vCPU-Hours:perCPU",
                "vCPU-hour",
                HOURS,
                f"Fargate Linux/{label} per vCPU per hour",
                family="Compute",
            ),
            Rate(
                f"fargate.gb_hour.{arch}",
                ("AmazonECS",),
                f"Fargate-{infix}GB-Hours",
                "GB-hour",
                HOURS,
                f"Fargate Linux/{label} per GB of memory per hour",
                family="Compute",
            ),
        ]
    return rates


def _rds() -> list[Rate]:
    rates = []
    for cls in RDS_CLASSES:
        for variant, option in DEPLOYMENTS.items():
            rates.append(
                Rate(
                    f"rds.instance_hour.{cls}.{variant}",
                    ("AmazonRDS",),
                    None,
                    "instance-hour",
                    HOURS,
                    f"RDS for PostgreSQL {cls}, {option}, per instance-hour",
                    family="Database Instance",
                    attributes={
                        "instanceType": cls,
                        "databaseEngine": "PostgreSQL",
                        "deploymentOption": option,
                    },
                )
            )
    return rates


def _elasticache() -> list[Rate]:
    rates = []
    for variant, engine in CACHE_ENGINES.items():
        # Serverless storage and ECPU share family and engine: their units tell them apart.
        rates += [
            Rate(
                f"elasticache_serverless.gb_hour.{variant}",
                ("AmazonElastiCache",),
                None,
                "GB-hour",
                frozenset({"GB-Hours", "GB-Hrs", "GB-hour"}),
                f"ElastiCache Serverless for {engine}, data stored per GB-hour",
                family="ElastiCache Serverless",
                attributes={"cacheEngine": engine},
            ),
            Rate(
                f"elasticache_serverless.ecpu_million.{variant}",
                ("AmazonElastiCache",),
                None,
                "million ECPU",
                frozenset({"ECPU", "ECPUs", "ElastiCacheProcessingUnits"}),
                f"ElastiCache Serverless for {engine}, per million ElastiCache Processing Units",
                family="ElastiCache Serverless",
                attributes={"cacheEngine": engine},
                per=MILLION,
            ),
        ]
        rates += [
            Rate(
                f"elasticache.node_hour.{node}.{variant}",
                ("AmazonElastiCache",),
                None,
                "node-hour",
                HOURS,
                f"ElastiCache {engine} node {node}, per node-hour",
                family="Cache Instance",
                attributes={"instanceType": node, "cacheEngine": engine},
            )
            for node in CACHE_NODES
        ]
    return rates


RATES: tuple[Rate, ...] = (
    *_fargate(),
    # The ALB's lines moved from the EC2 offer to AWSELB; older us-east-1 files keep them in EC2.
    Rate(
        "alb.hour",
        ("AWSELB", "AmazonEC2"),
        "LoadBalancerUsage",
        "hour",
        HOURS,
        "Application Load Balancer per hour",
        family="Load Balancer-Application",
        attributes={"operation": "LoadBalancing:Application"},
    ),
    Rate(
        "alb.lcu_hour",
        ("AWSELB", "AmazonEC2"),
        "LCUUsage",
        "LCU-hour",
        frozenset({"LCU-Hrs", "LCU-hours"}),
        "Application Load Balancer per Load Balancer Capacity Unit per hour",
        family="Load Balancer-Application",
        attributes={"operation": "LoadBalancing:Application"},
    ),
    Rate(
        "nat.hour",
        ("AmazonEC2",),
        "NatGateway-Hours",
        "hour",
        HOURS,
        "NAT gateway per hour",
        family="NAT Gateway",
    ),
    Rate(
        "nat.gb",
        ("AmazonEC2",),
        "NatGateway-Bytes",
        "GB",
        GB,
        "NAT gateway per GB processed",
        family="NAT Gateway",
    ),
    # The public IPv4 charge is listed under AmazonVPC, not in the EC2 file.
    Rate(
        "public_ipv4.hour",
        ("AmazonVPC",),
        "PublicIPv4:InUseAddress",
        "hour",
        HOURS,
        "Public IPv4 address in use, per hour",
    ),
    Rate(
        "vpc_endpoint.hour",
        ("AmazonVPC",),
        "VpcEndpoint-Hours",
        "hour",
        HOURS,
        "Interface VPC endpoint per AZ per hour",
    ),
    Rate(
        "vpc_endpoint.gb",
        ("AmazonVPC",),
        "VpcEndpoint-Bytes",
        "GB",
        GB,
        "Interface VPC endpoint per GB processed (first tier)",
    ),
    *_rds(),
    Rate(
        "rds.storage_gb_month.gp3",
        ("AmazonRDS",),
        "RDS:GP3-Storage",
        "GB-month",
        GB_MONTH,
        "RDS gp3 storage, Single-AZ, per GB-month",
        family="Database Storage",
        attributes={"databaseEngine": "PostgreSQL"},
    ),
    Rate(
        "rds.storage_gb_month.gp3.multi_az",
        ("AmazonRDS",),
        "RDS:Multi-AZ-GP3-Storage",
        "GB-month",
        GB_MONTH,
        "RDS gp3 storage, Multi-AZ, per GB-month",
        family="Database Storage",
        attributes={"databaseEngine": "PostgreSQL"},
    ),
    Rate(
        "aurora.acu_hour",
        ("AmazonRDS",),
        "Aurora:ServerlessV2Usage",
        "ACU-hour",
        frozenset({"ACU-Hr", "ACU-hours", "ACU-Hrs"}),
        "Aurora Serverless v2 (PostgreSQL, Standard storage) per ACU-hour",
        family="ServerlessV2",
        attributes={"databaseEngine": "Aurora PostgreSQL"},
    ),
    Rate(
        "aurora.storage_gb_month",
        ("AmazonRDS",),
        "Aurora:StorageUsage",
        "GB-month",
        GB_MONTH,
        "Aurora Standard storage per GB-month",
    ),
    Rate(
        "aurora.io_million",
        ("AmazonRDS",),
        "Aurora:StorageIOUsage",
        "million requests",
        frozenset({"IOs", "IOs-Mo"}),
        "Aurora Standard I/O per million requests",
        per=MILLION,
    ),
    Rate(
        "rds_proxy.vcpu_hour",
        ("AmazonRDS",),
        "RDS:ProxyUsage",
        "vCPU-hour",
        frozenset({"vCPU-Hr", "vCPU-hours", "Hrs"}),
        "RDS Proxy per vCPU of the database instance per hour",
    ),
    Rate(
        "rds_proxy.acu_hour",
        ("AmazonRDS",),
        "RDS:Proxy-ASv2-Usage",
        "ACU-hour",
        frozenset({"ACU-Hr", "ACU-hours", "ACU-Hrs", "Hrs"}),
        "RDS Proxy for Aurora Serverless v2 per ACU per hour",
    ),
    *_elasticache(),
    Rate(
        "sqs.requests_million",
        ("AWSQueueService",),
        "Requests-Tier1",
        "million requests",
        REQUESTS,
        "SQS standard queue per million requests (first paid tier)",
        per=MILLION,
    ),
    Rate(
        "s3.gb_month",
        ("AmazonS3",),
        "TimedStorage-ByteHrs",
        "GB-month",
        GB_MONTH,
        "S3 Standard storage per GB-month (first 50 TB)",
    ),
    Rate(
        "s3.put_thousand",
        ("AmazonS3",),
        "Requests-Tier1",
        "thousand requests",
        REQUESTS,
        "S3 Standard PUT, COPY, POST, LIST per 1,000 requests",
        per=THOUSAND,
    ),
    Rate(
        "s3.get_thousand",
        ("AmazonS3",),
        "Requests-Tier2",
        "thousand requests",
        REQUESTS,
        "S3 Standard GET, SELECT per 1,000 requests",
        per=THOUSAND,
    ),
    Rate(
        "secretsmanager.secret_month",
        ("AWSSecretsManager",),
        "AWSSecretsManager-Secrets",
        "secret-month",
        frozenset({"Secrets", "Secret-Mo", "Secrets-Mo", "Secret-Months"}),
        "Secrets Manager per secret per month",
    ),
    Rate(
        "secretsmanager.api_10k",
        ("AWSSecretsManager",),
        "AWSSecretsManagerAPIRequest",
        "10k API calls",
        REQUESTS,
        "Secrets Manager per 10,000 API calls",
        per=TEN_THOUSAND,
    ),
    Rate(
        "logs.ingest_gb",
        ("AmazonCloudWatch",),
        "DataProcessing-Bytes",
        "GB",
        GB,
        "CloudWatch Logs Standard ingestion per GB",
    ),
    Rate(
        "logs.storage_gb_month",
        ("AmazonCloudWatch",),
        "TimedStorage-ByteHrs",
        "GB-month",
        GB_MONTH,
        "CloudWatch Logs archived storage per GB-month",
    ),
    Rate(
        "cloudwatch.alarm_month",
        ("AmazonCloudWatch",),
        "CW:AlarmMonitorUsage",
        "alarm-month",
        frozenset({"Alarms", "Alarm-Mo", "Alarm-Months"}),
        "CloudWatch standard-resolution alarm metric per month",
    ),
    Rate(
        "cloudwatch.metric_month",
        ("AmazonCloudWatch",),
        "CW:MetricMonitorUsage",
        "metric-month",
        frozenset({"Metrics", "Metric-Mo", "Metric-Months"}),
        "CloudWatch custom metric per month, first 10,000 metrics",
    ),
    Rate(
        "kms.key_month",
        ("awskms",),
        "KMS-Keys",
        "key-month",
        frozenset({"Keys", "Key-Mo", "Key-Months"}),
        "KMS customer managed key per month",
        prefix=Prefix.REGION_CODE,
    ),
    Rate(
        "kms.requests_10k",
        ("awskms",),
        "KMS-Requests",
        "10k requests",
        REQUESTS,
        "KMS API requests per 10,000 (first paid tier)",
        per=TEN_THOUSAND,
        prefix=Prefix.REGION_CODE,
    ),
    # CloudFront prices by the viewer's edge group, not by region: the table carries the US group.
    Rate(
        "cloudfront.gb.first_tier",
        ("AmazonCloudFront",),
        "US-DataTransfer-Out-Bytes",
        "GB",
        GB,
        "CloudFront data transfer out to viewers in the United States, first paid tier",
        prefix=Prefix.NONE,
        global_offer=True,
    ),
    Rate(
        "cloudfront.requests_10k.https",
        ("AmazonCloudFront",),
        "US-Requests-Tier2-HTTPS",
        "10k requests",
        REQUESTS,
        "CloudFront HTTPS requests from the United States per 10,000",
        per=TEN_THOUSAND,
        prefix=Prefix.NONE,
        global_offer=True,
    ),
    Rate(
        "cloudfront.function_million",
        ("AmazonCloudFront",),
        "Executions-CloudFrontFunctions",
        "million invocations",
        frozenset({"Executions", "Invocations", "Requests"}),
        "CloudFront Functions per million invocations",
        per=MILLION,
        prefix=Prefix.NONE,
        global_offer=True,
    ),
    Rate(
        "route53.zone_month",
        ("AmazonRoute53",),
        "HostedZone",
        "zone-month",
        frozenset({"HostedZone", "Hosted Zone", "Zones"}),
        "Route 53 hosted zone per month (first 25 zones)",
        prefix=Prefix.NONE,
        global_offer=True,
    ),
    Rate(
        "route53.queries_million",
        ("AmazonRoute53",),
        "DNS-Queries",
        "million queries",
        frozenset({"Queries", "Query"}),
        "Route 53 standard queries per million (first billion)",
        per=MILLION,
        global_offer=True,
    ),
    Rate(
        "apigateway_http.requests_million",
        ("AmazonApiGateway",),
        "ApiGatewayHttpRequest",
        "million requests",
        REQUESTS,
        "API Gateway HTTP API per million requests (first 300 million)",
        per=MILLION,
    ),
    Rate(
        "lambda.gb_second",
        ("AWSLambda",),
        "Lambda-GB-Second",
        "GB-second",
        frozenset({"Lambda-GB-Second", "GB-Seconds", "seconds"}),
        "Lambda x86 duration per GB-second (first tier)",
    ),
    Rate(
        "lambda.gb_second.arm64",
        ("AWSLambda",),
        "Lambda-GB-Second-ARM",
        "GB-second",
        frozenset({"Lambda-GB-Second", "GB-Seconds", "seconds"}),
        "Lambda ARM duration per GB-second (first tier)",
    ),
    Rate(
        "lambda.requests_million",
        ("AWSLambda",),
        "Request",
        "million requests",
        REQUESTS,
        "Lambda per million requests",
        per=MILLION,
    ),
    Rate(
        "dynamodb.write_million",
        ("AmazonDynamoDB",),
        "WriteRequestUnits",
        "million write request units",
        frozenset({"WriteRequestUnits"}),
        "DynamoDB on-demand per million write request units",
        per=MILLION,
    ),
    Rate(
        "dynamodb.read_million",
        ("AmazonDynamoDB",),
        "ReadRequestUnits",
        "million read request units",
        frozenset({"ReadRequestUnits"}),
        "DynamoDB on-demand per million read request units",
        per=MILLION,
    ),
    Rate(
        "dynamodb.storage_gb_month",
        ("AmazonDynamoDB",),
        "TimedStorage-ByteHrs",
        "GB-month",
        GB_MONTH,
        "DynamoDB Standard table storage per GB-month (after the free 25 GB)",
    ),
    Rate(
        "codebuild.minute.general1.small",
        ("CodeBuild",),
        "Build-Min:g1.small",
        "build-minute",
        frozenset({"Minutes", "minute", "Build-Minutes"}),
        "CodeBuild general1.small Linux per build minute",
    ),
    Rate(
        "ecr.storage_gb_month",
        ("AmazonECR",),
        "TimedStorage-ByteHrs",
        "GB-month",
        GB_MONTH,
        "ECR private repository storage per GB-month",
    ),
    Rate(
        "sns.requests_million",
        ("AmazonSNS",),
        "Requests-Tier1",
        "million requests",
        REQUESTS,
        "SNS standard topic publishes per million requests (first paid tier)",
        per=MILLION,
    ),
    Rate(
        "sns.email_100k",
        ("AmazonSNS",),
        "DeliveryAttempts-SMTP",
        "100k notifications",
        frozenset({"Notifications", "Deliveries"}),
        "SNS email notifications per 100,000",
        per=Decimal(100_000),
    ),
    Rate(
        "eventbridge_scheduler.invocations_million",
        ("AWSEvents",),
        "ScheduledInvocation",
        "million invocations",
        frozenset({"Invocations", "Requests"}),
        "EventBridge Scheduler per million invocations (first paid tier)",
        per=MILLION,
    ),
    Rate(
        "ses.thousand_emails",
        ("AmazonSES",),
        "Recipients",
        "thousand emails",
        frozenset({"Count", "Recipients", "Messages"}),
        "SES outbound email per 1,000 recipients",
        per=THOUSAND,
    ),
    Rate(
        "data_transfer.internet_gb",
        ("AWSDataTransfer",),
        "DataTransfer-Out-Bytes",
        "GB",
        GB,
        "Data transfer out to the internet per GB (first paid tier)",
    ),
)

# Key prefixes with no line in the bulk files, and why: kept from the existing table.
HAND_KEPT: tuple[tuple[str, str], ...] = (
    ("fargate_spot.", "Fargate Spot prices move with spare capacity and are not in the bulk files"),
    (
        "elasticache_serverless.min_gb.",
        "the ElastiCache Serverless minimum is a billing rule, not a price-list line",
    ),
)


def hand_kept_reason(key: str) -> str | None:
    """Why a key is kept by hand, or None when the offer files should have it."""
    return next((reason for prefix, reason in HAND_KEPT if key.startswith(prefix)), None)


def offer_url(offer: str, region: str, *, global_offer: bool) -> str:
    """The public URL of an offer's current price-list file for a region."""
    where = "" if global_offer else f"{region}/"
    return f"{PRICE_LIST_HOST}/offers/v1.0/aws/{offer}/current/{where}index.json"


def usage_types(rate: Rate, region: str) -> frozenset[str]:
    """The usage types that select `rate` in `region` (empty when it has none)."""
    if rate.usage_type is None:
        return frozenset()
    if rate.prefix is Prefix.NONE:
        return frozenset({rate.usage_type})
    if rate.prefix is Prefix.REGION_CODE:
        return frozenset({f"{region}-{rate.usage_type}"})
    names = {f"{REGION_PREFIXES[region]}-{rate.usage_type}"}
    if region == BARE_USAGE_TYPE_REGION:
        names.add(rate.usage_type)
    return frozenset(names)
