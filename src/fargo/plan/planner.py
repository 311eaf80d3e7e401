"""Build a Plan: per stack, create / update / unchanged, with the change set that says how.

Reads state with describe calls only. For stacks that exist and differ it creates (never
executes) a change set, because only CloudFormation knows which changes replace resources.
New stacks get no change set here: creating one would create the stack in
REVIEW_IN_PROGRESS, and a refused plan must leave every stack untouched.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from fargo.aws.cloudformation import ChangeSet, CloudFormation, DeployedStack, ResourceChange
from fargo.cost.lines import CostDelta
from fargo.errors import AwsError
from fargo.model.app import StackKind
from fargo.plan.change_sets import discard_orphans, new_change_set_name
from fargo.plan.checks import Check, PlanWarning
from fargo.plan.compare import same_template
from fargo.plan.guard import UnsafeChange, unsafe_changes
from fargo.progress import Reporter
from fargo.synth.stack import IssuedCertificate, PushedImage, StackOutput, StackTemplate

if TYPE_CHECKING:
    from fargo.steps.model import Step

Action = Literal["create", "update", "unchanged"]
# States from which a stack cannot be updated and must be deleted and created again. Both
# mean the first create never completed, so nothing in them holds data.
RECREATE_STATES = frozenset({"ROLLBACK_COMPLETE", "ROLLBACK_FAILED"})
_SETTLE_TIMEOUT_SECONDS = 3 * 3600


@dataclass(frozen=True)
class Built:
    """What a deploy made before the stacks: digest-pinned image references by service and
    certificate ARNs by scope (regional, cloudfront). Empty for `plan`, which builds
    nothing: a stack's deployed values stand in for them."""

    images: Mapping[str, str] = field(default_factory=dict)
    certificates: Mapping[str, str] = field(default_factory=dict)


NOTHING_BUILT = Built()


@dataclass(frozen=True)
class StackPlan:
    template: StackTemplate
    action: Action
    deployed: DeployedStack | None
    parameters: dict[str, str] | None  # None: waits on an upstream stack not yet deployed
    change_set: ChangeSet | None = None
    changes: tuple[ResourceChange, ...] = ()
    unsafe: tuple[UnsafeChange, ...] = ()

    @property
    def name(self) -> str:
        return self.template.name

    @property
    def recreate(self) -> bool:
        return self.deployed is not None and self.deployed.status in RECREATE_STATES


@dataclass(frozen=True)
class StackRemoval:
    """A deployed stack the manifest no longer asks for (say `database:` was removed)."""

    name: str
    deployed: DeployedStack
    changes: tuple[ResourceChange, ...]
    unsafe: tuple[UnsafeChange, ...]


@dataclass(frozen=True)
class Plan:
    stacks: tuple[StackPlan, ...]
    unsafe: tuple[UnsafeChange, ...] = field(default_factory=tuple)
    removals: tuple[StackRemoval, ...] = field(default_factory=tuple)
    # What deploy would do outside CloudFormation: certificates, DNS records, the splice.
    edge: tuple[str, ...] = field(default_factory=tuple)
    # The pre-flight checks' results and warnings (fargo.plan.checks).
    checks: tuple[Check, ...] = field(default_factory=tuple)
    warnings: tuple[PlanWarning, ...] = field(default_factory=tuple)
    # The monthly cost before and after (fargo.cost.delta), when it was priced.
    cost: CostDelta | None = None
    # What deploy runs, in order (fargo.steps): the list `plan` prints and deploy follows.
    steps: tuple[Step, ...] = field(default_factory=tuple)

    @property
    def unchanged(self) -> bool:
        stacks = all(s.action == "unchanged" for s in self.stacks)
        return stacks and not self.removals and not self.edge

    @property
    def deployed_outputs(self) -> dict[StackKind, dict[str, str]]:
        """The stacks' outputs as planning read them, before anything changed."""
        return deployed_outputs(self.stacks)


def deployed_outputs(stacks: Iterable[StackPlan]) -> dict[StackKind, dict[str, str]]:
    """Outputs of the deployed stacks, by kind; a stack about to be recreated holds none."""
    return {
        s.template.kind: s.deployed.outputs
        for s in stacks
        if s.deployed is not None and not s.recreate
    }


