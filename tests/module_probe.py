"""Which modules a command loads: a fresh interpreter runs `fargo ARGV` and names the
top-level packages it imported. Tests of the command line's import discipline use it."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any


def probe(script: str) -> Any:
    """Run `script` in a fresh interpreter (it must succeed); the JSON of its last line."""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def loaded_by(argv: list[str]) -> set[str]:
    """The top-level packages a fresh interpreter has loaded after running `fargo ARGV`
    (which must succeed)."""
    script = (
        "import json, sys\n"
        "from fargo.cli.main import cli\n"
        "try:\n"
        f"    cli({argv!r}, prog_name='fargo')\n"
        "except SystemExit as done:\n"
        "    assert not done.code, done.code\n"
        "print(json.dumps(sorted({name.split('.')[0] for name in sys.modules})))\n"
    )
    return set(probe(script))
