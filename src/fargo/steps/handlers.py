"""The handlers of deploy's steps, each given its dependencies by the composition root
(fargo.deployer) and nothing else."""

from __future__ import annotations

from collections.abc import Callable

from fargo.edge.stage import EdgeStage
from fargo.execute.executor import Executor
from fargo.plan.checks import Findings
from fargo.progress import Reporter
from fargo.release.stage import ReleaseStage
from fargo.steps.model import (
    ApplyStack,
    CheckPreflight,
    EnsureCertificate,
    PublishImage,
    PublishSite,
    RecordRelease,
    RemoveStack,
    RunReleaseTask,
    SpliceDistribution,
    WaitForRollout,
    WriteDnsRecords,
)
from fargo.steps.runner import Registry, RunContext


class Preflight:
    """The checks; when deploying, their warnings shown and the edge's conflicts refused
    (an apex alias the DNS provider cannot serve, a splice into a taken path)."""

    def __init__(
        self,
        checks: Callable[[bool], Findings],
        edge_check: Callable[[], None],
        reporter: Reporter,
    ) -> None:
        self._checks = checks
        self._edge_check = edge_check
        self._reporter = reporter

    def run(self, step: CheckPreflight, context: RunContext) -> str:
        context.findings = self._checks(step.deploying)
        if step.deploying:
            for warning in context.findings.warnings:
                self._reporter.note(warning.render())
            self._edge_check()
        return f"{len(context.findings.checks)} checks passed"


class Images:
    def __init__(self, publish: Callable[[tuple[str, ...]], dict[str, str]]) -> None:
        self._publish = publish

    def run(self, step: PublishImage, context: RunContext) -> str:
        published = self._publish((step.service,))
        context.images.update(published)
        return published.get(step.service, "nothing to publish")


class Certificates:
    def __init__(self, edge: EdgeStage) -> None:
        self._edge = edge

    def run(self, step: EnsureCertificate, context: RunContext) -> str:
        arn = self._edge.ensure_certificate(step.scope, list(step.names))
        context.certificates[step.scope] = arn
        return arn


class Stacks:
    """A stack through its change set (fargo.execute.executor), the planned one or one made
    again and guarded again if its inputs moved since the plan."""

    def __init__(self, executor: Executor) -> None:
        self._executor = executor

    def run(self, step: ApplyStack, context: RunContext) -> str:
        outcome = self._executor.apply_stack(step.planned, context.outputs, context.built())
        context.outputs[step.stack_kind] = outcome.outputs
        context.stacks.append(outcome)
        return outcome.status if outcome.action == "unchanged" else outcome.action


class Removals:
    def __init__(self, executor: Executor) -> None:
        self._executor = executor

    def run(self, step: RemoveStack, context: RunContext) -> str:
        outcome = self._executor.remove(step.removal)
        context.stacks.append(outcome)
        return outcome.action


class ReleaseTasks:
    """The migration, from the release stack as this run left it (fargo.release.stage)."""

    def __init__(self, release: ReleaseStage) -> None:
        self._release = release

    def run(self, step: RunReleaseTask, context: RunContext) -> str:
        # A release stack this run created holds task definitions no record can speak for
        # (a record that outlived an earlier release stack may name the same revision).
        release = context.outcome(self._release.stack)
        created = release is not None and release.action == "created"
        return self._release.migrate(context.deployed_outputs(), forced=step.forced or created)


class Rollouts:
    """A service's rollout, once its stack changed (fargo.release.stage)."""

    def __init__(self, release: ReleaseStage) -> None:
        self._release = release

    def run(self, step: WaitForRollout, context: RunContext) -> str:
        outcome = context.outcome(step.stack)
        if outcome is None or outcome.action == "unchanged":
            return "no new deployment"
        rollout = self._release.wait_for_rollout(step.service, context.deployed_outputs())
        return rollout.line()


class DnsRecords:
    def __init__(self, edge: EdgeStage) -> None:
        self._edge = edge

    def run(self, step: WriteDnsRecords, context: RunContext) -> str:
        del step  # the records come from the stacks as this run left them
        before = len(context.edge.records_written), len(context.edge.records_removed)
        self._edge.publish_records(context.deployed_outputs(), context.edge)
        written = len(context.edge.records_written) - before[0]
        removed = len(context.edge.records_removed) - before[1]
        return f"{written} written, {removed} removed"


class Splice:
    def __init__(self, edge: EdgeStage) -> None:
        self._edge = edge

    def run(self, step: SpliceDistribution, context: RunContext) -> str:
        del step  # the origin comes from the network stack as this run left it
        self._edge.splice(context.deployed_outputs(), context.edge)
        return "changed" if context.edge.spliced else "no changes"


class Site:
    def __init__(self, edge: EdgeStage) -> None:
        self._edge = edge

    def run(self, step: PublishSite, context: RunContext) -> str:
        del step  # the bucket comes from the edge stack as this run left it
        self._edge.publish_site(context.deployed_outputs(), context.edge)
        result = context.edge
        return (
            f"{len(result.site_uploaded)} uploaded, {len(result.site_deleted)} deleted, "
            f"{len(result.site_invalidated)} invalidated"
        )


class Releases:
    """The release this run put live, recorded by the release store (fargo.release)."""

    def __init__(self, record: Callable[[RunContext], str]) -> None:
        self._record = record

    def run(self, step: RecordRelease, context: RunContext) -> str:
        del step  # the images and the services' parameters are the run's own
        return self._record(context)


def deploy_registry(
    *,
    preflight: Preflight,
    images: Images,
    edge: EdgeStage,
    executor: Executor,
    release: ReleaseStage,
    releases: Releases,
) -> Registry:
    """Every step the planner emits, with its handler."""
    return (
        Registry()
        .register(CheckPreflight, preflight)
        .register(PublishImage, images)
        .register(EnsureCertificate, Certificates(edge))
        .register(ApplyStack, Stacks(executor))
        .register(RemoveStack, Removals(executor))
        .register(RunReleaseTask, ReleaseTasks(release))
        .register(WaitForRollout, Rollouts(release))
        .register(WriteDnsRecords, DnsRecords(edge))
        .register(SpliceDistribution, Splice(edge))
        .register(PublishSite, Site(edge))
        .register(RecordRelease, releases)
    )
