"""Images in a deploy, on the emulator's ECR: built with buildah from an offline busybox
base, pushed before any stack changes, pinned by digest in the task definitions."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fargo.images.builders import Buildah, default_buildah_storage
from tests.conftest import EXAMPLES, ROOT
from tests.emulator.helpers import last_updated, run_fargo
from tests.integration.build_helpers import INSTALL_HINT, make_base_layout

# The name Dockerfiles use for the offline busybox base (as in the build tests).
BASE_IMAGE = "localhost/fargo-base:latest"

STACKS = ["img-default-network", "img-default-services"]
DOCKERFILE = """\
FROM localhost/fargo-base:latest
RUN mkdir -p /www && echo ok > /www/health
EXPOSE 8000
CMD ["httpd", "-f", "-p", "8000", "-h", "/www"]
"""
MANIFEST = """\
app: img
# The base image is in buildah's storage: auto-detection could pick podman or docker.
builder: buildah
services:
  web:
    image: { build: . }
    port: 8000
    http: { path: /*, healthcheck: /health }
  sidecar:
    image: { from: web }
    command: [sh, -c, "while :; do sleep 60; done"]
"""


@pytest.fixture(scope="module")
def base_in_fargo_storage(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The busybox base, imported where `fargo deploy`'s buildah looks for images."""
    executable = shutil.which("buildah")
    if executable is None:
        pytest.fail(f"buildah is not installed: {INSTALL_HINT}")
    layout = tmp_path_factory.mktemp("base") / "layout"
    make_base_layout(layout)
    Buildah(executable, storage=default_buildah_storage()).import_layout(layout, BASE_IMAGE)
    return BASE_IMAGE


@pytest.fixture
def app_dir(tmp_path: Path, base_in_fargo_storage: str) -> Path:
    del base_in_fargo_storage
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    (tmp_path / "fargo.yml").write_text(MANIFEST)
    return tmp_path


def test_deploy_builds_pushes_and_pins_by_digest(
    app_dir: Path, emulator_endpoint: str, aws: Any
) -> None:
    manifest = str(app_dir / "fargo.yml")
    done = run_fargo("deploy", "-f", manifest, "--endpoint-url", emulator_endpoint)
    assert done.returncode == 0, done.stderr
    assert "web: building with buildah" in done.stderr

    images = aws("ecr").describe_images(repositoryName="img/web")["imageDetails"]
    (image,) = images
    ecs = aws("ecs")
    for family in ("img-default-web", "img-default-sidecar"):
        container = ecs.describe_task_definition(taskDefinition=family)["taskDefinition"][
            "containerDefinitions"
        ][0]
        assert re.fullmatch(r".+/img/web@sha256:[0-9a-f]{64}", container["image"])
        assert container["image"].endswith(image["imageDigest"])
    repository = aws("ecr").describe_repositories(repositoryNames=["img/web"])["repositories"][0]
    assert repository["imageTagMutability"] == "IMMUTABLE"
    assert repository["imageScanningConfiguration"]["scanOnPush"] is True

    again = run_fargo("deploy", "-f", manifest, "--endpoint-url", emulator_endpoint)
    assert again.returncode == 0, again.stderr
    assert "already in ECR" in again.stderr
    assert "img/default: no changes" in again.stdout


def test_a_failing_build_changes_no_stack(app_dir: Path, emulator_endpoint: str, aws: Any) -> None:
    manifest = str(app_dir / "fargo.yml")
    assert run_fargo("deploy", "-f", manifest, "--endpoint-url", emulator_endpoint).returncode == 0
    before = last_updated(aws, STACKS)
    (app_dir / "Dockerfile").write_text(DOCKERFILE.replace("echo ok", "exit 3; echo ok"))
    failed = run_fargo("deploy", "-f", manifest, "--endpoint-url", emulator_endpoint)
    assert failed.returncode == 1
    assert "exit 3" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert last_updated(aws, STACKS) == before


def test_the_example_deploys_with_its_own_image(emulator_endpoint: str, aws: Any) -> None:
    """examples/fullstack as written: its Dockerfile built on the offline Debian python base
    (what `make demo` does), pushed to the emulator's ECR, pinned by digest."""
    prepared = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "prepare-demo-base.py")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert prepared.returncode == 0, prepared.stderr
    manifest = str(EXAMPLES / "fullstack" / "fargo.yml")
    done = run_fargo(
        "deploy",
        "-f",
        manifest,
        "--endpoint-url",
        emulator_endpoint,
        env={"FULLSTACK_BASE": "localhost/fargo-python:3.11", "FULLSTACK_BUILDER": "buildah"},
        timeout=900,  # a pip install under buildah, on vfs storage
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (image,) = aws("ecr").describe_images(repositoryName="fullstack/api")["imageDetails"]
    ecs = aws("ecs")
    for family in (
        "fullstack-default-api",
        "fullstack-default-worker",
        "fullstack-default-nightly",
    ):
        container = ecs.describe_task_definition(taskDefinition=family)["taskDefinition"][
            "containerDefinitions"
        ][0]
        assert container["image"].endswith(f"/fullstack/api@{image['imageDigest']}")


def test_a_layout_built_elsewhere_is_pushed_and_pinned(
    tmp_path: Path, emulator_endpoint: str, aws: Any
) -> None:
    """`image: { layout: DIR }`: an OCI layout from any other tool goes to ECR as it is."""
    make_base_layout(tmp_path / "base")
    (tmp_path / "fargo.yml").write_text(
        "app: lay\nservices:\n  tool:\n    image: { layout: ./base }\n"
        '    command: [sh, -c, "sleep 60"]\n'
    )
    manifest = str(tmp_path / "fargo.yml")
    done = run_fargo("deploy", "-f", manifest, "--endpoint-url", emulator_endpoint)
    assert done.returncode == 0, done.stderr
    index = json.loads((tmp_path / "base" / "index.json").read_text())
    digest = index["manifests"][0]["digest"]
    (image,) = aws("ecr").describe_images(repositoryName="lay/tool")["imageDetails"]
    assert image["imageDigest"] == digest
    # Its own tag, and that of the release the deploy recorded (fargo.release.images).
    assert set(image["imageTags"]) == {f"oci-{digest[7:23]}", "release-default-1"}
    container = aws("ecs").describe_task_definition(taskDefinition="lay-default-tool")[
        "taskDefinition"
    ]["containerDefinitions"][0]
    assert container["image"].endswith(f"/lay/tool@{digest}")
    again = run_fargo("deploy", "-f", manifest, "--endpoint-url", emulator_endpoint)
    assert "already in ECR" in again.stderr
    assert "no changes" in again.stdout
