"""`fargo releases`: the releases recorded for the app and environment, newest first. Reads
only: the bootstrap stack's outputs and the artifact bucket."""

from __future__ import annotations

import json
from pathlib import Path

import click

from fargo.bootstrap import find_bootstrap
from fargo.cli.common import deployer_for, handle_errors, manifest_options, target_options
from fargo.release.history import Release, ReleaseStore


@click.command(name="releases")
@manifest_options
@target_options
@handle_errors
def releases_command(
    file: Path, env: str | None, as_json: bool, use_local: bool, endpoint_url: str | None
) -> None:
    """List the releases deploy recorded (the last 50), newest first. Changes nothing."""
    deployer = deployer_for(file, env, use_local, endpoint_url, as_json)
    found = find_bootstrap(deployer.cloudformation)
    releases = (
        ReleaseStore(deployer.aws, found.artifact_bucket, deployer.app).releases()
        if found is not None and found.artifact_bucket
        else []
    )
    if as_json:
        body = {
            "app": deployer.app.name,
            "env": deployer.app.env,
            "releases": [_summary(r) for r in releases],
        }
        click.echo(json.dumps(body, indent=2))
    elif not releases:
        click.echo(f"no releases of {deployer.app.name}/{deployer.app.env} yet")
    else:
        click.echo("\n".join(_table(releases)))


def _summary(release: Release) -> dict[str, object]:
    """A release without its template: what a list shows."""
    body = release.to_json()
    del body["services_template"], body["services_parameters"]
    return body


def _commit(release: Release) -> str:
    if release.git is None:
        return "-"
    return release.git.commit[:12] + (" (dirty)" if release.git.dirty else "")


def _images(release: Release) -> str:
    shown = []
    for service, reference in sorted(release.images.items()):
        _, at, digest = reference.rpartition("@")
        shown.append(f"{service}={digest[7:19] if at else reference}")
    return " ".join(shown) or "-"


def _table(releases: list[Release]) -> list[str]:
    rows = [("#", "time", "git commit", "images")]
    rows += [(str(r.number), r.time, _commit(r), _images(r)) for r in releases]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True))
        + "  "
        + row[3]
        for row in rows
    ]
