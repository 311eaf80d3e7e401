"""`image:<service>`: an `image: REF` fargo does not build, looked up where fargo can ask.

Only an ECR repository in the deploy's own account can be asked (DescribeImages). A missing
image is a warning (`image-not-found`), not a failure: another pipeline may push it between
plan and the task's start. Any other registry is SKIPPED.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fargo.errors import AwsError
from fargo.model.app import Service
from fargo.plan.checks import Check, Findings, PlanWarning
from fargo.preflight.context import Preflight

NOT_FOUND = "image-not-found"
_ECR = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repository>[^:@]+)(?::(?P<tag>[^:@]+))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)
_MISSING = frozenset({"RepositoryNotFoundException", "ImageNotFoundException"})


@dataclass(frozen=True)
class EcrImage:
    account: str
    region: str
    repository: str
    tag: str | None
    digest: str | None

    @property
    def image_id(self) -> dict[str, str]:
        # A digest pins the image exactly; a reference without tag or digest means latest.
        if self.digest:
            return {"imageDigest": self.digest}
        return {"imageTag": self.tag or "latest"}


def ecr_image(ref: str) -> EcrImage | None:
    """The parts of an ECR image reference; None for any other registry."""
    match = _ECR.match(ref)
    if match is None:
        return None
    return EcrImage(
        match["account"], match["region"], match["repository"], match["tag"], match["digest"]
    )


def images(preflight: Preflight) -> Findings:
    found = Findings()
    for service in preflight.app.services:
        if service.image is not None and service.build is None:
            found += _image(preflight, service, service.image)
    return found


def _image(preflight: Preflight, service: Service, ref: str) -> Findings:
    name = f"image:{service.name}"
    image = ecr_image(ref)
    if image is None:
        return Findings.of(Check(name, "SKIPPED", f"{ref}: not in ECR, so not looked up"))
    try:
        account = preflight.account
    except AwsError as error:
        return Findings.of(Check(name, "SKIPPED", f"{ref}: not looked up: {error.message}"))
    if image.account != account:
        return Findings.of(
            Check(name, "SKIPPED", f"{ref}: in account {image.account}, not {account}")
        )
    aws = (
        preflight.aws
        if image.region == preflight.aws.config.region
        else preflight.aws_in(image.region)
    )
    try:
        aws.call(
            "ecr",
            "describe_images",
            repositoryName=image.repository,
            imageIds=[image.image_id],
        )
    except AwsError as error:
        if error.code not in _MISSING:
            return Findings.of(Check(name, "SKIPPED", f"{ref}: not looked up: {error.message}"))
        missing = (
            f"repository {image.repository} does not exist"
            if error.code == "RepositoryNotFoundException"
            else f"{image.repository} has no image {next(iter(image.image_id.values()))}"
        )
        return Findings.of(
            Check(name, "WARN", f"{ref}: {missing}"),
            warnings=[
                PlanWarning(
                    NOT_FOUND,
                    f"service {service.name}'s image {ref} is not in ECR ({missing}); its "
                    "tasks will not start unless it is pushed before they do",
                )
            ],
        )
    return Findings.of(Check(name, "OK", f"{ref}: found in ECR"))
