"""The plan of a deploy as a list of steps (read-only).

The stacks' plan (fargo.plan.planner: change sets, the data-loss guard's findings) is one
input; the app says which images, certificates and edge work come around it. The order is
the order deploy runs them in: checks, images, certificates, stacks (network, data,
services), retired stacks, rollouts, then the edge (DNS, the splice, the site's files),
each after what it points at exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from fargo.edge.site import SiteSource
from fargo.edge.wanted import wanted_records
from fargo.model.app import App, StackKind
from fargo.outputs import DeployedOutputs
from fargo.plan.planner import NOTHING_BUILT, Plan, Planner, StackPlan
from fargo.steps.model import (
    ApplyStack,
    CheckPreflight,
    EnsureCertificate,
    OutputOf,
    Pending,
    PublishImage,
    PublishSite,
    RecordRelease,
    RemoveStack,
    RunReleaseTask,
    SpliceDistribution,
    Step,
    WaitForRollout,
    WriteDnsRecords,
)
from fargo.synth import outputs as out
from fargo.synth.stack import IssuedCertificate, PushedImage, StackOutput, StackTemplate


class StepPlanner:
    """Plans a deploy. Every input is given to it; it keeps nothing between calls but the
    stack planner's read-once cache of deployed templates."""

    def __init__(
        self,
        app: App,
        templates: tuple[StackTemplate, ...],
        stacks: Planner,
        *,
        certificate_names: Callable[[], dict[str, list[str]]],
        site_source: Callable[[str], SiteSource | None],
        migrated: Callable[[], str | None] = lambda: None,
    ) -> None:
        self._app = app
        self._templates = templates
        self._stacks = stacks
        self._certificate_names = certificate_names
        self._site_source = site_source
        # The task definition whose migration last succeeded (fargo.release.migrate).
        self._migrated = migrated

    def plan(
        self, check: CheckPreflight, retired: tuple[str, ...], *, migrate: bool = False
    ) -> Plan:
        """The stacks' plan with nothing built yet (a stack's deployed image and certificate
        stand in), and the steps: `check` first, the rest in the order deploy runs them.
        `migrate`: the migration runs even if this release has migrated (--migrate)."""
        plan = self._stacks.plan(self._templates, retired, NOTHING_BUILT)
        return replace(plan, steps=(check, *self.steps(plan, migrate=migrate)))

    def steps(self, plan: Plan, *, migrate: bool = False) -> tuple[Step, ...]:
        app = self._app
        deployed = DeployedOutputs(app, plan.deployed_outputs)
        stacks: list[Step] = []
        for stack in plan.stacks:
            stacks.append(apply_step(stack))
            if stack.template.kind == StackKind.RELEASE:
                stacks += self._release_tasks(plan, stack, deployed, forced=migrate)
        return (
            *self._images(),
            *self._certificates(),
            *stacks,
            *(RemoveStack(r.name, len(r.changes), removal=r) for r in reversed(plan.removals)),
            *self._rollouts(plan),
            *self._edge(deployed),
            RecordRelease(
                app.name,
                app.env,
                tuple((s.name, Pending(f"image digest of {s.name}")) for s in app.builds),
            ),
        )

    def _images(self) -> list[PublishImage]:
        return [
            PublishImage(
                service.name,
                build.repository,
                build.layout or build.context,
                build.platform,
                Pending(f"image digest of {service.name}"),
            )
            for service in self._app.builds
            if (build := service.build) is not None
        ]

    def _certificates(self) -> list[EnsureCertificate]:
        domain = self._app.domain
        if domain is None:
            return []
        return [
            EnsureCertificate(scope, tuple(names), domain.name, Pending(f"{scope} certificate"))
            for scope, names in self._certificate_names().items()
        ]

    def _release_tasks(
        self, plan: Plan, release: StackPlan, deployed: DeployedOutputs, *, forced: bool
    ) -> list[RunReleaseTask]:
        """The migration, between the release stack and the services stack, unless nothing
        can have changed: the release stack settled (fargo.steps.planner.settled) and its
        task definition the one the account records as migrated."""
        migration = self._app.migration
        if migration is None:
            return []
        # Known now only when nothing this run does can give the release a new revision.
        arn = (
            deployed.release.deployed_migration_task_definition_arn
            if settled(plan, release)
            else None
        )
        # The record is read last: a first deploy, or a changed release, needs no call.
        if arn is not None and not forced and self._migrated() == arn:
            return []
        return [
            RunReleaseTask(
                migration.service,
                migration.command,
                migration.timeout_seconds,
                arn or OutputOf(StackKind.RELEASE, out.MIGRATION_TASK_DEFINITION_ARN),
                forced,
            )
        ]

    def _rollouts(self, plan: Plan) -> list[WaitForRollout]:
        """A rollout for each long-running service, unless the services stack is settled;
        a service the change leaves on its deployment says so when its step runs."""
        services = next((s for s in plan.stacks if s.template.kind == StackKind.SERVICES), None)
        if services is None or settled(plan, services):
            return []
        return [
            WaitForRollout(service.name, services.name)
            for service in self._app.services
            if service.long_running
        ]

    def _edge(self, deployed: DeployedOutputs) -> list[Step]:
        app = self._app
        # With neither a domain nor a cdn, now or in the deployed stacks, there is nothing
        # to publish or undo.
        if app.domain is None and app.cdn is None and not deployed.network.had_edge:
            return []
        domain = app.domain
        steps: list[Step] = [
            WriteDnsRecords(
                domain.name if domain else "",
                domain.dns if domain else "the recorded provider",
                tuple(str(r) for r in wanted_records(app, deployed)),
            )
        ]
        cdn = app.cdn
        if (cdn is not None and cdn.existing) or deployed.network.had_edge:
            steps.append(
                SpliceDistribution(
                    (cdn.existing or "") if cdn else "",
                    cdn.origin_id if cdn else "",
                    cdn.path if cdn else "",
                    cdn.spa_errors if cdn else False,
                    OutputOf(StackKind.NETWORK, out.LOAD_BALANCER_DNS_NAME),
                )
            )
        bucket = deployed.edge.site_bucket_name
        source = self._site_source(bucket or "")
        if source is not None:
            steps.append(
                PublishSite(
                    str(source.directory),
                    source.prefix,
                    bucket or OutputOf(StackKind.EDGE, out.SITE_BUCKET_NAME),
                )
            )
        return steps


