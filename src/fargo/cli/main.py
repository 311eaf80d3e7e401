"""`fargo` commands. Each one loads, calls the library, and prints a result or an error.

Exit codes: 0 ok, 1 failed, 2 bad input, 3 refused as unsafe.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from fargo import __version__
from fargo.cli.collector import collector_paused, spare_the_exit_collection
from fargo.cli.common import (
    deployer_for,
    handle_errors,
    manifest_options,
    print_local_notes,
    target_options,
    wait_option,
)
from fargo.cli.cost import cost_command
from fargo.cli.images import build_command, image_group, push_command
from fargo.cli.migrate import migrate_command
from fargo.cli.previews import previews_group
from fargo.cli.releases import releases_command
from fargo.cli.secrets import secrets_group
from fargo.errors import UnsafeChange

if TYPE_CHECKING:
    from fargo import local

# Each command imports what it runs inside its function: boto3, pydantic, troposphere and
# rich cost more to import than most commands take to run, and `--help` needs none of them.


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fargo")
def cli() -> None:
    """Deploy a full-stack container backend to your own AWS account from fargo.yml."""


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="accepted for uniformity: it is JSON")
def schema(as_json: bool) -> None:
    """Print the JSON Schema of fargo.yml."""
    del as_json
    from fargo.manifest.models import Manifest  # noqa: PLC0415

    click.echo(json.dumps(Manifest.model_json_schema(by_alias=True), indent=2))


@cli.command()
@manifest_options
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="write DIR/<stack-name>.json, one file per stack",
)
@handle_errors
def render(file: Path, env: str | None, as_json: bool, out: Path | None) -> None:
    """Synthesize the CloudFormation templates, without calling AWS."""
    with collector_paused():  # short, and what it allocates lives to the end
        from fargo.manifest.load import load_manifest  # noqa: PLC0415
        from fargo.model import build_app  # noqa: PLC0415
        from fargo.synth import synth  # noqa: PLC0415
        from fargo.synth.quotas import check_quotas  # noqa: PLC0415

        templates = synth(build_app(load_manifest(file, env)))
        check_quotas(templates)
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
@manifest_options
@target_options
@click.option("--allow-data-loss", is_flag=True, help="permit replacing or removing data stores")
@click.option("--migrate", is_flag=True, help="the plan of `deploy --migrate`")
@handle_errors
def plan(
    file: Path,
    env: str | None,
    as_json: bool,
    use_local: bool,
    endpoint_url: str | None,
    allow_data_loss: bool,
    migrate: bool,
) -> None:
    """Show what deploy would change, stack by stack. Changes nothing."""
    from fargo.execute.executor import refuse_unsafe  # noqa: PLC0415
    from fargo.plan.render import plan_json, render_plan  # noqa: PLC0415

    deployer = deployer_for(
        file, env, use_local, endpoint_url, as_json, allow_data_loss=allow_data_loss
    )
    planned = deployer.plan(migrate=migrate)
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
@manifest_options
@target_options
@click.option("--allow-data-loss", is_flag=True, help="permit replacing or removing data stores")
@click.option("--yes", is_flag=True, help="never prompt (deploy does not prompt today)")
@click.option("--migrate", is_flag=True, help="run the migration even if this release already has")
@wait_option
@handle_errors
def deploy(
    file: Path,
    env: str | None,
    as_json: bool,
    use_local: bool,
    endpoint_url: str | None,
    allow_data_loss: bool,
    yes: bool,
    migrate: bool,
    lock_wait: float,
) -> None:
    """Create or update the environment's stacks, in order: network, data, release (then the
    migration), services."""
    del yes  # deploy never prompts; the data-loss guard is what protects
    from fargo.cli.render import local_urls_of, print_deploy  # noqa: PLC0415

    deployer = deployer_for(
        file,
        env,
        use_local,
        endpoint_url,
        as_json,
        allow_data_loss=allow_data_loss,
        lock_wait=lock_wait,
    )
    planned, result = deployer.deploy(migrate=migrate)
    stacks = ((s.name, s.outputs) for s in result.stacks)
    found = local_urls_of(deployer, stacks) if use_local else ()
    print_deploy(deployer, planned, result, as_json=as_json, local=found)
    print_local_notes(use_local)


@cli.command()
@manifest_options
@target_options
@click.option("--resources", is_flag=True, help="also list every resource of every stack")
@handle_errors
def status(
    file: Path,
    env: str | None,
    as_json: bool,
    use_local: bool,
    endpoint_url: str | None,
    resources: bool,
) -> None:
    """Show stacks, services (desired/running), endpoints and outputs."""
    from dataclasses import replace  # noqa: PLC0415

    from fargo import local  # noqa: PLC0415
    from fargo.cli.render import local_urls_of, print_status  # noqa: PLC0415
    from fargo.local import containers as local_containers  # noqa: PLC0415

    deployer = deployer_for(file, env, use_local, endpoint_url, as_json)
    report = deployer.status(resources=resources)
    if use_local:
        # Why the app is not running, when it is not.
        emulator = local.status()
        note = local_containers.status_note(emulator) if emulator else None
        report = replace(report, notes=(*report.notes, note)) if note else report
    stacks = ((s.name, s.outputs) for s in report.stacks)
    found = local_urls_of(deployer, stacks) if use_local else ()
    print_status(report, as_json=as_json, local=found)
    print_local_notes(use_local)


@cli.command()
@manifest_options
@target_options
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
@click.option(
    "--allow-data-loss", is_flag=True, help="turn off database deletion protection to destroy"
)
@click.option(
    "--purge",
    is_flag=True,
    help="also delete the buckets, queues and final snapshots destroy keeps (previews; "
    "others need --allow-data-loss)",
)
@wait_option
@handle_errors
def destroy(
    file: Path,
    env: str | None,
    as_json: bool,
    use_local: bool,
    endpoint_url: str | None,
    yes: bool,
    allow_data_loss: bool,
    purge: bool,
    lock_wait: float,
) -> None:
    """Delete the environment's stacks. The database leaves a final snapshot."""
    from fargo.cli.render import print_destroy  # noqa: PLC0415
    from fargo.execute.purge import refuse_purge  # noqa: PLC0415

    deployer = deployer_for(
        file,
        env,
        use_local,
        endpoint_url,
        as_json,
        allow_data_loss=allow_data_loss,
        lock_wait=lock_wait,
    )
    if purge:  # refused before the prompt: saying yes would not make it allowed
        refuse_purge(deployer.loaded, allow_data_loss=allow_data_loss)
    names = [t.name for t in reversed(deployer.templates)]
    if not yes:
        if not sys.stdin.isatty():
            raise UnsafeChange(
                "destroy needs confirmation", hint="pass --yes to delete without a prompt"
            )
        click.confirm(f"Delete {', '.join(names)}?", abort=True, err=True)
    print_destroy(deployer.destroy(purge=purge), as_json=as_json)


