"""The release a successful deploy records: built from what it deployed, stored in the
artifact bucket (history.py), its images tagged so ECR keeps them, and the tags of the
releases it pushes out of the history taken off again (images.py)."""

from __future__ import annotations

from dataclasses import dataclass

from fargo.aws.facade import Aws
from fargo.images.ecr import Ecr
from fargo.manifest.load import LoadedManifest
from fargo.model.app import App
from fargo.release.history import Release, ReleaseStore, git_commit
from fargo.release.images import tag_release_images, untag_pruned_releases
from fargo.synth.stack import StackTemplate


@dataclass(frozen=True)
class Recorded:
    release: Release
    new: bool  # False: the deploy changed nothing, and the latest release stands
    notes: tuple[str, ...] = ()
    pruned: tuple[int, ...] = ()  # the oldest releases it pushed out of the history


def new_release(
    loaded: LoadedManifest,
    app: App,
    built: dict[str, str],
    services: StackTemplate | None,
    parameters: dict[str, str],
) -> Release:
    """`built`: the digest-pinned references deploy pushed, by building service."""
    images = {s.name: s.image or built.get(s.built_by or s.name, "") for s in app.services}
    return Release(
        app=app.name,
        env=app.env,
        manifest_digest=loaded.digest,
        images=images,
        services_template=services.body if services is not None else None,
        services_parameters=parameters,
        git=git_commit(loaded.file.resolve().parent),
    )


def record_release(aws: Aws, bucket: str, app: App, release: Release) -> Recorded:
    """Record `release` unless it equals the latest (then nothing is written at all)."""
    store = ReleaseStore(aws, bucket, app)
    latest = store.latest()
    if latest is not None and latest.content() == release.content():
        return Recorded(latest, new=False)
    recorded = store.record(release)
    ecr = Ecr(aws)
    notes = tag_release_images(ecr, app, recorded)
    # The oldest releases leave the history: their tags first, so a tag that could not come
    # off is tried again by the next deploy, while the release still names its images.
    pruned = store.beyond_kept()
    notes += untag_pruned_releases(ecr, app, [store.read(n) for n in pruned])
    store.delete(pruned)
    return Recorded(recorded, new=True, notes=tuple(notes), pruned=tuple(pruned))
