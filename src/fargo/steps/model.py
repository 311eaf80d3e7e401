"""The steps of a deploy, in the order the planner emits them, and their JSON form.

Each step is a frozen dataclass whose fields are its inputs. A value known only once an
earlier step ran (an image's digest, a stack's output) is an explicit placeholder,
`Pending` or `OutputOf`, never None: the printed plan says what it waits for, and the
runner reads the value from the run context when the step's turn comes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from fargo.model.app import StackKind
from fargo.plan.planner import StackPlan, StackRemoval


@dataclass(frozen=True)
class Pending:
    """A value an earlier step of the same run produces, described for the reader."""

    what: str

    def to_json(self) -> dict[str, str]:
        return {"pending": self.what}

    def __str__(self) -> str:
        return f"<{self.what}>"


@dataclass(frozen=True)
class OutputOf:
    """An output of one of the app's stacks, known once that stack is applied."""

    stack: StackKind
    output: str

    def to_json(self) -> dict[str, str]:
        return {"output_of": str(self.stack), "output": self.output}

    def __str__(self) -> str:
        return f"<{self.stack} output {self.output}>"


class Step:
    """Base of every step: `kind` names it in JSON and in deploy's progress lines."""

    kind: ClassVar[str]

    def describe(self) -> str:
        """One line for `plan` and deploy's progress."""
        return self.kind

    def to_json(self) -> dict[str, Any]:
        """The step's inputs as JSON values (its dataclass fields by default)."""
        return {f.name: _json(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]


@dataclass(frozen=True)
class CheckPreflight(Step):
    """The read-only pre-flight checks (fargo.preflight), before anything is written."""

    kind: ClassVar[str] = "check-preflight"
    checks: tuple[str, ...]
    deploying: bool

    def describe(self) -> str:
        return f"check: {', '.join(self.checks)}"


@dataclass(frozen=True)
class PublishImage(Step):
    """Build (or take a built OCI layout) and push one service's image to ECR."""

    kind: ClassVar[str] = "publish-image"
    service: str
    repository: str
    context: str
    platform: str
    digest: Pending

    def describe(self) -> str:
        return f"publish image of {self.service} ({self.context}, {self.platform})"


@dataclass(frozen=True)
class EnsureCertificate(Step):
    """Request (or find) and validate through DNS an ACM certificate for `names`."""

    kind: ClassVar[str] = "ensure-certificate"
    scope: str  # regional (load balancer) | cloudfront (the site, in us-east-1)
    names: tuple[str, ...]
    zone: str
    arn: str | Pending

    def describe(self) -> str:
        return f"certificate ({self.scope}) for {', '.join(self.names)}"


@dataclass(frozen=True)
class ApplyStack(Step):
    """Create or update one stack through its change set; its data-loss guard done."""

    kind: ClassVar[str] = "apply-stack"
    stack: str
    stack_kind: StackKind
    action: str  # create | update | unchanged
    changes: tuple[str, ...]  # "Add Database (AWS::RDS::DBInstance)", ...
    parameters: tuple[tuple[str, str | Pending | OutputOf], ...]
    # The stack's plan (change set, deployed state); its summary is the inputs above.
    planned: StackPlan = field(compare=False, repr=False)

    def describe(self) -> str:
        if self.action == "unchanged":
            waiting = [f"{k}={v}" for k, v in self.parameters if not isinstance(v, str)]
            return f"{self.stack}: " + (
                f"no changes unless {', '.join(waiting)} differs" if waiting else "no changes"
            )
        return f"{self.stack}: {self.action}, {len(self.changes)} changes"

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "stack_kind": str(self.stack_kind),
            "action": self.action,
            "changes": list(self.changes),
            "parameters": {k: _json(v) for k, v in self.parameters},
        }


@dataclass(frozen=True)
class RemoveStack(Step):
    """Delete a stack the manifest no longer asks for, after the stacks that used it."""

    kind: ClassVar[str] = "remove-stack"
    stack: str
    resources: int
    removal: StackRemoval = field(compare=False, repr=False)

    def describe(self) -> str:
        return f"{self.stack}: delete, {self.resources} resources"

    def to_json(self) -> dict[str, Any]:
        return {"stack": self.stack, "resources": self.resources}


