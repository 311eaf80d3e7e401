"""Figures for examples/fullstack: synth, cfn-lint, first local deploy, no-op redeploy, and
AWS write calls in a no-op redeploy. Prints them; asserts nothing.

The deploys measure the stacks: the example's image is given as a ready reference, since
building it is the builder's time, not fargo's (bench/push.py measures the push).

    make bench        (or: .venv/bin/python bench/run.py [--rounds N])
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml
from cfnlint.api import ManualArgs, lint

from fargo import local
from fargo.aws.facade import CallCounter
from fargo.deployer import Target, open_deployer
from fargo.manifest.load import load_manifest
from fargo.model import build_app
from fargo.synth import synth

MANIFEST = Path(__file__).resolve().parent.parent / "examples" / "fullstack" / "fargo.yml"


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def median_ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:.1f} ms (median of {len(samples)})"


def bench_synth(rounds: int) -> None:
    load = [timed(lambda: load_manifest(MANIFEST)) for _ in range(rounds)]
    loaded = load_manifest(MANIFEST)
    total = [timed(lambda: synth(build_app(load_manifest(MANIFEST)))) for _ in range(rounds)]
    only = [timed(lambda: synth(build_app(loaded))) for _ in range(rounds)]
    print(f"load + validate manifest:         {median_ms(load)}")
    print(f"synth (app model + 3 templates):  {median_ms(only)}")
    print(f"load + synth, end to end:         {median_ms(total)}")


def bench_lint() -> None:
    templates = synth(build_app(load_manifest(MANIFEST)))
    bodies = [json.dumps(t.body) for t in templates]
    lint(bodies[0], config=ManualArgs(regions=["us-east-1"]))  # load cfn-lint's schemas once
    seconds = timed(lambda: [lint(b, config=ManualArgs(regions=["us-east-1"])) for b in bodies])
    print(f"cfn-lint of the 3 templates:      {seconds * 1000:.0f} ms (schemas already loaded)")


def with_image_reference(directory: Path) -> Path:
    """The example's manifest with its built image replaced by a ready reference."""
    manifest = yaml.safe_load(MANIFEST.read_text())
    manifest["services"]["api"]["image"] = "public.ecr.aws/docker/library/python:3.12-slim"
    copy = directory / "fargo.yml"
    copy.write_text(yaml.safe_dump(manifest, sort_keys=False))
    return copy


def bench_deploy(endpoint: str, rounds: int, manifest: Path) -> None:
    os.environ["AWS_ACCESS_KEY_ID"] = "".join(random.choices("0123456789", k=12))  # noqa: S311
    os.environ["AWS_SECRET_ACCESS_KEY"] = "bench"  # noqa: S105 - emulators take any secret
    target = Target(endpoint)
    first = timed(lambda: open_deployer(manifest, None, target).deploy())
    print(f"first local deploy (3 stacks):    {first * 1000:.0f} ms")
    noop = []
    counters = []
    for _ in range(rounds):
        counter = CallCounter()
        noop.append(
            timed(lambda c=counter: open_deployer(manifest, None, target, counter=c).deploy())
        )
        counters.append(counter)
    print(f"no-op redeploy (load to result):  {median_ms(noop)}")
    last = counters[-1]
    print(f"AWS calls in a no-op redeploy:    {last.total} ({len(last.writes)} writes)")
    if last.writes:
        print(f"  writes: {last.writes}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    bench_synth(args.rounds)
    bench_lint()
    with tempfile.TemporaryDirectory() as state:
        started = time.perf_counter()
        emulator = local.start(state_dir=Path(state))
        print(f"emulator start (venv ready):      {(time.perf_counter() - started):.1f} s")
        try:
            manifest = with_image_reference(Path(state))
            bench_deploy(emulator.endpoint_url, max(3, args.rounds // 4), manifest)
        finally:
            local.stop(state_dir=Path(state))


if __name__ == "__main__":
    main()
