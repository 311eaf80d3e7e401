"""Figures for examples/fullstack running on `--local`: the time from `fargo deploy --local`
to the first 200 from the API through its local URL, and the memory of the whole local stack
(the emulator, the Podman service, conmon, the containers). Prints them; asserts nothing.

Each run deploys into a fresh emulator state dir (a fresh XDG_STATE_HOME), so `deploy --local`
starts the emulator and its Podman service, pushes the image to an empty ECR, and starts the
database, the cache and the tasks from nothing. The example's image is built once before the
runs (buildah's layer cache then makes each deploy's build a cache hit), and the local
postgres and redis images are loaded into each fresh engine before its clock starts, so the
figure is fargo's and the runtime's time, not the builder's nor a registry's.

    .venv/bin/python bench/local_runtime.py [--runs N]     (make bench runs it)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import httpx

from fargo.local import engine as container_engine

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "examples" / "fullstack" / "fargo.yml"
BASE = "localhost/fargo-python:3.11"
FARGO = [sys.executable, "-m", "fargo"]
LOCAL_URL = re.compile(r"http://127\.0\.0\.1:\d+/\S*")
DEPLOY_TIMEOUT_S = 900.0
FIRST_200_TIMEOUT_S = 300.0


def fargo_env(state_home: Path) -> dict[str, str]:
    """`fargo --local` in its own state dir, with fargo's emulator credentials."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "FARGO_"))},
        "XDG_STATE_HOME": str(state_home),
        "FULLSTACK_BASE": BASE,
        # The base is in buildah's storage: auto-detection could pick podman.
        "FULLSTACK_BUILDER": "buildah",
    }


def prepare() -> None:
    """The offline python base and the example's image in buildah's storage (untimed)."""
    subprocess.run([sys.executable, str(ROOT / "scripts" / "prepare-demo-base.py")], check=True)
    with tempfile.TemporaryDirectory(prefix="fargo-bench-") as scratch:
        built = subprocess.run(
            [*FARGO, "build", "-f", str(MANIFEST), "--out", scratch],
            env=fargo_env(Path(scratch)),
            capture_output=True,
            text=True,
            check=False,
        )
    if built.returncode != 0:
        sys.exit(f"building the example's image failed:\n{built.stderr[-3000:]}")


def api_url(output: str) -> str | None:
    """The API's local URL as deploy printed it."""
    for url in LOCAL_URL.findall(output):
        if url.rstrip("/").endswith("/api"):
            return str(url)
    return None


def first_200(url: str, deadline: float) -> float | None:
    """When GET <url>health first answered 200 (perf_counter), or None by `deadline`."""
    while time.perf_counter() < deadline:
        try:
            with urllib.request.urlopen(url.rstrip("/") + "/health", timeout=5) as answer:  # noqa: S310 - loopback URL deploy printed
                if answer.status == 200:
                    return time.perf_counter()
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    return None


# -- memory ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Memory:
    rss_kib: int
    pss_kib: int
    processes: int

    def __add__(self, other: Memory) -> Memory:
        return Memory(
            self.rss_kib + other.rss_kib,
            self.pss_kib + other.pss_kib,
            self.processes + other.processes,
        )


