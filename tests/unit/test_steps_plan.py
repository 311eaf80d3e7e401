"""The plan of steps (fargo.steps), read from the app and a stacks' plan without AWS: the
order deploy runs them in, their inputs, and their JSON form."""

from __future__ import annotations

import json
from pathlib import Path
from typing import cast

from fargo.aws.cloudformation import CloudFormation, DeployedStack
from fargo.aws.facade import Aws, AwsConfig
from fargo.edge.stage import EdgeStage
from fargo.execute.executor import StackOutcome
from fargo.manifest.load import load_manifest, parse_manifest
from fargo.model import App, build_app
from fargo.model.app import StackKind
from fargo.plan.planner import Plan, Planner, StackPlan, creation_plan
from fargo.progress import SilentReporter
from fargo.release.stage import ReleaseStage
from fargo.steps import (
    STEP_KINDS,
    ApplyStack,
    CheckPreflight,
    OutputOf,
    Pending,
    PublishImage,
    RunReleaseTask,
    Step,
    WaitForRollout,
    step_json,
)
from fargo.steps.handlers import ReleaseTasks
from fargo.steps.planner import StepPlanner
from fargo.steps.runner import RunContext, display
from fargo.synth import synth
from fargo.synth.stack import StackTemplate

EXAMPLES = Path(__file__).parents[2] / "examples"
CHECK = CheckPreflight(("dns_zone", "secrets"), deploying=True)

API = """\
app: shop
services:
  api:
    image: nginx:1.27
    port: 8000
    http: { path: /api/*, healthcheck: /api/health }
"""
SITE = (
    API
    + """\
cdn: { static: ./site }
domain: { name: example.com, dns: cloudflare }
"""
)


def step_planner(
    app: App, templates: tuple[StackTemplate, ...], migrated: str | None = None
) -> StepPlanner:
    """A planner that never calls AWS: the plans below are given, not read."""
    aws = Aws(AwsConfig(app.region))
    edge = EdgeStage(app, aws, lambda _: aws, SilentReporter(), emulator=True, poll_seconds=0)
    return StepPlanner(
        app,
        templates,
        Planner(CloudFormation(aws), SilentReporter()),
        certificate_names=edge.certificate_names,
        site_source=edge.site_source,
        migrated=lambda: migrated,
    )


def planned_steps(app: App) -> tuple[Step, ...]:
    """The steps of a first deploy: every stack is created."""
    templates = synth(app)
    planner = step_planner(app, templates)
    return (CHECK, *planner.steps(Plan(tuple(creation_plan(t) for t in templates))))


def fullstack() -> App:
    return build_app(load_manifest(EXAMPLES / "fullstack" / "fargo.yml", None, {}))


def test_fullstack_runs_checks_images_stacks_in_order_then_rollouts() -> None:
    steps = planned_steps(fullstack())
    assert [(s.kind, s.describe().split(":")[0]) for s in steps] == [
        ("check-preflight", "check"),
        # worker and nightly run the api's image (`from: api`): one build, one push.
        ("publish-image", f"publish image of api ({EXAMPLES / 'fullstack'}, linux/amd64)"),
        ("apply-stack", "fullstack-default-network"),
        ("apply-stack", "fullstack-default-data"),
        # `migrate:`: the release stack's task definition, whose migration gates the services.
        ("apply-stack", "fullstack-default-release"),
        # ... run after the release stack, before the services stack is touched.
        ("run-release-task", "migration"),
        ("apply-stack", "fullstack-default-services"),
        # The nightly job is a schedule, not a service: nothing rolls out for it.
        ("wait-for-rollout", "rollout of api"),
        ("wait-for-rollout", "rollout of worker"),
        ("record-release", "record the release of fullstack/default"),
    ]


