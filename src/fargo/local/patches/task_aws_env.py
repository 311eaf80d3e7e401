"""Task containers get what an AWS SDK needs: credentials it accepts, in the task's own
account, and the task's region.

Gap 1 (ministack 1.5.33, with fargo's container network): ministack hands each task the
ECS container credentials endpoint as AWS_CONTAINER_CREDENTIALS_FULL_URI on the emulator's
address, `http://<network gateway>:<port>/v2/credentials/...`. The AWS SDKs fetch a full URI
only from a loopback address or ECS's own link-local ones (169.254.170.2, 169.254.170.23):
botocore refuses any other host ("Unsupported host ... Can only retrieve metadata from a
loopback address"), so every AWS call of an app in a task (SQS, S3, SES) failed before it
was sent. The endpoint's keys would also have put the calls in the default account, not
the task's. Now each container also gets AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, which
every SDK reads before the container endpoint: the key is the task's account id, which the
emulator reads as that account, as it does for fargo's own calls.

Gap 2 (ministack 1.5.33): a Fargate task gets AWS_REGION and AWS_DEFAULT_REGION from ECS;
ministack sets neither, so an SDK client made without a region failed ("You must specify a
region"). Now both are the task's region, unless the task definition sets them.

Nothing in the task definition changes: on AWS the keys come from the task role's endpoint.
"""

from collections.abc import Callable
from typing import Any

from ._ministack import attr, module, replace

# Not checked by the emulator; it only has to be present.
_SECRET = "fargo-local"  # noqa: S105 - not a secret: emulators take any


def _region_and_account(task_arn: str) -> tuple[str, str] | None:
    """The region and account of `arn:aws:ecs:<region>:<account>:task/...`."""
    parts = task_arn.split(":")
    if len(parts) < 6 or not parts[4].isdigit() or not parts[3]:
        return None
    return parts[3], parts[4]


def give_tasks_aws_settings() -> None:
    ecs = module("ministack.services.ecs")
    original: Callable[..., Any] = attr(ecs, "_register_metadata")

    def register_metadata(task_arn: str, *args: Any, **kwargs: Any) -> Any:
        token = original(task_arn, *args, **kwargs)
        # The container's environment, which the original just filled with the endpoints.
        env: dict[str, str] = args[4] if len(args) > 4 else kwargs["env"]
        scope = _region_and_account(task_arn)
        if scope is None:
            return token
        region, account = scope
        if "AWS_ACCESS_KEY_ID" not in env:
            env["AWS_ACCESS_KEY_ID"] = account
            env["AWS_SECRET_ACCESS_KEY"] = _SECRET
        env.setdefault("AWS_REGION", region)
        env.setdefault("AWS_DEFAULT_REGION", region)
        return token

    replace(ecs, "_register_metadata", register_metadata)
