"""The buildspec a remote build runs: log in to ECR, then one `docker buildx build --push`.

It is generated per build and passed with StartBuild (`buildspecOverride`), so the project
holds nothing that could drift from fargo.yml. What changes per build (the image reference,
the registry) comes in as environment variables; the Dockerfile's options are written into
the command, shell-quoted. The buildspec is JSON, which CodeBuild reads as the YAML it is.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field

from fargo.manifest.fargate import Platform


@dataclass(frozen=True)
class RemoteBuild:
    """One image to build in CodeBuild and push as `image` (`REPOSITORY-URI:TAG`)."""

    image: str
    platform: Platform
    dockerfile: str  # inside the source archive
    target: str | None = None
    build_args: Mapping[str, str] = field(default_factory=dict)

    @property
    def registry(self) -> str:
        return self.image.split("/", 1)[0]


def environment_variables(build: RemoteBuild) -> list[dict[str, str]]:
    return [
        {"name": "FARGO_IMAGE", "value": build.image, "type": "PLAINTEXT"},
        {"name": "FARGO_REGISTRY", "value": build.registry, "type": "PLAINTEXT"},
        {"name": "FARGO_PLATFORM", "value": build.platform, "type": "PLAINTEXT"},
    ]


def build_command(build: RemoteBuild) -> str:
    """`docker buildx build ... --push .`: one image manifest (no attestations), as every
    local builder writes, so the digest ECR reports is the image's."""
    words = ["docker", "buildx", "build", "--progress=plain", "--provenance=false"]
    words += ["--platform", build.platform, "-f", build.dockerfile]
    if build.target:
        words += ["--target", build.target]
    for key, value in sorted(build.build_args.items()):
        words += ["--build-arg", f"{key}={value}"]
    command = shlex.join(words)
    return f'{command} -t "$FARGO_IMAGE" --push .'


def buildspec(build: RemoteBuild) -> str:
    login = (
        'aws ecr get-login-password --region "$AWS_DEFAULT_REGION" '
        '| docker login --username AWS --password-stdin "$FARGO_REGISTRY"'
    )
    spec = {
        "version": "0.2",
        "phases": {
            "pre_build": {"commands": [login]},
            "build": {"commands": [build_command(build)]},
        },
    }
    return json.dumps(spec, indent=2)
