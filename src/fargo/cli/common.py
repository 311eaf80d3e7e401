"""What every command shares: error handling, the manifest and endpoint options, the
reporter, and building a Deployer from them."""

from __future__ import annotations

import functools
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from fargo.errors import FargoError, InputError

if TYPE_CHECKING:
    # The deployer, the emulator and rich are imported where a command uses them, so that
    # `fargo --help` and the commands that never call AWS do not load boto3 and the rest.
    from fargo import local
    from fargo.deployer import Deployer, Target
    from fargo.progress import Reporter

F = TypeVar("F", bound=Callable[..., Any])


def handle_errors(command: F) -> F:
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        as_json = bool(kwargs.get("as_json"))
        try:
            return command(*args, **kwargs)
        except FargoError as error:
            _report(error, as_json)
        except click.Abort:
            # The user answered "no" at a prompt (or closed it): their choice, not a bug.
            _report(FargoError("aborted; nothing was changed"), as_json)
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


def _report(error: FargoError, as_json: bool) -> NoReturn:
    if as_json:
        click.echo(json.dumps(error.to_json(), indent=2))
    else:
        click.echo(f"error: {error.render()}", err=True)
    sys.exit(error.exit_code)


def file_options(command: F) -> F:
    """`-f FILE` and `--json`: what every command that reads the manifest takes."""
    command = click.option(
        "-f",
        "--file",
        "file",
        type=click.Path(path_type=Path),
        default=Path("fargo.yml"),
        show_default=True,
        help="the manifest",
    )(command)
    return click.option("--json", "as_json", is_flag=True, help="machine-readable output")(command)


def manifest_options(command: F) -> F:
    """`file_options` and `--env NAME`, for commands about one environment."""
    command = click.option("--env", "env", default=None, help="environment overlay to apply")(
        command
    )
    return file_options(command)


def target_options(command: F) -> F:
    command = click.option(
        "--local", "use_local", is_flag=True, help="use the embedded emulator (starts it)"
    )(command)
    return click.option(
        "--endpoint-url",
        envvar="FARGO_ENDPOINT_URL",
        default=None,
        help="send every AWS call to this AWS-compatible endpoint",
    )(command)


_SECONDS_PER = {"s": 1, "m": 60, "h": 3600}


class Duration(click.ParamType[float, Any]):
    """`90s`, `10m`, `1h`, or a number of seconds."""

    name = "duration"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, int | float):
            return float(value)
        text = str(value).strip().lower()
        unit = text[-1:] if text[-1:] in _SECONDS_PER else "s"
        number = text[:-1] if text[-1:] in _SECONDS_PER else text
        if not number.isdigit():
            self.fail(f"`{value}` is not a duration: write 90s, 10m or 1h", param, ctx)
        return float(int(number) * _SECONDS_PER[unit])


def wait_option(command: F) -> F:
    """`--wait DURATION`, for commands that take the app's lock (fargo.lock)."""
    return click.option(
        "--wait",
        "lock_wait",
        type=Duration(),
        default="0s",
        show_default=True,
        help="while another command holds this app and environment's lock, wait this long "
        "for it (90s, 10m, 1h) before giving up",
    )(command)


def target(use_local: bool, endpoint_url: str | None) -> Target:
    from fargo.deployer import Target  # noqa: PLC0415

    if use_local and endpoint_url:
        raise InputError("--local and --endpoint-url both choose the endpoint; pass one")
    if use_local:
        return Target(local_emulator().endpoint_url)
    return Target.from_environment(endpoint_url)


def local_emulator() -> local.Emulator:
    """The emulator for `--local`, started when none runs, with containers as
    FARGO_LOCAL_CONTAINERS chooses. What it says about them (that the app is not running
    for want of an engine) is said by the command that starts it, once."""
    from fargo.local import containers as local_containers  # noqa: PLC0415

    started = local_containers.ensure(local_containers.chosen(None))
    for note in started.notes:
        click.echo(f"fargo: {note}", err=True)
    return started.emulator


def print_local_notes(use_local: bool) -> None:
    """Say, on stderr, what the local emulator ran in place of what the app asked for (e.g.
    "postgres 16 requested, local 15"), so the user never mistakes one for the other."""
    if use_local:
        from fargo.local import data_images, server  # noqa: PLC0415

        for note in data_images.notes(server.default_state_dir()):
            click.echo(f"local: {note}", err=True)


def reporter(as_json: bool) -> Reporter:
    from fargo.cli.deferred import DeferredReporter  # noqa: PLC0415
    from fargo.progress import SilentReporter  # noqa: PLC0415

    if as_json:
        return SilentReporter()
    started = time.monotonic()  # plain lines count from the command's start, not its first line
    return DeferredReporter(lambda: _terminal_reporter(started))


def _terminal_reporter(started: float) -> Reporter:
    from rich.console import Console  # noqa: PLC0415

    from fargo.cli.output import LiveReporter, PlainReporter  # noqa: PLC0415

    console = Console(stderr=True)
    return LiveReporter(console) if console.is_terminal else PlainReporter(start=started)


def deployer_for(
    file: Path,
    env: str | None,
    use_local: bool,
    endpoint_url: str | None,
    as_json: bool,
    *,
    allow_data_loss: bool = False,
    lock_wait: float = 0.0,
) -> Deployer:
    from fargo.deployer import open_deployer  # noqa: PLC0415

    chosen = target(use_local, endpoint_url)
    return open_deployer(
        file,
        env,
        chosen,
        reporter=reporter(as_json),
        allow_data_loss=allow_data_loss,
        lock_wait=lock_wait,
    )
