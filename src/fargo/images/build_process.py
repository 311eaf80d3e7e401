"""Run a builder's command, passing each line it prints on as it comes and keeping them all.

A build can take minutes, so its output is streamed for live progress rather than shown at
the end; it is also kept, because a failed build's error carries the last lines of it.
stderr is merged into stdout: builders print progress on one and errors on the other, and
the order between them is what makes a failure readable.
"""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from fargo.errors import FargoError
from fargo.images.build import BuildFailed, LineSink

# A probe (`docker info`, `buildah version`) that takes longer is a daemon that hangs.
PROBE_TIMEOUT_SECONDS = 15


@dataclass(frozen=True)
class Finished:
    exit_code: int
    output: list[str]


def run_streaming(
    argv: Sequence[str],
    on_line: LineSink,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Finished:
    """Run `argv` to the end, handing each output line to `on_line` as it is printed."""
    output: list[str] = []
    try:
        process = subprocess.Popen(
            list(argv),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            text=True,
            errors="replace",
            bufsize=1,
        )
    except OSError as error:
        raise FargoError(
            f"could not start `{argv[0]}`: {error.strerror or error}",
            hint="check that it is installed and on PATH",
        ) from error
    with process:
        try:
            assert process.stdout is not None  # noqa: S101 - stdout=PIPE above guarantees it
            for raw in process.stdout:
                line = raw.rstrip("\r\n")
                output.append(line)
                on_line(line)
        except BaseException:
            # Ctrl-C or a failing sink: never leave a builder running on its own.
            process.kill()
            raise
    return Finished(process.returncode, output)


def run_step(
    argv: Sequence[str],
    on_line: LineSink,
    *,
    what: str,
    builder: str,
    env: Mapping[str, str] | None = None,
    hint: str | None = None,
) -> None:
    """Run one step of a build; a non-zero exit is a BuildFailed carrying the output's tail."""
    finished = run_streaming(argv, on_line, env=env)
    if finished.exit_code != 0:
        raise BuildFailed(
            f"{what} with {builder} failed",
            hint=hint or f"the lines above are {builder}'s own; rerun it alone: {shlex.join(argv)}",
            builder=builder,
            builder_exit_code=finished.exit_code,
            output=finished.output,
        )


def probe(argv: Sequence[str], env: Mapping[str, str] | None = None) -> str | None:
    """None when `argv` runs and exits 0, else why not, in one line."""
    try:
        result = subprocess.run(
            list(argv),
            capture_output=True,
            text=True,
            errors="replace",
            stdin=subprocess.DEVNULL,
            env=dict(env) if env is not None else None,
            timeout=PROBE_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"`{shlex.join(argv)}` did not answer within {PROBE_TIMEOUT_SECONDS} s"
    except OSError as error:
        return f"`{shlex.join(argv)}` could not start: {error.strerror or error}"
    if result.returncode == 0:
        return None
    lines = [line.strip() for line in (result.stderr + result.stdout).splitlines()]
    last = next((line for line in reversed(lines) if line), "no output")
    return f"`{shlex.join(argv)}` failed: {last}"
