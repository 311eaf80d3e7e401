"""Plan → text (pure): per stack, what CloudFormation will add, modify or remove."""

from __future__ import annotations

from typing import Any

from fargo.plan.checks import render_findings
from fargo.plan.planner import Plan, StackPlan
from fargo.steps.model import step_json
from fargo.steps.runner import display

_SIGNS = {"Add": "+", "Modify": "~", "Remove": "-", "Dynamic": "?", "Import": ">"}


def render_plan(plan: Plan) -> str:
    lines = render_findings(plan.checks, plan.warnings)
    for stack in plan.stacks:
        lines.append(f"{stack.name}: {_headline(stack)}")
        for change in stack.changes:
            sign = _SIGNS.get(change.action, " ")
            extra = ""
            if change.action == "Modify" and change.replacement in ("True", "Conditional"):
                extra = "  REPLACEMENT" if change.replacement == "True" else "  may replace"
            if change.details:
                extra += f"  [{', '.join(change.details)}]"
            lines.append(
                f"  {sign} {change.action:<7} {change.logical_id} ({change.resource_type}){extra}"
            )
    for removal in plan.removals:
        lines.append(f"{removal.name}: delete, {len(removal.changes)} resources")
        lines.extend(f"  - Remove  {c.logical_id} ({c.resource_type})" for c in removal.changes)
    if plan.edge:
        lines.append("edge:")
        lines.extend(f"  {line}" for line in plan.edge)
    for unsafe in plan.unsafe:
        lines.append(f"! data loss: {unsafe.render()}")
    if plan.cost is not None:
        lines.extend(plan.cost.render())
    if plan.steps:
        lines.append("deploy runs these steps:")
        lines.extend(f"  {line}" for line in display(plan.steps))
    return "\n".join(lines)


def _headline(stack: StackPlan) -> str:
    if stack.action == "unchanged":
        return "no changes"
    if stack.action == "create":
        note = " (replacing a failed first create)" if stack.recreate else ""
        return f"create, {len(stack.changes)} resources{note}"
    if stack.parameters is None:
        return "update (exact changes known once upstream stacks are deployed)"
    return f"update, {len(stack.changes)} changes"


def plan_json(plan: Plan) -> dict[str, Any]:
    return {
        "unchanged": plan.unchanged,
        "edge": list(plan.edge),
        "checks": [c.to_json() for c in plan.checks],
        "warnings": [w.to_json() for w in plan.warnings],
        "stacks": [
            {
                "name": s.name,
                "action": s.action,
                "changes": [
                    {
                        "action": c.action,
                        "logical_id": c.logical_id,
                        "type": c.resource_type,
                        "replacement": c.replacement,
                        "properties": list(c.details),
                    }
                    for c in s.changes
                ],
            }
            for s in plan.stacks
        ]
        + [
            {
                "name": r.name,
                "action": "delete",
                "changes": [
                    {"action": "Remove", "logical_id": c.logical_id, "type": c.resource_type}
                    for c in r.changes
                ],
            }
            for r in plan.removals
        ],
        "data_loss": [u.render() for u in plan.unsafe],
        "cost": plan.cost.to_json() if plan.cost is not None else None,
        "steps": [step_json(step) for step in plan.steps],
    }
