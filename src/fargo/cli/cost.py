"""`fargo cost`: what the app would cost a month, from its templates alone. No AWS calls."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import click

from fargo.cli.common import handle_errors, manifest_options
from fargo.cost.profiles import PROFILES, Profile


@click.command(name="cost")
@manifest_options
@click.option("--requests", default=None, help="HTTP requests a month, e.g. 5M (default 1M)")
@click.option("--egress", default=None, help="GB out to the internet a month, e.g. 50GB")
@click.option("--logs", default=None, help="GB of logs per log group a month, e.g. 2GB")
@click.option("--messages", default=None, help="messages per queue a month, e.g. 1M")
@click.option("--nat-data", default=None, help="GB through the NAT gateways a month")
@click.option(
    "--profile",
    type=click.Choice(PROFILES),
    default=None,
    help="price the manifest as if its profile were this one",
)
@handle_errors
def cost_command(
    file: Path,
    env: str | None,
    as_json: bool,
    requests: str | None,
    egress: str | None,
    logs: str | None,
    messages: str | None,
    nat_data: str | None,
    profile: Profile | None,
) -> None:
    """Estimate the monthly cost, per line item, from the templates. Calls no AWS API."""
    from fargo.cost.estimate import as_profile, estimate_app  # noqa: PLC0415
    from fargo.cost.render import render_estimate  # noqa: PLC0415
    from fargo.cost.usage import Usage, parse_count, parse_gb  # noqa: PLC0415
    from fargo.manifest.load import load_manifest  # noqa: PLC0415
    from fargo.model import build_app  # noqa: PLC0415

    usage = Usage()
    if requests is not None:
        usage = replace(usage, requests=parse_count(requests, "--requests"))
    if egress is not None:
        usage = replace(usage, egress_gb=parse_gb(egress, "--egress"))
    if logs is not None:
        usage = replace(usage, log_gb=parse_gb(logs, "--logs"))
    if messages is not None:
        usage = replace(usage, messages=parse_count(messages, "--messages"))
    if nat_data is not None:
        usage = replace(usage, nat_gb=parse_gb(nat_data, "--nat-data"))
    loaded = load_manifest(file, env)
    app = build_app(loaded if profile is None else as_profile(loaded, profile))
    estimate = estimate_app(app, usage)
    if as_json:
        body = {"app": app.name, "env": app.env, "profile": app.profile, **estimate.to_json()}
        click.echo(json.dumps(body, indent=2))
    else:
        click.echo(render_estimate(estimate))
