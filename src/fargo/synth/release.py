"""Release stack: the migration's task definition, with its own log group and roles.

It is deployed after the data stack and before the services stack, so the migration runs
from the new image while the services still run the old one. CloudFormation resolves its
environment, secrets and image exactly as for the service (the same code makes both task
definitions), and an unchanged image and command leave the stack unchanged: a no-op deploy
writes nothing and runs no migration.
"""

from __future__ import annotations

from troposphere import Ref

from fargo.model.app import App, StackKind
from fargo.synth import outputs as out
from fargo.synth.common import Inputs, finish, new_template, output
from fargo.synth.context import Alerting, ServiceContext
from fargo.synth.stack import StackTemplate
from fargo.synth.task_definition import add_task_definition


def synth_release(app: App) -> StackTemplate:
    task = app.migration_task
    if task is None:
        raise ValueError("the release stack exists only with `migrate:`")
    template = new_template(app, StackKind.RELEASE, "the migration's task definition")
    inputs = Inputs(template)
    parts = add_task_definition(ServiceContext(template, app, task, inputs, Alerting()))
    output(template, out.MIGRATION_TASK_DEFINITION_ARN, Ref(parts.task))
    return finish(template, app, StackKind.RELEASE, inputs.values)
