"""Tasks get credentials their AWS SDK accepts, for the account and region they run in.

Gap (ministack 1.5.33): ministack hands each task container the container credentials
endpoint as AWS_CONTAINER_CREDENTIALS_FULL_URI on the emulator's address. On AWS that
endpoint is 169.254.170.2, and the SDKs fetch container credentials over plain HTTP only
from that link-local address or loopback: boto3 refuses the bridge gateway's ("Unsupported
host '10.213.x.1'"), so every AWS call of the app failed before it was sent. The credentials
it served were also random session keys, which the emulator maps to its default account
rather than the account the task runs in.

Now each task container gets, instead, the standard variables of static credentials: the
task's account id as AWS_ACCESS_KEY_ID (the emulator selects the account by a 12-digit key)
and AWS_REGION / AWS_DEFAULT_REGION, as Fargate sets them, unless the task definition sets
them itself. The task definition stays the one that goes to AWS, where the task role's
credentials come from the real endpoint.
"""

from typing import Any

from ._ministack import attr, module, replace

_ENDPOINT_VARIABLES = ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN")


def give_tasks_credentials() -> None:
    ecs = module("ministack.services.ecs")
    responses = module("ministack.core.responses")
    account_id = attr(responses, "get_account_id")
    region = attr(responses, "get_region")

    def build_run_kwargs(*args: Any, **kwargs: Any) -> dict[str, Any]:
        run_kwargs: dict[str, Any] = original(*args, **kwargs)
        environment = run_kwargs.get("environment")
        if not isinstance(environment, dict) or "AWS_ACCESS_KEY_ID" in environment:
            return run_kwargs
        for name in _ENDPOINT_VARIABLES:
            environment.pop(name, None)
        environment["AWS_ACCESS_KEY_ID"] = account_id()
        environment["AWS_SECRET_ACCESS_KEY"] = "emulator"  # noqa: S105 - the emulator checks none
        environment.setdefault("AWS_REGION", region())
        environment.setdefault("AWS_DEFAULT_REGION", environment["AWS_REGION"])
        return run_kwargs

    original = replace(ecs, "_build_run_kwargs", build_run_kwargs)
