"""Human and --json output of deploy, destroy and status results."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import click

from fargo.deployer import Deployer
from fargo.execute import DeployResult, DestroyResult
from fargo.execute.leftovers import Retained
from fargo.local.urls import LocalUrl, local_urls
from fargo.outputs import DeployedOutputs
from fargo.plan import Plan
from fargo.plan.render import plan_json
from fargo.status import ServiceStatus, StatusReport


def print_deploy(
    deployer: Deployer,
    plan: Plan,
    result: DeployResult,
    *,
    as_json: bool,
    local: tuple[LocalUrl, ...] = (),
) -> None:
    """`local`: on `--local`, where the HTTP services answer on this machine."""
    outputs = DeployedOutputs.by_name(deployer.app, ((s.name, s.outputs) for s in result.stacks))
    urls = result.urls
    if as_json:
        body = {
            "app": deployer.app.name,
            "env": deployer.app.env,
            "changed": result.changed,
            "plan": plan_json(plan),
            "stacks": [
                {"name": s.name, "action": s.action, "status": s.status, "outputs": s.outputs}
                for s in result.stacks
            ],
            "endpoints": urls,
            **_local_json(local),
            "edge": list(result.edge),
            "leftovers": [r.to_json() for r in result.leftovers],
            "migration": result.migration.to_json() if result.migration else None,
            "rollouts": [r.to_json() for r in result.rollouts],
        }
        click.echo(json.dumps(body, indent=2))
        return
    if not result.changed:
        click.echo(f"{deployer.app.name}/{deployer.app.env}: no changes")
    else:
        for stack in result.stacks:
            click.echo(f"{stack.name}: {stack.action} ({stack.status})")
        for line in result.edge:
            click.echo(f"edge: {line}")
    if result.migration is not None:
        click.echo(result.migration.line())
    for rollout in result.rollouts:
        click.echo(rollout.line())
    _print_leftovers(result.leftovers)
    for name, url in sorted(urls.items()):
        click.echo(f"  {name}: {url}")
    for line in _cdn_lines(deployer, outputs):
        click.echo(f"  {line}")
    _print_local(local)


def local_urls_of(
    deployer: Deployer, stacks: Iterable[tuple[str, dict[str, str]]]
) -> tuple[LocalUrl, ...]:
    """The local URLs of the deployed HTTP services, from the stacks' (name, outputs)."""
    endpoint = deployer.aws.config.endpoint_url
    if endpoint is None:
        return ()
    return local_urls(deployer.app, DeployedOutputs.by_name(deployer.app, stacks), endpoint)


def _local_json(local: tuple[LocalUrl, ...]) -> dict[str, Any]:
    return {"local_urls": {u.service: u.to_json() for u in local}} if local else {}


def _print_local(local: tuple[LocalUrl, ...]) -> None:
    if local:
        click.echo("on this machine, through the emulated load balancer:")
    for found in local:
        click.echo(f"  {found.service}: {found.describe()}")


def _cdn_lines(deployer: Deployer, outputs: DeployedOutputs) -> list[str]:
    """Where users reach the app when CloudFront is in front: the load balancer answers
    only requests that carry CloudFront's secret header."""
    app = deployer.app
    if app.cdn is None:
        return []
    if app.cdn.existing:
        return [f"cdn: {app.cdn.path} through CloudFront distribution {app.cdn.existing}"]
    host = app.domain.site if app.domain else outputs.edge.distribution_domain_name
    if host is None:
        return []
    if app.cdn.app:
        return [f"app: https://{host}/ through CloudFront"]
    return [f"site: https://{host}/", f"cdn: {app.cdn.path} at https://{host}"]


def print_destroy(result: DestroyResult, *, as_json: bool) -> None:
    if as_json:
        click.echo(
            json.dumps(
                {
                    "deleted": list(result.deleted),
                    "absent": list(result.absent),
                    "final_snapshots": list(result.snapshots),
                    "retained": list(result.retained),
                    "purged": list(result.purged),
                    "leftovers": [r.to_json() for r in result.leftovers],
                    "edge": list(result.edge),
                },
                indent=2,
            )
        )
        return
    for line in result.edge:
        click.echo(line)
    for name in result.deleted:
        click.echo(f"deleted {name}")
    for name in result.absent:
        click.echo(f"{name}: not deployed")
    for snapshot in result.snapshots:
        click.echo(f"final snapshot kept: {snapshot}")
    _print_leftovers(result.leftovers)
    for purged in result.purged:
        click.echo(f"purged {purged}")


def _print_services(report: StatusReport) -> None:
    if report.services:
        click.echo("services:")
        for service in report.services:
            click.echo(f"  {_service_line(report, service)}")
    for note in report.notes:
        click.echo(f"note: {note}")
    for warning in report.warnings:
        click.echo(f"warning: {warning}")
    _print_leftovers(report.leftovers)


def _print_leftovers(leftovers: Iterable[Retained]) -> None:
    """Buckets and queues a stack let go of, each with how to delete it: deploy, destroy
    and status say it alike."""
    for leftover in leftovers:
        click.echo(f"kept (DeletionPolicy Retain): {leftover.describe()}")
        click.echo(f"  delete: {leftover.how_to_delete}")


def _service_line(report: StatusReport, service: ServiceStatus) -> str:
    url = f"  {service.url}" if service.url else ""
    # ECS's count, unless the emulator counts tasks that have no container (a note says so).
    counts = (
        f"{service.desired} desired"
        if report.containers_running is False
        else f"{service.running}/{service.desired} running"
    )
    if service.healthy is not None:
        counts += f", {service.healthy} healthy"
    return f"{service.name}: {counts} ({service.task_definition}){url}"


def print_status(report: StatusReport, *, as_json: bool, local: tuple[LocalUrl, ...] = ()) -> None:
    if as_json:
        click.echo(json.dumps({**report.to_json(), **_local_json(local)}, indent=2))
        return
    click.echo(f"{report.app}/{report.env} in {report.region}")
    for stack in report.stacks:
        updated = f"  (updated {stack.last_updated})" if stack.last_updated else ""
        click.echo(f"  {stack.name}: {stack.status}{updated}")
    _print_services(report)
    _print_local(local)
    if report.dns_records:
        click.echo("DNS records to publish:")
        for record in report.dns_records:
            click.echo(f"  {record.type} {record.name} -> {record.value}  ({record.purpose})")
    if report.edge:
        _print_edge(report.edge)
    for stack in report.stacks:
        if stack.resources:
            click.echo(f"resources of {stack.name}:")
            for r in stack.resources:
                click.echo(f"  {r.logical_id:<28} {r.type:<44} {r.status:<16} {r.physical_id}")
        if stack.outputs:
            click.echo(f"outputs of {stack.name}:")
            for key, value in sorted(stack.outputs.items()):
                click.echo(f"  {key} = {value}")


def _print_edge(edge: dict[str, Any]) -> None:
    """The edge ledger: what fargo made outside CloudFormation, and destroy undoes."""
    click.echo("edge:")
    for scope, arn in sorted((edge.get("certificates") or {}).items()):
        click.echo(f"  certificate ({scope}): {arn}")
    for record in edge.get("records") or []:
        where = f"(at {edge.get('dns')})"
        click.echo(f"  DNS {record['type']} {record['name']} -> {record['value']}  {where}")
    if splice := edge.get("splice"):
        origin = f"origin {splice['origin_id']} for {splice['path']}"
        click.echo(f"  CloudFront {splice['distribution']}: {origin}")
