"""`fargo secrets set|list|delete`: the app's own secrets, under `fargo/<app>/<env>/`.

A value is read from stdin (when it is not a terminal) or from a hidden prompt; never
from an argument, where it would land in shell history and in `ps`. Nothing prints one.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import click

from fargo import app_secrets
from fargo.cli.common import deployer_for, handle_errors, manifest_options, target_options
from fargo.errors import UnsafeChange


@click.group(name="secrets")
def secrets_group() -> None:
    """Store, list and delete the app's secrets in Secrets Manager.

    A manifest refers to one as `secretsmanager:fargo/<app>/<env>/NAME`.
    """


@secrets_group.command(name="set")
@click.argument("name")
@manifest_options
@target_options
@handle_errors
def set_command(
    name: str,
    file: Path,
    env: str | None,
    as_json: bool,
    use_local: bool,
    endpoint_url: str | None,
) -> None:
    """Store NAME's value, read from stdin or a hidden prompt; a new version if it exists."""
    deployer = deployer_for(file, env, use_local, endpoint_url, as_json)
    app = deployer.app
    secret = app_secrets.secret_id(app, name)  # a bad name fails before the prompt
    value = _read_value(name)
    action = app_secrets.put_secret(deployer.aws, app, name, value)
    reference = f"secretsmanager:{secret}"
    if as_json:
        click.echo(json.dumps({"name": name, "action": action, "reference": reference}))
        return
    click.echo(f"{name}: {action} {secret}")
    click.echo(f"  refer to it in fargo.yml as: {reference}")


@secrets_group.command(name="list")
@manifest_options
@target_options
@handle_errors
def list_command(
    file: Path, env: str | None, as_json: bool, use_local: bool, endpoint_url: str | None
) -> None:
    """The app's secrets in this environment: names and dates, never values."""
    deployer = deployer_for(file, env, use_local, endpoint_url, as_json)
    app = deployer.app
    stored = app_secrets.list_secrets(deployer.aws, app)
    if as_json:
        body = {
            "prefix": app_secrets.prefix(app),
            "secrets": [
                {
                    "name": s.name,
                    "reference": f"secretsmanager:{app_secrets.prefix(app)}{s.name}",
                    "created": _date(s.created),
                    "changed": _date(s.changed),
                }
                for s in stored
            ],
        }
        click.echo(json.dumps(body, indent=2))
        return
    if not stored:
        click.echo(f"no secrets under {app_secrets.prefix(app)}")
        return
    width = max(len(s.name) for s in stored)
    click.echo(f"{'NAME':<{width}}  {'CREATED':<20}  CHANGED")
    for s in stored:
        click.echo(f"{s.name:<{width}}  {_date(s.created) or '-':<20}  {_date(s.changed) or '-'}")


@secrets_group.command(name="delete")
@click.argument("name")
@manifest_options
@target_options
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
@click.option(
    "--force",
    is_flag=True,
    help=f"delete at once, without the {app_secrets.RECOVERY_DAYS}-day recovery window",
)
@handle_errors
def delete_command(
    name: str,
    file: Path,
    env: str | None,
    as_json: bool,
    use_local: bool,
    endpoint_url: str | None,
    yes: bool,
    force: bool,
) -> None:
    """Delete NAME: recoverable for 30 days (aws secretsmanager restore-secret), unless --force."""
    deployer = deployer_for(file, env, use_local, endpoint_url, as_json)
    app = deployer.app
    secret = app_secrets.secret_id(app, name)
    if not yes:
        if not sys.stdin.isatty():
            raise UnsafeChange(
                f"deleting {secret} needs confirmation",
                hint="pass --yes to delete without a prompt",
            )
        click.confirm(f"Delete {secret}?", abort=True, err=True)
    deleted = app_secrets.delete_secret(deployer.aws, app, name, force=force)
    when = _date(deleted.deletion_date)
    if as_json:
        body = {"name": name, "arn": deleted.arn, "recoverable_until": when, "forced": force}
        click.echo(json.dumps(body))
        return
    if force:
        click.echo(f"{name}: deleted {secret} at once; it cannot be restored")
    else:
        click.echo(
            f"{name}: {secret} is scheduled for deletion{f' on {when}' if when else ''}; until "
            f"then `aws secretsmanager restore-secret --secret-id {secret}` brings it back"
        )


def _read_value(name: str) -> str:
    if not sys.stdin.isatty():
        # `echo VALUE |` and here-strings end in a newline that is not part of the value.
        return sys.stdin.read().removesuffix("\n").removesuffix("\r")
    typed: str = click.prompt(f"{name}", hide_input=True, confirmation_prompt=True, err=True)
    return typed


def _date(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None
