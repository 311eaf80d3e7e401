"""Whether the emulator of `--local` and `fargo local start` runs containers: containers
when an engine is available unless --no-containers or FARGO_LOCAL_CONTAINERS=0 says records
only; --containers or FARGO_LOCAL_CONTAINERS=1 requires an engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from fargo.cli.main import cli
from fargo.local.containers import VARIABLE, Containers, chosen
from fargo.local.engine import INSTALL_HINT


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, Containers.AUTO),
        ("", Containers.AUTO),
        ("auto", Containers.AUTO),
        ("0", Containers.OFF),
        ("false", Containers.OFF),
        ("Off", Containers.OFF),
        ("1", Containers.REQUIRED),
        ("yes", Containers.REQUIRED),
    ],
)
def test_the_variable_chooses(value: str | None, expected: Containers) -> None:
    environ = {} if value is None else {VARIABLE: value}
    assert chosen(None, environ) is expected


def test_the_flag_wins_over_the_variable() -> None:
    assert chosen(False, {VARIABLE: "1"}) is Containers.OFF
    assert chosen(True, {VARIABLE: "0"}) is Containers.REQUIRED


def test_an_unknown_value_is_bad_input(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["local", "start", "--json"],
        env={VARIABLE: "maybe", "XDG_STATE_HOME": str(tmp_path)},
    )
    assert result.exit_code == 2
    body = json.loads(result.stdout)
    assert f"{VARIABLE}='maybe'" in body["message"]
    assert "0 (records only), 1 (require a container engine)" in body["hint"]
    assert not (tmp_path / "fargo" / "emulator" / "emulator.json").exists()


def test_required_containers_without_an_engine_fail_before_starting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # neither podman nor runc
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'none.sock'}")  # no Docker daemon
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    result = CliRunner().invoke(cli, ["local", "start", "--containers"])
    assert result.exit_code == 1
    assert "no container engine is available" in result.stderr
    assert INSTALL_HINT in result.stderr
    assert not (tmp_path / "fargo" / "emulator" / "emulator.json").exists()
