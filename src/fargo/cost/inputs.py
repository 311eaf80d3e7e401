"""What the estimator reads: a stack's template body and its parameter values.

New stacks take their values from synth (an upstream stack's output is read from that
template's literal Outputs when it has one); deployed stacks from CloudFormation's answer.
Either way the estimate is a pure function of these, so both price alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fargo.synth.stack import StackOutput, StackTemplate


@dataclass(frozen=True)
class StackInput:
    name: str
    body: dict[str, Any]
    parameters: dict[str, str]  # values known without AWS; unknown ones are absent

    @property
    def resources(self) -> dict[str, Any]:
        resources: dict[str, Any] = self.body.get("Resources", {})
        return resources

    def value(self, node: Any) -> Any:
        """A property value with `Ref` to a parameter resolved; other intrinsics stay as
        they are (None when a parameter's value is not known)."""
        if isinstance(node, dict) and set(node) == {"Ref"} and node["Ref"] not in self.resources:
            return self.parameters.get(node["Ref"])
        return node


def from_templates(templates: tuple[StackTemplate, ...]) -> list[StackInput]:
    """Synthesized stacks, with upstream outputs known from their templates' literal values."""
    outputs = {t.kind: t.body.get("Outputs", {}) for t in templates}
    inputs = []
    for template in templates:
        values: dict[str, str] = {}
        for key, value in template.parameters.items():
            if isinstance(value, str):
                values[key] = value
            elif isinstance(value, StackOutput):
                literal = outputs.get(value.stack, {}).get(value.key, {}).get("Value")
                if isinstance(literal, str):
                    values[key] = literal
        inputs.append(StackInput(template.name, template.body, values))
    return inputs
