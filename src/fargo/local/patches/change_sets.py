"""Change sets: output-only changes, and lookup by stack ID."""

from collections.abc import Callable
from typing import Any

from ._ministack import SUPPORTED_VERSION, PatchError, attr, module, replace

_CHANGESETS = "ministack.services.cloudformation.changesets"
_NO_CHANGES = "The submitted information didn't contain changes."

Lookup = Callable[..., tuple[Any, Any]]


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
            refused = change_set["Status"] == "FAILED" and str(
                change_set.get("StatusReason", "")
            ).startswith(_NO_CHANGES)
            if (
                refused
                and change_set.get("ChangeSetType") == "UPDATE"
                and _outputs_changed(change_set, stacks)
            ):
                change_set.update(Status="CREATE_COMPLETE", ExecutionStatus="AVAILABLE")
                change_set["StatusReason"] = ""
        return response

    return create_change_set


def accept_output_only_change_sets() -> None:
    """Gap (ministack 1.5.33): CreateChangeSet decides "no changes" from the
    resource diff alone, so a change set that only adds or edits Outputs ends
    FAILED ("The submitted information didn't contain changes") and cannot be
    executed. AWS accepts it with no resource changes, and executing it updates
    the outputs. ministack's execution recomputes outputs on every update, so
    making such a change set executable is the whole fix.
    """
    changesets = module(_CHANGESETS)
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


def _matching_stack_id(find: Lookup, change_sets: Any) -> Lookup:
    def find_change_set(cs_name: str, stack_name: str = "") -> tuple[Any, Any]:
        for cs_id, change_set in change_sets.items():
            if change_set["ChangeSetName"] == cs_name and change_set["StackId"] == stack_name:
                return cs_id, change_set
        return find(cs_name, stack_name)

    return find_change_set


def find_change_sets_by_stack_id() -> None:
    """Gap (ministack 1.5.33): a change set named together with its stack is
    looked up by comparing the stack *name* only, so DescribeChangeSet,
    ExecuteChangeSet and DeleteChangeSet answer ChangeSetNotFound when given
    the stack ID, which AWS accepts wherever it takes a StackName.
    """
    changesets = module(_CHANGESETS)
    change_sets = attr(module("ministack.services.cloudformation"), "_change_sets")
    replace(
        changesets,
        "_find_change_set",
        _matching_stack_id(attr(changesets, "_find_change_set"), change_sets),
    )
