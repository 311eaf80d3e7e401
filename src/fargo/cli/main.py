"""`fargo` commands. Each one loads, calls the library, and prints a result or an error.

Exit codes: 0 ok, 1 failed, 2 bad input, 3 refused as unsafe.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console

from fargo import __version__, local
from fargo.cli.output import LiveReporter, PlainReporter
from fargo.cli.render import print_deploy, print_destroy, print_status
from fargo.deployer import Deployer, Target, open_deployer
from fargo.errors import FargoError, InputError, UnsafeChange
from fargo.execute.executor import refuse_unsafe
from fargo.manifest.load import load_manifest
from fargo.manifest.models import Manifest
from fargo.model import build_app
from fargo.plan.render import plan_json, render_plan
from fargo.progress import Reporter, SilentReporter
from fargo.synth import synth

F = TypeVar("F", bound=Callable[..., Any])


def _handle_errors(command: F) -> F:
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        as_json = bool(kwargs.get("as_json"))
        try:
            return command(*args, **kwargs)
        except FargoError as error:
            if as_json:
                click.echo(json.dumps(error.to_json(), indent=2))
            else:
                click.echo(f"error: {error.render()}", err=True)
            sys.exit(error.exit_code)
        except Exception as error:
            # A bug, not a user error: say so plainly; the traceback is one variable away.
            if os.environ.get("FARGO_DEBUG"):
                raise
            click.echo(
                f"error: fargo hit an internal error: {type(error).__name__}: {error}\n"
                "  hint: this is a bug in fargo; run again with FARGO_DEBUG=1 for the "
                "traceback and report it",
                err=True,
            )
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo(
                "\ninterrupted. Any stack operation already started continues in AWS; "
                "run the same command again to pick up where it stands.",
                err=True,
            )
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


def _manifest_options(command: F) -> F:
    command = click.option(
        "-f",
        "--file",
        "file",
        type=click.Path(path_type=Path),
        default=Path("fargo.yml"),
        show_default=True,
        help="the manifest",
    )(command)
    command = click.option("--env", "env", default=None, help="environment overlay to apply")(
        command
    )
    return click.option("--json", "as_json", is_flag=True, help="machine-readable output")(command)


def _target_options(command: F) -> F:
    command = click.option(
        "--local", "use_local", is_flag=True, help="use the embedded emulator (starts it)"
    )(command)
    return click.option(
        "--endpoint-url",
        envvar="FARGO_ENDPOINT_URL",
        default=None,
        help="send every AWS call to this AWS-compatible endpoint",
    )(command)


def _target(use_local: bool, endpoint_url: str | None) -> Target:
    if use_local and endpoint_url:
        raise InputError("--local and --endpoint-url both choose the endpoint; pass one")
    if use_local:
        return Target(local.start().endpoint_url)
    return Target.from_environment(endpoint_url)


def _reporter(as_json: bool) -> Reporter:
    if as_json:
        return SilentReporter()
    console = Console(stderr=True)
    return LiveReporter(console) if console.is_terminal else PlainReporter()


def _deployer(
    file: Path,
    env: str | None,
    use_local: bool,
    endpoint_url: str | None,
    as_json: bool,
    *,
    allow_data_loss: bool = False,
) -> Deployer:
    target = _target(use_local, endpoint_url)
    return open_deployer(
        file, env, target, reporter=_reporter(as_json), allow_data_loss=allow_data_loss
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fargo")
def cli() -> None:
    """Deploy a full-stack container backend to your own AWS account from fargo.yml."""


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="accepted for uniformity: it is JSON")
def schema(as_json: bool) -> None:
    """Print the JSON Schema of fargo.yml."""
    del as_json
    click.echo(json.dumps(Manifest.model_json_schema(by_alias=True), indent=2))


@cli.command()
@_manifest_options
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="write DIR/<stack-name>.json, one file per stack",
)
@_handle_errors
def render(file: Path, env: str | None, as_json: bool, out: Path | None) -> None:
    """Synthesize the CloudFormation templates, without calling AWS."""
    templates = synth(build_app(load_manifest(file, env)))
    if out is None:
        click.echo(json.dumps({t.name: t.body for t in templates}, indent=2))
        return
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for template in templates:
        path = out / f"{template.name}.json"
        path.write_text(json.dumps(template.body, indent=2) + "\n")
        written.append(str(path))
    click.echo(json.dumps({"written": written}, indent=2) if as_json else "\n".join(written))


@cli.command()
@_manifest_options
@_target_options
@click.option("--allow-data-loss", is_flag=True, help="permit replacing or removing data stores")
@_handle_errors
def plan(
    file: Path,
    env: str | None,
    as_json: bool,
    use_local: bool,
    endpoint_url: str | None,
    allow_data_loss: bool,
) -> None:
    """Show what deploy would change, stack by stack. Changes nothing."""
    deployer = _deployer(
        file, env, use_local, endpoint_url, as_json, allow_data_loss=allow_data_loss
    )
    planned = deployer.plan()
    if not as_json:
        click.echo(render_plan(planned))
        refuse_unsafe(planned, allow_data_loss=allow_data_loss)
        return
    body = plan_json(planned)
    try:
        refuse_unsafe(planned, allow_data_loss=allow_data_loss)
    except UnsafeChange as refusal:
        # One JSON document, plan and refusal together, so it parses as a whole.
        body["error"] = refusal.to_json()
        click.echo(json.dumps(body, indent=2))
        sys.exit(refusal.exit_code)
    click.echo(json.dumps(body, indent=2))


@cli.command()
@_manifest_options
@_target_options
@click.option("--allow-data-loss", is_flag=True, help="permit replacing or removing data stores")
@click.option("--yes", is_flag=True, help="never prompt (deploy does not prompt today)")
@_handle_errors
def deploy(
    file: Path,
    env: str | None,
    as_json: bool,
    use_local: bool,
    endpoint_url: str | None,
    allow_data_loss: bool,
    yes: bool,
) -> None:
    """Create or update the environment's stacks, in order: network, data, services."""
    del yes  # deploy never prompts; the data-loss guard is what protects
    deployer = _deployer(
        file, env, use_local, endpoint_url, as_json, allow_data_loss=allow_data_loss
    )
    planned, result = deployer.deploy()
    print_deploy(deployer, planned, result, as_json=as_json)


