"""The emulator's pinned virtualenv, created once under the user's cache directory."""

from __future__ import annotations

import fcntl
import hashlib
import subprocess
import sys
from pathlib import Path

import platformdirs

from fargo.errors import FargoError

REQUIREMENTS = Path(__file__).with_name("ministack-requirements.txt")
MINISTACK_VERSION = "1.5.33"


def default_cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("fargo"))


def ensure_venv(cache_dir: Path | None = None, *, progress: bool = True) -> Path:
    """Return the emulator venv's python, creating the venv if it is missing or stale."""
    requirements = REQUIREMENTS.read_bytes()
    digest = hashlib.sha256(requirements).hexdigest()[:12]
    root = (cache_dir or default_cache_dir()) / f"ministack-{MINISTACK_VERSION}-{digest}"
    python = root / "bin" / "python"
    ready = root / ".ready"
    if ready.exists():
        return python
    root.parent.mkdir(parents=True, exist_ok=True)
    # Two fargo processes may start at once (CI jobs, a test run and a demo): one builds.
    with (root.parent / f".{root.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if ready.exists():
            return python
        if progress:
            print(  # noqa: T201 - one line of progress for a one-off, minute-long step
                f"fargo: creating the emulator's environment in {root} (once)",
                file=sys.stderr,
            )
        _run([sys.executable, "-m", "venv", "--clear", str(root)])
        _run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
                str(REQUIREMENTS),
            ]
        )
        ready.write_text(digest)
    return python


def _run(argv: list[str]) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise FargoError(
            f"could not prepare the emulator: {' '.join(argv[:4])} failed:\n"
            f"{(result.stderr or result.stdout)[-2000:]}",
            hint="it needs PyPI access once; check pip's network settings",
        )
