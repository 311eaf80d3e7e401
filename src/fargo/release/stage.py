"""Deploy's release work between the stacks, the work of two kinds of step: the migration
(`run-release-task`, after the release stack) and each service's rollout
(`wait-for-rollout`, after the services stack). While the services stack's change set runs,
the stage streams ECS's service events beside the stack's (the executor's observer)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fargo.aws.facade import Aws
from fargo.errors import DeployFailed
from fargo.model.app import App, StackKind
from fargo.outputs import DeployedOutputs
from fargo.progress import Reporter
from fargo.release.migrate import MigrationRecord, MigrationResult, MigrationRunner
from fargo.release.rollout import Rollout, RolloutWatcher

Outputs = dict[StackKind, dict[str, str]]


class ReleaseStage:
    def __init__(
        self,
        app: App,
        aws: Aws,
        reporter: Reporter,
        *,
        poll_seconds: float = 2.0,
        rollout_timeout_seconds: float = 3600.0,
    ) -> None:
        self._app = app
        self._aws = aws
        self._reporter = reporter
        self._poll = poll_seconds
        self.stack = app.stack_name(StackKind.RELEASE)
        self._watcher = RolloutWatcher(
            aws,
            reporter,
            [s.name for s in app.services if s.long_running],
            poll_seconds=poll_seconds,
            timeout_seconds=rollout_timeout_seconds,
        )
        self.migration: MigrationResult | None = None
        self.rollouts: list[Rollout] = []

    @contextmanager
    def watching(self, kind: StackKind, outputs: Outputs) -> Iterator[None]:
        """Around a change set on `kind` (the executor's observer): for the services stack,
        ECS's events of its services, reported as they come."""
        cluster = DeployedOutputs(self._app, outputs).network.cluster_name
        if kind is not StackKind.SERVICES or cluster is None:
            yield
            return
        with self._watcher.streaming(cluster):
            yield

    def migrate(self, outputs: DeployedOutputs, *, forced: bool) -> str:
        """The migration of the release stack's task definition, unless the account records
        that it has migrated (and not `forced`); `DeployFailed` unless it exited 0."""
        record = MigrationRecord(self._app, self._aws)
        arn = outputs.release.migration_task_definition_arn
        if not forced and record.migrated() == arn:
            return "this release has migrated already: not run again"
        self.migration = run_migration(self._app, self._aws, self._reporter, outputs, self._poll)
        if self.migration.not_run:
            return "not run"
        record.record(self.migration)
        return f"exited 0 in {self.migration.seconds:.0f} s"

    def wait_for_rollout(self, service: str, outputs: DeployedOutputs) -> Rollout:
        """`service`'s deployment to its end; `DeployFailed` unless it COMPLETED."""
        cluster = outputs.network.cluster_name
        if cluster is None:
            raise DeployFailed("the network stack has no cluster: no rollout to wait for")
        rollout = self._watcher.wait(cluster, service)
        self.rollouts.append(rollout)
        if rollout.state == "FAILED":
            raise DeployFailed(
                f"rollout did not complete: {rollout.line()}",
                hint="where the circuit breaker tripped, ECS rolled the service back to its "
                "previous task definition; the service's events (DescribeServices) and its "
                "log group say why its tasks stopped",
            )
        if not rollout.succeeded:
            raise DeployFailed(
                f"rollout did not end in time: {rollout.line()}",
                hint="ECS is still rolling the service out; `fargo status` shows its tasks, "
                "and deploy again once it has settled",
            )
        return rollout


def run_migration(
    app: App, aws: Aws, reporter: Reporter, outputs: DeployedOutputs, poll_seconds: float
) -> MigrationResult:
    """Run it to its end; `DeployFailed` (exit 1) with its last lines unless it exited 0."""
    result = MigrationRunner(app, aws, reporter, poll_seconds=poll_seconds).run(outputs)
    if result.not_run:
        # As with the API's health check before a CDN splice: nothing runs, nothing to gate.
        reporter.note("the emulator runs no containers: the migration was recorded, not run")
        return result
    if not result.succeeded:
        raise result.failure()
    return result