@cli.command()
@_manifest_options
@_target_options
@click.option("--resources", is_flag=True, help="also list every resource of every stack")
@_handle_errors
def status(
    file: Path,
    env: str | None,
    as_json: bool,
    use_local: bool,
    endpoint_url: str | None,
    resources: bool,
) -> None:
    """Show stacks, services (desired/running), endpoints and outputs."""
    deployer = _deployer(file, env, use_local, endpoint_url, as_json)
    print_status(deployer.status(resources=resources), as_json=as_json)


@cli.command()
@_manifest_options
@_target_options
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
@click.option(
    "--allow-data-loss", is_flag=True, help="turn off database deletion protection to destroy"
)
@_handle_errors
def destroy(
    file: Path,
    env: str | None,
    as_json: bool,
    use_local: bool,
    endpoint_url: str | None,
    yes: bool,
    allow_data_loss: bool,
) -> None:
    """Delete the environment's stacks. The database leaves a final snapshot."""
    deployer = _deployer(
        file, env, use_local, endpoint_url, as_json, allow_data_loss=allow_data_loss
    )
    names = [t.name for t in reversed(deployer.templates)]
    if not yes:
        if not sys.stdin.isatty():
            raise UnsafeChange(
                "destroy needs confirmation", hint="pass --yes to delete without a prompt"
            )
        click.confirm(f"Delete {', '.join(names)}?", abort=True, err=True)
    print_destroy(deployer.destroy(), as_json=as_json)


@cli.group(name="local")
def local_group() -> None:
    """The embedded AWS emulator, for demos and tests."""


@local_group.command(name="start")
@click.option("--port", type=int, default=None, help="port on 127.0.0.1 (default: a free one)")
@click.option("--json", "as_json", is_flag=True)
@_handle_errors
def local_start(port: int | None, as_json: bool) -> None:
    """Start the emulator in the background and print its endpoint URL."""
    emulator = local.start(port)
    if as_json:
        click.echo(json.dumps({"endpoint_url": emulator.endpoint_url, "pid": emulator.pid}))
    else:
        click.echo(emulator.endpoint_url)


@local_group.command(name="stop")
@click.option("--json", "as_json", is_flag=True)
@_handle_errors
def local_stop(as_json: bool) -> None:
    """Stop the emulator."""
    emulator = local.stop()
    if as_json:
        click.echo(json.dumps({"stopped": emulator.endpoint_url if emulator else None}))
    else:
        click.echo(f"stopped {emulator.endpoint_url}" if emulator else "not running")


@local_group.command(name="status")
@click.option("--json", "as_json", is_flag=True)
@_handle_errors
def local_status(as_json: bool) -> None:
    """Say whether the emulator runs, and where."""
    emulator = local.status()
    if as_json:
        click.echo(
            json.dumps(
                {
                    "running": emulator is not None,
                    "endpoint_url": emulator.endpoint_url if emulator else None,
                }
            )
        )
    else:
        click.echo(f"running at {emulator.endpoint_url}" if emulator else "not running")


def main() -> None:
    cli()
