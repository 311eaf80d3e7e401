"""Stack policies are enforced when a stack is updated.

Gap (ministack 1.5.33): SetStackPolicy, GetStackPolicy and the StackPolicyBody
of CreateStack and UpdateStack store a policy, but no update reads it:
ExecuteChangeSet and UpdateStack replace and delete resources the policy
denies, and UpdateStack's StackPolicyDuringUpdateBody is ignored. On AWS the
update fails before it changes anything: the denied resource gets an
UPDATE_FAILED event ("Action denied by stack policy: Statement [#1] does not
allow [Update:Replace] for resource [LogicalResourceId/Db];") and the stack
rolls back to UPDATE_ROLLBACK_COMPLETE (UPDATE_FAILED with DisableRollback).
(Termination protection needs no patch: DeleteStack is refused while it is on.)

Before an update deploys, its changes are worked out as CreateChangeSet works
them out (the same diff and replacement classification) and each Modify,
replacement and removal of an existing resource is checked against the policy
as AWS evaluates one: once a policy is set, what no statement allows is
denied, and a Deny wins over any Allow. Statements match on Action or
NotAction (``Update:Modify``, ``Update:Replace``, ``Update:Delete``,
``Update:*``), on Resource or NotResource (``LogicalResourceId/<id>``, ``*``,
with ``*`` wildcards) and on a ResourceType condition (StringEquals,
StringLike and their negations). A replacement ministack reports as
Conditional counts as Update:Replace when ministack's own update would replace
the resource. The policy in effect is the stack's, or for UpdateStack the one
it had before the call (a new StackPolicyBody applies from the next update),
or the call's StackPolicyDuringUpdateBody. An explicit Deny names its
statement as AWS does; a change no statement allows is reported as "Action
not allowed by stack policy: no statement allows [...]", which is the
emulator's own wording. A denied removal is reported UPDATE_FAILED too.
"""

import inspect
import json
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from fnmatch import fnmatchcase
from types import ModuleType
from typing import Any

from ._ministack import SUPPORTED_VERSION, PatchError, attr, module, replace

Json = dict[str, Any]
Deploy = Callable[..., Awaitable[None]]

_CFN = "ministack.services.cloudformation"
_STACKS = f"{_CFN}.stacks"
_HOLDERS = (f"{_CFN}.changesets", f"{_CFN}.handlers")
_DEPLOY_PARAMETERS = (
    "stack_name",
    "stack_id",
    "template",
    "param_values",
    "disable_rollback",
    "tags",
    "is_update",
    "previous_stack",
    "retain_except_on_create",
    "imports",
)
# The policy UpdateStack evaluates, when it is not the one on the stack record:
# ministack stores a new StackPolicyBody before the update runs.
_IN_EFFECT: ContextVar[tuple[str] | None] = ContextVar("fargo_stack_policy", default=None)


