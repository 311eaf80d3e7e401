"""What the stack steps of a deploy call: `prepare` (the data-loss guard on the whole plan,
a policy left open closed), then `apply_stack` or `remove` for each stack in turn
(network → data → release → services → edge; the runner, fargo.steps, orders them).

Before each stack, parameters are resolved again from the upstream stacks just deployed. If
they differ from what the planned change set used, the change set is made again and the
data-loss guard runs again on it, so nothing unguarded ever executes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Protocol

from fargo.aws.cloudformation import ChangeSet, CloudFormation, DeployedStack
from fargo.errors import DeployFailed, UnsafeChange
from fargo.execute.leftovers import Retained, let_go, lets_go, retained_in
from fargo.execute.stack_policy import close_open_policies
from fargo.execute.watch import StackWatcher, delete_stack, root_cause
from fargo.model.app import StackKind
from fargo.plan.guard import unsafe_changes
from fargo.plan.planner import NOTHING_BUILT, Built, Plan, Planner, StackPlan, StackRemoval
from fargo.progress import Reporter
from fargo.release.migrate import MigrationResult
from fargo.release.rollout import Rollout
from fargo.synth.stack import StackTemplate

_SUCCESS = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE"})
_ALLOW_ALL = {
    "Statement": [{"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"}]
}


@dataclass(frozen=True)
class StackOutcome:
    name: str
    action: str  # created | updated | unchanged
    status: str
    outputs: dict[str, str]


@dataclass(frozen=True)
class DeployResult:
    stacks: tuple[StackOutcome, ...] = field(default_factory=tuple)
    # What the edge steps changed outside CloudFormation (DNS, CloudFront, site files).
    edge: tuple[str, ...] = ()
    # Where each HTTP service answers, by name (edge.urls.service_urls).
    urls: dict[str, str] = field(default_factory=dict)
    # Buckets and queues a stack let go of (DeletionPolicy Retain): AWS still holds them.
    leftovers: tuple[Retained, ...] = ()
    # The migration, when this deploy ran it, and each service's rollout.
    migration: MigrationResult | None = None
    rollouts: tuple[Rollout, ...] = ()

    @property
    def changed(self) -> bool:
        return any(s.action != "unchanged" for s in self.stacks) or bool(self.edge)


class ChangeObserver(Protocol):
    """What runs beside a stack's change set (fargo.release.stage: ECS's service events while
    the services stack changes)."""

    def watching(
        self, kind: StackKind, outputs: dict[StackKind, dict[str, str]]
    ) -> AbstractContextManager[None]:
        """Entered as the change set on a stack of `kind` starts, left as it ends."""


class Unobserved:
    def watching(
        self, kind: StackKind, outputs: dict[StackKind, dict[str, str]]
    ) -> AbstractContextManager[None]:
        del kind, outputs
        return nullcontext()


class Executor:
    def __init__(
        self,
        cloudformation: CloudFormation,
        planner: Planner,
        watcher: StackWatcher,
        reporter: Reporter,
        *,
        allow_data_loss: bool,
        record_leftovers: Callable[[list[Retained]], None] = lambda _: None,
        observer: ChangeObserver | None = None,
    ) -> None:
        self._observer: ChangeObserver = observer or Unobserved()
        self._cfn = cloudformation
        self._planner = planner
        self._watcher = watcher
        self._reporter = reporter
        self._allow_data_loss = allow_data_loss
        self._record_leftovers = record_leftovers
        self._leftovers: list[Retained] = []

    @property
    def leftovers(self) -> tuple[Retained, ...]:
        """What the stacks applied so far let go of (DeletionPolicy Retain)."""
        return tuple(self._leftovers)

    def prepare(self, plan: Plan) -> None:
        """Before the first stack: the data-loss guard on the whole plan (its change sets
        removed if it refuses), and a policy an interrupted --allow-data-loss update left
        open closed again."""
        try:
            refuse_unsafe(plan, allow_data_loss=self._allow_data_loss)
        except UnsafeChange:
            discard_change_sets(self._cfn, plan)
            raise
        close_open_policies(
            self._cfn,
            (s.template for s in plan.stacks if s.deployed and not s.recreate),
            self._reporter,
        )

    def remove(self, removal: StackRemoval) -> StackOutcome:
        # The removal was planned and passed the guard (--allow-data-loss where data goes).
        kept = retained_in(removal.name, self._cfn.resources(removal.name))
        delete_stack(
            self._watcher,
            removal.deployed,
            why="to retire it",
            hint="fix the cause and run deploy again",
        )
        self._keep(kept)
        return StackOutcome(removal.name, "deleted", "DELETE_COMPLETE", {})

    def apply_stack(
        self,
        stack: StackPlan,
        outputs: dict[StackKind, dict[str, str]],
        built: Built = NOTHING_BUILT,
    ) -> StackOutcome:
        """`outputs`: of the stacks applied before this one, by kind."""
        parameters = self._planner.resolve(stack.template, outputs, built=built)
        if parameters is None:  # upstream outputs are produced by earlier stacks in `plan`
            raise DeployFailed(f"{stack.name}: an upstream stack output is missing")
        if stack.action == "unchanged" and parameters == stack.parameters:
            self._reporter.stack_finished(stack.name, "no changes")
            deployed = stack.deployed
            if deployed is not None:
                self._guard_settings(stack.template, deployed)
            return StackOutcome(
                stack.name, "unchanged", "no changes", deployed.outputs if deployed else {}
            )
        deployed = stack.deployed
        if stack.recreate and deployed is not None:
            self._delete_failed_create(deployed)
            deployed = None
        create = deployed is None or deployed.status == "REVIEW_IN_PROGRESS"
        if deployed is not None and deployed.status == "UPDATE_ROLLBACK_FAILED":
            self._recover(deployed)
        change_set = self._current_change_set(stack, parameters, create=create)
        if change_set is None:
            self._reporter.stack_finished(stack.name, "no changes")
            kept = deployed.outputs if deployed else {}
            return StackOutcome(stack.name, "unchanged", "no changes", kept)
        # What a removal or replacement of a retained resource would leave behind.
        before = (
            retained_in(stack.name, self._cfn.resources(stack.name))
            if not create and lets_go(change_set.changes)
            else []
        )
        # Lift whatever policy the deployed stack has (the new template may protect less).
        lifting = not create and bool(unsafe_changes(stack.name, change_set.changes))
        if lifting:
            # Only reached with --allow-data-loss: the guard refused otherwise. A change set
            # cannot carry a temporary policy, so the stack's own is opened for this update.
            self._reporter.note(f"{stack.name}: lifting the stack policy for this update")
            self._cfn.set_stack_policy(stack.name, _ALLOW_ALL)
        try:
            with self._observer.watching(stack.template.kind, outputs):
                outcome = self._execute(stack.name, change_set, create=create)
        finally:
            if lifting:
                self._cfn.set_stack_policy(stack.name, stack.template.stack_policy or _ALLOW_ALL)
        if before:
            self._keep(let_go(before, self._cfn.resources(stack.name)))
        final = self._cfn.describe(stack.name)
        if final is not None:
            self._guard_settings(stack.template, final, after_change=create or not lifting)
        return outcome

    def _keep(self, kept: list[Retained]) -> None:
        """Name what a stack let go of, and record it in the account at once."""
        for leftover in kept:
            self._reporter.note(
                f"kept (DeletionPolicy Retain): {leftover.describe()}; {leftover.how_to_delete}"
            )
        if kept:
            self._record_leftovers(kept)
            self._leftovers.extend(kept)

    def _current_change_set(
        self, stack: StackPlan, parameters: dict[str, str], *, create: bool
    ) -> ChangeSet | None:
        """The planned change set, or a new one (guarded again) if the inputs moved since.
        None when there is nothing to change."""
        change_set = stack.change_set
        if change_set is not None and parameters == stack.parameters:
            return change_set
        if change_set is not None:
            self._cfn.delete_change_set(change_set.change_set_id)
        change_set = self._planner.change_set(stack.template, parameters, create=create)
        if change_set.empty:
            self._cfn.delete_change_set(change_set.change_set_id)
            return None
        if not create:
            try:
                refuse_unsafe(
                    Plan((stack,), tuple(unsafe_changes(stack.name, change_set.changes))),
                    allow_data_loss=self._allow_data_loss,
                )
            except UnsafeChange:
                # Refused as the planned one would have been: nothing left in the account.
                self._cfn.delete_change_set(change_set.change_set_id)
                raise
        return change_set

    def _guard_settings(
        self, template: StackTemplate, deployed: DeployedStack, *, after_change: bool = False
    ) -> None:
        """Stack policy and termination protection, written only when they differ."""
        wanted = template.stack_policy
        if wanted is not None and (after_change or self._cfn.stack_policy(template.name) != wanted):
            self._cfn.set_stack_policy(template.name, wanted)
        if deployed.termination_protection != template.termination_protection:
            self._cfn.set_termination_protection(
                template.name, enabled=template.termination_protection
            )

    def _execute(self, name: str, change_set: ChangeSet, *, create: bool) -> StackOutcome:
        action = "create" if create else "update"
        self._reporter.stack_started(name, action)
        seen = self._watcher.seen(name, exists=True)
        self._cfn.execute_change_set(change_set.change_set_id, token=f"fargo-{uuid.uuid4()}")
        final, events = self._watcher.follow(name, seen)
        status = final.status if final else "DELETED"
        self._reporter.stack_finished(name, status)
        if status not in _SUCCESS:
            cause = root_cause(events)
            detail = (
                f"{cause.logical_id} ({cause.resource_type}): {cause.reason}"
                if cause
                else final.reason
                if final
                else "the stack disappeared"
            )
            raise DeployFailed(
                f"{name}: {action} failed and was rolled back ({status}): {detail}",
                hint="the stack is back in its previous state; fix the cause and run deploy again",
            )
        return StackOutcome(name, f"{action}d", status, final.outputs if final else {})

    def _delete_failed_create(self, deployed: DeployedStack) -> None:
        """A stack whose first create failed cannot be updated; it holds nothing, so delete it."""
        self._reporter.note(
            f"{deployed.name} is {deployed.status} from an earlier failed create; "
            "deleting it before creating it again"
        )
        delete_stack(
            self._watcher,
            deployed,
            why="to create it again",
            hint="delete the stack in the CloudFormation console, then run deploy again",
        )

    def _recover(self, deployed: DeployedStack) -> None:
        self._reporter.note(f"{deployed.name} is UPDATE_ROLLBACK_FAILED; continuing the rollback")
        seen = self._watcher.seen(deployed.name, exists=True)
        self._cfn.continue_update_rollback(deployed.name)
        self._watcher.follow(deployed.name, seen)


def refuse_unsafe(plan: Plan, *, allow_data_loss: bool) -> None:
    if plan.unsafe and not allow_data_loss:
        lines = "\n  ".join(u.render() for u in plan.unsafe)
        raise UnsafeChange(
            f"refusing to destroy data:\n  {lines}",
            hint="nothing was changed. If losing this data is intended, re-run with "
            "--allow-data-loss (a final snapshot is kept where the resource supports one)",
        )


def discard_change_sets(cloudformation: CloudFormation, plan: Plan) -> None:
    for stack in plan.stacks:
        if stack.change_set is not None:
            cloudformation.delete_change_set(stack.change_set.change_set_id)
