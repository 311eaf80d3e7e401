"""The one factory that wires a deploy together: manifest → app → templates, an AWS facade
pointed at AWS or an emulator, planner, executor and reporter."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from fargo.aws.cloudformation import CloudFormation
from fargo.aws.facade import EMULATOR_ACCESS_KEY, Aws, AwsConfig, CallCounter
from fargo.bootstrap import ensure_bootstrap
from fargo.cost.delta import price_plan
from fargo.edge.stage import EdgeStage
from fargo.edge.urls import service_urls
from fargo.errors import DeployFailed, InputError
from fargo.execute import DeployResult, Destroyer, DestroyResult, Executor
from fargo.execute.executor import discard_change_sets
from fargo.execute.leftovers import LeftoverStore
from fargo.execute.purge import refuse_purge
from fargo.execute.stack_policy import close_open_policies, open_policy_warnings
from fargo.execute.watch import StackWatcher
from fargo.lock import DeployLock
from fargo.manifest.load import LoadedManifest, load_manifest
from fargo.model import App, build_app
from fargo.model.app import DEPLOY_ORDER, StackKind
from fargo.outputs import DeployedOutputs
from fargo.plan import Plan, Planner
from fargo.plan.checks import Findings, PreflightFailed
from fargo.preflight import CHECKS, Preflight, run_checks
from fargo.progress import Reporter, SilentReporter
from fargo.release.migrate import MigrationRecord, MigrationResult
from fargo.release.stage import ReleaseStage, run_migration
from fargo.status import StatusReport, read_status
from fargo.steps import ApplyStack, CheckPreflight
from fargo.steps import handlers as steps
from fargo.steps.planner import StepPlanner
from fargo.steps.runner import Registry, RunContext, StepRunner
from fargo.synth import StackTemplate, synth
from fargo.synth.quotas import check_quotas
from fargo.template_store import TemplateStore


@dataclass(frozen=True)
class Target:
    """Where AWS calls go: real AWS (endpoint None) or an AWS-compatible endpoint."""

    endpoint_url: str | None = None
    profile: str | None = None

    @classmethod
    def from_environment(cls, endpoint_url: str | None = None) -> Target:
        return cls(endpoint_url or os.environ.get("FARGO_ENDPOINT_URL") or None)


class Deployer:
    def __init__(
        self,
        loaded: LoadedManifest,
        target: Target,
        *,
        reporter: Reporter | None = None,
        allow_data_loss: bool = False,
        counter: CallCounter | None = None,
        lock_wait: float = 0.0,
    ) -> None:
        self.loaded = loaded
        self.lock_wait = lock_wait
        self.app: App = build_app(loaded)
        self.templates: tuple[StackTemplate, ...] = synth(self.app)
        config = _aws_config(self.app.region, target)
        self.aws = Aws(config, counter=counter)
        self.reporter = reporter or SilentReporter()
        self.allow_data_loss = allow_data_loss
        poll = 0.1 if target.endpoint_url else 2.0
        self._poll = 0.5 if target.endpoint_url else 5.0  # tasks and rollouts: slower things
        # Templates over the inline limit go to CloudFormation from the bootstrap bucket.
        self.cloudformation = CloudFormation(self.aws, TemplateStore(self.aws))
        self.planner = Planner(
            self.cloudformation,
            self.reporter,
            sleep=self.aws.sleep,
            clock=self.aws.clock,
            poll_seconds=poll,
        )
        self.watcher = StackWatcher(
            self.cloudformation,
            self.reporter,
            self.aws.sleep,
            self.aws.clock,
            poll,
            timeout_seconds=300 if target.endpoint_url else 3 * 3600,
        )
        self.edge = EdgeStage(
            self.app,
            self.aws,
            lambda region: Aws(replace(config, region=region), counter=self.aws.counter),
            self.reporter,
            emulator=target.endpoint_url is not None,
            poll_seconds=poll,
        )
        self.steps = StepPlanner(
            self.app,
            self.templates,
            self.planner,
            certificate_names=self.edge.certificate_names,
            site_source=self.edge.site_source,
            migrated=lambda: MigrationRecord(self.app, self.aws).migrated(),
        )

    def preflight(self, *, deploying: bool) -> Findings:
        """The pre-flight checks (read-only); `PreflightFailed` (exit 2) if any failed.
        First the templates against CloudFormation's quotas (`QuotaExceeded`, exit 2)."""
        check_quotas(self.templates)
        found = run_checks(
            Preflight(
                self.app,
                self.aws,
                lambda: self.edge.dns,
                self.edge.aws_in,
                deploying=deploying,
            )
        )
        if found.failed:
            raise PreflightFailed(found)
        return found

    def plan(self, *, migrate: bool = False) -> Plan:
        """The plan, shown and not applied; its change sets are removed again. `migrate`:
        the plan of `deploy --migrate`."""
        context = RunContext(self.app)
        check = self._check(deploying=False)
        # The checks are read-only: `plan` runs them, and only them, through the same runner.
        checks_only = Registry().register(CheckPreflight, self._preflight())
        StepRunner(checks_only, self.reporter).run((check,), context)
        plan = self.steps.plan(check, self.retired, migrate=migrate)
        discard_change_sets(self.cloudformation, plan)
        if self.edge.needed:
            deployed = DeployedOutputs(self.app, plan.deployed_outputs)
            plan = replace(plan, edge=tuple(self.edge.preview(deployed)))
        opened = open_policy_warnings(self.cloudformation, self.templates)
        cost, priced = price_plan(
            plan, self.templates, self.planner.deployed_body, self.app.region, self.app.profile
        )
        found = context.findings
        return replace(
            plan, checks=found.checks, warnings=(*found.warnings, *opened, *priced), cost=cost
        )

    def _check(self, *, deploying: bool) -> CheckPreflight:
        return CheckPreflight(tuple(c.__name__ for c in CHECKS), deploying)

    @property
    def retired(self) -> tuple[str, ...]:
        """Stacks this app and environment may have had but no longer needs."""
        return tuple(self.app.stack_name(k) for k in DEPLOY_ORDER if k not in self.app.stacks)

    def publish(self, services: tuple[str, ...] = ()) -> dict[str, str]:
        """Build and push the app's images; digest-pinned references by service."""
        from fargo.images.ecr import Ecr  # noqa: PLC0415 - builders load on demand
        from fargo.images.publish import Publisher  # noqa: PLC0415
        from fargo.local.architectures import architecture_notes  # noqa: PLC0415

        images = Publisher(self.aws, self.reporter).publish(self.app, services)
        if self.aws.config.endpoint_url:  # the emulator runs tasks on this machine's CPU
            for note in architecture_notes(Ecr(self.aws), self.app, images):
                self.reporter.note(note)
        return images

    def deploy(self, *, migrate: bool = False) -> tuple[Plan, DeployResult]:
        """`migrate`: run the migration even when this release has already migrated."""
        # The checks before anything is written: a zone, secret or distribution that is
        # not there stops the deploy with nothing changed. Then, under the lock, the plan
        # and its steps: images (a failed build or push leaves every stack as it was), the
        # certificates whose ARNs the listener and the site's distribution take, the
        # stacks, the edge.
        context = RunContext(self.app)
        check = self._check(deploying=True)
        # The migration and the rollouts (fargo.release.stage): what this deploy ran.
        release = ReleaseStage(self.app, self.aws, self.reporter, poll_seconds=self._poll)
        executor = self._executor(release)
        runner = self._runner(executor, release)
        runner.run((check,), context)
        with self.lock("deploy"):
            plan = self._deploy(check, context, executor, runner, migrate=migrate)
        return plan, self._result(context, executor, release)

    def migrate(self) -> MigrationResult:
        """`fargo migrate`: the deployed release's migration, run alone (exit 1 on failure)."""
        if self.app.migration is None:
            raise InputError(
                f"{self.loaded.file} has no `migrate:`",
                hint="add migrate: { command: [...], service: NAME }",
            )
        with self.lock("migrate"):
            found = {
                kind: deployed.outputs
                for kind in (StackKind.NETWORK, StackKind.RELEASE)
                if (deployed := self.cloudformation.describe(self.app.stack_name(kind)))
            }
            if StackKind.RELEASE not in found:
                raise DeployFailed(
                    f"{self.app.stack_name(StackKind.RELEASE)} is not deployed",
                    hint="run `fargo deploy` first: it deploys the release and runs the migration",
                )
            outputs = DeployedOutputs(self.app, found)
            result = run_migration(self.app, self.aws, self.reporter, outputs, self._poll)
            MigrationRecord(self.app, self.aws).record(result)
            return result

    def lock(self, command: str) -> DeployLock:
        """The app and environment's lock (fargo.lock), in the bootstrap stack made on first
        use; `with` it around every write, so two commands never interleave theirs."""
        found = ensure_bootstrap(self.aws, self.watcher)
        self.artifact_bucket = found.artifact_bucket
        key = f"{self.app.name}/{self.app.env}"
        return DeployLock(
            self.aws, found.lock_table, key, command, self.reporter, wait_seconds=self.lock_wait
        )

    def _deploy(
        self,
        check: CheckPreflight,
        context: RunContext,
        executor: Executor,
        runner: StepRunner,
        *,
        migrate: bool,
    ) -> Plan:
        plan = self.steps.plan(check, self.retired, migrate=migrate)
        plan = replace(plan, checks=context.findings.checks, warnings=context.findings.warnings)
        # A plan the data-loss guard refuses runs no step.
        executor.prepare(plan)
        try:
            runner.run(plan.steps, context)
        except BaseException:
            # Change sets of stacks whose turn never came are not left in the account.
            discard_change_sets(
                self.cloudformation,
                replace(
                    plan,
                    stacks=tuple(
                        s.planned
                        for s in plan.steps
                        if isinstance(s, ApplyStack) and s not in context.started
                    ),
                ),
            )
            raise
        return plan

    def _result(
        self, context: RunContext, executor: Executor, release: ReleaseStage
    ) -> DeployResult:
        """What a deploy's steps did, and where each HTTP service answers now."""
        return DeployResult(
            tuple(context.stacks),
            edge=context.edge.lines(),
            urls=service_urls(self.aws, self.app, context.deployed_outputs()),
            leftovers=executor.leftovers,
            migration=release.migration,
            rollouts=tuple(release.rollouts),
        )

    def _executor(self, release: ReleaseStage) -> Executor:
        return Executor(
            self.cloudformation,
            self.planner,
            self.watcher,
            self.reporter,
            allow_data_loss=self.allow_data_loss,
            record_leftovers=LeftoverStore(self.aws, self.app).add,
            observer=release,
        )

    def _preflight(self) -> steps.Preflight:
        return steps.Preflight(
            lambda deploying: self.preflight(deploying=deploying), self.edge.check, self.reporter
        )

    def _runner(self, executor: Executor, release: ReleaseStage) -> StepRunner:
        """The steps' handlers, each given what it needs."""
        registry = steps.deploy_registry(
            preflight=self._preflight(),
            images=steps.Images(self.publish),
            edge=self.edge,
            executor=executor,
            release=release,
            releases=steps.Releases(self._record_release),
        )
        return StepRunner(registry, self.reporter)

    def _record_release(self, context: RunContext) -> str:
        """What this deploy put live, kept in the account (fargo.release); nothing is
        written when it equals the latest release."""
        from fargo.release.record import new_release, record_release  # noqa: PLC0415

        services = next((t for t in self.templates if t.kind == StackKind.SERVICES), None)
        built = context.built()
        parameters = (
            self.planner.resolve(services, context.outputs, built=built) if services else None
        )
        release = new_release(self.loaded, self.app, dict(built.images), services, parameters or {})
        recorded = record_release(self.aws, self.artifact_bucket, self.app, release)
        for note in recorded.notes:
            self.reporter.note(note)
        number = recorded.release.number
        if not recorded.new:
            return f"release {number} unchanged"
        pruned = ", ".join(str(n) for n in recorded.pruned)
        return f"recorded release {number}" + (f", release {pruned} pruned" if pruned else "")

    def destroy(self, *, purge: bool = False) -> DestroyResult:
        if purge:
            refuse_purge(self.loaded, allow_data_loss=self.allow_data_loss)
        with self.lock("destroy --purge" if purge else "destroy"):
            return self._destroy(purge=purge)

    def _destroy(self, *, purge: bool) -> DestroyResult:
        destroyer = Destroyer(self.aws, self.cloudformation, self.watcher, self.reporter)
        close_open_policies(self.cloudformation, self.templates, self.reporter)
        # The splice and DNS records first: nothing may point at what is about to go.
        undone = self.edge.tear_down()
        leftovers = LeftoverStore(self.aws, self.app)
        recorded = leftovers.read()
        # Every kind of stack, not just today's: a stack retired by a manifest edit goes too.
        result = destroyer.destroy(
            tuple(self.app.stack_name(k) for k in DEPLOY_ORDER),
            allow_data_loss=self.allow_data_loss,
            purge=purge,
            earlier=tuple(leftovers.existing(recorded)),
        )
        if list(result.leftovers) != recorded:
            leftovers.write(list(result.leftovers))
        undone += self.edge.delete_certificates()
        # Which release last migrated means nothing once the release stack is gone, and a
        # task definition made again (its revision numbered anew where revisions are not
        # kept, as on an emulator) must never be taken for one that migrated.
        record = MigrationRecord(self.app, self.aws)
        if record.migrated() is not None:
            record.forget()
        return replace(result, edge=tuple(undone))

    def status(self, *, resources: bool = False) -> StatusReport:
        return read_status(
            self.aws,
            self.cloudformation,
            self.app,
            self.templates,
            resources=resources,
            emulator=self.edge.emulator,
        )


def open_deployer(
    file: Path,
    env: str | None,
    target: Target,
    *,
    reporter: Reporter | None = None,
    allow_data_loss: bool = False,
    counter: CallCounter | None = None,
    lock_wait: float = 0.0,
) -> Deployer:
    return Deployer(
        load_manifest(file, env),
        target,
        reporter=reporter,
        allow_data_loss=allow_data_loss,
        counter=counter,
        lock_wait=lock_wait,
    )


def open_aws(region: str, target: Target) -> Aws:
    """An AWS facade for calls that concern no one environment (listing previews)."""
    return Aws(_aws_config(region, target))


def _aws_config(region: str, target: Target) -> AwsConfig:
    if target.endpoint_url is None:
        return AwsConfig(region=region, profile=target.profile)
    # Emulators need no real credentials; use the caller's if they set some explicitly.
    explicit = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
    credentials = (
        (explicit[0], explicit[1])
        if explicit[0] and explicit[1]
        else (EMULATOR_ACCESS_KEY, "fargo-local")
    )
    return AwsConfig(
        region=region,
        endpoint_url=target.endpoint_url,
        static_credentials=credentials,
        retry_mode="standard",
        max_attempts=3,
    )
