"""`render` runs with the cyclic garbage collector paused, and leaves it as it found it
(bench/cli.py times the command; these tests only count collections)."""

from __future__ import annotations

import gc
import json
import subprocess
import sys

from fargo.cli.collector import collector_paused
from tests.conftest import EXAMPLES
from tests.module_probe import probe


def test_the_collector_is_off_inside_and_back_on_after() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        kept = [[] for _ in range(5_000)]  # far more than one generation's threshold
    assert gc.isenabled()
    # What was allocated inside went to the oldest generation, unscanned, rather than
    # waiting in the youngest for a collection that would walk all of it.
    assert gc.get_count()[0] < 1_000, gc.get_count()
    del kept


def test_a_collector_already_off_stays_off() -> None:
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_render_runs_no_collection() -> None:
    """A fresh interpreter counts the collections `fargo render` runs: none, though it
    allocates enough for a hundred."""
    manifest = str(EXAMPLES / "fullstack" / "fargo.yml")
    script = (
        "import gc, io, json, sys, contextlib\n"
        "from fargo.cli.main import cli\n"
        "gc.collect()  # the count starts from none allocated since\n"
        "before = sum(s['collections'] for s in gc.get_stats())\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    try:\n"
        f"        cli(['render', '-f', {manifest!r}], prog_name='fargo')\n"
        "    except SystemExit as done:\n"
        "        assert not done.code, done.code\n"
        "after = sum(s['collections'] for s in gc.get_stats())\n"
        "print(json.dumps({'collections': after - before, 'enabled': gc.isenabled(),\n"
        "                  'rendered': len(json.loads(out.getvalue()))}))\n"
    )
    result = probe(script)
    assert result["rendered"] >= 4  # it did render the example's stacks
    assert result == {"collections": 0, "enabled": True, "rendered": result["rendered"]}


def test_the_command_line_leaves_its_objects_frozen_for_the_exit() -> None:
    """`fargo` (its entry point, `main`) freezes what it made once the command is done, so
    the interpreter's shutdown does not walk it; atexit handlers still run after."""
    manifest = str(EXAMPLES / "fullstack" / "fargo.yml")
    script = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: sys.stderr.write(f'frozen {gc.get_freeze_count()}'))\n"
        f"sys.argv = ['fargo', 'render', '-f', {manifest!r}]\n"
        "from fargo.cli.main import main\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)  # the templates were printed whole
    frozen = int(done.stderr.rsplit("frozen ", 1)[1])
    assert frozen > 10_000  # the imported modules and what they made, at least