def _field(path: Path, name: str) -> int:
    """A `Name:   123 kB` line of a /proc file, in KiB; 0 when absent or unreadable."""
    try:
        for line in path.read_text().splitlines():
            if line.startswith(f"{name}:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def memory_of(pids: Iterable[int]) -> Memory:
    """RSS (shared pages counted in every process) and PSS (shared pages split among the
    processes sharing them, so PSS adds up) of `pids`."""
    listed = list(pids)
    return Memory(
        sum(_field(Path(f"/proc/{p}/status"), "VmRSS") for p in listed),
        sum(_field(Path(f"/proc/{p}/smaps_rollup"), "Pss") for p in listed),
        len(listed),
    )


def process_parents() -> dict[int, int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                # The command name is in parentheses and may hold spaces: split after it.
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                parents[int(entry.name)] = int(fields[1])
            except (OSError, IndexError, ValueError):
                continue
    return parents


def tree(root: int, parents: dict[int, int]) -> set[int]:
    """`root` and all its descendants."""
    children: dict[int, list[int]] = {}
    for pid, parent in parents.items():
        children.setdefault(parent, []).append(pid)
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid in found or pid not in parents:
            continue
        found.add(pid)
        todo.extend(children.get(pid, []))
    return found


def command_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def stack_memory(state_dir: Path) -> dict[str, Memory]:
    """The local stack's memory by component, each process counted once."""
    emulator = json.loads((state_dir / "emulator.json").read_text())
    engine_file = state_dir / "engine.json"
    engine = json.loads(engine_file.read_text()) if engine_file.exists() else {}
    parents = process_parents()
    counted: set[int] = set()
    parts: dict[str, Memory] = {}

    def add(name: str, pids: set[int]) -> None:
        fresh = pids - counted
        counted.update(fresh)
        parts[name] = parts.get(name, Memory(0, 0, 0)) + memory_of(fresh)

    docker_host = str(emulator.get("docker_host") or "")
    if docker_host.startswith("unix://"):
        transport = httpx.HTTPTransport(uds=docker_host.removeprefix("unix://"))
        with httpx.Client(transport=transport, base_url="http://engine/v1.41") as client:
            for summary in client.get("/containers/json").json():
                inspected = client.get(f"/containers/{summary['Id']}/json").json()
                pid = int(inspected["State"].get("Pid") or 0)
                if not pid:
                    continue
                name = str(inspected["Name"]).lstrip("/").removeprefix("ministack-")
                add(f"container {name}", tree(pid, parents))
                # conmon, the container's monitor, is the parent of its first process.
                monitor = parents.get(pid, 0)
                if command_name(monitor) == "conmon":
                    add("conmon (all containers)", {monitor})
    if engine.get("pid"):
        add("podman service", tree(int(engine["pid"]), parents))
    add("emulator", tree(int(emulator["pid"]), parents))
    return parts


# -- runs --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    deploy_s: float
    first_200_s: float
    memory: dict[str, Memory]


def load_data_images(state_dir: Path) -> None:
    """The local postgres and redis images in the fresh state dir's engine (untimed, like the
    app's image: a user's engine pulls the official ones once). The Podman service this
    starts is stopped again, so the timed deploy starts its own."""
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "prepare-data-images.py"), str(state_dir)],
        check=True,
        capture_output=True,
    )
    container_engine.stop(state_dir)


def one_run() -> Run:
    state_home = Path(tempfile.mkdtemp(prefix="fargo-bench-"))
    env = fargo_env(state_home)
    try:
        load_data_images(state_home / "fargo" / "emulator")
        start = time.perf_counter()
        deployed = subprocess.run(
            [*FARGO, "deploy", "-f", str(MANIFEST), "--local"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=DEPLOY_TIMEOUT_S,
        )
        deploy_s = time.perf_counter() - start
        if deployed.returncode != 0:
            sys.exit(f"deploy --local failed:\n{deployed.stderr[-3000:]}")
        url = api_url(deployed.stdout + deployed.stderr)
        if url is None:
            sys.exit("deploy --local printed no local URL for the API:\n" + deployed.stdout)
        answered = first_200(url, time.perf_counter() + FIRST_200_TIMEOUT_S)
        if answered is None:
            sys.exit(f"{url} did not answer 200 within {FIRST_200_TIMEOUT_S:.0f} s of the deploy")
        return Run(deploy_s, answered - start, stack_memory(state_home / "fargo" / "emulator"))
    finally:
        subprocess.run([*FARGO, "local", "stop"], env=env, capture_output=True, check=False)
        shutil.rmtree(state_home, ignore_errors=True)


def spread(samples: list[float]) -> str:
    if len(samples) == 1:
        return f"{samples[0]:.1f} s (1 run)"
    return (
        f"{statistics.median(samples):.1f} s (median of {len(samples)}; "
        f"{min(samples):.1f}-{max(samples):.1f} s)"
    )


def mib(kib: int) -> str:
    return f"{kib / 1024:7.1f} MiB"


def report(runs: list[Run]) -> None:
    print(f"deploy --local to its return:       {spread([r.deploy_s for r in runs])}")
    print(f"deploy --local to the first 200:    {spread([r.first_200_s for r in runs])}")
    last = runs[-1].memory
    print("memory of the local stack (last run; PSS splits shared pages, RSS counts them in each):")
    for name, used in sorted(last.items(), key=lambda item: -item[1].pss_kib):
        print(f"  {name:<52} PSS {mib(used.pss_kib)}  RSS {mib(used.rss_kib)}  ({used.processes})")
    total = sum(last.values(), Memory(0, 0, 0))
    print(
        f"  {'total':<52} PSS {mib(total.pss_kib)}  RSS {mib(total.rss_kib)}  ({total.processes})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="deploys, each on a fresh state dir")
    args = parser.parse_args()
    prepare()
    report([one_run() for _ in range(args.runs)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
