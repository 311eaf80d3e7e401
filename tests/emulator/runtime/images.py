"""Images for the runtime tests, pushed the way deploy pushes them: to the account's
repository in the emulator's ECR, with fargo's own push code, and named as the task
definitions fargo deploys name them (`<repository URI>@<digest>`)."""

from __future__ import annotations

from pathlib import Path

from fargo.aws.facade import Aws, AwsConfig
from fargo.images import push
from fargo.images.ecr import Ecr


def push_to_ecr(layout: Path, endpoint_url: str, account: str, repository: str) -> str:
    """Push the OCI layout to `repository` in `account`; its digest-pinned reference."""
    ecr = Ecr(
        Aws(
            AwsConfig(
                region="us-east-1",
                endpoint_url=endpoint_url,
                static_credentials=(account, "test"),
                retry_mode="standard",
                max_attempts=3,
            )
        )
    )
    created = ecr.ensure_repository(repository, keep=5, tags={})
    target = ecr.push_target()
    pushed = push(layout, f"{target.registry}/{created.name}:v1", credentials=target.credentials)
    return f"{created.uri}@{pushed.digest}"