def test_an_image_and_an_upstream_output_are_placeholders_never_none() -> None:
    steps = planned_steps(fullstack())
    image = next(s for s in steps if isinstance(s, PublishImage))
    assert image.digest == Pending("image digest of api")
    services = next(s for s in steps if isinstance(s, ApplyStack) and s.stack.endswith("-services"))
    parameters = dict(services.parameters)
    assert parameters["ApiImage"] == Pending("image digest of api")
    # Not deployed yet: the cluster is the network stack's output, by name.
    assert parameters["ClusterName"] == OutputOf("network", "ClusterName")
    assert None not in parameters.values()


def test_a_domain_and_a_static_site_add_certificates_before_stacks_and_the_edge_after(
    tmp_path: Path,
) -> None:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<p>hi</p>")
    loaded = parse_manifest(SITE, str(tmp_path / "fargo.yml"), None, {})
    kinds = [s.kind for s in planned_steps(build_app(loaded))]
    assert kinds == [
        "check-preflight",
        "ensure-certificate",  # regional: the load balancer's HTTPS listener
        "ensure-certificate",  # cloudfront: the site's distribution, in us-east-1
        "apply-stack",
        "apply-stack",
        "apply-stack",
        "wait-for-rollout",
        "write-dns-records",
        "publish-site",
        "record-release",
    ]


def test_steps_serialise_as_kind_and_inputs() -> None:
    steps = planned_steps(fullstack())
    body = json.loads(json.dumps([step_json(s) for s in steps]))
    assert body[0] == {
        "kind": "check-preflight",
        "checks": ["dns_zone", "secrets"],
        "deploying": True,
    }
    assert body[1] == {
        "kind": "publish-image",
        "service": "api",
        "repository": "fullstack/api",
        "context": str(EXAMPLES / "fullstack"),
        "platform": "linux/amd64",
        "digest": {"pending": "image digest of api"},
    }
    network = body[2]
    assert (network["kind"], network["stack"], network["action"]) == (
        "apply-stack",
        "fullstack-default-network",
        "create",
    )
    assert "Add Vpc (AWS::EC2::VPC)" in network["changes"]
    assert body[4]["stack"] == "fullstack-default-release"
    # A first deploy: the task definition is the release stack's output, known once it runs.
    assert body[5] == {
        "kind": "run-release-task",
        "service": "api",
        "command": ["python", "-m", "app.migrate"],
        "timeout_seconds": 900,
        "task_definition": {"output_of": "release", "output": "MigrationTaskDefinitionArn"},
        "forced": False,
    }
    services = body[6]
    assert services["parameters"]["ClusterName"] == {
        "output_of": "network",
        "output": "ClusterName",
    }
    assert body[-2] == {"kind": "wait-for-rollout", "service": "worker", "stack": services["stack"]}
    assert body[-1] == {
        "kind": "record-release",
        "app": "fullstack",
        "env": "default",
        "images": [["api", {"pending": "image digest of api"}]],
    }
    assert {b["kind"] for b in body} <= set(STEP_KINDS)


def test_the_display_executor_prints_one_numbered_line_per_step() -> None:
    steps = planned_steps(fullstack())
    lines = display(steps)
    assert len(lines) == len(steps)
    assert lines[0] == "1. check: dns_zone, secrets"
    assert lines[2].startswith("3. fullstack-default-network: create, ")
    assert lines[-1] == "10. record the release of fullstack/default"


MIGRATING = API + "migrate: { command: [python, -m, migrate], service: api }\n"
DEPLOYED_ARN = "arn:aws:ecs:us-east-1:123456789012:task-definition/shop-default-api-migrate:3"


def _deployed(template: StackTemplate, outputs: dict[str, str], action: str) -> StackPlan:
    stack = DeployedStack(template.name, "id", "UPDATE_COMPLETE", "", {}, outputs, {}, None, False)
    return StackPlan(template, action, stack, {})  # type: ignore[arg-type]


