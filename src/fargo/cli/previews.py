"""`fargo previews list|prune`: the preview environments deployed, and purging old ones
whose pull request's close job never ran."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from fargo.cli.common import (
    file_options,
    handle_errors,
    reporter,
    target,
    target_options,
    wait_option,
)
from fargo.errors import FargoError, UnsafeChange

if TYPE_CHECKING:
    from fargo.preview_stacks import PreviewEnvironment


@click.group(name="previews")
def previews_group() -> None:
    """Preview environments (`previews:` in fargo.yml)."""


def _previews(
    file: Path, use_local: bool, endpoint_url: str | None
) -> tuple[tuple[PreviewEnvironment, ...], datetime]:
    from fargo.deployer import open_aws  # noqa: PLC0415
    from fargo.manifest.load import load_manifest  # noqa: PLC0415
    from fargo.preview_stacks import deployed_previews  # noqa: PLC0415

    manifest = load_manifest(file).manifest
    aws = open_aws(manifest.region, target(use_local, endpoint_url))
    return deployed_previews(aws, manifest.app), datetime.now(UTC)


def _entry(preview: PreviewEnvironment, now: datetime) -> dict[str, Any]:
    from fargo.preview_stacks import describe_age  # noqa: PLC0415

    age = preview.age(now)
    return {
        "env": preview.env,
        "stacks": list(preview.stacks),
        "created": preview.created.isoformat(),
        "age_seconds": int(age.total_seconds()),
        "age": describe_age(age),
    }


@previews_group.command(name="list")
@file_options
@target_options
@handle_errors
def list_command(file: Path, as_json: bool, use_local: bool, endpoint_url: str | None) -> None:
    """Show the previews that exist, oldest first, with their age."""
    from fargo.preview_stacks import describe_age  # noqa: PLC0415

    previews, now = _previews(file, use_local, endpoint_url)
    if as_json:
        click.echo(json.dumps({"previews": [_entry(p, now) for p in previews]}, indent=2))
        return
    if not previews:
        click.echo("no previews")
    for preview in previews:
        click.echo(f"{preview.env}  {describe_age(preview.age(now))}  {', '.join(preview.stacks)}")


@previews_group.command(name="prune")
@file_options
@target_options
@click.option(
    "--older-than", "older_than", required=True, help="age such as 7d, 12h, 30m (s m h d w)"
)
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
@wait_option
@handle_errors
def prune_command(
    file: Path,
    as_json: bool,
    use_local: bool,
    endpoint_url: str | None,
    older_than: str,
    yes: bool,
    lock_wait: float,
) -> None:
    """Destroy and purge every preview older than --older-than."""
    from fargo.deployer import open_deployer  # noqa: PLC0415
    from fargo.preview_stacks import describe_age, parse_age, previews_older_than  # noqa: PLC0415

    threshold = parse_age(older_than)
    previews, now = _previews(file, use_local, endpoint_url)
    old = previews_older_than(previews, threshold, now)
    if old and not yes:
        if not sys.stdin.isatty():
            raise UnsafeChange(
                "prune needs confirmation", hint="pass --yes to purge without a prompt"
            )
        names = ", ".join(p.env for p in old)
        click.confirm(f"Destroy and purge {names}?", abort=True, err=True)
    chosen = target(use_local, endpoint_url)
    pruned: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    for preview in old:
        # One preview's failure (say, a name the manifest no longer matches) does not
        # keep the others billed.
        try:
            deployer = open_deployer(
                file, preview.env, chosen, reporter=reporter(as_json), lock_wait=lock_wait
            )
            result = deployer.destroy(purge=True)
        except FargoError as error:
            failed.append({"env": preview.env, **error.to_json()})
            if not as_json:
                click.echo(f"{preview.env}: error: {error.render()}", err=True)
            continue
        pruned.append({**_entry(preview, now), "purged": list(result.purged)})
        if not as_json:
            click.echo(f"pruned {preview.env} ({describe_age(preview.age(now))} old)")
    if as_json:
        click.echo(json.dumps({"pruned": pruned, "failed": failed}, indent=2))
    elif not old:
        click.echo(f"no preview is older than {older_than}")
    if failed:
        sys.exit(max(f["exit_code"] for f in failed))
