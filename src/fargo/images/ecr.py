"""ECR through the AWS facade: fargo's repositories and the credentials to push to them."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from fargo.aws.facade import Aws
from fargo.aws.settle import settle
from fargo.errors import AwsError
from fargo.images.auth import BasicCredentials
from fargo.images.oci import INDEX_TYPES, MANIFEST_TYPES


@dataclass(frozen=True)
class Repository:
    name: str
    uri: str  # REGISTRY/NAME, as task definitions reference it


@dataclass(frozen=True)
class PushTarget:
    """Where a push goes: the registry host to talk to, and how to authenticate."""

    registry: str  # host[:port]
    credentials: BasicCredentials


# Tags deploy gives the images of a recorded release (fargo.release.images).
RELEASE_TAG_PREFIX = "release-"
# How many release-tagged images the lifecycle policy keeps, a cap no repository should reach:
# each environment keeps its last 50 releases (fargo.release.history), and a pruned release's
# tag comes off its image again, unless it is the image's last (fargo.release.images).
RELEASE_IMAGES_KEPT = 1000


def lifecycle_policy(keep: int) -> str:
    """Keep the last `keep` images, and the images of recorded releases beside them: ECR
    expires an image only by the highest-priority rule whose tags it matches, so an image
    tagged `release-...` is never expired by the count of the second rule."""
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": "keep the images of recorded releases",
                    "selection": {
                        "tagStatus": "tagged",
                        "tagPrefixList": [RELEASE_TAG_PREFIX],
                        "countType": "imageCountMoreThan",
                        "countNumber": RELEASE_IMAGES_KEPT,
                    },
                    "action": {"type": "expire"},
                },
                {
                    "rulePriority": 2,
                    "description": f"keep the last {keep} images",
                    "selection": {
                        "tagStatus": "any",
                        "countType": "imageCountMoreThan",
                        "countNumber": keep,
                    },
                    "action": {"type": "expire"},
                },
            ]
        },
        sort_keys=True,
    )


class Ecr:
    def __init__(self, aws: Aws) -> None:
        self._aws = aws

    def _repository(self, name: str) -> dict[str, Any] | None:
        try:
            found = self._aws.call("ecr", "describe_repositories", repositoryNames=[name])
        except AwsError as error:
            if error.code != "RepositoryNotFoundException":
                raise
            return None
        return dict(found["repositories"][0])

    def ensure_repository(self, name: str, *, keep: int, tags: dict[str, str]) -> Repository:
        """Create the repository if it is missing (immutable tags, scan on push, encrypted),
        and keep its lifecycle policy at `keep` images. Idempotent."""
        repository = self._repository(name)
        if repository is None:

            def create() -> dict[str, Any]:
                return dict(
                    self._aws.call(
                        "ecr",
                        "create_repository",
                        repositoryName=name,
                        imageTagMutability="IMMUTABLE",
                        imageScanningConfiguration={"scanOnPush": True},
                        encryptionConfiguration={"encryptionType": "AES256"},
                        tags=[{"Key": k, "Value": v} for k, v in sorted(tags.items())],
                    )["repository"]
                )

            # A retry of a create whose answer was lost finds the repository made.
            repository = settle(
                create,
                lambda: self._repository(name),
                done_codes=("RepositoryAlreadyExistsException",),
            )
        policy = lifecycle_policy(keep)
        if self._lifecycle_policy(name) != json.loads(policy):
            self._aws.call(
                "ecr", "put_lifecycle_policy", repositoryName=name, lifecyclePolicyText=policy
            )
        return Repository(name, str(repository["repositoryUri"]))

    def image_digest(self, repository: str, tag: str) -> str | None:
        """The digest already pushed under `tag`: tags are immutable, so it is final."""
        found = self._tagged(repository, tag)
        return str(found["imageDigest"]) if found is not None else None

    def untag_image(self, repository: str, tag: str) -> bool:
        """Take `tag` off its image, the image staying under its other tags (BatchDeleteImage
        by tag removes just that tag, and deletes the image only with its last one, so a
        last tag is left where it is). True when the tag was removed.

        The tags are read, then the one removed: a second writer removing another tag of the
        same image in between could leave it none. Every image fargo pushes keeps the source
        tag it was pushed under, which nothing of fargo's removes, so that needs a tag
        removed by hand as well."""
        try:
            found = self._tagged(repository, tag)
        except AwsError as error:
            if error.code == "RepositoryNotFoundException":  # deleted by hand since
                return False
            raise
        if found is None or set(found.get("imageTags", [])) <= {tag}:
            return False
        answer = self._aws.call(
            "ecr", "batch_delete_image", repositoryName=repository, imageIds=[{"imageTag": tag}]
        )
        return not answer.get("failures")

    def _tagged(self, repository: str, tag: str) -> dict[str, Any] | None:
        """The image details of `repository:tag`; None when no image has that tag."""
        try:
            found = self._aws.call(
                "ecr",
                "describe_images",
                repositoryName=repository,
                imageIds=[{"imageTag": tag}],
            )
        except AwsError as error:
            if error.code == "ImageNotFoundException":
                return None
            raise
        details = found.get("imageDetails", [])
        return dict(details[0]) if details else None

    def image_manifest(self, repository: str, digest: str) -> dict[str, Any] | None:
        """The manifest or index pushed as `digest`, parsed; None when ECR does not hold it."""
        found = self._aws.call(
            "ecr",
            "batch_get_image",
            repositoryName=repository,
            imageIds=[{"imageDigest": digest}],
            acceptedMediaTypes=sorted(MANIFEST_TYPES | INDEX_TYPES),
        )
        for image in found.get("images", []):
            manifest = json.loads(image.get("imageManifest") or "null")
            return manifest if isinstance(manifest, dict) else None
        return None

    def tag_image(self, repository: str, digest: str, tag: str) -> bool:
        """Give the image pushed as `digest` one more tag, as ECR retags: PutImage with the
        image's own manifest. False when `tag` already names another image (tags are
        immutable); True when it names this one, already or now."""
        found = self._aws.call(
            "ecr",
            "batch_get_image",
            repositoryName=repository,
            imageIds=[{"imageDigest": digest}],
            acceptedMediaTypes=sorted(MANIFEST_TYPES | INDEX_TYPES),
        )
        (image,) = found["images"]
        try:
            self._aws.call(
                "ecr",
                "put_image",
                repositoryName=repository,
                imageManifest=image["imageManifest"],
                imageManifestMediaType=image["imageManifestMediaType"],
                imageDigest=digest,
                imageTag=tag,
            )
        except AwsError as error:
            if error.code == "ImageAlreadyExistsException":  # this tag on this image
                return True
            if error.code != "ImageTagAlreadyExistsException":
                raise
            return self.image_digest(repository, tag) == digest
        return True

    def push_target(self) -> PushTarget:
        """Credentials from get_authorization_token: no docker login, no AWS CLI."""
        data = self._aws.call("ecr", "get_authorization_token")["authorizationData"][0]
        user, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
        registry = urlparse(data["proxyEndpoint"]).netloc
        endpoint = self._aws.config.endpoint_url
        if endpoint is not None:
            # An emulator serves the registry API on its own port, not on the ECR hostname
            # its proxyEndpoint names.
            registry = urlparse(endpoint).netloc
        return PushTarget(registry, BasicCredentials(user, password))

    def _lifecycle_policy(self, name: str) -> object:
        try:
            found = self._aws.call("ecr", "get_lifecycle_policy", repositoryName=name)
        except AwsError as error:
            if error.code == "LifecyclePolicyNotFoundException":
                return None
            raise
        return json.loads(found["lifecyclePolicyText"])
