"""`fargo image push LAYOUT REF` as a user runs it: the digest skopeo reads back is the one
fargo printed, a re-push sends nothing, and a one-layer change sends that layer and the
config only."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from fargo.images.local_registry import LocalRegistry
from tests.integration.conftest import Skopeo
from tests.integration.layouts import random_layer, single_image_layout

MIB = 1024 * 1024


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


def test_image_push_of_a_broken_layout_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "oci-layout").write_text("{}")
    done = fargo("image", "push", str(tmp_path), "127.0.0.1:1/x:y")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "hint:" in done.stderr
