"""`fargo migrate`: run the deployed release's migration alone, as deploy runs it."""

from __future__ import annotations

import json
from pathlib import Path

import click

from fargo.cli.common import (
    deployer_for,
    handle_errors,
    manifest_options,
    print_local_notes,
    target_options,
    wait_option,
)


@click.command("migrate")
@manifest_options
@target_options
@wait_option
@handle_errors
def migrate_command(
    file: Path,
    env: str | None,
    as_json: bool,
    use_local: bool,
    endpoint_url: str | None,
    lock_wait: float,
) -> None:
    """Run the migration (`migrate:`) as a one-off task of the deployed release. Exits 1 with
    its last log lines if it fails."""
    deployer = deployer_for(file, env, use_local, endpoint_url, as_json, lock_wait=lock_wait)
    result = deployer.migrate()
    click.echo(json.dumps(result.to_json(), indent=2) if as_json else result.line())
    print_local_notes(use_local)
