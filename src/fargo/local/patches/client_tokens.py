"""Change set calls honour their client tokens, so a retried call is not a new one.

Gap (ministack 1.5.33): CreateChangeSet ignores ``ClientToken`` and
ExecuteChangeSet ignores ``ClientRequestToken`` (it only stamps it on the
events). AWS documents both as the way to retry the call "so that
CloudFormation knows that you're not attempting to create another change set
with the same name" / "to execute a change set to update a stack with the same
name". So when a call's answer is lost and the SDK sends it again, ministack
answers the retry of CreateChangeSet with AlreadyExistsException
("ChangeSet [name] already exists") and the retry of ExecuteChangeSet with
InvalidChangeSetStatus ("... is in EXECUTE_IN_PROGRESS status").

Here CreateChangeSet with the token, name and stack of a change set made
earlier answers that change set's Id and StackId and makes nothing; another
token with that name is still AlreadyExistsException. ExecuteChangeSet with
the token of the call that executed the change set answers success and starts
nothing; another token still meets InvalidChangeSetStatus.
"""

from collections.abc import Callable
from typing import Any

from ._ministack import SUPPORTED_VERSION, PatchError, attr, module

Handler = Callable[[dict[str, Any]], Any]

_CFN = "ministack.services.cloudformation"
# Where the token that made or executed a change set is kept on its record.
_MADE_WITH = "_fargo_client_token"
_EXECUTED_WITH = "_fargo_execute_token"


def _made_with(token: str, name: str, stack: str, change_sets: Any) -> Any:
    for change_set in change_sets.values():
        if (
            change_set.get(_MADE_WITH) == token
            and change_set["ChangeSetName"] == name
            and stack in (change_set["StackName"], change_set["StackId"])
        ):
            return change_set
    return None


def _honouring_client_token(create: Handler, helpers: Any, change_sets: Any) -> Handler:
    def create_change_set(params: dict[str, Any]) -> Any:
        token = helpers._p(params, "ClientToken")
        name = helpers._p(params, "ChangeSetName")
        stack = helpers._p(params, "StackName")
        made = _made_with(token, name, stack, change_sets) if token else None
        if made is not None:
            return helpers._xml(
                200,
                "CreateChangeSetResponse",
                "<CreateChangeSetResult>"
                f"<Id>{made['ChangeSetId']}</Id><StackId>{made['StackId']}</StackId>"
                "</CreateChangeSetResult>",
            )
        before = set(change_sets.keys())
        response = create(params)
        if token:
            for cs_id in set(change_sets.keys()) - before:
                change_sets[cs_id][_MADE_WITH] = token
        return response

    return create_change_set


def _honouring_request_token(execute: Handler, helpers: Any, changesets: Any) -> Handler:
    def execute_change_set(params: dict[str, Any]) -> Any:
        token = helpers._p(params, "ClientRequestToken")
        # Looked up at call time: find_change_sets_by_stack_id replaces the finder.
        _, change_set = changesets._find_change_set(
            helpers._p(params, "ChangeSetName"), helpers._p(params, "StackName")
        )
        if token and change_set is not None and change_set.get(_EXECUTED_WITH) == token:
            return helpers._xml(
                200, "ExecuteChangeSetResponse", "<ExecuteChangeSetResult></ExecuteChangeSetResult>"
            )
        was_available = change_set is not None and change_set["ExecutionStatus"] == "AVAILABLE"
        response = execute(params)
        if token and was_available and change_set["ExecutionStatus"] != "AVAILABLE":
            change_set[_EXECUTED_WITH] = token
        return response

    return execute_change_set


def honour_client_tokens() -> None:
    """Closes the gap in the module docstring."""
    helpers = module(f"{_CFN}.helpers")
    for name in ("_p", "_xml"):
        attr(helpers, name)
    changesets = module(f"{_CFN}.changesets")
    attr(changesets, "_find_change_set")
    change_sets = attr(module(_CFN), "_change_sets")
    handlers = attr(module(f"{_CFN}.handlers"), "_ACTION_HANDLERS")
    for action in ("CreateChangeSet", "ExecuteChangeSet"):
        if not callable(handlers.get(action)):
            raise PatchError(
                f"ministack {SUPPORTED_VERSION} internals moved: no {action} action handler"
            )
    handlers["CreateChangeSet"] = _honouring_client_token(
        handlers["CreateChangeSet"], helpers, change_sets
    )
    handlers["ExecuteChangeSet"] = _honouring_request_token(
        handlers["ExecuteChangeSet"], helpers, changesets
    )
