"""The CloudFront Function that serves a single-page app's shell on a distribution fargo does
not own (`cdn: { existing, spa_errors: function }`).

The distribution is not in a stack, so neither is its function: it is made through the
CloudFront API, found again by its name (`fargo-<app>-<env>-spa`), updated only when its
code differs, and published so the distribution runs the LIVE stage.
"""

from __future__ import annotations

from typing import Any

from fargo.aws.facade import Aws
from fargo.aws.settle import settle
from fargo.edge.distribution import wait_deployed
from fargo.errors import AwsError
from fargo.model.app import App
from fargo.synth.site_function import RUNTIME, SPA_FALLBACK

_COMMENT = "single-page app fallback on the default behavior (made by fargo)"
# How long a distribution may take to deploy the change that took the function off it.
DEPLOY_TIMEOUT_SECONDS = 1800.0


def function_name(app: App) -> str:
    return f"fargo-{app.name}-{app.env}-spa"


def ensure_function(aws: Aws, name: str) -> str:
    """The ARN of the published function `name` running the SPA fallback."""
    code = SPA_FALLBACK.encode()
    config = {"Comment": _COMMENT, "Runtime": RUNTIME}
    found = _development(aws, name)
    if found is None:
        # A retry of a create whose answer was lost finds the function made.
        made = settle(
            lambda: aws.call(
                "cloudfront", "create_function", Name=name, FunctionConfig=config, FunctionCode=code
            ),
            lambda: _development(aws, name),
            done_codes=("FunctionAlreadyExists",),
        )
        etag = made["ETag"]
    elif found["FunctionCode"].read() != code:
        made = aws.call(
            "cloudfront",
            "update_function",
            Name=name,
            IfMatch=found["ETag"],
            FunctionConfig=config,
            FunctionCode=code,
        )
        etag = made["ETag"]
    else:
        etag = found["ETag"]
        summary = aws.call("cloudfront", "describe_function", Name=name, Stage="DEVELOPMENT")
        if summary["FunctionSummary"]["Status"] != "UNPUBLISHED":
            return str(summary["FunctionSummary"]["FunctionMetadata"]["FunctionARN"])
    published = aws.call("cloudfront", "publish_function", Name=name, IfMatch=etag)
    return str(published["FunctionSummary"]["FunctionMetadata"]["FunctionARN"])


def _development(aws: Aws, name: str) -> Any:
    """The function's DEVELOPMENT stage (code and ETag), or None when there is none."""
    try:
        return aws.call("cloudfront", "get_function", Name=name, Stage="DEVELOPMENT")
    except AwsError as error:
        if error.code != "NoSuchFunctionExists":
            raise
        return None


def delete_function(
    aws: Aws,
    name: str,
    *,
    detached_from: str | None = None,
    poll_seconds: float = 2.0,
    timeout_seconds: float = DEPLOY_TIMEOUT_SECONDS,
) -> bool:
    """Delete `name`; False when it is already gone. `detached_from`: the distribution it
    was just taken off, whose change must be deployed first (CloudFront answers
    FunctionInUse until then)."""
    try:
        found = aws.call("cloudfront", "describe_function", Name=name, Stage="DEVELOPMENT")
    except AwsError as error:
        if error.code == "NoSuchFunctionExists":
            return False
        raise
    if detached_from is not None:
        wait_deployed(
            aws, detached_from, poll_seconds=poll_seconds, timeout_seconds=timeout_seconds
        )
    aws.call("cloudfront", "delete_function", Name=name, IfMatch=found["ETag"])
    return True
