"""What every per-service builder of the services stack works with."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import Ref, Template

from fargo.model.app import App, Service
from fargo.synth.common import Inputs
from fargo.synth.ids import logical_id


@dataclass(frozen=True)
class Alerting:
    """Where alarms notify: the SNS topic, when `alerts:` is set."""

    actions: tuple[Ref, ...] = ()

    @property
    def full(self) -> bool:
        return bool(self.actions)


@dataclass(frozen=True)
class ServiceContext:
    template: Template
    app: App
    service: Service
    inputs: Inputs
    alerting: Alerting

    @property
    def prefix(self) -> str:
        """The service's logical-id prefix: `big-api` → `BigApi`."""
        return logical_id(self.service.name)