@cli.group(name="local")
def local_group() -> None:
    """The embedded AWS emulator, for demos and tests."""


@local_group.command(name="start")
@click.option("--port", type=int, default=None, help="port on 127.0.0.1 (default: a free one)")
@click.option(
    "--containers/--no-containers",
    default=None,
    help="run the app's containers (through Docker, or a Podman service fargo starts), "
    "failing without an engine; or keep records only. Default: containers when an engine "
    "is available; FARGO_LOCAL_CONTAINERS=0 or 1 sets it for every command",
)
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def local_start(port: int | None, containers: bool | None, as_json: bool) -> None:
    """Start the emulator in the background and print its endpoint URL."""
    from fargo.local import containers as local_containers  # noqa: PLC0415

    started = local_containers.ensure(local_containers.chosen(containers), port)
    for note in started.notes:
        click.echo(f"fargo: {note}", err=True)
    emulator = started.emulator
    if as_json:
        click.echo(json.dumps({**_emulator_json(emulator), "pid": emulator.pid}))
    else:
        click.echo(emulator.endpoint_url)


def _emulator_json(emulator: local.Emulator) -> dict[str, object]:
    return {
        "endpoint_url": emulator.endpoint_url,
        "containers": emulator.docker_host is not None,
        "engine": emulator.engine,
        "docker_host": emulator.docker_host,
    }


@local_group.command(name="stop")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def local_stop(as_json: bool) -> None:
    """Stop the emulator (and the Podman service fargo started for it)."""
    from fargo import local  # noqa: PLC0415

    emulator = local.stop()
    if as_json:
        click.echo(json.dumps({"stopped": emulator.endpoint_url if emulator else None}))
    else:
        click.echo(f"stopped {emulator.endpoint_url}" if emulator else "not running")


@local_group.command(name="status")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def local_status(as_json: bool) -> None:
    """Say whether the emulator runs, where, and whether it runs containers."""
    from fargo import local  # noqa: PLC0415
    from fargo.local import containers as local_containers  # noqa: PLC0415

    emulator = local.status()
    if as_json:
        shown = _emulator_json(emulator) if emulator else {"endpoint_url": None}
        click.echo(json.dumps({"running": emulator is not None, **shown}))
    elif emulator is None:
        click.echo("not running")
    else:
        click.echo(f"running at {emulator.endpoint_url}")
        if emulator.engine is not None:
            click.echo(f"containers: running through {emulator.engine} ({emulator.docker_host})")
        else:
            click.echo(f"containers: none; {local_containers.status_note(emulator)}")


cli.add_command(cost_command)
cli.add_command(migrate_command)
cli.add_command(push_command)
cli.add_command(build_command)
cli.add_command(image_group)
cli.add_command(previews_group)
cli.add_command(releases_command)
cli.add_command(secrets_group)


def main() -> None:
    try:
        cli()
    finally:
        spare_the_exit_collection()
