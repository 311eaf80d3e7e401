"""Run a plan's steps: one runner, a typed registry from step type to handler, and the
run context through which a step hands later ones what it produced.

`display` is the other executor of the same list: `plan` prints what `deploy` runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from fargo.edge.stage import EdgeResult
from fargo.execute.executor import StackOutcome
from fargo.model.app import App, StackKind
from fargo.outputs import DeployedOutputs
from fargo.plan.checks import Findings
from fargo.plan.planner import Built
from fargo.progress import Reporter
from fargo.steps.model import Step

S_contra = TypeVar("S_contra", bound=Step, contravariant=True)
T = TypeVar("T", bound=Step)


@dataclass
class RunContext:
    """What the steps of one run produced, read by the steps after them."""

    app: App
    findings: Findings = field(default_factory=Findings)
    images: dict[str, str] = field(default_factory=dict)
    certificates: dict[str, str] = field(default_factory=dict)
    outputs: dict[StackKind, dict[str, str]] = field(default_factory=dict)
    stacks: list[StackOutcome] = field(default_factory=list)
    edge: EdgeResult = field(default_factory=EdgeResult)
    started: list[Step] = field(default_factory=list)
    done: list[Step] = field(default_factory=list)

    def built(self) -> Built:
        return Built(dict(self.images), dict(self.certificates))

    def deployed_outputs(self) -> DeployedOutputs:
        """The outputs of the stacks as this run left them."""
        return DeployedOutputs.by_name(self.app, ((s.name, s.outputs) for s in self.stacks))

    def outcome(self, stack: str) -> StackOutcome | None:
        return next((s for s in self.stacks if s.name == stack), None)


class Handler(Protocol[S_contra]):
    def run(self, step: S_contra, context: RunContext) -> str:
        """Do the step; a short line saying what came of it."""


class Registry:
    """Step type → the handler that runs it."""

    def __init__(self) -> None:
        self._handlers: dict[type[Step], Handler[Any]] = {}

    def register(self, kind: type[T], handler: Handler[T]) -> Registry:
        self._handlers[kind] = handler
        return self

    def handler(self, step: T) -> Handler[T]:
        found = self._handlers.get(type(step))
        if found is None:
            raise ValueError(f"no handler for the {step.kind} step")
        return found


class StepRunner:
    def __init__(self, registry: Registry, reporter: Reporter) -> None:
        self._registry = registry
        self._reporter = reporter

    def run(self, steps: Iterable[Step], context: RunContext) -> None:
        """Each step in order, but those this context already ran; a line as each starts
        and ends."""
        for step in steps:
            if step in context.done:
                continue
            handler = self._registry.handler(step)
            self._reporter.note(f"step {step.kind}: {step.describe()}")
            context.started.append(step)
            outcome = handler.run(step, context)
            context.done.append(step)
            self._reporter.note(f"step {step.kind}: done, {outcome}")


def display(steps: Iterable[Step]) -> list[str]:
    """The display executor: the steps deploy would run, one numbered line each."""
    return [f"{n}. {step.describe()}" for n, step in enumerate(steps, 1)]
