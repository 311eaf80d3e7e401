"""Deploy's first step: build every image the app builds and push it to ECR, before any stack
changes. A tag names one source state (see tags.py), so an image already in ECR under its
tag is neither built nor pushed again. `build: { remote: codebuild }` builds in AWS
CodeBuild instead, which pushes as it builds (see codebuild.py)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from fargo.aws.facade import Aws
from fargo.images.blob_locations import BlobLocations
from fargo.images.build import Builder, LineSink
from fargo.images.codebuild import CodeBuild
from fargo.images.ecr import Ecr, PushTarget, Repository
from fargo.images.local_build import app_builder, build_request, select_builds
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

    def blob_finished(
        self, blob: Descriptor, outcome: BlobOutcome, source: str | None = None
    ) -> None:
        where = f" from {source}" if source else ""
        self._reporter.note(f"{self._service}: {blob.digest[7:19]} {outcome.value}{where}")


class Publisher:
    def __init__(
        self,
        aws: Aws,
        reporter: Reporter,
        work_dir: Path | None = None,
        *,
        poll_seconds: float | None = None,
        blob_locations: BlobLocations | None = None,
    ) -> None:
        self._aws = aws
        self._ecr = Ecr(aws)
        self._reporter = reporter
        self._work_dir = work_dir
        # How often a remote build is polled: as the deployer polls stacks, fast on an endpoint.
        self._poll = poll_seconds or (0.1 if aws.config.endpoint_url else 2.0)
        self._target: PushTarget | None = None
        self._builder: Builder | None = None
        self._codebuild: CodeBuild | None = None
        self._blob_locations = blob_locations or BlobLocations()

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
            # An image some other tool built: pushed as it is, tagged by its own digest.
            layout = Path(build.layout)
            digest = OciLayout.open(layout).image(None).digest
            tag = f"oci-{digest.removeprefix('sha256:')[:16]}"
            if self._ecr.image_digest(repository.name, tag) is None:
                self._push(app, service, layout, repository, tag)
            else:
                self._reporter.note(f"{service.name}: {repository.uri}:{tag} is already in ECR")
            return f"{repository.uri}@{digest}"
        tag = image_tag(build)
        existing = self._ecr.image_digest(repository.name, tag)
        if existing is not None:
            self._reporter.note(f"{service.name}: {repository.uri}:{tag} is already in ECR")
            return f"{repository.uri}@{existing}"
        with tempfile.TemporaryDirectory(dir=self._work_dir, prefix="fargo-image-") as scratch:
            request = build_request(build, Path(scratch) / "layout", tag)
            if build.remote == "codebuild":
                self._reporter.note(f"{service.name}: building in AWS CodeBuild ({build.platform})")
                digest = self._remote(app).build(
                    request,
                    repository,
                    service=service.name,
                    on_line=self._build_line(service.name),
                )
                return f"{repository.uri}@{digest}"
            builder = self._builder or app_builder(app)
            self._builder = builder
            self._reporter.note(f"{service.name}: building with {builder.name} ({build.platform})")
            built = builder.build(request, on_line=self._build_line(service.name))
            digest = self._push(app, service, built.layout, repository, tag)
        return f"{repository.uri}@{digest}"

    def _remote(self, app: App) -> CodeBuild:
        if self._codebuild is None:  # one account lookup, project and role check per deploy
            self._codebuild = CodeBuild(
                self._aws, self._reporter, app, poll_seconds=self._poll, work_dir=self._work_dir
            )
        return self._codebuild

    def _push(
        self, app: App, service: Service, layout: Path, repository: Repository, tag: str
    ) -> str:
        """Push `layout` as `repository:tag`; return the pushed manifest's digest."""
        if self._target is None:  # one token serves every push of the deploy
            self._target = self._ecr.push_target()
        # The app's other images often share base layers: the registry can link them.
        siblings = [s.build.repository for s in app.builds if s.build and s is not service]
        result = push(
            layout,
            f"{self._target.registry}/{repository.name}:{tag}",
            credentials=self._target.credentials,
            mount_from=siblings,
            blob_locations=self._blob_locations,
            progress=_LayerNotes(self._reporter, service.name),
        )
        self._reporter.note(f"{service.name}: pushed {repository.uri}:{tag} ({result.digest})")
        return result.digest

    def _build_line(self, service: str) -> LineSink:
        def note(line: str) -> None:
            self._reporter.note(f"{service} | {line}")

        return note
