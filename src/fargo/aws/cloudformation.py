"""Typed CloudFormation calls: the stack, change set and event shapes fargo works with."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from fargo.aws.facade import Aws
from fargo.aws.settle import settle
from fargo.errors import AwsError
from fargo.synth.quotas import INLINE_BODY_BYTES, template_text

_CHANGE_SET_NOT_FOUND = ("ChangeSetNotFound", "ChangeSetNotFoundException")
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"]


@dataclass(frozen=True)
class DeployedStack:
    name: str
    stack_id: str
    status: str
    reason: str
    parameters: dict[str, str]
    outputs: dict[str, str]
    tags: dict[str, str]
    last_updated: datetime | None
    termination_protection: bool

    @property
    def in_progress(self) -> bool:
        return self.status.endswith("_IN_PROGRESS") and self.status != "REVIEW_IN_PROGRESS"


@dataclass(frozen=True)
class StackEvent:
    event_id: str
    timestamp: datetime
    logical_id: str
    resource_type: str
    status: str
    reason: str
    physical_id: str

    @property
    def failed(self) -> bool:
        return self.status.endswith("_FAILED")


@dataclass(frozen=True)
class ResourceChange:
    action: str  # Add | Modify | Remove | Import | Dynamic
    logical_id: str
    resource_type: str
    replacement: str  # True | False | Conditional | "" (not applicable)
    details: tuple[str, ...] = ()  # properties that change, when AWS says


@dataclass(frozen=True)
class ChangeSetSummary:
    """A change set as ListChangeSets shows it."""

    change_set_id: str
    name: str
    status: str  # CREATE_PENDING | CREATE_IN_PROGRESS | CREATE_COMPLETE | FAILED | ...
    execution_status: str  # AVAILABLE | UNAVAILABLE | EXECUTE_IN_PROGRESS | ...

    @property
    def executed(self) -> bool:
        return self.execution_status.startswith("EXECUTE_") or self.execution_status == "OBSOLETE"


@dataclass(frozen=True)
class ChangeSet:
    change_set_id: str
    stack_name: str
    status: str
    reason: str
    changes: tuple[ResourceChange, ...] = field(default_factory=tuple)

    @property
    def empty(self) -> bool:
        """CloudFormation marks a change set with nothing to do as FAILED; that is not a failure."""
        text = self.reason.lower()
        return self.status == "FAILED" and (
            "didn't contain changes" in text or "no updates are to be performed" in text
        )


class TemplateSource(Protocol):
    """Where a change set's template comes from (fargo.template_store)."""

    def source(self, stack: str, text: str) -> dict[str, str]:
        """The `TemplateBody` or `TemplateURL` argument that carries `text`."""
        ...


class InlineTemplates:
    """Every template inline, as the request's TemplateBody: for callers with no bucket."""

    def source(self, stack: str, text: str) -> dict[str, str]:
        if len(text.encode()) > INLINE_BODY_BYTES:
            raise AwsError(
                f"the {stack} template is {len(text.encode()):,} bytes, over "
                f"CloudFormation's {INLINE_BODY_BYTES:,}-byte inline limit",
                hint="larger templates go through the bootstrap bucket (fargo.template_store)",
            )
        return {"TemplateBody": text}


