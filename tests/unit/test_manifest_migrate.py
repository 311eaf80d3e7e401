"""`migrate:` in fargo.yml: the model deploy runs, and every mistake named at its line."""

from __future__ import annotations

import textwrap

import pytest

from fargo.errors import ManifestError
from fargo.manifest.load import parse_manifest
from fargo.model import StackKind, build_app
from fargo.synth import synth

BASE = """\
app: shop
services:
  api:
    image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/shop:1
    port: 8000
    http: { path: /api/*, healthcheck: /api/health }
    env: { LOG_LEVEL: info }
"""


def problems(text: str) -> list:
    with pytest.raises(ManifestError) as caught:
        parse_manifest(textwrap.dedent(text), "fargo.yml", None, {})
    return caught.value.problems


def test_a_migration_becomes_the_release_stack_before_the_services() -> None:
    loaded = parse_manifest(
        BASE + "migrate: { command: [alembic, upgrade, head], service: api, timeout: 2h }\n",
        "fargo.yml",
        None,
        {},
    )
    app = build_app(loaded)
    assert app.migration is not None
    assert app.migration.timeout_seconds == 7200
    assert app.stacks.index(StackKind.RELEASE) == app.stacks.index(StackKind.SERVICES) - 1
    (release,) = (t for t in synth(app) if t.kind is StackKind.RELEASE)
    (task,) = (
        r["Properties"]
        for r in release.body["Resources"].values()
        if r["Type"] == "AWS::ECS::TaskDefinition"
    )
    (container,) = task["ContainerDefinitions"]
    assert container["Command"] == ["alembic", "upgrade", "head"]
    # The service's own image and environment; nothing routes to a migration.
    assert container["Image"] == "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop:1"
    assert {"Name": "LOG_LEVEL", "Value": "info"} in container["Environment"]
    assert "PortMappings" not in container
    assert "HealthCheck" not in container


def test_the_timeout_defaults_to_fifteen_minutes() -> None:
    loaded = parse_manifest(
        BASE + "migrate: { command: [python, -m, app.migrate], service: api }\n",
        "fargo.yml",
        None,
        {},
    )
    migration = build_app(loaded).migration
    assert migration is not None
    assert migration.timeout_seconds == 15 * 60


def test_without_migrate_there_is_no_release_stack() -> None:
    app = build_app(parse_manifest(BASE, "fargo.yml", None, {}))
    assert StackKind.RELEASE not in app.stacks


def test_an_unknown_service_is_named_at_its_line() -> None:
    (problem,) = problems(BASE + "migrate:\n  command: [migrate]\n  service: web\n")
    assert (problem.line, problem.path) == (10, "migrate.service")
    assert "`web` is not a service" in problem.message
    assert "api" in problem.hint


@pytest.mark.parametrize("timeout", ['"15"', "15min", "0m", "7h", "1.5h"])
def test_a_bad_timeout_is_named_at_its_line(timeout: str) -> None:
    (problem,) = problems(
        BASE + f"migrate:\n  command: [migrate]\n  service: api\n  timeout: {timeout}\n"
    )
    assert (problem.line, problem.path) == (11, "migrate.timeout")
    assert "15m" in problem.hint


def test_an_empty_command_is_refused() -> None:
    (problem,) = problems(BASE + "migrate:\n  command: []\n  service: api\n")
    assert (problem.line, problem.path) == (9, "migrate.command")
    assert "no command" in problem.message


def test_a_missing_service_is_refused() -> None:
    (problem,) = problems(BASE + "migrate: { command: [migrate] }\n")
    assert problem.line == 8
    assert "service" in problem.message
