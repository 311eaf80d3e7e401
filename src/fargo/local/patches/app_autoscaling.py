"""Application Auto Scaling: the API, and its two CloudFormation types.

Gap (ministack 1.5.33): ministack serves no Application Auto Scaling API. A
request signed for ``application-autoscaling`` (JSON protocol, target prefix
``AnyScaleFrontendService``) is answered 400 "Unsupported service", and its
CloudFormation registers no provisioner for AWS::ApplicationAutoScaling::
ScalableTarget or ScalingPolicy, so a template that scales an ECS service fails
validation with "Unrecognized resource types".

This module adds a minimal service, kept per account and region like
ministack's own: RegisterScalableTarget, DeregisterScalableTarget,
DescribeScalableTargets, PutScalingPolicy, DeleteScalingPolicy,
DescribeScalingPolicies and DescribeScalingActivities. It
validates what AWS validates up front (a registered ECS service must exist, a
policy needs a registered target, min <= max, a target-tracking policy names
exactly one metric, ALBRequestCountPerTarget needs a ResourceLabel) and, as
AWS does, creates the two CloudWatch alarms of a target-tracking policy
(``TargetTracking-<resource>-AlarmHigh-<uuid>`` and ``-AlarmLow-``, none for
scale-in when DisableScaleIn is set). Registering an ECS target whose service
runs outside [MinCapacity, MaxCapacity] sets its desired count into that range
through UpdateService, as AWS scales it at once. The alarms' evaluation and
the policies' scaling activities are queue_scaling.py's.

The provisioners call the same functions: a ScalableTarget's Ref and Id are
``ResourceId|ScalableDimension|ServiceNamespace``, a ScalingPolicy's Ref and
Arn its policy ARN, as on AWS. No RoleARN is needed: like AWS, the target then
reports the namespace's service-linked role.
"""

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from ._ministack import (
    SUPPORTED_VERSION,
    PatchError,
    attr,
    module,
    provisioner_table,
)

Json = dict[str, Any]
Provisioned = tuple[str, dict[str, Any]]

SERVICE = "application-autoscaling"
_TARGET_PREFIX = "AnyScaleFrontendService"
_CONTENT_TYPE = "application/x-amz-json-1.1"
_SIGNED_BY = "ApplicationAutoScaling"

_NAMESPACES = frozenset(
    {
        "appstream",
        "cassandra",
        "comprehend",
        "custom-resource",
        "dynamodb",
        "ec2",
        "ecs",
        "elasticache",
        "elasticmapreduce",
        "kafka",
        "lambda",
        "neptune",
        "rds",
        "sagemaker",
        "workspaces",
    }
)
# The service-linked role AWS reports for a target registered without RoleARN.
_LINKED_ROLES = {
    "ecs": "ecs.application-autoscaling.amazonaws.com/"
    "AWSServiceRoleForApplicationAutoScaling_ECSService",
    "dynamodb": "dynamodb.application-autoscaling.amazonaws.com/"
    "AWSServiceRoleForApplicationAutoScaling_DynamoDBTable",
    "elasticache": "elasticache.application-autoscaling.amazonaws.com/"
    "AWSServiceRoleForApplicationAutoScaling_ElastiCacheRG",
    "rds": "rds.application-autoscaling.amazonaws.com/"
    "AWSServiceRoleForApplicationAutoScaling_RDSCluster",
    "lambda": "lambda.application-autoscaling.amazonaws.com/"
    "AWSServiceRoleForApplicationAutoScaling_LambdaConcurrency",
}
_ECS_DIMENSION = "ecs:service:DesiredCount"
# Predefined metrics of the ECS service dimension: the metric their alarms watch.
_PREDEFINED = {
    "ECSServiceAverageCPUUtilization": ("AWS/ECS", "CPUUtilization", "Average"),
    "ECSServiceAverageMemoryUtilization": ("AWS/ECS", "MemoryUtilization", "Average"),
    "ALBRequestCountPerTarget": ("AWS/ApplicationELB", "RequestCountPerTarget", "Sum"),
}
# Members whose JSON type a template may give as a string; the API stores numbers.
_INTEGERS = frozenset(
    {
        "Cooldown",
        "MaxCapacity",
        "MinAdjustmentMagnitude",
        "MinCapacity",
        "ScaleInCooldown",
        "ScaleOutCooldown",
        "ScalingAdjustment",
    }
)
_FLOATS = frozenset({"MetricIntervalLowerBound", "MetricIntervalUpperBound", "TargetValue"})
_BOOLEANS = frozenset(
    {
        "DisableScaleIn",
        "DynamicScalingInSuspended",
        "DynamicScalingOutSuspended",
        "ReturnData",
        "ScheduledScalingSuspended",
    }
)
_SUSPENDED = (
    "DynamicScalingInSuspended",
    "DynamicScalingOutSuspended",
    "ScheduledScalingSuspended",
)
# "Update requires: Replacement" in the template reference.
_REPLACING = {
    "AWS::ApplicationAutoScaling::ScalableTarget": (
        "ResourceId",
        "ScalableDimension",
        "ServiceNamespace",
    ),
    "AWS::ApplicationAutoScaling::ScalingPolicy": (
        "PolicyName",
        "ResourceId",
        "ScalableDimension",
        "ScalingTargetId",
        "ServiceNamespace",
    ),
}