class CloudFormation:
    def __init__(self, aws: Aws, templates: TemplateSource | None = None) -> None:
        self._aws = aws
        self._templates = templates or InlineTemplates()

    def describe(self, name: str) -> DeployedStack | None:
        try:
            stacks = self._aws.call("cloudformation", "describe_stacks", StackName=name)["Stacks"]
        except AwsError as error:
            if _stack_missing(error):
                return None
            raise
        if not stacks:
            return None
        raw = stacks[0]
        return DeployedStack(
            name=raw["StackName"],
            stack_id=raw["StackId"],
            status=raw["StackStatus"],
            reason=raw.get("StackStatusReason", "") or "",
            parameters={
                p["ParameterKey"]: p.get("ParameterValue", "") for p in raw.get("Parameters", [])
            },
            outputs={o["OutputKey"]: o.get("OutputValue", "") for o in raw.get("Outputs", [])},
            tags={t["Key"]: t["Value"] for t in raw.get("Tags", [])},
            last_updated=raw.get("LastUpdatedTime") or raw.get("CreationTime"),
            termination_protection=bool(raw.get("EnableTerminationProtection")),
        )

    def template(self, name: str) -> dict[str, Any]:
        body = self._aws.call(
            "cloudformation", "get_template", StackName=name, TemplateStage="Original"
        )["TemplateBody"]
        # botocore decodes JSON bodies into dicts; YAML or odd bodies arrive as text.
        if isinstance(body, str):
            parsed: dict[str, Any] = json.loads(body)
            return parsed
        return json.loads(json.dumps(body))  # type: ignore[no-any-return]

    def create_change_set(
        self,
        name: str,
        change_set_name: str,
        body: dict[str, Any],
        parameters: dict[str, str],
        tags: dict[str, str],
        *,
        create: bool,
        token: str,
    ) -> str:
        """The new change set's id. `token` is the ClientToken: a retry of this call (the
        SDK's, or ours after a lost answer) carries the same one, so AWS answers with the
        change set the first attempt made instead of AlreadyExistsException."""
        # Stored (when too large to send inline) once, before the first attempt: a retry
        # carries the same argument.
        template = self._templates.source(name, template_text(body))

        def write() -> str:
            result = self._aws.call(
                "cloudformation",
                "create_change_set",
                StackName=name,
                ChangeSetName=change_set_name,
                ChangeSetType="CREATE" if create else "UPDATE",
                **template,
                Parameters=[
                    {"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()
                ],
                Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
                Capabilities=CAPABILITIES,
                ClientToken=token,
            )
            return str(result["Id"])

        def landed() -> str | None:
            # The name is this call's own (fargo.plan.naming), so a change set under it on
            # this stack is the one this call made.
            return self._change_set_id(name, change_set_name)

        return settle(write, landed, done_codes=("AlreadyExistsException",))

    def _change_set_id(self, name: str, change_set_name: str) -> str | None:
        try:
            found = self._aws.call(
                "cloudformation",
                "describe_change_set",
                StackName=name,
                ChangeSetName=change_set_name,
            )
        except AwsError as error:
            if error.code in _CHANGE_SET_NOT_FOUND or _stack_missing(error):
                return None
            raise
        return str(found["ChangeSetId"])

    def change_sets(self, name: str) -> list[ChangeSetSummary]:
        """The stack's change sets, executed or not."""
        return [
            ChangeSetSummary(
                change_set_id=raw["ChangeSetId"],
                name=raw["ChangeSetName"],
                status=raw.get("Status", ""),
                execution_status=raw.get("ExecutionStatus", ""),
            )
            for raw in self._aws.paginate(
                "cloudformation", "list_change_sets", "Summaries", StackName=name
            )
        ]

    def describe_change_set(self, change_set_id: str) -> ChangeSet:
        pages: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            args: dict[str, Any] = {"ChangeSetName": change_set_id}
            if token:
                args["NextToken"] = token
            page = self._aws.call("cloudformation", "describe_change_set", **args)
            pages.append(page)
            token = page.get("NextToken")
            if not token:
                break
        first = pages[0]
        changes = tuple(
            _resource_change(c["ResourceChange"])
            for page in pages
            for c in page.get("Changes", [])
            if "ResourceChange" in c
        )
        return ChangeSet(
            change_set_id=change_set_id,
            stack_name=first.get("StackName", ""),
            status=first["Status"],
            reason=first.get("StatusReason", "") or "",
            changes=changes,
        )

    def execute_change_set(self, change_set_id: str, token: str) -> None:
        """Execute; a retry with the same ClientRequestToken is a success at AWS. Where
        the answer is lost, or a retry meets InvalidChangeSetStatus, the change set itself
        says whether it is executing."""

        def write() -> bool:
            self._aws.call(
                "cloudformation",
                "execute_change_set",
                ChangeSetName=change_set_id,
                ClientRequestToken=token,
            )
            return True

        def landed() -> bool | None:
            return True if self._execution_status(change_set_id).startswith("EXECUTE_") else None

        settle(write, landed, done_codes=("InvalidChangeSetStatus",))

    def _execution_status(self, change_set_id: str) -> str:
        try:
            found = self._aws.call(
                "cloudformation", "describe_change_set", ChangeSetName=change_set_id
            )
        except AwsError as error:
            if error.code in _CHANGE_SET_NOT_FOUND:
                return ""
            raise
        return str(found.get("ExecutionStatus", ""))

    def delete_change_set(self, change_set_id: str) -> None:
        """Gone is gone: a change set already deleted (by a lost attempt) is a success."""

        def write() -> bool:
            self._aws.call("cloudformation", "delete_change_set", ChangeSetName=change_set_id)
            return True

        def landed() -> bool | None:
            try:
                self._aws.call("cloudformation", "describe_change_set", ChangeSetName=change_set_id)
            except AwsError as error:
                if error.code in _CHANGE_SET_NOT_FOUND:
                    return True
                raise
            return None

        settle(write, landed, done_codes=_CHANGE_SET_NOT_FOUND)

    def events(self, name: str) -> list[StackEvent]:
        """The newest page of events, newest first (AWS's order)."""
        raw = self._aws.call("cloudformation", "describe_stack_events", StackName=name)
        return [
            StackEvent(
                event_id=e["EventId"],
                timestamp=e["Timestamp"],
                logical_id=e.get("LogicalResourceId", ""),
                resource_type=e.get("ResourceType", ""),
                status=e.get("ResourceStatus", ""),
                reason=e.get("ResourceStatusReason", "") or "",
                physical_id=e.get("PhysicalResourceId", "") or "",
            )
            for e in raw.get("StackEvents", [])
        ]

    def resources(self, name: str) -> list[dict[str, Any]]:
        return self._aws.paginate(
            "cloudformation", "list_stack_resources", "StackResourceSummaries", StackName=name
        )

    def create_stack(
        self, name: str, body: dict[str, Any], tags: dict[str, str], token: str, **extra: Any
    ) -> None:
        """CreateStack with `body`. A stack of that name found afterwards is the result: ours
        when our answer was lost, or another process's that won a race to create it."""

        def write() -> bool:
            self._aws.call(
                "cloudformation",
                "create_stack",
                **self._stack_write(name, body, tags, token),
                **extra,
            )
            return True

        settle(
            write,
            lambda: True if self.describe(name) is not None else None,
            done_codes=("AlreadyExistsException",),
        )

    def update_stack(
        self, name: str, body: dict[str, Any], tags: dict[str, str], token: str
    ) -> None:
        """UpdateStack to `body`; landed once the stack's template is `body`."""

        def write() -> bool:
            self._aws.call(
                "cloudformation", "update_stack", **self._stack_write(name, body, tags, token)
            )
            return True

        settle(write, lambda: True if self.template(name) == body else None)

    @staticmethod
    def _stack_write(
        name: str, body: dict[str, Any], tags: dict[str, str], token: str
    ) -> dict[str, Any]:
        return {
            "StackName": name,
            "TemplateBody": json.dumps(body, sort_keys=True),
            "Capabilities": CAPABILITIES,
            "Tags": [{"Key": k, "Value": v} for k, v in tags.items()],
            "ClientRequestToken": token,
        }

    def delete_stack(self, name: str, token: str) -> None:
        def write() -> bool:
            self._aws.call(
                "cloudformation", "delete_stack", StackName=name, ClientRequestToken=token
            )
            return True

        def landed() -> bool | None:
            deployed = self.describe(name)
            return True if deployed is None or deployed.status.startswith("DELETE_") else None

        settle(write, landed)

    def continue_update_rollback(self, name: str) -> None:
        token = f"fargo-{uuid.uuid4()}"

        def write() -> bool:
            self._aws.call(
                "cloudformation",
                "continue_update_rollback",
                StackName=name,
                ClientRequestToken=token,
            )
            return True

        def landed() -> bool | None:
            deployed = self.describe(name)
            rolling_back = deployed is not None and deployed.status in (
                "UPDATE_ROLLBACK_IN_PROGRESS",
                "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
                "UPDATE_ROLLBACK_COMPLETE",
            )
            return True if rolling_back else None

        settle(write, landed)

    def stack_policy(self, name: str) -> dict[str, Any] | None:
        body = self._aws.call("cloudformation", "get_stack_policy", StackName=name).get(
            "StackPolicyBody"
        )
        return json.loads(body) if body else None

    def set_stack_policy(self, name: str, policy: dict[str, Any]) -> None:
        def write() -> bool:
            self._aws.call(
                "cloudformation",
                "set_stack_policy",
                StackName=name,
                StackPolicyBody=json.dumps(policy, sort_keys=True),
            )
            return True

        settle(write, lambda: True if self.stack_policy(name) == policy else None)

    def set_termination_protection(self, name: str, *, enabled: bool) -> None:
        def write() -> bool:
            self._aws.call(
                "cloudformation",
                "update_termination_protection",
                StackName=name,
                EnableTerminationProtection=enabled,
            )
            return True

        def landed() -> bool | None:
            deployed = self.describe(name)
            done = deployed is not None and deployed.termination_protection == enabled
            return True if done else None

        settle(write, landed)


def _stack_missing(error: AwsError) -> bool:
    return error.code == "ValidationError" and "does not exist" in error.message


def _resource_change(raw: dict[str, Any]) -> ResourceChange:
    details = tuple(
        sorted(
            {
                d["Target"].get("Name", "")
                for d in raw.get("Details", [])
                if d.get("Target", {}).get("Name")
            }
        )
    )
    return ResourceChange(
        action=raw.get("Action", ""),
        logical_id=raw.get("LogicalResourceId", ""),
        resource_type=raw.get("ResourceType", ""),
        replacement=str(raw.get("Replacement", "") or ""),
        details=details,
    )
