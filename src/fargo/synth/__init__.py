"""App → one CloudFormation template per stack. Pure: no I/O, no AWS calls."""

from __future__ import annotations

from collections.abc import Callable

from fargo.model.app import App, StackKind
from fargo.synth.common import tag_everything
from fargo.synth.data import synth_data
from fargo.synth.edge import synth_edge
from fargo.synth.network import synth_network
from fargo.synth.release import synth_release
from fargo.synth.services import synth_services
from fargo.synth.stack import ParameterValue, StackOutput, StackTemplate

Builder = Callable[[App], StackTemplate]

BUILDERS: dict[StackKind, Builder] = {
    StackKind.NETWORK: synth_network,
    StackKind.DATA: synth_data,
    StackKind.RELEASE: synth_release,
    StackKind.SERVICES: synth_services,
    StackKind.EDGE: synth_edge,
}


def synth(app: App) -> tuple[StackTemplate, ...]:
    """Every stack of `app`, in deploy order."""
    return tuple(BUILDERS[kind](app) for kind in app.stacks)


__all__ = ["BUILDERS", "ParameterValue", "StackOutput", "StackTemplate", "synth", "tag_everything"]
