"""Release tags on the images of a recorded release, so ECR's lifecycle policy keeps them
(fargo.images.ecr.lifecycle_policy keeps every `release-` image) for a rollback to use; and
off again once the release is pruned, so its image falls back to the policy's count.

A repository holds one service's images for every environment of the app, so the tag names
the environment: `release-<env>-<number>`.
"""

from __future__ import annotations

from collections.abc import Iterable

from fargo.errors import AwsError
from fargo.images.ecr import RELEASE_TAG_PREFIX, Ecr
from fargo.images.reference import pinned
from fargo.model.app import App
from fargo.release.history import Release


def release_tag(env: str, number: int) -> str:
    return f"{RELEASE_TAG_PREFIX}{env}-{number}"


def tag_release_images(ecr: Ecr, app: App, release: Release) -> list[str]:
    """Tag each image fargo pushed for `release`; what could not be tagged, as notes."""
    tag = release_tag(app.env, release.number)
    notes: list[str] = []
    done: set[tuple[str, str]] = set()
    for service in app.builds:
        build = service.build
        found = pinned(release.images.get(service.name, ""))
        if build is None or found is None:
            continue
        digest = found[1]
        if (build.repository, digest) in done:
            continue
        done.add((build.repository, digest))
        if not ecr.tag_image(build.repository, digest, tag):
            notes.append(
                f"{build.repository}: the tag {tag} already names another image, so the "
                f"image of release {release.number} is kept only as long as its own tags"
            )
    return notes


def untag_pruned_releases(ecr: Ecr, app: App, releases: Iterable[Release]) -> list[str]:
    """Take the tags of the pruned `releases` off their images; what could not be, as notes
    (the deploy has succeeded: this is housekeeping). The repositories are those the
    releases name, fargo's own (`<app>/<service>`), so a service removed since is cleaned up
    too. An image keeps its other tags (the source tag it was pushed under, other
    releases'); one whose last tag this is keeps it, so nothing is deleted here."""
    notes: list[str] = []
    for release in releases:
        tag = release_tag(app.env, release.number)
        for repository in sorted(_repositories(app, release)):
            try:
                ecr.untag_image(repository, tag)
            except AwsError as error:
                notes.append(
                    f"{repository}: could not take the tag {tag} of pruned release "
                    f"{release.number} off its image ({error.code}); ECR keeps it until the "
                    "lifecycle policy's cap of release images"
                )
    return notes


def _repositories(app: App, release: Release) -> set[str]:
    """fargo's repositories that `release`'s digest-pinned images are in."""
    repositories = {found[0] for found in map(pinned, release.images.values()) if found}
    return {r for r in repositories if r.startswith(f"{app.name}/")}