@dataclass(frozen=True)
class RunReleaseTask(Step):
    """The migration: a one-off task of the release stack's task definition (the new image,
    the service's env, secrets and network), run to its end after the release stack and
    before the services stack, which waits for its exit code 0. Skipped when the account's
    record says this task definition has migrated already, unless `forced` (--migrate)."""

    kind: ClassVar[str] = "run-release-task"
    service: str
    command: tuple[str, ...]
    timeout_seconds: int
    task_definition: str | OutputOf
    forced: bool

    def describe(self) -> str:
        when = "forced by --migrate" if self.forced else "unless this release has migrated"
        return f"migration: {' '.join(self.command)} as a task of {self.service} ({when})"


@dataclass(frozen=True)
class WaitForRollout(Step):
    """One ECS service's deployment of the new task definition, waited for until ECS says
    COMPLETED (or FAILED: the circuit breaker rolled it back), and how long it took."""

    kind: ClassVar[str] = "wait-for-rollout"
    service: str
    stack: str

    def describe(self) -> str:
        return f"rollout of {self.service}"


@dataclass(frozen=True)
class WriteDnsRecords(Step):
    """The domain's records (API and site hosts, SES's), and the removal of those an
    earlier manifest wanted. `records`: as known when planned, from the deployed stacks;
    the step writes what the applied stacks output."""

    kind: ClassVar[str] = "write-dns-records"
    zone: str
    provider: str
    records: tuple[str, ...]

    def describe(self) -> str:
        shown = "; ".join(self.records) or "none known yet"
        return f"DNS records in {self.zone or 'the recorded zone'} at {self.provider}: {shown}"


@dataclass(frozen=True)
class SpliceDistribution(Step):
    """/api/* spliced into a distribution fargo does not own (and its SPA error pages,
    with `spa_errors: function`). `distribution` "": none is wanted any more, and a
    recorded earlier splice comes out."""

    kind: ClassVar[str] = "splice-distribution"
    distribution: str
    origin_id: str
    path: str
    spa_errors: bool
    origin: OutputOf

    def describe(self) -> str:
        if not self.distribution:
            return "CloudFront: remove an earlier splice, if one is recorded"
        return f"CloudFront {self.distribution}: {self.path} to origin {self.origin_id}"


@dataclass(frozen=True)
class PublishSite(Step):
    """A directory's files to the site's bucket, and the invalidation of changed paths."""

    kind: ClassVar[str] = "publish-site"
    directory: str
    key_prefix: str
    bucket: str | OutputOf

    def describe(self) -> str:
        return f"site: {self.directory}/ to {self.bucket}"


@dataclass(frozen=True)
class RecordRelease(Step):
    """The release this deploy put live, recorded in the account's bootstrap bucket
    (fargo.release); nothing is written when it equals the latest one."""

    kind: ClassVar[str] = "record-release"
    app: str
    env: str
    images: tuple[tuple[str, str | Pending], ...]

    def describe(self) -> str:
        return f"record the release of {self.app}/{self.env}"


STEP_KINDS: dict[str, type[Step]] = {
    cls.kind: cls
    for cls in (
        CheckPreflight,
        PublishImage,
        EnsureCertificate,
        ApplyStack,
        RemoveStack,
        RunReleaseTask,
        WaitForRollout,
        WriteDnsRecords,
        SpliceDistribution,
        PublishSite,
        RecordRelease,
    )
}


def step_json(step: Step) -> dict[str, Any]:
    """`kind` and the step's inputs; placeholders as `{"pending": ...}` / `{"output_of": ...}`."""
    return {"kind": step.kind, **step.to_json()}


def _json(value: object) -> Any:
    if isinstance(value, Pending | OutputOf):
        return value.to_json()
    if isinstance(value, tuple):
        return [_json(v) for v in value]
    return value
