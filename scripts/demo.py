"""`make demo`: deploy examples/fullstack to the embedded emulator, show what it made, and
call the API through its local URL: post a note and read it back.

With buildah on this machine, fargo builds the example's Dockerfile on an offline Debian
python base (scripts/prepare-demo-base.py). Without it, the example's image is assembled as
an OCI layout by scripts/make-example-layout.py and deployed with `image: { layout }` from a
copy of the manifest under build/demo, so the demo also runs where no container engine is.

With a container engine (a Docker daemon, or Podman and runc) the emulator runs the app, and
the demo waits for the API to answer through the emulated load balancer. Without one it
says the app is not running and stops there, successfully: the stacks are still made.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import yaml

from fargo.local import containers
from fargo.local.engine import INSTALL_HINT

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "fullstack" / "fargo.yml"
BASE = "localhost/fargo-python:3.11"
DEMO_DIR = ROOT / "build" / "demo"
LAYOUT = ROOT / "build" / "example-layout"
FARGO = Path(sys.executable).with_name("fargo")
# The Postgres and Redis images the emulator runs for the database and the cache, built
# offline from Debian packages (on a user's machine the emulator pulls the official ones).
PREPARE_DATA_IMAGES = ROOT / "scripts" / "prepare-data-images.py"
# How long the API may take to answer through the load balancer after deploy returns.
API_WAIT_S = 180.0


def manifest_with_buildah() -> tuple[Path, dict[str, str]]:
    subprocess.run([sys.executable, str(ROOT / "scripts" / "prepare-demo-base.py")], check=True)
    # The base is in buildah's storage: auto-detection could pick podman or docker instead.
    return EXAMPLE, {"FULLSTACK_BASE": BASE, "FULLSTACK_BUILDER": "buildah"}


def manifest_with_layout() -> tuple[Path, dict[str, str]]:
    print("buildah is not installed: assembling the example's image as an OCI layout")
    if not (LAYOUT / "index.json").is_file():
        subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "make-example-layout.py"), str(LAYOUT)],
            check=True,
        )
    manifest = yaml.safe_load(EXAMPLE.read_text())
    builders = [n for n, s in manifest["services"].items() if "build" in (s.get("image") or {})]
    for name in builders:
        manifest["services"][name]["image"] = {"layout": os.path.relpath(LAYOUT, DEMO_DIR)}
    DEMO_DIR.mkdir(parents=True, exist_ok=True)
    copy = DEMO_DIR / "fargo.yml"
    copy.write_text(
        "# Written by scripts/demo.py: examples/fullstack/fargo.yml with the image from an\n"
        "# OCI layout, for machines without buildah.\n" + yaml.safe_dump(manifest, sort_keys=False)
    )
    return copy, {}


def prepare_data_images() -> None:
    """The one place the demo prepares the local data images (Postgres, Redis): only where
    the emulator will run containers, since they are loaded into its engine."""
    wanted = containers.chosen(None) is not containers.Containers.OFF
    if wanted and containers.engine_available() and PREPARE_DATA_IMAGES.is_file():
        subprocess.run([sys.executable, str(PREPARE_DATA_IMAGES)], check=True)


def fargo_json(*args: str, env: dict[str, str]) -> dict[str, object]:
    done = subprocess.run(
        [str(FARGO), *args, "--json"], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"fargo {' '.join(args)} failed:\n{done.stderr}{done.stdout}")
    answer: dict[str, object] = json.loads(done.stdout)
    return answer


def call(method: str, url: str, body: dict[str, str] | None = None) -> tuple[int, str, str]:
    """(status, X-Cache header, body) of one request; an HTTP error is an answer too."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 - the demo's own loopback URL
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.headers.get("X-Cache", ""), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, "", error.read().decode(errors="replace")


def wait_for_api(api: str) -> bool:
    """Poll GET api/health through the load balancer until 200, saying how it goes."""
    started = time.monotonic()
    last = "no answer yet"
    while (waited := time.monotonic() - started) < API_WAIT_S:
        try:
            status, _, body = call("GET", f"{api}health")
        except OSError as error:
            status, body = 0, str(error)
        if status == 200:
            print(f"the API answers ({waited:.0f} s)")
            return True
        last = f"{status} {body.strip()[:80]}" if status else body[:80]
        print(f"waiting for the API through the load balancer ({waited:.0f} s): {last}")
        time.sleep(5)
    print(f"the API did not answer 200 within {API_WAIT_S:.0f} s (last: {last})")
    return False


def post_note(url: str) -> tuple[int, str]:
    """POST a note; while the API answers 503 (its database still starting), try again,
    for as long as the API itself was given."""
    started = time.monotonic()
    while True:
        status, _, body = call("POST", url, {"body": "hello from make demo"})
        waited = time.monotonic() - started
        if status != 503 or waited > API_WAIT_S:
            return status, body
        print(f"waiting for the API's database ({waited:.0f} s): {status} {body.strip()[:80]}")
        time.sleep(5)


def try_the_api(manifest: Path, env: dict[str, str]) -> int:
    """Post a note through the API's local URL and read it back, then print curl lines."""
    emulator = fargo_json("local", "status", env=env)
    if not emulator.get("containers"):
        why = (
            f"as {containers.VARIABLE}=0 asks"
            if containers.chosen(None) is containers.Containers.OFF
            else f"for want of a container engine. To run it, {INSTALL_HINT}; then: "
            f"{FARGO} local stop && make demo"
        )
        print(f"The emulator keeps records only, so the app is not running: no API to call, {why}")
        return 0
    shown = fargo_json("status", "-f", str(manifest), "--local", env=env)
    local_urls = shown.get("local_urls")
    found = local_urls.get("api") if isinstance(local_urls, dict) else None
    api = found.get("url") if isinstance(found, dict) else None
    if not isinstance(api, str):
        print("status --local printed no local URL for the API")
        return 1
    print(f"\nThe API on this machine: {api}")
    if not wait_for_api(api):
        return 1
    status, created = post_note(f"{api}notes")
    print(f"POST {api}notes -> {status} {created}")
    if status != 201:
        return 1
    note = json.loads(created)["id"]
    for _ in range(2):  # the second read is served from the cache
        status, cache, body = call("GET", f"{api}notes/{note}")
        print(f"GET {api}notes/{note} -> {status} (X-Cache: {cache or '-'}) {body}")
    print(
        "\nTry it yourself:\n"
        f"  curl {api}health\n"
        f"  curl -X POST -H 'Content-Type: application/json' -d '{{\"body\": \"hi\"}}' "
        f"{api}notes\n"
        f"  curl -i {api}notes/{note}\n"
        f"  {FARGO} status -f {manifest} --local\n"
        f"The emulator keeps running for you to explore; stop it with: {FARGO} local stop"
    )
    return 0 if status == 200 else 1


def main() -> int:
    manifest, extra = manifest_with_buildah() if shutil.which("buildah") else manifest_with_layout()
    env = {**os.environ, **extra}
    prepare_data_images()
    for command in (
        ["deploy", "-f", str(manifest), "--local"],
        ["status", "-f", str(manifest), "--local", "--resources"],
    ):
        result = subprocess.run([str(FARGO), *command], env=env, check=False)
        if result.returncode != 0:
            return result.returncode
    return try_the_api(manifest, env)


if __name__ == "__main__":
    sys.exit(main())