class Planner:
    def __init__(
        self,
        cloudformation: CloudFormation,
        reporter: Reporter,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        poll_seconds: float = 1.0,
    ) -> None:
        self._cfn = cloudformation
        self._reporter = reporter
        self._sleep = sleep
        self._clock = clock
        self._poll = poll_seconds
        # Deployed templates read while planning; `plan` writes no stack, so they stay true.
        self._bodies: dict[str, dict[str, Any]] = {}

    def plan(
        self,
        templates: tuple[StackTemplate, ...],
        retired: tuple[str, ...] = (),
        built: Built = NOTHING_BUILT,
    ) -> Plan:
        """`retired`: names of stacks the app no longer has, removed if they are deployed.
        `built`: images and certificates already made; the deployed values stand in for
        the others."""
        self._bodies.clear()  # a deploy may have changed them since the last plan
        planned: dict[StackKind, StackPlan] = {}
        for template in templates:
            planned[template.kind] = self._plan_stack(template, planned, built)
        stacks = tuple(planned.values())
        removals = tuple(r for name in retired if (r := self._removal(name)) is not None)
        unsafe = tuple(u for s in stacks for u in s.unsafe)
        return Plan(stacks, unsafe + tuple(u for r in removals for u in r.unsafe), removals)

    def _removal(self, name: str) -> StackRemoval | None:
        deployed = self.settle(name)
        if deployed is None:
            return None
        changes = tuple(
            ResourceChange("Remove", r["LogicalResourceId"], r["ResourceType"], "")
            for r in self._cfn.resources(name)
        )
        return StackRemoval(name, deployed, changes, tuple(unsafe_changes(name, changes)))

    def settle(self, name: str) -> DeployedStack | None:
        """Wait out an operation already running on `name` (an earlier run, Ctrl-C, CI)."""
        deployed = self._cfn.describe(name)
        if deployed is None or not deployed.in_progress:
            return deployed
        self._reporter.note(f"{name} is {deployed.status}; waiting for it to finish")
        deadline = self._clock() + _SETTLE_TIMEOUT_SECONDS
        while deployed is not None and deployed.in_progress:
            if self._clock() > deadline:
                raise AwsError(
                    f"{name} stayed {deployed.status} for too long",
                    hint="check the stack's events in the CloudFormation console",
                )
            self._sleep(self._poll)
            deployed = self._cfn.describe(name)
        return deployed

    def resolve(
        self,
        template: StackTemplate,
        outputs: dict[StackKind, dict[str, str]],
        deployed: dict[str, str] | None = None,
        built: Built = NOTHING_BUILT,
    ) -> dict[str, str] | None:
        """Parameter values from upstream outputs and built images; None while one is unknown.

        `deployed`: the stack's current values. `plan` builds nothing, so an image not built
        in this run keeps its deployed value and the plan shows every other change.
        """
        values: dict[str, str] = {}
        for key, value in template.parameters.items():
            if isinstance(value, StackOutput):
                found = outputs.get(value.stack, {}).get(value.key)
            elif isinstance(value, PushedImage):
                found = built.images.get(value.service) or (deployed or {}).get(key)
            elif isinstance(value, IssuedCertificate):
                found = built.certificates.get(value.scope) or (deployed or {}).get(key)
            else:
                found = value
            if found is None:
                return None
            values[key] = found
        return values

    def change_set(
        self, template: StackTemplate, parameters: dict[str, str], *, create: bool
    ) -> ChangeSet:
        name = new_change_set_name()
        change_set_id = self._cfn.create_change_set(
            template.name,
            name,
            template.body,
            parameters,
            template.tags,
            create=create,
            token=name,
        )
        deadline = self._clock() + 600
        while True:
            change_set = self._cfn.describe_change_set(change_set_id)
            if change_set.status in ("CREATE_COMPLETE", "FAILED"):
                break
            if self._clock() > deadline:
                raise AwsError(f"change set for {template.name} did not complete in 10 minutes")
            self._sleep(min(self._poll, 0.5))
        if change_set.status == "FAILED" and not change_set.empty:
            raise AwsError(
                f"CloudFormation refused the change to {template.name}: {change_set.reason}",
                hint="the template or a parameter is invalid; run `fargo render` and cfn-lint",
            )
        return change_set

    def _plan_stack(
        self, template: StackTemplate, planned: dict[StackKind, StackPlan], built: Built
    ) -> StackPlan:
        deployed = self.settle(template.name)
        if deployed is not None:
            discard_orphans(self._cfn, template.name, self._reporter)
        outputs = deployed_outputs(planned.values())
        parameters = self.resolve(
            template, outputs, deployed.parameters if deployed else None, built
        )
        if deployed is None or deployed.status in RECREATE_STATES or _never_created(deployed):
            return creation_plan(template, deployed, parameters)
        if deployed.status == "UPDATE_ROLLBACK_FAILED":
            # No change set is possible until the executor continues the rollback.
            return StackPlan(template, "update", deployed, parameters)
        if parameters is not None and self._matches(template, deployed, parameters):
            return StackPlan(template, "unchanged", deployed, parameters)
        if parameters is None:
            # An upstream stack is being created first; nothing to compare against yet.
            return StackPlan(template, "update", deployed, None)
        change_set = self.change_set(template, parameters, create=False)
        if change_set.empty:
            self._cfn.delete_change_set(change_set.change_set_id)
            return StackPlan(template, "unchanged", deployed, parameters)
        unsafe = tuple(unsafe_changes(template.name, change_set.changes))
        return StackPlan(
            template,
            "update",
            deployed,
            parameters,
            change_set=change_set,
            changes=change_set.changes,
            unsafe=unsafe,
        )

    def _matches(
        self, template: StackTemplate, deployed: DeployedStack, parameters: dict[str, str]
    ) -> bool:
        if deployed.parameters != parameters or deployed.tags != template.tags:
            return False
        return same_template(template.body, self.deployed_body(template.name))

    def deployed_body(self, name: str) -> dict[str, Any]:
        """A deployed stack's template, read once per plan: the comparison reads it, and so
        does the plan's cost (its monthly figure before the change)."""
        if name not in self._bodies:
            self._bodies[name] = self._cfn.template(name)
        return self._bodies[name]


def creation_plan(
    template: StackTemplate,
    deployed: DeployedStack | None = None,
    parameters: dict[str, str] | None = None,
) -> StackPlan:
    """A stack about to be created: every resource is an Add. Pure, so golden tests use it."""
    adds = tuple(
        ResourceChange("Add", logical_id, resource["Type"], "")
        for logical_id, resource in template.body.get("Resources", {}).items()
    )
    return StackPlan(template, "create", deployed, parameters, changes=adds)


def _never_created(deployed: DeployedStack) -> bool:
    # A CREATE change set that was never executed leaves the stack in REVIEW_IN_PROGRESS.
    return deployed.status == "REVIEW_IN_PROGRESS"
