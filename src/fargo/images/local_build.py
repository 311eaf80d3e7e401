"""`fargo build`: the app's images as OCI layouts on disk, nothing pushed."""

from __future__ import annotations

import shutil
from pathlib import Path

from fargo.errors import InputError
from fargo.images.build import Builder, BuildRequest, LineSink, ignore_line
from fargo.images.builders import select_builder
from fargo.images.tags import image_tag
from fargo.model.app import App, ImageBuild, Service


def build_layouts(
    app: App, services: tuple[str, ...], out: Path, *, on_line: LineSink = ignore_line
) -> dict[str, tuple[Path, str]]:
    """Build each building service (or only `services`) into OUT/<service>/; return the
    layout and manifest digest of each. Remote builds are not built here (`remote_builds`)."""
    # An `image: { layout }` is built already, by another tool; a remote build pushes.
    chosen = [
        s
        for s in select_builds(app, services)
        if s.build and s.build.layout is None and s.build.remote is None
    ]
    if not chosen:
        return {}
    builder = app_builder(app)
    built: dict[str, tuple[Path, str]] = {}
    for service in chosen:
        build = service.build
        if build is None:  # app.builds holds only services that build
            continue
        layout = out / service.name
        if layout.exists():
            if not (layout / "oci-layout").is_file():
                raise InputError(
                    f"{layout} exists and is not an OCI image layout; nothing was written",
                    hint="choose another --out directory",
                )
            shutil.rmtree(layout)  # a layout is rebuilt whole; stale blobs would linger
        layout.parent.mkdir(parents=True, exist_ok=True)
        result = builder.build(
            build_request(build, layout, image_tag(build)),
            on_line=on_line,
        )
        built[service.name] = (result.layout, result.digest)
    return built


def remote_builds(app: App, services: tuple[str, ...]) -> tuple[str, ...]:
    """The services named (all when none is) that build in AWS: there is no layout to
    write, since a remote build pushes to ECR as it builds."""
    return tuple(s.name for s in select_builds(app, services) if s.build and s.build.remote)


def select_builds(app: App, services: tuple[str, ...]) -> list[Service]:
    """The building services named (all when none is), refusing names that build nothing."""
    building = {s.name: s for s in app.builds}
    unknown = [name for name in services if name not in building]
    if unknown:
        raise InputError(
            f"{', '.join(unknown)}: no such service builds an image",
            hint="services with `image: { build }`: " + (", ".join(building) or "none"),
        )
    return [s for name, s in building.items() if not services or name in services]


def app_builder(app: App) -> Builder:
    """The builder the manifest asks for, or the first usable one."""
    return select_builder(None if app.builder == "auto" else app.builder)


def build_request(build: ImageBuild, layout: Path, tag: str) -> BuildRequest:
    """What to ask a builder for one service's image, written to `layout`."""
    context = Path(build.context)
    return BuildRequest(
        name=build.repository,
        context=context,
        layout=layout,
        dockerfile=context / build.dockerfile if build.dockerfile else None,
        target=build.target,
        build_args=dict(build.args),
        platform=build.platform,
        tag=tag,
    )