def _patterns(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _first_match(patterns: list[str], text: str) -> str | None:
    return next((p for p in patterns if fnmatchcase(text, p)), None)


def _condition_holds(condition: Json, resource_type: str) -> bool:
    for operator, keys in (condition or {}).items():
        values = _patterns((keys or {}).get("ResourceType"))
        if operator in ("StringEquals", "StringNotEquals"):
            hit = resource_type in values
        elif operator in ("StringLike", "StringNotLike"):
            hit = _first_match(values, resource_type) is not None
        else:
            return False
        if hit == operator.startswith("StringNot"):
            return False
    return True


def _match(
    statement: Json, action: str, resource: str, resource_type: str
) -> tuple[str, str] | None:
    """The statement's action and resource that match, as its reason names them."""
    if "NotAction" in statement:
        if _first_match(_patterns(statement["NotAction"]), action) is not None:
            return None
        matched_action: str | None = action
    else:
        matched_action = _first_match(_patterns(statement.get("Action")), action)
    if "NotResource" in statement:
        if _first_match(_patterns(statement["NotResource"]), resource) is not None:
            return None
        matched_resource: str | None = resource
    else:
        matched_resource = _first_match(_patterns(statement.get("Resource")), resource)
    if matched_action is None or matched_resource is None:
        return None
    if not _condition_holds(statement.get("Condition") or {}, resource_type):
        return None
    return matched_action, matched_resource


def evaluate(policy: Json, action: str, logical_id: str, resource_type: str) -> str | None:
    """Why the policy denies ``action`` on the resource, or None when it allows it."""
    statements = policy.get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    resource = f"LogicalResourceId/{logical_id}"
    allowed = False
    for number, statement in enumerate(statements, 1):
        matched = _match(statement, action, resource, resource_type)
        if matched is None:
            continue
        if statement.get("Effect") == "Deny":
            return (
                f"Action denied by stack policy: Statement [#{number}] does not allow "
                f"[{matched[0]}] for resource [{matched[1]}];"
            )
        allowed = allowed or statement.get("Effect") == "Allow"
    if allowed:
        return None
    return (
        f"Action not allowed by stack policy: no statement allows [{action}] "
        f"for resource [{resource}];"
    )


def _policy_in_effect(stack: Json) -> Json | None:
    in_effect = _IN_EFFECT.get()
    text = in_effect[0] if in_effect is not None else stack.get("_stack_policy")
    if not text:
        return None
    try:
        policy = json.loads(text)
    except ValueError:
        return None
    return policy if isinstance(policy, dict) else None


def _actions(
    stack_name: str, stack_id: str, template: Json, param_values: Json, previous: Json
) -> list[tuple[str, str, str, str]]:
    """(action, logical id, type, physical id) of each change to an existing resource."""
    changesets = module(f"{_CFN}.changesets")
    stacks = module(_STACKS)
    provisioners = module(f"{_CFN}.provisioners")
    old_params = previous.get("_resolved_params") or {}
    old = changesets._resolve_props_for_diff(
        previous.get("_template") or {}, old_params, stack_name, stack_id
    )
    new = changesets._resolve_props_for_diff(template, param_values, stack_name, stack_id)
    changed_params = {
        k for k, v in param_values.items() if old_params.get(k, {}).get("Value") != v.get("Value")
    }
    changes = stacks._diff_resources(old, new, previous.get("_resources"), template, changed_params)
    actions = []
    for change in changes:
        rc = change["ResourceChange"]
        logical_id, resource_type = rc["LogicalResourceId"], rc.get("ResourceType", "")
        if rc["Action"] == "Remove":
            action = "Update:Delete"
        elif rc["Action"] == "Modify":
            replacement = rc.get("Replacement")
            if replacement == "Conditional":
                old_props = old["Resources"][logical_id].get("Properties") or {}
                new_props = new["Resources"][logical_id].get("Properties") or {}
                replaces = provisioners._requires_replacement(resource_type, old_props, new_props)
                replacement = "True" if replaces else "False"
            action = "Update:Replace" if replacement == "True" else "Update:Modify"
        else:
            continue
        actions.append((action, logical_id, resource_type, rc.get("PhysicalResourceId", "")))
    return actions


async def _refuse(
    stack: Json,
    denied: list[tuple[str, str, str, str]],
    arguments: inspect.BoundArguments,
) -> None:
    """Fail the update before it changes anything, as AWS does, and roll it back."""
    stacks = module(_STACKS)
    args = arguments.arguments
    stack_name, stack_id, previous = args["stack_name"], args["stack_id"], args["previous_stack"]
    stack.pop("_failed_operation", None)
    for reason, logical_id, resource_type, physical_id in denied:
        stacks._add_event(
            stack_id, stack_name, logical_id, resource_type, "UPDATE_FAILED", reason, physical_id
        )
    names = ", ".join(dict.fromkeys(logical_id for _, logical_id, _, _ in denied))
    reason = f"The following resource(s) failed to update: [{names}]. "
    _, first, first_type, first_pid = denied[0]
    operation = stacks._failed_operation(
        True,
        previous,
        [],
        (first, first_type, first_pid, None, None, None),
        first,
        [],
        False,
        args["template"],
        args["param_values"],
        args["retain_except_on_create"],
        stack.get("Tags") or [],
        previous.get("Tags") or [],
    )
    if args["disable_rollback"]:
        stack.update(StackStatus="UPDATE_FAILED", StackStatusReason=reason)
        stack["_failed_operation"] = operation
        stacks._add_event(
            stack_id,
            stack_name,
            stack_name,
            "AWS::CloudFormation::Stack",
            "UPDATE_FAILED",
            reason,
            stack_id,
        )
        return
    await stacks._roll_back_operation(stack_name, stack_id, stack, operation, reason)


def _enforcing(deploy: Deploy) -> Deploy:
    signature = inspect.signature(deploy)

    async def deploy_stack(*args: Any, **kwargs: Any) -> None:
        arguments = signature.bind(*args, **kwargs)
        arguments.apply_defaults()
        given = arguments.arguments
        stack = attr(module(_CFN), "_stacks").get(given["stack_name"])
        policy = _policy_in_effect(stack) if stack is not None else None
        previous = given["previous_stack"]
        if policy is not None and given["is_update"] and previous and not given["imports"]:
            changes = _actions(
                given["stack_name"],
                given["stack_id"],
                given["template"],
                given["param_values"],
                previous,
            )
            denied = []
            for action, logical_id, resource_type, physical_id in changes:
                reason = evaluate(policy, action, logical_id, resource_type)
                if reason:
                    denied.append((reason, logical_id, resource_type, physical_id))
            if denied:
                await _refuse(stack, denied, arguments)
                return
        await deploy(*args, **kwargs)

    return deploy_stack


def _keeping_old_policy(
    update_stack: Callable[[Json], Any], handlers: ModuleType
) -> Callable[[Json], Any]:
    """UpdateStack evaluates the policy the stack had, or its during-update override."""
    resolve_document = attr(module(f"{_CFN}.helpers"), "_resolve_document")

    def update(params: Json) -> Any:
        stack = handlers._resolve_stack(handlers._p(params, "StackName")) or {}
        during, error = resolve_document(
            params, "StackPolicyDuringUpdateBody", "StackPolicyDuringUpdateURL", "Stack policy"
        )
        if error:
            return error
        if during:
            try:
                json.loads(during)
            except ValueError:
                return handlers._error(
                    "ValidationError", "Error validating stack policy: Invalid stack policy"
                )
        token = _IN_EFFECT.set((during or stack.get("_stack_policy") or "",))
        try:
            return update_stack(params)
        finally:
            _IN_EFFECT.reset(token)

    return update


def enforce_stack_policies() -> None:
    """Closes the gap in the module docstring."""
    stacks = module(_STACKS)
    for name in ("_add_event", "_failed_operation", "_roll_back_operation", "_diff_resources"):
        attr(stacks, name)
    attr(module(f"{_CFN}.changesets"), "_resolve_props_for_diff")
    attr(module(f"{_CFN}.provisioners"), "_requires_replacement")
    original = attr(stacks, "_deploy_stack_async")
    if tuple(inspect.signature(original).parameters) != _DEPLOY_PARAMETERS:
        raise PatchError(
            f"ministack {SUPPORTED_VERSION} internals moved: _deploy_stack_async "
            "takes other parameters"
        )
    wrapped = _enforcing(original)
    for name in (_STACKS, *_HOLDERS):
        holder = module(name)
        if attr(holder, "_deploy_stack_async") is not original:
            raise PatchError(
                f"ministack {SUPPORTED_VERSION} internals moved: {name}._deploy_stack_async "
                "is not the stack engine's"
            )
        replace(holder, "_deploy_stack_async", wrapped)
    handlers = module(f"{_CFN}.handlers")
    for name in ("_resolve_stack", "_p", "_error"):
        attr(handlers, name)
    actions = attr(handlers, "_ACTION_HANDLERS")
    if actions.get("UpdateStack") is not attr(handlers, "_update_stack"):
        raise PatchError(
            f"ministack {SUPPORTED_VERSION} internals moved: UpdateStack no longer "
            "dispatches to handlers._update_stack"
        )
    actions["UpdateStack"] = _keeping_old_policy(actions["UpdateStack"], handlers)
