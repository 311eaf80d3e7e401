"""One patched emulator per test session, and a fresh isolated account per test."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from fargo import local
from fargo.local.server import Emulator
from tests.conftest import EXAMPLES
from tests.emulator.helpers import create_distribution


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.emulator)


@pytest.fixture(scope="session")
def emulator_state_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An XDG_STATE_HOME whose fargo emulator is the session's: `--local` run with it
    finds that emulator instead of starting one."""
    return tmp_path_factory.mktemp("emulator-home")


@pytest.fixture(scope="session")
def emulator(emulator_state_home: Path) -> Iterator[Emulator]:
    # Where platformdirs puts fargo's emulator state under that XDG_STATE_HOME. Records
    # only (containers=False), which keeps the suite fast.
    state = emulator_state_home / "fargo" / "emulator"
    started = local.start(state_dir=state, containers=False)
    yield started
    local.stop(state_dir=state)


@pytest.fixture(scope="session")
def emulator_endpoint(emulator: Emulator) -> str:
    return emulator.endpoint_url


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> str:
    """A 12-digit access key selects a fresh emulator account, so tests never see each
    other's stacks. fargo uses explicit AWS_* credentials against an endpoint."""
    key = "".join(random.choices("0123456789", k=12))  # noqa: S311 - an id, not a secret
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.delenv("FARGO_ENDPOINT_URL", raising=False)
    return key


@pytest.fixture
def aws(emulator_endpoint: str, account: str) -> Any:
    """boto3 clients on the same emulator account fargo deploys into."""

    def client(service: str) -> Any:
        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=emulator_endpoint,
            region_name="us-east-1",
            aws_access_key_id=account,
            aws_secret_access_key="test",
        )

    return client


@pytest.fixture
def cloudfront(aws: Any) -> Any:
    """Someone else's CloudFront client on the account fargo deploys into."""
    return aws("cloudfront")


@pytest.fixture
def distribution(cloudfront: Any, request: pytest.FixtureRequest) -> str:
    """The id of a distribution fargo does not own, made from the stored config a module
    names: `pytestmark = pytest.mark.parametrize("distribution", ["spa"], indirect=True)`."""
    return create_distribution(cloudfront, request.param)


@pytest.fixture
def fullstack(tmp_path: Path) -> Path:
    """A private copy of examples/fullstack/fargo.yml that a test may edit."""
    target = tmp_path / "fargo.yml"
    text = (EXAMPLES / "fullstack" / "fargo.yml").read_text()
    # These flows are about stacks, not images: a ready reference spares each test a build
    # (tests/emulator/test_images_deploy.py deploys the example as written, build and all).
    built = (
        "    image:\n"
        '      build: { context: ., args: { BASE: "${FULLSTACK_BASE:-python:3.12-slim}" } }'
    )
    assert built in text, "the example's image section changed; update this fixture"
    text = text.replace(built, "    image: fullstack-api:test")
    # A records-only emulator's one-off tasks never stop, so the migration would never end:
    # it is tested where it really runs, on the container emulator (runtime/test_migrations.py).
    migrate = re.search(r"^migrate: .*\n", text, re.MULTILINE)
    assert migrate, "the example's migrate: changed; update this fixture"
    target.write_text(text.replace(migrate.group(0), ""))
    return target
