"""Tasks run the images pushed to the emulator's ECR.

Gap (ministack 1.5.33): a task definition names an image by its repository URI,
`<account>.dkr.ecr.<region>.amazonaws.com/<name>@sha256:...`, as ECR's DescribeRepositories
gives it and as fargo pins it. ministack hands that reference to the container engine as
is, so the engine asks AWS's real registry for it; the image is in the emulator's own
registry, on its port on 127.0.0.1, behind the credentials of the account that pushed it.

Now an image of an ECR repository is pulled from the emulator's registry, with that
account's GetAuthorizationToken credentials, the way the ECS agent pulls with the task
execution role's. The task's records keep the reference the task definition names.
"""

import base64
import os
import re
from typing import Any

from ._ministack import attr, module, replace
from .ecr_registry import _token

_ECR_REFERENCE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/(?P<rest>.+)$"
)


def loopback_reference(image: str) -> tuple[str, dict[str, str]] | None:
    """The emulator registry's reference for an ECR image, and the credentials to pull it."""
    match = _ECR_REFERENCE.match(image)
    if match is None:
        return None
    port = os.environ.get("GATEWAY_PORT") or "4566"
    # GetAuthorizationToken's token is base64("AWS:<password>"), as on AWS.
    token = base64.b64decode(_token(match["account"], match["region"])).decode()
    username, _, password = token.partition(":")
    credentials = {"username": username, "password": password}
    return f"127.0.0.1:{port}/{match['rest']}", credentials


def pull_images_from_emulator_ecr() -> None:
    ecs = module("ministack.services.ecs")
    pull_error = attr(ecs, "_ImagePullError")
    image_not_found = attr(module("docker.errors"), "ImageNotFound")
    parse_reference = attr(module("docker.utils"), "parse_repository_tag")

    def _pull(
        docker_client: Any, reference: str, credentials: Any, platform: Any, named: str
    ) -> None:
        """Pull, failing the task with the engine's reason: docker-py's own pull drops
        the errors of the progress stream and reports a missing image instead."""
        repository, tag = parse_reference(reference)
        try:
            events = docker_client.api.pull(
                repository,
                tag=tag,
                auth_config=credentials,
                platform=platform,
                stream=True,
                decode=True,
            )
            errors = [str(e["error"]) for e in events if isinstance(e, dict) and e.get("error")]
        except Exception as exc:
            raise pull_error(f"{named}: {exc}") from exc
        if errors:
            raise pull_error(f"{named}: {errors[-1]}")

    def run_docker_container(
        docker_client: Any, cdef: dict[str, Any], run_kwargs: dict[str, Any], **kwargs: Any
    ) -> Any:
        local = loopback_reference(str(cdef.get("image", "")))
        if local is None:
            return original(docker_client, cdef, run_kwargs, **kwargs)
        reference, credentials = local
        try:
            docker_client.images.get(reference)
        except image_not_found:
            _pull(docker_client, reference, credentials, run_kwargs.get("platform"), cdef["image"])
        for key in ("cache_image", "fallback_image"):
            named = loopback_reference(kwargs.get(key) or "")
            if named is not None:
                kwargs[key] = named[0]
        kwargs["auth_config"] = kwargs.get("auth_config") or credentials
        return original(docker_client, {**cdef, "image": reference}, run_kwargs, **kwargs)

    original = replace(ecs, "_run_docker_container", run_docker_container)
