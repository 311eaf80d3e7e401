"""Deploy's first step: build every image the app builds and push it to ECR, before any stack
changes. A tag names one source state (see tags.py), so an image already in ECR under its
tag is neither built nor pushed again."""

from __future__ import annotations

import tempfile
from pathlib import Path

from fargo.aws.facade import Aws
from fargo.images.build import Builder, BuildRequest, LineSink
from fargo.images.builders import select_builder
from fargo.images.ecr import Ecr, PushTarget, Repository
from fargo.images.local_build import select_builds
from fargo.images.oci import Descriptor, OciLayout
from fargo.images.progress import BlobOutcome
from fargo.images.push import push
from fargo.images.tags import image_tag
from fargo.model.app import App, Service
from fargo.progress import Reporter


class _LayerNotes:
    """Per-layer progress as reporter notes: one line when a layer starts and one when done."""

    def __init__(self, reporter: Reporter, service: str) -> None:
        self._reporter = reporter
        self._service = service

    def blob_started(self, blob: Descriptor) -> None:
        size = blob.size / 1024 / 1024
        self._reporter.note(f"{self._service}: pushing {blob.digest[7:19]} ({size:.1f} MiB)")

    def blob_progress(self, blob: Descriptor, offset: int) -> None:
        del blob, offset

    def blob_finished(self, blob: Descriptor, outcome: BlobOutcome) -> None:
        self._reporter.note(f"{self._service}: {blob.digest[7:19]} {outcome.value}")


class Publisher:
    def __init__(self, aws: Aws, reporter: Reporter, work_dir: Path | None = None) -> None:
        self._ecr = Ecr(aws)
        self._reporter = reporter
        self._work_dir = work_dir
        self._target: PushTarget | None = None
        self._builder: Builder | None = None

    def publish(self, app: App, services: tuple[str, ...] = ()) -> dict[str, str]:
        """Digest-pinned references (`repository-uri@sha256:...`) by building service."""
        return {
            service.name: self._publish(app, service) for service in select_builds(app, services)
        }

    def _publish(self, app: App, service: Service) -> str:
        build = service.build
        if build is None:  # app.builds holds only services that build
            raise ValueError(f"{service.name} builds no image")
        repository = self._ecr.ensure_repository(
            build.repository,
            keep=app.keep_images,
            tags={"fargo:app": app.name, "ManagedBy": "fargo"},
        )
        if build.layout is not None:
            return self._push_layout(service.name, Path(build.layout), repository)
        tag = image_tag(build)
        digest = self._ecr.image_digest(repository.name, tag)
        if digest is not None:
            self._reporter.note(f"{service.name}: {repository.uri}:{tag} is already in ECR")
            return f"{repository.uri}@{digest}"
        with tempfile.TemporaryDirectory(dir=self._work_dir, prefix="fargo-image-") as scratch:
            builder = self._builder or select_builder(
                None if app.builder == "auto" else app.builder
            )
            self._builder = builder
            self._reporter.note(f"{service.name}: building with {builder.name} ({build.platform})")
            built = builder.build(
                BuildRequest(
                    name=build.repository,
                    context=Path(build.context),
                    layout=Path(scratch) / "layout",
                    dockerfile=(
                        Path(build.context) / build.dockerfile if build.dockerfile else None
                    ),
                    target=build.target,
                    build_args=dict(build.args),
                    platform=build.platform,
                    tag=tag,
                ),
                on_line=self._build_line(service.name),
            )
            target = self._target or self._ecr.push_target()
            self._target = target
            # The app's other images often share base layers: the registry can link them.
            siblings = [s.build.repository for s in app.builds if s.build and s is not service]
            result = push(
                built.layout,
                f"{target.registry}/{repository.name}:{tag}",
                credentials=target.credentials,
                mount_from=siblings,
                progress=_LayerNotes(self._reporter, service.name),
            )
        self._reporter.note(f"{service.name}: pushed {repository.uri}:{tag} ({result.digest})")
        return f"{repository.uri}@{result.digest}"

    def _push_layout(self, service: str, layout: Path, repository: Repository) -> str:
        """An image some other tool built: pushed as it is, tagged by its own digest."""
        digest = OciLayout.open(layout).image(None).digest
        tag = f"oci-{digest.removeprefix('sha256:')[:16]}"
        if self._ecr.image_digest(repository.name, tag) is None:
            target = self._target or self._ecr.push_target()
            self._target = target
            push(
                layout,
                f"{target.registry}/{repository.name}:{tag}",
                credentials=target.credentials,
                progress=_LayerNotes(self._reporter, service),
            )
            self._reporter.note(f"{service}: pushed {layout} as {repository.uri}:{tag}")
        else:
            self._reporter.note(f"{service}: {repository.uri}:{tag} is already in ECR")
        return f"{repository.uri}@{digest}"

    def _build_line(self, service: str) -> LineSink:
        def note(line: str) -> None:
            self._reporter.note(f"{service} | {line}")

        return note
