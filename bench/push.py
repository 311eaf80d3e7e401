"""Push figures: fargo's push of a ~200 MB, 4-layer image of incompressible layers to a
registry on loopback, beside `skopeo copy` of the same image in the same run, and what a
one-layer change uploads. Prints them; asserts nothing.

    .venv/bin/python bench/push.py [--rounds 3] [--mib 200] [--mount-pairs 10]

Each round makes a fresh image (new random bytes) and pushes it with both tools, each to a
repository of its own, the order alternating from round to round: nothing can be skipped
or mounted, and neither tool always goes first. The registry is Debian's docker-registry,
started and stopped here like the integration tests' (fargo.images.local_registry).

Then pushes to fresh repositories of the same registry, where every blob is already in the
registry under another repository: each tool first pushes a new image once (fargo with a
blob-locations record of the bench's own, skopeo with its blob-info cache), then both push
it to a fresh repository per pair, the order alternating. The ratio fargo/skopeo of each
pair is printed as a median with its spread. fargo is timed in-process (`push()`, what
deploy runs); skopeo as the process it is. `fargo image push` as a process (interpreter
start and imports included) is timed beside them, for reference. skopeo comes from Debian:
`apt-get install -y skopeo`; without it the comparisons are skipped, saying so.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fargo.images import BlobLocations, PushOptions, PushResult, push
from fargo.images.local_registry import start_registry
from fargo.images.push import MIB

ROOT = Path(__file__).resolve().parent.parent
# The layout writer is the integration tests' own, so bench and tests push the same kind
# of image; bench/ is run as a script, so the repository root is not on sys.path.
sys.path.insert(0, str(ROOT))
layouts = importlib.import_module("tests.integration.layouts")

LAYERS = 4


def make_image(root: Path, total_mib: int, seeds: list[int]) -> list:
    size = total_mib * MIB // LAYERS
    layers = [layouts.random_layer(size, seed=seed) for seed in seeds]
    layouts.single_image_layout(root, layers)
    return layers


def fargo_push(
    layout: Path, reference: str, options: PushOptions, locations: BlobLocations | None = None
) -> tuple[float, PushResult]:
    start = time.perf_counter()
    result = push(layout, reference, options=options, blob_locations=locations)
    return time.perf_counter() - start, result


def skopeo_push(layout: Path, reference: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        ["skopeo", "copy", "--quiet", "--dest-tls-verify=false", f"oci:{layout}",
         f"docker://{reference}"],
        check=True,
    )  # fmt: skip
    return time.perf_counter() - start


def cli_push(layout: Path, reference: str, cache_home: Path) -> float:
    """`fargo image push` as a user runs it, with a user cache dir of the bench's own."""
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "fargo", "image", "push", str(layout), reference],
        check=True, capture_output=True, env={**os.environ, "XDG_CACHE_HOME": str(cache_home)},
    )  # fmt: skip
    return time.perf_counter() - start


