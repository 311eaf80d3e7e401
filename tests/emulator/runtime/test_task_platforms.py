"""An ARM64 task on this x86_64 machine, which cannot run arm64 binaries: it runs from its
image's linux/amd64 variant when the image is an index that has one, and otherwise stops
before it starts, saying why, instead of dying with "exec format error".

The images: the offline busybox (linux/amd64) and a stand-in linux/arm64 image whose only
layer holds a text file, no shell, so a task started from it could not run `sh` at all.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import platform
import shutil
import tarfile
from pathlib import Path
from typing import Any

import pytest

from fargo.aws.facade import Aws, AwsConfig
from fargo.images.ecr import Ecr
from fargo.local.architectures import architecture_notes
from fargo.local.server import Emulator
from fargo.manifest.load import parse_manifest
from fargo.model import build_app
from tests.emulator.runtime.tasks import exit_codes, push_to_ecr, run_to_completion

pytestmark = pytest.mark.skipif(
    platform.machine() not in ("x86_64", "amd64"), reason="the stand-in images suit x86_64"
)
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def _put_blob(layout: Path, data: bytes) -> str:
    digest = f"sha256:{hashlib.sha256(data).hexdigest()}"
    (layout / "blobs" / "sha256" / digest[7:]).write_bytes(data)
    return digest


def _descriptor(layout: Path, media_type: str, data: bytes, **more: Any) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": _put_blob(layout, data), "size": len(data), **more}


def _arm64_image(layout: Path) -> dict[str, Any]:
    """A linux/arm64 image manifest (its descriptor) with one layer: the file `arch`."""
    content = b"arm64\n"
    tar_bytes = io.BytesIO()
    with tarfile.open(fileobj=tar_bytes, mode="w") as tar:
        member = tarfile.TarInfo("arch")
        member.size = len(content)
        tar.addfile(member, io.BytesIO(content))
    layer = tar_bytes.getvalue()
    config = json.dumps(
        {
            "architecture": "arm64",
            "os": "linux",
            "config": {"Cmd": ["/bin/sh"]},
            "rootfs": {
                "type": "layers",
                "diff_ids": [f"sha256:{hashlib.sha256(layer).hexdigest()}"],
            },
        }
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": _descriptor(layout, "application/vnd.oci.image.config.v1+json", config),
            "layers": [
                _descriptor(
                    layout, "application/vnd.oci.image.layer.v1.tar+gzip", gzip.compress(layer)
                )
            ],
        }
    ).encode()
    return _descriptor(
        layout, OCI_MANIFEST, manifest, platform={"architecture": "arm64", "os": "linux"}
    )


def _write_index(layout: Path, top: dict[str, Any]) -> None:
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [top]}
    (layout / "index.json").write_text(json.dumps(index))


@pytest.fixture(scope="module")
def layouts(busybox_layout: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """`both`: an image index of busybox (linux/amd64) and the arm64 stand-in; `arm64`: the
    stand-in alone."""
    made: dict[str, Path] = {}
    for name in ("both", "arm64"):
        layout = tmp_path_factory.mktemp(f"platforms-{name}") / "layout"
        shutil.copytree(busybox_layout, layout)
        made[name] = layout
    (amd64,) = json.loads((busybox_layout / "index.json").read_text())["manifests"]
    amd64 = {key: value for key, value in amd64.items() if key != "annotations"}
    amd64["platform"] = {"architecture": "amd64", "os": "linux"}
    both = made["both"]
    index = json.dumps(
        {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [_arm64_image(both), amd64]}
    ).encode()
    _write_index(both, _descriptor(both, OCI_INDEX, index))
    _write_index(made["arm64"], _arm64_image(made["arm64"]))
    return made


def test_an_arm64_task_runs_its_images_amd64_variant(
    aws: Any, emulator: Emulator, layouts: dict[str, Path], account: str
) -> None:
    image = push_to_ecr(layouts["both"], emulator.endpoint_url, account, "platforms/both")
    # busybox's shell runs the script; the arm64 stand-in has no shell to run.
    stopped = run_to_completion(aws("ecs"), image, "test ! -e /arch", cpu_architecture="ARM64")
    assert exit_codes(stopped) == [0]
    # The task's records keep the reference the task definition names.
    assert [c["image"] for c in stopped["containers"]] == [image]


def test_an_arm64_only_image_stops_the_task_saying_why(
    aws: Any, emulator: Emulator, layouts: dict[str, Path], account: str
) -> None:
    image = push_to_ecr(layouts["arm64"], emulator.endpoint_url, account, "platforms/arm64")
    stopped = run_to_completion(aws("ecs"), image, "exit 0", cpu_architecture="ARM64")
    assert stopped["lastStatus"] == "STOPPED"
    assert stopped["stopCode"] == "TaskFailedToStart"
    assert stopped["stoppedReason"] == (
        "CannotPullContainerError: the image has no linux/amd64 variant and this machine "
        "cannot run linux/arm64 images"
    )


def test_deploy_says_how_each_arm64_service_runs_here(
    emulator: Emulator, layouts: dict[str, Path], account: str, tmp_path: Path
) -> None:
    text = """\
app: shop
services:
  api:
    image: { build: ./api }
    arch: arm64
    port: 8000
    http: { path: /*, healthcheck: /health }
  worker:
    image: { build: ./worker }
    arch: arm64
    command: [sh, -c, "sleep 1"]
  jobs:
    image: { from: worker }
    command: [sh, -c, "exit 0"]
"""
    app = build_app(parse_manifest(text, str(tmp_path / "fargo.yml"), None, {}))
    images = {
        "api": push_to_ecr(layouts["both"], emulator.endpoint_url, account, "shop/api"),
        "worker": push_to_ecr(layouts["arm64"], emulator.endpoint_url, account, "shop/worker"),
    }
    ecr = Ecr(
        Aws(
            AwsConfig(
                region="us-east-1",
                endpoint_url=emulator.endpoint_url,
                static_credentials=(account, "test"),
            )
        )
    )
    cannot = (
        ": arch arm64: its image has no linux/amd64 variant, so it cannot run on this x86_64 "
        "machine (it deploys, but its tasks will not start); build it for both platforms or "
        "drop arch for local runs"
    )
    assert architecture_notes(ecr, app, images, machine="x86_64") == [
        "api: arch arm64 runs here from its image's linux/amd64 variant",
        "worker" + cannot,
        "jobs" + cannot,
    ]
    # On an arm64 machine every one of them runs as built: nothing to say.
    assert architecture_notes(ecr, app, images, machine="aarch64") == []
