"""`fargo push`, `fargo build` and `fargo image push`: images without a deploy."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import click

from fargo.cli.common import deployer_for, handle_errors, manifest_options, target_options


@click.command(name="push")
@click.argument("services", nargs=-1)
@manifest_options
@target_options
@handle_errors
def push_command(
    services: tuple[str, ...],
    file: Path,
    env: str | None,
    as_json: bool,
    use_local: bool,
    endpoint_url: str | None,
) -> None:
    """Build the images of SERVICES (default: all) and push them to ECR."""
    deployer = deployer_for(file, env, use_local, endpoint_url, as_json)
    pinned = deployer.publish(services)
    if as_json:
        click.echo(json.dumps({"images": pinned}, indent=2))
    else:
        for service, reference in pinned.items():
            click.echo(f"{service}: {reference}")


@click.command(name="build")
@click.argument("services", nargs=-1)
@manifest_options
@target_options
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path(".fargo/images"),
    show_default=True,
    help="write OUT/<service>/, an OCI image layout per service",
)
@handle_errors
def build_command(
    services: tuple[str, ...],
    file: Path,
    env: str | None,
    as_json: bool,
    use_local: bool,
    endpoint_url: str | None,
    out: Path,
) -> None:
    """Build the images of SERVICES (default: all) into OCI layouts, without pushing.

    A service with `build: { remote: codebuild }` is built in AWS CodeBuild, which pushes
    to ECR as it builds: that is the one case where build calls AWS (or --local/--endpoint-url).
    """
    from fargo.images.local_build import build_layouts, remote_builds  # noqa: PLC0415
    from fargo.manifest.load import load_manifest  # noqa: PLC0415
    from fargo.model import build_app  # noqa: PLC0415

    app = build_app(load_manifest(file, env))
    built = build_layouts(app, services, out, on_line=lambda line: click.echo(line, err=True))
    remote = remote_builds(app, services)
    pushed: dict[str, str] = {}
    if remote:
        if not as_json:
            click.echo(
                f"{', '.join(remote)}: built in AWS CodeBuild, which pushes to ECR as it "
                "builds: a remote build has no local layout",
                err=True,
            )
        pushed = deployer_for(file, env, use_local, endpoint_url, as_json).publish(remote)
    if as_json:
        result: dict[str, dict[str, str]] = {
            s: {"layout": str(p), "digest": d} for s, (p, d) in built.items()
        }
        for service, reference in pushed.items():
            result[service] = {"pushed": reference, "digest": reference.rpartition("@")[2]}
        click.echo(json.dumps(result))
    else:
        for service, (layout, digest) in built.items():
            click.echo(f"{service}: {layout} ({digest})")
        for service, reference in pushed.items():
            click.echo(f"{service}: pushed {reference} (built in AWS CodeBuild)")


@click.group(name="image")
def image_group() -> None:
    """Work with OCI image layouts."""


class _LayerLines:
    """One stderr line per layer as it starts and as it lands (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def blob_started(self, blob: Any) -> None:
        self._say(f"{blob.digest[7:19]}: {blob.size / 1024 / 1024:.1f} MiB")

    def blob_progress(self, blob: Any, offset: int) -> None:
        del blob, offset

    def blob_finished(self, blob: Any, outcome: Any, source: str | None = None) -> None:
        self._say(f"{blob.digest[7:19]}: {outcome.value}" + (f" from {source}" if source else ""))

    def _say(self, line: str) -> None:
        with self._lock:
            click.echo(line, err=True)


@image_group.command(name="push")
@click.argument("layout", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.argument("reference")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.option(
    "--insecure/--secure",
    default=None,
    help="plain HTTP or HTTPS (default: plain HTTP only for 127.0.0.1 and localhost)",
)
@handle_errors
def image_push(layout: Path, reference: str, as_json: bool, insecure: bool | None) -> None:
    """Push the OCI image layout LAYOUT to REFERENCE (REGISTRY/REPO:TAG).

    Credentials, when the registry asks for them, come from FARGO_REGISTRY_USER and
    FARGO_REGISTRY_PASSWORD; never from the command line, where they would be logged."""
    from fargo.images import BasicCredentials, BlobLocations, push  # noqa: PLC0415

    user = os.environ.get("FARGO_REGISTRY_USER")
    password = os.environ.get("FARGO_REGISTRY_PASSWORD")
    credentials = BasicCredentials(user, password) if user and password else None
    result = push(
        layout,
        reference,
        credentials=credentials,
        blob_locations=BlobLocations(),
        insecure=insecure,
        progress=None if as_json else _LayerLines(),
    )
    stats = result.stats
    if as_json:
        click.echo(
            json.dumps(
                {
                    "reference": reference,
                    "digest": result.digest,
                    "uploaded": stats.blobs_uploaded,
                    "skipped": stats.blobs_skipped,
                    "mounted": stats.blobs_mounted,
                    "bytes_uploaded": stats.bytes_uploaded,
                    "bytes_mounted": stats.bytes_mounted,
                },
                indent=2,
            )
        )
    else:
        click.echo(f"{reference}@{result.digest}")
        click.echo(
            f"  {stats.blobs_uploaded} uploaded, {stats.blobs_skipped} already there, "
            f"{stats.blobs_mounted} mounted, {stats.bytes_uploaded} bytes sent",
            err=True,
        )
