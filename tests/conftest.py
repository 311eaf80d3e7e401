"""Fixtures shared by every test directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from fargo.progress import SilentReporter

if TYPE_CHECKING:
    from tests.integration.powerdns import PowerDns

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


class Notes(SilentReporter):
    """A reporter that keeps the notes fargo reports, for tests that check what it said."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def note(self, text: str) -> None:
        self.lines.append(text)


def example_manifests() -> list[Path]:
    return sorted(EXAMPLES.glob("*/fargo.yml"))


def environments_of(manifest: Path) -> list[str | None]:
    """None (the base manifest) plus every environment the manifest defines."""
    from fargo.manifest.load import load_manifest  # noqa: PLC0415 - keep collection light

    return [None, *load_manifest(manifest).manifest.environments]


EXAMPLE_CASES = [
    pytest.param(manifest, env, id=f"{manifest.parent.name}-{env or 'default'}")
    for manifest in example_manifests()
    for env in environments_of(manifest)
]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite tests/golden expectations from the current output (review the diff!)",
    )


@pytest.fixture(scope="module")
def pdns(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PowerDns]:
    """A real PowerDNS on loopback, one per test module (DNS and domain tests)."""
    from tests.integration.powerdns import start_powerdns  # noqa: PLC0415 - DNS tests only

    server = start_powerdns(Path(tmp_path_factory.mktemp("pdns")))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def pdns_alias(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PowerDns]:
    """A real PowerDNS that serves ALIAS records (`resolver` and `expand-alias=yes`)."""
    from tests.integration.powerdns import start_powerdns  # noqa: PLC0415 - DNS tests only

    server = start_powerdns(Path(tmp_path_factory.mktemp("pdns-alias")), serve_alias=True)
    yield server
    server.stop()
