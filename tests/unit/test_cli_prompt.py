"""destroy's confirmation prompt, answered at a real terminal (a pseudo-terminal)."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

FARGO = [sys.executable, "-m", "fargo"]
MANIFEST = """\
app: shop
services:
  api: { image: "nginx:1.27" }
"""


def test_answering_no_at_destroys_prompt_is_a_plain_abort(tmp_path: Path) -> None:
    manifest = tmp_path / "fargo.yml"
    manifest.write_text(MANIFEST)
    controller, terminal = pty.openpty()
    # Port 9 (discard) on loopback: nothing answers, so any AWS call before the prompt
    # would fail the command rather than reach a real account.
    process = subprocess.Popen(
        [*FARGO, "destroy", "-f", str(manifest), "--endpoint-url", "http://127.0.0.1:9"],
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "FARGO_DEBUG": ""},
    )
    os.close(terminal)
    try:
        os.write(controller, b"n\n")
        stdout, stderr = process.communicate(timeout=60)
    finally:
        os.close(controller)
    assert process.returncode == 1
    assert "Delete shop-default-services, shop-default-network?" in stderr
    assert "error: aborted; nothing was changed" in stderr
    assert "internal error" not in stderr
    assert stdout == ""
