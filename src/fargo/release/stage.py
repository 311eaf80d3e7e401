"""Deploy's release work between the stacks: after the release stack, the migration (run
when this release's task definition has not migrated yet, or when forced); around the
services stack, the rollouts. The executor calls it through `StackHooks`."""

from __future__ import annotations

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
        force_migrate: bool = False,
        poll_seconds: float = 2.0,
        rollout_timeout_seconds: float = 3600.0,
    ) -> None:
        self._app = app
        self._aws = aws
        self._reporter = reporter
        self._force = force_migrate
        self._poll = poll_seconds
        self._rollout_timeout = rollout_timeout_seconds
        self._watcher: RolloutWatcher | None = None
        self.migration: MigrationResult | None = None
        self.rollouts: tuple[Rollout, ...] = ()

    def before_change(self, kind: StackKind, outputs: Outputs) -> None:
        """A change set on `kind` is about to run."""
        if kind is not StackKind.SERVICES:
            return
        cluster = DeployedOutputs(self._app, outputs).network.cluster_name
        names = [s.name for s in self._app.services if s.long_running]
        if cluster is None or not names:
            return
        self._watcher = RolloutWatcher(
            self._aws,
            self._reporter,
            cluster,
            names,
            poll_seconds=self._poll,
            timeout_seconds=self._rollout_timeout,
        )
        self._watcher.start()

    def after_stack(self, kind: StackKind, outputs: Outputs) -> None:
        """`kind` is deployed (changed or not); `outputs` hold every stack's so far."""
        if kind is StackKind.RELEASE:
            self._migrate(DeployedOutputs(self._app, outputs))
        elif kind is StackKind.SERVICES and self._watcher is not None:
            self.rollouts = self._watcher.finish()
            self._watcher = None
            failed = [r for r in self.rollouts if r.state != "COMPLETED"]
            if failed:
                raise DeployFailed(
                    "rollout did not complete: " + "; ".join(r.line() for r in failed),
                    hint="ECS rolled the service back to its previous task definition where "
                    "the circuit breaker tripped; `fargo logs` shows why the tasks stopped",
                )

    def abandon(self) -> None:
        """The services stack failed: stop streaming its events."""
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None

    def _migrate(self, outputs: DeployedOutputs) -> None:
        record = MigrationRecord(self._app, self._aws)
        arn = outputs.release.migration_task_definition_arn
        if not self._force and record.migrated() == arn:
            self._reporter.note("migration: this release has already migrated; not run again")
            return
        self.migration = run_migration(self._app, self._aws, self._reporter, outputs, self._poll)
        if not self.migration.not_run:
            record.record(self.migration)


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
    reporter.note(f"migration: exited 0 in {result.seconds:.0f} s")
    return result
