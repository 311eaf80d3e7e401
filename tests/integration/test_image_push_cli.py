"""`fargo image push LAYOUT REF` as a user runs it: the digest skopeo reads back is the one
fargo printed, a re-push sends nothing, and a one-layer change sends that layer and the
config only."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from fargo.images.local_registry import LocalRegistry
from tests.integration.conftest import Skopeo
from tests.integration.layouts import random_layer, single_image_layout

MIB = 1024 * 1024


@pytest.fixture(autouse=True)
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user cache dir (where the blob-locations record lives) is the test's own."""
    home = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    return home


def fargo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fargo", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_image_push_reads_back_and_skips_what_is_there(
    registry: LocalRegistry,
    repo: str,
    skopeo: Skopeo,
    layout_dir: Callable[[str], Path],
) -> None:
    layers = [random_layer(2 * MIB, seed) for seed in (1, 2, 3)]
    first = layout_dir("first")
    single_image_layout(first, layers)
    reference = f"{registry.address}/{repo}:v1"

    pushed = fargo("image", "push", str(first), reference, "--json")
    assert pushed.returncode == 0, pushed.stderr
    result = json.loads(pushed.stdout)
    assert result["digest"] == skopeo.digest(reference)
    assert result["uploaded"] == 4  # three layers and the config

    again = fargo("image", "push", str(first), reference)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == f"{reference}@{result['digest']}"
    assert "0 uploaded" in again.stderr

    changed = layout_dir("changed")
    single_image_layout(changed, [*layers[:2], random_layer(2 * MIB, 99)])
    repushed = fargo("image", "push", str(changed), f"{registry.address}/{repo}:v2", "--json")
    assert repushed.returncode == 0, repushed.stderr
    assert json.loads(repushed.stdout)["uploaded"] == 2  # the new layer and the config


def test_image_push_to_a_second_repository_mounts_from_the_first(
    registry: LocalRegistry,
    repo: str,
    skopeo: Skopeo,
    layout_dir: Callable[[str], Path],
    cache_home: Path,
) -> None:
    layers = [random_layer(2 * MIB, seed) for seed in (4, 5)]
    single_image_layout(layout_dir("app"), layers)
    first = fargo("image", "push", str(layout_dir("app")), f"{registry.address}/{repo}-a:v1")
    assert first.returncode == 0, first.stderr

    second = fargo("image", "push", str(layout_dir("app")), f"{registry.address}/{repo}-b:v1")

    assert second.returncode == 0, second.stderr
    assert second.stderr.count(f"mounted from {repo}-a") == 3  # two layers and the config
    assert "0 uploaded, 0 already there, 3 mounted, 0 bytes sent" in second.stderr
    assert skopeo.digest(f"{registry.address}/{repo}-b:v1") == skopeo.digest(
        f"{registry.address}/{repo}-a:v1"
    )
    assert (cache_home / "fargo" / "blob-locations.json").is_file()


def test_image_push_of_a_broken_layout_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "oci-layout").write_text("{}")
    done = fargo("image", "push", str(tmp_path), "127.0.0.1:1/x:y")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "hint:" in done.stderr
