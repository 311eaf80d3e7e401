"""`fargo build`: the app's images as OCI layouts on disk, nothing pushed."""

from __future__ import annotations

import shutil
from pathlib import Path

from fargo.images.build import BuildRequest, LineSink, ignore_line
from fargo.images.builders import select_builder
from fargo.images.tags import source_tag
from fargo.model.app import App


def build_layouts(
    app: App, services: tuple[str, ...], out: Path, *, on_line: LineSink = ignore_line
) -> dict[str, tuple[Path, str]]:
    """Build each building service (or only `services`) into OUT/<service>/; return the
    layout and manifest digest of each."""
    chosen = [s for s in app.builds if not services or s.name in services]
    if not chosen:
        return {}
    builder = select_builder(None if app.builder == "auto" else app.builder)
    built: dict[str, tuple[Path, str]] = {}
    for service in chosen:
        build = service.build
        if build is None:  # app.builds holds only services that build
            continue
        layout = out / service.name
        if layout.exists():
            shutil.rmtree(layout)  # a layout is rebuilt whole; stale blobs would linger
        layout.parent.mkdir(parents=True, exist_ok=True)
        result = builder.build(
            BuildRequest(
                name=build.repository,
                context=Path(build.context),
                layout=layout,
                dockerfile=Path(build.context) / build.dockerfile if build.dockerfile else None,
                target=build.target,
                build_args=dict(build.args),
                platform=build.platform,
                tag=source_tag(Path(build.context)),
            ),
            on_line=on_line,
        )
        built[service.name] = (result.layout, result.digest)
    return built