class ApiError(Exception):
    """An error the API answers with: its code, message and HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def _validation(message: str) -> ApiError:
    return ApiError("ValidationException", message)


class _Store:
    """The targets and policies, scoped by account and region as ministack's are."""

    def __init__(self) -> None:
        scoped = attr(module("ministack.core.responses"), "AccountRegionScopedDict")
        self.targets: Any = scoped()
        self.policies: Any = scoped()
        # "namespace|resource|dimension" -> scaling activities, newest first.
        self.activities: Any = scoped()


_STORE: list[_Store] = []


def _store() -> _Store:
    if not _STORE:
        raise PatchError("the application-autoscaling patch was not applied")
    return _STORE[0]


def store() -> _Store:
    """The targets, policies and activities of the current account and region."""
    return _store()


def _context() -> tuple[str, str]:
    responses = module("ministack.core.responses")
    return str(responses.get_account_id()), str(responses.get_region())


def _coerce(value: Any, key: str = "") -> Any:
    """Template strings as the numbers and booleans the API's shapes hold."""
    if isinstance(value, dict):
        return {k: _coerce(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_coerce(item, key) for item in value]
    if isinstance(value, str):
        if key in _INTEGERS:
            return int(value)
        if key in _FLOATS:
            return float(value)
        if key in _BOOLEANS:
            return value.lower() == "true"
    return value


def _target_key(namespace: str, resource_id: str, dimension: str) -> str:
    return f"{namespace}|{resource_id}|{dimension}"


def _required(request: Json, *names: str) -> None:
    missing = [name for name in names if request.get(name) in (None, "")]
    if missing:
        raise _validation(f"{missing[0]} is required")


def _check_ecs_service(resource_id: str, dimension: str) -> None:
    """AWS refuses an ECS target whose service is not there (ValidationException)."""
    if dimension != _ECS_DIMENSION:
        raise _validation(
            f"Unsupported scalable dimension '{dimension}' for service namespace 'ecs'"
        )
    parts = resource_id.split("/")
    if len(parts) != 3 or parts[0] != "service":
        raise _validation(f"Unsupported resource ID '{resource_id}' for service namespace 'ecs'")
    services = attr(module("ministack.services.ecs"), "_services")
    service = services.get(f"{parts[1]}/{parts[2]}")
    if not service or service.get("status") != "ACTIVE":
        raise _validation(f"ECS service doesn't exist: {resource_id}")


def _identity(request: Json) -> tuple[str, str, str]:
    _required(request, "ServiceNamespace", "ResourceId", "ScalableDimension")
    namespace = str(request["ServiceNamespace"])
    if namespace not in _NAMESPACES:
        raise _validation(f"Unsupported service namespace: {namespace}")
    return namespace, str(request["ResourceId"]), str(request["ScalableDimension"])


def register_scalable_target(request: Json) -> Json:
    request = _coerce(request)
    namespace, resource_id, dimension = _identity(request)
    key = _target_key(namespace, resource_id, dimension)
    targets = _store().targets
    existing = targets.get(key)
    if namespace == "ecs":
        _check_ecs_service(resource_id, dimension)
    if existing is None:
        _required(request, "MinCapacity", "MaxCapacity")
    current = existing or {}
    minimum = int(request.get("MinCapacity", current.get("MinCapacity", 0)))
    maximum = int(request.get("MaxCapacity", current.get("MaxCapacity", 0)))
    if minimum > maximum:
        raise _validation("Minimum capacity cannot be greater than maximum capacity")
    account, region = _context()
    suspended = dict.fromkeys(_SUSPENDED, False)
    suspended.update(current.get("SuspendedState") or {})
    suspended.update(request.get("SuspendedState") or {})
    linked = _LINKED_ROLES.get(namespace, f"{namespace}.application-autoscaling.amazonaws.com")
    record = existing or {
        "ServiceNamespace": namespace,
        "ResourceId": resource_id,
        "ScalableDimension": dimension,
        "CreationTime": time.time(),
        "RoleARN": f"arn:aws:iam::{account}:role/aws-service-role/{linked}",
        "ScalableTargetARN": (
            f"arn:aws:application-autoscaling:{region}:{account}:"
            f"scalable-target/{uuid.uuid4().hex[:4]}{uuid.uuid4().hex}"
        ),
    }
    record.update(MinCapacity=minimum, MaxCapacity=maximum, SuspendedState=suspended)
    if request.get("RoleARN"):
        record["RoleARN"] = request["RoleARN"]
    targets[key] = record
    if namespace == "ecs":
        _bring_into_range(resource_id, minimum, maximum)
    return {"ScalableTargetARN": record["ScalableTargetARN"]}


def _bring_into_range(resource_id: str, minimum: int, maximum: int) -> None:
    """A service outside its new [min, max] is scaled into it at once, as AWS
    does on registration, through ECS's own UpdateService."""
    _, cluster, name = resource_id.split("/")
    ecs = module("ministack.services.ecs")
    current = int(ecs._services[f"{cluster}/{name}"].get("desiredCount") or 0)
    wanted = min(max(current, minimum), maximum)
    if wanted != current:
        status, _headers, body = ecs._update_service(
            {"cluster": cluster, "service": name, "desiredCount": wanted}
        )
        if status >= 400:
            raise ApiError("ValidationException", f"UpdateService failed: {body!r}")


def _policies_of(key: str) -> list[str]:
    return [k for k in list(_store().policies) if k.rsplit("|", 1)[0] == key]


def deregister_scalable_target(request: Json) -> Json:
    namespace, resource_id, dimension = _identity(request)
    key = _target_key(namespace, resource_id, dimension)
    if key not in _store().targets:
        raise ApiError(
            "ObjectNotFoundException",
            f"No scalable target found for service namespace: {namespace}, resource ID: "
            f"{resource_id}, scalable dimension: {dimension}",
        )
    # AWS deletes the target's scaling policies, and their alarms, with it.
    for policy_key in _policies_of(key):
        _drop_policy(policy_key)
    del _store().targets[key]
    return {}


def _page(items: list[Json], request: Json, member: str) -> Json:
    start = int(request.get("NextToken") or 0)
    size = int(request.get("MaxResults") or 50)
    page: Json = {member: items[start : start + size]}
    if start + size < len(items):
        page["NextToken"] = str(start + size)
    return page


def describe_scalable_targets(request: Json) -> Json:
    _required(request, "ServiceNamespace")
    resource_ids = set(request.get("ResourceIds") or [])
    dimension = request.get("ScalableDimension")
    found = [
        dict(target)
        for target in _store().targets.values()
        if target["ServiceNamespace"] == request["ServiceNamespace"]
        and (not resource_ids or target["ResourceId"] in resource_ids)
        and (not dimension or target["ScalableDimension"] == dimension)
    ]
    return _page(found, request, "ScalableTargets")


def _metric_dimensions(record: Json) -> list[Json]:
    """ECS service metrics are keyed by ClusterName and ServiceName."""
    parts = record["ResourceId"].split("/")
    if record["ServiceNamespace"] == "ecs" and len(parts) == 3:
        return [
            {"Name": "ClusterName", "Value": parts[1]},
            {"Name": "ServiceName", "Value": parts[2]},
        ]
    return []


def _alarm_metric(record: Json, config: Json) -> Json:
    """The alarm members that name the metric a target-tracking policy tracks."""
    predefined = config.get("PredefinedMetricSpecification")
    if predefined:
        metric_type = predefined["PredefinedMetricType"]
        namespace, name, statistic = _PREDEFINED.get(
            metric_type, (f"AWS/{record['ServiceNamespace']}", metric_type, "Average")
        )
        dimensions = _metric_dimensions(record)
        if metric_type == "ALBRequestCountPerTarget":
            # ResourceLabel is app/<lb>/<id>/targetgroup/<tg>/<id>; the metric's
            # TargetGroup dimension is its targetgroup/... half.
            label = str(predefined["ResourceLabel"])
            dimensions = [{"Name": "TargetGroup", "Value": label[label.find("targetgroup/") :]}]
        return {
            "Namespace": namespace,
            "MetricName": name,
            "Statistic": statistic,
            "Dimensions": dimensions,
            "Period": 60,
        }
    custom = config["CustomizedMetricSpecification"]
    if custom.get("Metrics"):
        metrics = []
        for query in custom["Metrics"]:
            item = {k: v for k, v in query.items() if k != "MetricStat"}
            if query.get("MetricStat"):
                item["MetricStat"] = {**query["MetricStat"], "Period": 60}
            metrics.append(item)
        return {"Metrics": metrics}
    return {
        "Namespace": custom.get("Namespace"),
        "MetricName": custom.get("MetricName"),
        "Statistic": custom.get("Statistic", "Average"),
        "Dimensions": custom.get("Dimensions") or [],
        "Unit": custom.get("Unit"),
        "Period": 60,
    }


def _put_alarm(name: str, record: Json, metric: Json, high: bool, threshold: float) -> Json:
    account, region = _context()
    arn = f"arn:aws:cloudwatch:{region}:{account}:alarm:{name}"
    periods = 3 if high else 15
    alarm = {
        "AlarmName": name,
        "AlarmArn": arn,
        "AlarmDescription": (
            "DO NOT EDIT OR DELETE. For TargetTrackingScaling policy " + record["PolicyARN"] + "."
        ),
        "EvaluationPeriods": periods,
        "DatapointsToAlarm": periods,
        "Threshold": threshold,
        "ComparisonOperator": "GreaterThanThreshold" if high else "LessThanThreshold",
        "TreatMissingData": "missing",
        "StateValue": "INSUFFICIENT_DATA",
        "StateReason": "Unchecked: Initial alarm creation",
        "StateUpdatedTimestamp": int(time.time()),
        "ActionsEnabled": True,
        "AlarmActions": [record["PolicyARN"]],
        "OKActions": [],
        "InsufficientDataActions": [],
        "AlarmConfigurationUpdatedTimestamp": int(time.time()),
        **{k: v for k, v in metric.items() if v is not None},
    }
    attr(module("ministack.services.cloudwatch"), "cloudformation_put_metric_alarm")(alarm)
    return {"AlarmName": name, "AlarmARN": arn}


def _create_alarms(record: Json) -> list[Json]:
    config = record.get("TargetTrackingScalingPolicyConfiguration")
    if record["PolicyType"] != "TargetTrackingScaling" or not config:
        return []
    metric = _alarm_metric(record, config)
    target = float(config["TargetValue"])
    prefix = f"TargetTracking-{record['ResourceId']}"
    alarms = [_put_alarm(f"{prefix}-AlarmHigh-{uuid.uuid4()}", record, metric, True, target)]
    if not config.get("DisableScaleIn"):
        low = round(target * 0.9, 4)
        alarms.append(_put_alarm(f"{prefix}-AlarmLow-{uuid.uuid4()}", record, metric, False, low))
    return alarms


def _delete_alarms(record: Json) -> None:
    delete = attr(module("ministack.services.cloudwatch"), "cloudformation_delete_metric_alarm")
    for alarm in record.get("Alarms") or []:
        delete(alarm["AlarmName"])


def _check_target_tracking(config: Json | None) -> None:
    if not config:
        raise _validation(
            "TargetTrackingScalingPolicyConfiguration is required "
            "for a TargetTrackingScaling policy"
        )
    if config.get("TargetValue") is None:
        raise _validation("TargetValue is required")
    specs = [
        name
        for name in ("PredefinedMetricSpecification", "CustomizedMetricSpecification")
        if config.get(name)
    ]
    if len(specs) != 1:
        raise _validation(
            "Exactly one of PredefinedMetricSpecification and CustomizedMetricSpecification "
            "must be specified"
        )
    predefined = config.get("PredefinedMetricSpecification") or {}
    if predefined.get("PredefinedMetricType") == "ALBRequestCountPerTarget" and not predefined.get(
        "ResourceLabel"
    ):
        raise _validation(
            "ResourceLabel is required for predefined metric ALBRequestCountPerTarget"
        )
    custom = config.get("CustomizedMetricSpecification") or {}
    if custom.get("Metrics"):
        returned = [m for m in custom["Metrics"] if m.get("ReturnData", True)]
        if len(returned) != 1:
            raise _validation(
                "Exactly one metric in Metrics must have ReturnData set to true "
                "(or left unset) in a target tracking policy"
            )
    elif custom and not (custom.get("MetricName") and custom.get("Namespace")):
        raise _validation(
            "CustomizedMetricSpecification needs MetricName and Namespace, or Metrics"
        )


def put_scaling_policy(request: Json) -> Json:
    request = _coerce(request)
    _required(request, "PolicyName")
    namespace, resource_id, dimension = _identity(request)
    key = _target_key(namespace, resource_id, dimension)
    if key not in _store().targets:
        raise ApiError(
            "ObjectNotFoundException",
            f"No scalable target registered for service namespace: {namespace}, resource ID: "
            f"{resource_id}, scalable dimension: {dimension}",
        )
    policy_type = request.get("PolicyType") or "StepScaling"
    if policy_type == "TargetTrackingScaling":
        _check_target_tracking(request.get("TargetTrackingScalingPolicyConfiguration"))
    elif policy_type == "StepScaling":
        if not request.get("StepScalingPolicyConfiguration"):
            raise _validation("StepScalingPolicyConfiguration is required for a StepScaling policy")
    else:
        raise _validation(f"Unsupported policy type: {policy_type}")
    name = str(request["PolicyName"])
    policy_key = f"{key}|{name}"
    existing = _store().policies.get(policy_key)
    account, region = _context()
    record: Json = {
        "PolicyARN": (existing or {}).get("PolicyARN")
        or (
            f"arn:aws:autoscaling:{region}:{account}:scalingPolicy:{uuid.uuid4()}:"
            f"resource/{namespace}/{resource_id}:policyName/{name}"
        ),
        "PolicyName": name,
        "ServiceNamespace": namespace,
        "ResourceId": resource_id,
        "ScalableDimension": dimension,
        "PolicyType": policy_type,
        "CreationTime": (existing or {}).get("CreationTime") or time.time(),
    }
    for member in (
        "StepScalingPolicyConfiguration",
        "TargetTrackingScalingPolicyConfiguration",
        "PredictiveScalingPolicyConfiguration",
    ):
        if request.get(member):
            record[member] = request[member]
    if existing is not None:
        _delete_alarms(existing)
    record["Alarms"] = _create_alarms(record)
    _store().policies[policy_key] = record
    return {"PolicyARN": record["PolicyARN"], "Alarms": record["Alarms"]}


def _drop_policy(policy_key: str) -> None:
    record = _store().policies.pop(policy_key, None)
    if record is not None:
        _delete_alarms(record)


def delete_scaling_policy(request: Json) -> Json:
    _required(request, "PolicyName")
    namespace, resource_id, dimension = _identity(request)
    policy_key = f"{_target_key(namespace, resource_id, dimension)}|{request['PolicyName']}"
    if policy_key not in _store().policies:
        raise ApiError(
            "ObjectNotFoundException",
            f"No scaling policy found for service namespace: {namespace}, resource ID: "
            f"{resource_id}, scalable dimension: {dimension}, policy name: "
            f"{request['PolicyName']}",
        )
    _drop_policy(policy_key)
    return {}


def describe_scaling_policies(request: Json) -> Json:
    _required(request, "ServiceNamespace")
    names = set(request.get("PolicyNames") or [])
    found = [
        dict(policy)
        for policy in _store().policies.values()
        if policy["ServiceNamespace"] == request["ServiceNamespace"]
        and (not names or policy["PolicyName"] in names)
        and (not request.get("ResourceId") or policy["ResourceId"] == request["ResourceId"])
        and (
            not request.get("ScalableDimension")
            or policy["ScalableDimension"] == request["ScalableDimension"]
        )
    ]
    return _page(found, request, "ScalingPolicies")


def describe_scaling_activities(request: Json) -> Json:
    _required(request, "ServiceNamespace")
    found = [
        dict(activity)
        for activities in _store().activities.values()
        for activity in activities
        if activity["ServiceNamespace"] == request["ServiceNamespace"]
        and (not request.get("ResourceId") or activity["ResourceId"] == request["ResourceId"])
        and (
            not request.get("ScalableDimension")
            or activity["ScalableDimension"] == request["ScalableDimension"]
        )
    ]
    found.sort(key=lambda activity: -float(activity["StartTime"]))
    return _page(found, request, "ScalingActivities")


_ACTIONS: dict[str, Callable[[Json], Json]] = {
    "RegisterScalableTarget": register_scalable_target,
    "DeregisterScalableTarget": deregister_scalable_target,
    "DescribeScalableTargets": describe_scalable_targets,
    "PutScalingPolicy": put_scaling_policy,
    "DeleteScalingPolicy": delete_scaling_policy,
    "DescribeScalingPolicies": describe_scaling_policies,
    "DescribeScalingActivities": describe_scaling_activities,
}


def _answer(status: int, body: Json, code: str = "") -> tuple[int, dict[str, str], bytes]:
    headers = {"Content-Type": _CONTENT_TYPE}
    if code:
        headers["x-amzn-errortype"] = code
    return status, headers, json.dumps(body).encode()


async def handle_request(
    method: str, path: str, headers: dict[str, str], body: bytes, query_params: Any
) -> tuple[int, dict[str, str], bytes]:
    """The JSON-protocol entry point ministack's dispatcher calls."""
    action = headers.get("x-amz-target", "").rpartition(".")[2]
    handler = _ACTIONS.get(action)
    if handler is None:
        return _answer(
            400,
            {"__type": "UnknownOperationException", "message": f"Unknown operation {action}"},
            "UnknownOperationException",
        )
    try:
        request = json.loads(body or b"{}")
        return _answer(200, handler(request))
    except ApiError as exc:
        return _answer(exc.status, {"__type": exc.code, "message": exc.message}, exc.code)
    except (ValueError, TypeError, KeyError) as exc:
        return _answer(400, {"__type": "ValidationException", "message": str(exc)})


# --- CloudFormation ---------------------------------------------------------


def _handler_error(exc: ApiError) -> ValueError:
    """The StatusReason AWS's resource handlers give for a refused API call."""
    sdk_error = attr(module("ministack.services.cloudformation.helpers"), "_sdk_error")
    return ValueError(
        f'Resource handler returned message: "{sdk_error(exc.message, _SIGNED_BY, exc.status)}" '
        f"(RequestToken: {uuid.uuid4()}, HandlerErrorCode: InvalidRequest)"
    )


def _calling(function: Callable[[Json], Json], request: Json) -> Json:
    try:
        return function(request)
    except ApiError as exc:
        raise _handler_error(exc) from exc


def _target_request(props: Json) -> Json:
    members = (
        "ServiceNamespace",
        "ResourceId",
        "ScalableDimension",
        "MinCapacity",
        "MaxCapacity",
        "RoleARN",
        "SuspendedState",
    )
    return {k: props[k] for k in members if k in props}


def _target_create(logical_id: str, props: Json, stack_name: str) -> Provisioned:
    request = _target_request(props)
    _calling(register_scalable_target, request)
    target_id = f"{props['ResourceId']}|{props['ScalableDimension']}|{props['ServiceNamespace']}"
    return target_id, {"Id": target_id}


def _target_update(
    physical_id: str, old_props: Json, new_props: Json, stack_name: str
) -> Provisioned:
    request = _target_request(new_props)
    # A suspension the template no longer sets is lifted, as a fresh target has none.
    request.setdefault("SuspendedState", dict.fromkeys(_SUSPENDED, False))
    _calling(register_scalable_target, request)
    return physical_id, {"Id": physical_id}


def _target_delete(physical_id: str, props: Json) -> None:
    try:
        deregister_scalable_target(_target_request(props))
    except ApiError as exc:
        if exc.code != "ObjectNotFoundException":
            raise _handler_error(exc) from exc


def _policy_request(props: Json) -> Json:
    request = {k: v for k, v in props.items() if k != "ScalingTargetId"}
    target_id = props.get("ScalingTargetId")
    if target_id:
        parts = str(target_id).split("|")
        if len(parts) != 3:
            raise ValueError(f"ScalingTargetId {target_id!r} is not a scalable target's Ref")
        request.update(ResourceId=parts[0], ScalableDimension=parts[1], ServiceNamespace=parts[2])
    return request


def _policy_create(logical_id: str, props: Json, stack_name: str) -> Provisioned:
    arn = str(_calling(put_scaling_policy, _policy_request(props))["PolicyARN"])
    return arn, {"Arn": arn}


def _policy_update(
    physical_id: str, old_props: Json, new_props: Json, stack_name: str
) -> Provisioned:
    arn = str(_calling(put_scaling_policy, _policy_request(new_props))["PolicyARN"])
    return arn, {"Arn": arn}


def _policy_delete(physical_id: str, props: Json) -> None:
    try:
        delete_scaling_policy(_policy_request(props))
    except ApiError as exc:
        # Deregistering the target deletes its policies too.
        if exc.code != "ObjectNotFoundException":
            raise _handler_error(exc) from exc


def serve_application_autoscaling() -> None:
    """Closes the gap in the module docstring: routes the API to
    ``handle_request`` and registers the two provisioners and their replacing
    properties."""
    attr(module("ministack.services.cloudformation.helpers"), "_sdk_error")
    attr(module("ministack.services.ecs"), "_services")
    attr(module("ministack.services.ecs"), "_update_service")
    cloudwatch = module("ministack.services.cloudwatch")
    attr(cloudwatch, "cloudformation_put_metric_alarm")
    attr(cloudwatch, "cloudformation_delete_metric_alarm")
    handlers = attr(module("ministack.app"), "SERVICE_HANDLERS")
    patterns = attr(module("ministack.core.router"), "SERVICE_PATTERNS")
    if SERVICE in handlers or SERVICE in patterns:
        raise PatchError(
            f"ministack {SUPPORTED_VERSION} internals moved: it now serves {SERVICE} itself"
        )
    _STORE.append(_Store())
    patterns[SERVICE] = {
        "target_prefixes": [_TARGET_PREFIX],
        "host_patterns": [r"application-autoscaling\."],
    }
    handlers[SERVICE] = handle_request
    provisioner_table("_RESOURCE_HANDLERS").update(
        {
            "AWS::ApplicationAutoScaling::ScalableTarget": {
                "create": _target_create,
                "update": _target_update,
                "delete": _target_delete,
            },
            "AWS::ApplicationAutoScaling::ScalingPolicy": {
                "create": _policy_create,
                "update": _policy_update,
                "delete": _policy_delete,
            },
        }
    )
    provisioner_table("_REPLACING_PROPERTIES").update(_REPLACING)