def _redeploy_steps(
    migrated: str | None, *, migrate: bool = False, changing: StackKind | None = None
) -> list[Step]:
    """The steps of a redeploy where no image is built and no stack changes but
    `changing`."""
    app = build_app(parse_manifest(MIGRATING, "fargo.yml", None, {}))
    templates = synth(app)
    planner = step_planner(app, templates, migrated)
    outputs = {StackKind.RELEASE: {"MigrationTaskDefinitionArn": DEPLOYED_ARN}}
    plan = Plan(
        tuple(
            _deployed(t, outputs.get(t.kind, {}), "update" if t.kind == changing else "unchanged")
            for t in templates
        )
    )
    return list(planner.steps(plan, migrate=migrate))


def _release_steps(
    migrated: str | None, *, migrate: bool = False, changing: StackKind | None = None
) -> list[RunReleaseTask]:
    steps = _redeploy_steps(migrated, migrate=migrate, changing=changing)
    return [s for s in steps if isinstance(s, RunReleaseTask)]


def test_a_release_that_has_migrated_runs_no_migration_unless_forced() -> None:
    assert _release_steps(migrated=DEPLOYED_ARN) == []
    (forced,) = _release_steps(migrated=DEPLOYED_ARN, migrate=True)
    assert (forced.task_definition, forced.forced) == (DEPLOYED_ARN, True)
    assert "forced by --migrate" in forced.describe()


def test_a_release_whose_migration_never_succeeded_runs_it() -> None:
    # A failed migration is not recorded: the record still names an earlier revision.
    earlier = DEPLOYED_ARN.replace(":3", ":2")
    for record in (earlier, None):
        (step,) = _release_steps(migrated=record)
        assert step.task_definition == DEPLOYED_ARN
        assert step.command == ("python", "-m", "migrate")
        assert step.timeout_seconds == 15 * 60  # the default `timeout` (docs/architecture.md)


def test_a_change_upstream_of_the_release_runs_the_migration() -> None:
    """The network (or data) stack changing can move the release stack's parameters when
    its turn comes (a replaced database's host): a new revision, to migrate, whatever the
    release stack's own plan said."""
    (step,) = _release_steps(migrated=DEPLOYED_ARN, changing=StackKind.NETWORK)
    assert step.task_definition == OutputOf(StackKind.RELEASE, "MigrationTaskDefinitionArn")


def test_rollouts_are_waited_for_whenever_the_services_stack_may_change() -> None:
    assert [s for s in _redeploy_steps(DEPLOYED_ARN) if isinstance(s, WaitForRollout)] == []
    for changing in (StackKind.NETWORK, StackKind.SERVICES):
        waits = [
            s
            for s in _redeploy_steps(DEPLOYED_ARN, changing=changing)
            if isinstance(s, WaitForRollout)
        ]
        assert [w.service for w in waits] == ["api"]


class _Stage:
    """Stands in for the release stage: what the handler asked of it, nothing run."""

    stack = "shop-default-release"

    def __init__(self) -> None:
        self.forced: list[bool] = []

    def migrate(self, outputs: object, *, forced: bool) -> str:
        del outputs
        self.forced.append(forced)
        return "ran"


def test_a_release_stack_this_run_created_migrates_whatever_the_record_says() -> None:
    """A record can outlive its release stack (a destroy that stopped halfway, `migrate:`
    removed and added back); the task definitions of a stack made now are new to it."""
    app = build_app(parse_manifest(MIGRATING, "fargo.yml", None, {}))
    step = RunReleaseTask("api", ("python", "-m", "migrate"), 900, OutputOf("release", "x"), False)
    asked = []
    for action in ("created", "updated", "unchanged"):
        stage = _Stage()
        context = RunContext(app)
        context.stacks.append(StackOutcome(stage.stack, action, "", {}))
        ReleaseTasks(cast(ReleaseStage, stage)).run(step, context)
        asked.append((action, stage.forced))
    assert asked == [("created", [True]), ("updated", [False]), ("unchanged", [False])]
