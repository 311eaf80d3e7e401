"""Plan: read deployed state, compare, make change sets (never execute them), guard data."""

from fargo.plan.guard import STATEFUL_TYPES, unsafe_changes
from fargo.plan.planner import Plan, Planner, StackPlan

__all__ = ["STATEFUL_TYPES", "Plan", "Planner", "StackPlan", "unsafe_changes"]
