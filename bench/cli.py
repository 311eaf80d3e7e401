"""Whole-process timings of the `fargo` command, as a user meets them: `fargo --help`,
`fargo render` of examples/fullstack, and a no-op `fargo plan --local` against an emulator
where the example is deployed (pre-flight checks and cost delta included). Each command
runs --rounds times (after one unmeasured run that warms the file cache and the bytecode);
prints the median, the fastest and the slowest beside the target. Asserts nothing.

    make bench        (or: .venv/bin/python bench/cli.py [--rounds 10] [--no-plan])

The commands run with their bytecode written (PYTHONDONTWRITEBYTECODE is dropped): an
installed fargo has it, since pip compiles a package as it installs it.

The plan runs against a records-only emulator of its own (its state under a temporary
XDG_STATE_HOME, where `--local` looks for it), in a fresh account, with the example's
image given as a ready reference (the figure is fargo's, not a build's) and without its
migration (a records-only emulator runs no task to its end).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "fullstack" / "fargo.yml"
# The targets of the fast-CLI work, in seconds, whole process, on a 2-core machine.
TARGETS = {"help": 0.12, "render": 0.20, "plan": 0.6}


FARGO = str(Path(sys.executable).parent / "fargo")


def run_once(argv: Sequence[str], env: Mapping[str, str]) -> tuple[float, float]:
    """Wall-clock seconds, and the CPU seconds (user + system) the command used: on a
    machine other work keeps busy, the second says what the first cannot."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, env=dict(env), capture_output=True, check=False)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(
            f"{' '.join(argv)} exited {done.returncode}:\n{done.stderr.decode(errors='replace')}"
        )
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, cpu


def measure(name: str, argv: Sequence[str], rounds: int, env: Mapping[str, str]) -> None:
    run_once(argv, env)  # warm-up: bytecode written, files cached
    runs = [run_once(argv, env) for _ in range(rounds)]
    wall = [w for w, _ in runs]
    cpu = [c for _, c in runs]
    median = statistics.median(wall)
    verdict = "ok" if median <= TARGETS[name] else "over"
    print(
        f"fargo {name:<7} {median * 1000:6.0f} ms median of {rounds} "
        f"(min {min(wall) * 1000:.0f}, max {max(wall) * 1000:.0f}); "
        f"CPU {statistics.median(cpu) * 1000:.0f} ms; "
        f"target {TARGETS[name] * 1000:.0f} ms: {verdict}"
    )


def with_image_reference(directory: Path) -> Path:
    """The example's manifest with its built image replaced by a ready reference, and
    without its migration: a records-only emulator's one-off tasks never stop (the
    emulator tests' `fullstack` fixture drops it for the same reason)."""
    import yaml  # noqa: PLC0415 - only the plan figure needs it

    manifest = yaml.safe_load(EXAMPLE.read_text())
    manifest["services"]["api"]["image"] = "public.ecr.aws/docker/library/python:3.12-slim"
    del manifest["migrate"]
    copy = directory / "fargo.yml"
    copy.write_text(yaml.safe_dump(manifest, sort_keys=False))
    return copy


def bench_plan(fargo: str, rounds: int, env: dict[str, str]) -> None:
    from fargo import local  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as home:
        # Where `--local` finds its emulator: platformdirs' state dir under XDG_STATE_HOME.
        state = Path(home) / "fargo" / "emulator"
        local.start(state_dir=state, containers=False)
        try:
            manifest = with_image_reference(Path(home))
            env = {
                **env,
                "XDG_STATE_HOME": home,
                "FARGO_LOCAL_CONTAINERS": "0",
                "AWS_ACCESS_KEY_ID": "".join(random.choices("0123456789", k=12)),  # noqa: S311
                "AWS_SECRET_ACCESS_KEY": "bench",  # emulators take any secret
            }
            env.pop("FARGO_ENDPOINT_URL", None)
            run_once([fargo, "deploy", "--local", "-f", str(manifest)], env)
            measure("plan", [fargo, "plan", "--local", "-f", str(manifest)], rounds, env)
        finally:
            local.stop(state_dir=state)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--no-plan", action="store_true", help="skip the emulator figure")
    parser.add_argument("--fargo", default=FARGO, help="the command to time (default: this venv's)")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    # Other work on the machine slows every figure: say how busy it was.
    print(
        f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores"
    )
    measure("help", [args.fargo, "--help"], args.rounds, env)
    measure("render", [args.fargo, "render", "-f", str(EXAMPLE)], args.rounds, env)
    if not args.no_plan:
        bench_plan(args.fargo, args.rounds, env)


if __name__ == "__main__":
    main()