def settled(plan: Plan, stack: StackPlan) -> bool:
    """Whether nothing in this run can change `stack`: it is planned unchanged, so is every
    stack before it (whose outputs its parameters may take: a replaced database's new
    host), and none of its parameters waits on an image or a certificate of this run."""
    upstream = plan.stacks[: plan.stacks.index(stack) + 1]
    return all(s.action == "unchanged" for s in upstream) and not any(
        isinstance(v, PushedImage | IssuedCertificate) for v in stack.template.parameters.values()
    )


def apply_step(stack: StackPlan) -> ApplyStack:
    """The step that applies `stack`, its inputs as data."""
    return ApplyStack(
        stack.name,
        stack.template.kind,
        stack.action,
        tuple(f"{c.action} {c.logical_id} ({c.resource_type})" for c in stack.changes),
        tuple(
            (key, _parameter(stack, key, value)) for key, value in stack.template.parameters.items()
        ),
        planned=stack,
    )


def _parameter(stack: StackPlan, key: str, value: object) -> str | Pending | OutputOf:
    """A parameter as deploy will pass it: a value known now, or what it waits for."""
    if isinstance(value, PushedImage):
        return Pending(f"image digest of {value.service}")
    if isinstance(value, IssuedCertificate):
        return Pending(f"{value.scope} certificate")
    known = (stack.parameters or {}).get(key)
    if isinstance(value, StackOutput):
        return known if known is not None else OutputOf(value.stack, value.key)
    return str(value)
