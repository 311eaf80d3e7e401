"""The names of the stacks' outputs: what synth emits, what other stacks take as parameters
and what `fargo.outputs.StackOutputs` reads after a deploy.

One module for every stack, so that an emitted name and a read one cannot drift apart
(tests/unit/test_output_contract.py checks both ways), and free of the template library:
code that only reads deployed outputs imports names, not troposphere. A per-resource name
is a function of the manifest's name for it.
"""

from __future__ import annotations

from fargo.synth.ids import logical_id

# -- network stack ---------------------------------------------------------------------------
VPC_ID = "VpcId"
TASK_SUBNET_IDS = "TaskSubnetIds"
DATA_SUBNET_IDS = "DataSubnetIds"
TASK_SECURITY_GROUP_ID = "TaskSecurityGroupId"
LOAD_BALANCER_SECURITY_GROUP_ID = "LoadBalancerSecurityGroupId"
ASSIGN_PUBLIC_IP = "AssignPublicIp"
CLUSTER_NAME = "ClusterName"
CLUSTER_ARN = "ClusterArn"
LOAD_BALANCER_ARN = "LoadBalancerArn"
LOAD_BALANCER_DNS_NAME = "LoadBalancerDnsName"
LOAD_BALANCER_FULL_NAME = "LoadBalancerFullName"
LOAD_BALANCER_HOSTED_ZONE_ID = "LoadBalancerHostedZoneId"
HTTP_LISTENER_ARN = "HttpListenerArn"
HTTPS_LISTENER_ARN = "HttpsListenerArn"
# With a domain but no load balancer (and so no HTTPS listener), this output shows a later
# deploy that the app had a domain, whose records fargo may have to remove.
DOMAIN_ZONE = "DomainZone"
# The secret holding the header value CloudFront sends to the load balancer (with `cdn:`).
ORIGIN_VERIFY_SECRET_ARN = "OriginVerifySecretArn"  # noqa: S105 - a name, not a secret

# -- data stack ------------------------------------------------------------------------------
DATABASE_SECRET_ARN = "DatabaseSecretArn"  # noqa: S105 - a name, not a secret
DATABASE_HOST = "DatabaseHost"
DATABASE_PORT = "DatabasePort"
DATABASE_NAME = "DatabaseName"
DATABASE_IDENTIFIER = "DatabaseIdentifier"
CACHE_HOST = "CacheHost"
CACHE_PORT = "CachePort"
SCHEDULE_DEAD_LETTER_ARN = "ScheduleDeadLetterArn"
MAIL_DOMAIN = "MailDomain"
MAIL_CONFIGURATION_SET = "MailConfigurationSet"
# SES Easy DKIM gives three tokens, each a CNAME name and value.
DKIM_TOKENS = (1, 2, 3)


def mail_dkim_name(index: int) -> str:
    return f"MailDkim{index}Name"


def mail_dkim_value(index: int) -> str:
    return f"MailDkim{index}Value"


def _queue(name: str) -> str:
    return f"Queue{logical_id(name)}"


def queue_url(name: str) -> str:
    return f"{_queue(name)}Url"


def queue_arn(name: str) -> str:
    return f"{_queue(name)}Arn"


def queue_name(name: str) -> str:
    return f"{_queue(name)}Name"


def queue_dead_letter_arn(name: str) -> str:
    return f"{_queue(name)}DeadLetterArn"


def queue_dead_letter_name(name: str) -> str:
    return f"{_queue(name)}DeadLetterName"


def bucket_name(name: str) -> str:
    return f"Bucket{logical_id(name)}Name"


def bucket_arn(name: str) -> str:
    return f"Bucket{logical_id(name)}Arn"


# -- release stack ---------------------------------------------------------------------------
MIGRATION_TASK_DEFINITION_ARN = "MigrationTaskDefinitionArn"

# -- services stack --------------------------------------------------------------------------


def task_definition_arn(service: str) -> str:
    return f"{logical_id(service)}TaskDefinitionArn"


def service_name(service: str) -> str:
    """Only a long-running service has one: a scheduled task runs without an ECS service."""
    return f"{logical_id(service)}ServiceName"


def service_url(service: str) -> str:
    """Only where the services stack knows the host (see `edge/urls.py`)."""
    return f"{logical_id(service)}Url"


# -- edge stack ------------------------------------------------------------------------------
DISTRIBUTION_ID = "DistributionId"
DISTRIBUTION_DOMAIN_NAME = "DistributionDomainName"
# Whether the distribution answers IPv6: Route 53 then writes an AAAA alias to it too.
DISTRIBUTION_IPV6_ENABLED = "DistributionIpv6Enabled"
DISTRIBUTION_ARN = "DistributionArn"
SITE_BUCKET_NAME = "SiteBucketName"

# -- bootstrap stack -------------------------------------------------------------------------
LOCK_TABLE = "LockTable"
ARTIFACT_BUCKET = "ArtifactBucket"
BOOTSTRAP_VERSION = "BootstrapVersion"
