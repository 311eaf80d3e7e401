"""Whole-process timings of the `fargo` command, as a user meets them: `fargo --help`,
`fargo render` of examples/fullstack, and a no-op `fargo plan --local` against an emulator
where the example is deployed (pre-flight checks and cost delta included). Each command
runs --rounds times (after one unmeasured run that warms the file cache and the bytecode);
prints the median, the fastest and the slowest beside the target. Asserts nothing.

    make bench        (or: .venv/bin/python bench/cli.py [--rounds 10] [--no-plan])

The plan runs against a records-only emulator of its own (its state under a temporary
XDG_STATE_HOME, where `--local` looks for it), in a fresh account, with the example's
image given as a ready reference: the figure is fargo's, not a build's.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "fullstack" / "fargo.yml"
FARGO = str(Path(sys.executable).parent / "fargo")
# The targets of the fast-CLI work, in seconds, whole process, on a 2-core machine.
TARGETS = {"help": 0.12, "render": 0.20, "plan": 0.6}


def run_once(argv: Sequence[str], env: Mapping[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=dict(env), capture_output=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(
            f"{' '.join(argv)} exited {done.returncode}:\n{done.stderr.decode(errors='replace')}"
        )
    return seconds


def measure(name: str, argv: Sequence[str], rounds: int, env: Mapping[str, str]) -> None:
    run_once(argv, env)  # warm-up: bytecode written, files cached
    samples = [run_once(argv, env) for _ in range(rounds)]
    median = statistics.median(samples)
    verdict = "ok" if median <= TARGETS[name] else "over"
    print(
        f"fargo {name:<7} {median * 1000:6.0f} ms median of {rounds} "
        f"(min {min(samples) * 1000:.0f}, max {max(samples) * 1000:.0f}); "
        f"target {TARGETS[name] * 1000:.0f} ms: {verdict}"
    )


def with_image_reference(directory: Path) -> Path:
    """The example's manifest with its built image replaced by a ready reference."""
    import yaml  # noqa: PLC0415 - only the plan figure needs it

    manifest = yaml.safe_load(EXAMPLE.read_text())
    manifest["services"]["api"]["image"] = "public.ecr.aws/docker/library/python:3.12-slim"
    copy = directory / "fargo.yml"
    copy.write_text(yaml.safe_dump(manifest, sort_keys=False))
    return copy


def bench_plan(rounds: int, env: dict[str, str]) -> None:
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
            run_once([FARGO, "deploy", "--local", "-f", str(manifest)], env)
            measure("plan", [FARGO, "plan", "--local", "-f", str(manifest)], rounds, env)
        finally:
            local.stop(state_dir=state)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--no-plan", action="store_true", help="skip the emulator figure")
    args = parser.parse_args()
    env = dict(os.environ)
    # Other work on the machine slows every figure: say how busy it was.
    print(
        f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores"
    )
    measure("help", [FARGO, "--help"], args.rounds, env)
    measure("render", [FARGO, "render", "-f", str(EXAMPLE)], args.rounds, env)
    if not args.no_plan:
        bench_plan(args.rounds, env)


if __name__ == "__main__":
    main()
