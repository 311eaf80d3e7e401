"""Change sets whose only difference is in Outputs.

Gap (ministack 1.5.33): CreateChangeSet decides "no changes" from the resource
diff alone, so a change set that only adds or edits Outputs ends FAILED with
"The submitted information didn't contain changes" and cannot be executed.
AWS accepts it (no resource changes, ExecutionStatus AVAILABLE) and executing
it updates the stack's outputs. ministack's execution path already recomputes
outputs on any update, so making the change set executable closes the gap.
"""

from collections.abc import Callable
from typing import Any

from ._ministack import SUPPORTED_VERSION, PatchError, attr, module, replace

_NO_CHANGES = "The submitted information didn't contain changes."


def _outputs_changed(change_set: dict[str, Any], stacks: Any) -> bool:
    stack = stacks.get(change_set["StackName"]) or {}
    old = (stack.get("_template") or {}).get("Outputs") or {}
    new = (change_set.get("_template") or {}).get("Outputs") or {}
    return bool(old != new)


def _accepting_output_changes(create: Callable[..., Any]) -> Callable[..., Any]:
    cloudformation = module("ministack.services.cloudformation")
    change_sets = attr(cloudformation, "_change_sets")
    stacks = attr(cloudformation, "_stacks")

    def create_change_set(params: dict[str, Any]) -> Any:
        before = set(change_sets.keys())
        response = create(params)
        for cs_id in set(change_sets.keys()) - before:
            change_set = change_sets[cs_id]
            refused = change_set["Status"] == "FAILED" and change_set.get(
                "StatusReason", ""
            ).startswith(_NO_CHANGES)
            if refused and change_set.get("ChangeSetType") == "UPDATE" and _outputs_changed(
                change_set, stacks
            ):
                change_set.update(Status="CREATE_COMPLETE", ExecutionStatus="AVAILABLE")
                change_set["StatusReason"] = ""
        return response

    return create_change_set


def apply() -> None:
    """Wrap CreateChangeSet where the action table and the module both point."""
    changesets = module("ministack.services.cloudformation.changesets")
    handlers = attr(module("ministack.services.cloudformation.handlers"), "_ACTION_HANDLERS")
    original = attr(changesets, "_create_change_set")
    if handlers.get("CreateChangeSet") is not original:
        raise PatchError(
            f"ministack {SUPPORTED_VERSION} internals moved: the CreateChangeSet action "
            "no longer dispatches to changesets._create_change_set"
        )
    wrapped = _accepting_output_changes(original)
    replace(changesets, "_create_change_set", wrapped)
    handlers["CreateChangeSet"] = wrapped