def skopeo_digest(reference: str) -> str:
    return subprocess.run(
        ["skopeo", "inspect", "--tls-verify=false", "--format", "{{.Digest}}",
         f"docker://{reference}"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip


def bench_pairs(address: str, scratch: Path, rounds: int, total_mib: int, options: PushOptions):
    fargo_times: list[float] = []
    skopeo_times: list[float] = []
    for number in range(rounds):
        layout = scratch / f"round-{number}"
        make_image(layout, total_mib, [_seed() for _ in range(LAYERS)])
        fargo_ref = f"{address}/bench-fargo-{number}:v1"
        skopeo_ref = f"{address}/bench-skopeo-{number}:v1"
        fargo_first = number % 2 == 0
        if not fargo_first:
            skopeo_times.append(skopeo_push(layout, skopeo_ref))
        seconds, result = fargo_push(layout, fargo_ref, options)
        fargo_times.append(seconds)
        if fargo_first:
            skopeo_times.append(skopeo_push(layout, skopeo_ref))
        same = skopeo_digest(fargo_ref) == skopeo_digest(skopeo_ref) == result.digest
        print(
            f"  round {number + 1} ({'fargo' if fargo_first else 'skopeo'} first): "
            f"fargo {fargo_times[-1]:.2f} s, skopeo {skopeo_times[-1]:.2f} s; fargo sent "
            f"{result.stats.bytes_uploaded / MIB:.1f} MiB in {result.stats.chunks} chunks; "
            f"same digest: {same}"
        )
        shutil.rmtree(layout)
    return fargo_times, skopeo_times


def bench_mount_pairs(
    address: str, scratch: Path, pairs: int, total_mib: int, options: PushOptions
) -> None:
    """Pushes of one image to fresh repositories, where the registry holds every blob."""
    layout = scratch / "mount"
    layers = make_image(layout, total_mib, [_seed() for _ in range(LAYERS)])
    locations = BlobLocations(scratch / "blob-locations.json")
    fargo_push(layout, f"{address}/bench-mount-fargo-source:v1", options, locations)
    skopeo_push(layout, f"{address}/bench-mount-skopeo-source:v1")
    cli_push(layout, f"{address}/bench-mount-cli-source:v1", scratch / "cache")
    ratios: list[float] = []
    fargo_times: list[float] = []
    skopeo_times: list[float] = []
    cli_times: list[float] = []
    sent = mounted = 0
    for number in range(pairs):
        fargo_ref = f"{address}/bench-mount-fargo-{number}:v1"
        skopeo_ref = f"{address}/bench-mount-skopeo-{number}:v1"
        fargo_first = number % 2 == 0
        if not fargo_first:
            skopeo_times.append(skopeo_push(layout, skopeo_ref))
        seconds, result = fargo_push(layout, fargo_ref, options, locations)
        fargo_times.append(seconds)
        if fargo_first:
            skopeo_times.append(skopeo_push(layout, skopeo_ref))
        ratios.append(fargo_times[-1] / skopeo_times[-1])
        cli_times.append(
            cli_push(layout, f"{address}/bench-mount-cli-{number}:v1", scratch / "cache")
        )
        sent += result.stats.bytes_uploaded
        mounted += result.stats.blobs_mounted
    quartiles = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else ratios * 3
    print(
        f"push to a fresh repository, every blob in the registry ({len(layers) + 1} blobs, "
        f"{pairs} alternating pairs):"
    )
    print(
        f"  fargo push:                {statistics.median(fargo_times) * 1000:.0f} ms median; "
        f"sent {sent / MIB:.1f} MiB, mounted {mounted} of {pairs * (len(layers) + 1)} blobs"
    )
    print(f"  skopeo copy:               {statistics.median(skopeo_times) * 1000:.0f} ms median")
    print(
        f"  fargo image push, process: {statistics.median(cli_times) * 1000:.0f} ms median "
        "(interpreter start and imports included)"
    )
    print(
        f"  fargo / skopeo:            {statistics.median(ratios):.2f}x median "
        f"(quartiles {quartiles[0]:.2f}-{quartiles[2]:.2f}, range "
        f"{min(ratios):.2f}-{max(ratios):.2f}; target <= 1.0)"
    )


def bench_one_layer_change(address: str, scratch: Path, total_mib: int, options: PushOptions):
    seeds = [_seed() for _ in range(LAYERS)]
    make_image(scratch / "v1", total_mib, seeds)
    push(scratch / "v1", f"{address}/bench-change:v1", options=options)
    seeds[2] = _seed()
    layers = make_image(scratch / "v2", total_mib, seeds)
    seconds, result = fargo_push(scratch / "v2", f"{address}/bench-change:v2", options)
    stats = result.stats
    print(
        f"one-layer change, re-push:   {stats.bytes_uploaded / MIB:.1f} MiB uploaded "
        f"(the layer is {len(layers[2].blob) / MIB:.1f} MiB) in {seconds:.2f} s; blobs "
        f"uploaded {stats.blobs_uploaded}, skipped {stats.blobs_skipped}, upload sessions "
        f"{stats.upload_sessions}"
    )


def _seed() -> int:
    return int.from_bytes(os.urandom(4))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--mib", type=int, default=200, help="image size in MiB")
    parser.add_argument("--chunk-mib", type=int, default=PushOptions().chunk_size // MIB)
    parser.add_argument("--parallel", type=int, default=PushOptions().parallel)
    parser.add_argument(
        "--mount-pairs", type=int, default=10, help="pushes to fresh repositories, per tool"
    )
    args = parser.parse_args()
    options = PushOptions(chunk_size=args.chunk_mib * MIB, parallel=args.parallel)
    with tempfile.TemporaryDirectory(prefix="fargo-bench-push-") as temp:
        scratch = Path(temp)
        registry = start_registry(scratch / "registry")
        try:
            print(
                f"push of a {args.mib} MiB image, {LAYERS} incompressible layers, to "
                f"docker-registry on loopback (chunks of {args.chunk_mib} MiB, "
                f"{args.parallel} in parallel)"
            )
            if shutil.which("skopeo") is None:
                print(
                    "skopeo is not installed (apt-get install -y skopeo): the comparisons "
                    "with skopeo are skipped"
                )
            else:
                fargo, skopeo = bench_pairs(
                    registry.address, scratch, args.rounds, args.mib, options
                )
                fargo_median = statistics.median(fargo)
                skopeo_median = statistics.median(skopeo)
                print(f"fargo push:                  {fargo_median:.2f} s (median of {len(fargo)})")
                print(
                    f"skopeo copy oci: docker://:  {skopeo_median:.2f} s (median of {len(skopeo)})"
                )
                print(f"fargo / skopeo:              {fargo_median / skopeo_median:.2f}x")
                bench_mount_pairs(registry.address, scratch, args.mount_pairs, args.mib, options)
            bench_one_layer_change(registry.address, scratch, args.mib, options)
        finally:
            registry.stop()


if __name__ == "__main__":
    main()
