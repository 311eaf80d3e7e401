"""Image builds with a real buildah, offline, into OCI layouts (see build_fixtures.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fargo.errors import InputError
from fargo.images.build import BuildFailed, BuildRequest, NoBuilder, layout_digest
from fargo.images.builders import REMOTE_OPTION, Buildah, select_builder
from tests.integration.build_helpers import (
    host_platform,
    image_files,
    make_base_layout,
    read_json_blob,
)

# The fixtures live in build_fixtures.py, so this directory's conftest stays free for others.
pytest_plugins = ["tests.integration.build_fixtures"]

pytestmark = pytest.mark.integration

APP_DOCKERFILE = """\
FROM {base}
RUN echo "made by a RUN step" > /built.txt && mkdir -p /app
COPY hello.txt /app/hello.txt
ENV APP_MODE=demo
CMD ["/bin/sh", "-c", "cat /app/hello.txt"]
"""

STAGES_DOCKERFILE = """\
FROM {base} AS base
ARG GREETING=hello
RUN echo "$GREETING" > /greeting.txt

FROM base AS final
RUN echo final > /final.txt
"""


def write_context(root: Path, dockerfile: str, base: str) -> Path:
    context = root / "context"
    context.mkdir()
    (context / "Dockerfile").write_text(dockerfile.format(base=base))
    (context / "hello.txt").write_text("hello from the context\n")
    return context


def request(context: Path, layout: Path, **kwargs: object) -> BuildRequest:
    settings: dict[str, object] = {"name": "web", "platform": host_platform(), "pull": "never"}
    return BuildRequest(context=context, layout=layout, **{**settings, **kwargs})  # type: ignore[arg-type]


def test_build_writes_an_oci_layout(buildah: Buildah, base_image: str, tmp_path: Path) -> None:
    context = write_context(tmp_path, APP_DOCKERFILE, base_image)
    lines: list[str] = []

    built = buildah.build(request(context, tmp_path / "out"), on_line=lines.append)

    assert built.layout == tmp_path / "out"
    assert built.builder == "buildah"
    assert json.loads((built.layout / "oci-layout").read_text())["imageLayoutVersion"]
    index = json.loads((built.layout / "index.json").read_text())
    [descriptor] = index["manifests"]
    assert descriptor["digest"] == built.digest
    assert descriptor["annotations"]["org.opencontainers.image.ref.name"] == "latest"
    manifest = read_json_blob(built.layout, built.digest)
    files = image_files(built.layout, manifest)
    assert files["app/hello.txt"] == b"hello from the context\n"
    assert files["built.txt"] == b"made by a RUN step\n"
    assert "bin/busybox" in files  # the base's layer comes along
    config = read_json_blob(built.layout, manifest["config"]["digest"])
    assert config["architecture"] == host_platform().removeprefix("linux/")
    assert config["config"]["Cmd"] == ["/bin/sh", "-c", "cat /app/hello.txt"]
    assert "APP_MODE=demo" in config["config"]["Env"]
    # The builder's output reached the sink line by line while it ran.
    assert any("COPY hello.txt /app/hello.txt" in line for line in lines)
    assert not (tmp_path / "out.partial").exists()


def test_build_args_and_target_stage(buildah: Buildah, base_image: str, tmp_path: Path) -> None:
    context = write_context(tmp_path, STAGES_DOCKERFILE, base_image)

    staged = buildah.build(
        request(context, tmp_path / "base", target="base", build_args={"GREETING": "howdy"})
    )
    full = buildah.build(request(context, tmp_path / "final"))

    staged_files = image_files(staged.layout, read_json_blob(staged.layout, staged.digest))
    assert staged_files["greeting.txt"] == b"howdy\n"
    assert "final.txt" not in staged_files
    full_files = image_files(full.layout, read_json_blob(full.layout, full.digest))
    assert full_files["greeting.txt"] == b"hello\n"
    assert full_files["final.txt"] == b"final\n"


def test_rebuild_replaces_the_layout(buildah: Buildah, base_image: str, tmp_path: Path) -> None:
    context = write_context(tmp_path, APP_DOCKERFILE, base_image)
    first = buildah.build(request(context, tmp_path / "out"))
    (context / "hello.txt").write_text("changed\n")

    second = buildah.build(request(context, tmp_path / "out"))

    assert second.digest != first.digest
    assert len(json.loads((tmp_path / "out" / "index.json").read_text())["manifests"]) == 1
    assert layout_digest(tmp_path / "out", "latest") == second.digest


def test_failing_step_raises_with_builder_output(
    buildah: Buildah, base_image: str, tmp_path: Path
) -> None:
    context = write_context(tmp_path, APP_DOCKERFILE, base_image)
    previous = buildah.build(request(context, tmp_path / "out"))
    (context / "Dockerfile").write_text(
        f"FROM {base_image}\nRUN echo about to fail && exit 3\nRUN echo never\n"
    )
    lines: list[str] = []

    with pytest.raises(BuildFailed) as raised:
        buildah.build(request(context, tmp_path / "out"), on_line=lines.append)

    error = raised.value
    assert error.builder == "buildah"
    assert error.builder_exit_code == 3
    assert "about to fail" in error.output_tail
    assert len(error.output_tail) <= 40
    assert "building web with buildah failed (exit 3)" in error.render()
    assert "about to fail" in error.render()
    assert error.hint is not None
    assert "buildah" in error.hint
    assert error.to_json()["builder_exit_code"] == 3
    assert "about to fail" in lines
    # The last good image is still there, untouched.
    assert layout_digest(tmp_path / "out", "latest") == previous.digest


def test_missing_base_is_a_build_error_not_a_pull(
    buildah: Buildah, base_image: str, tmp_path: Path
) -> None:
    del base_image
    context = write_context(tmp_path, APP_DOCKERFILE, "localhost/fargo-no-such-base:latest")

    with pytest.raises(BuildFailed) as raised:
        buildah.build(request(context, tmp_path / "out"))

    assert "fargo-no-such-base" in "\n".join(raised.value.output_tail)


def test_request_is_checked_before_building(buildah: Buildah, tmp_path: Path) -> None:
    context = tmp_path / "context"
    context.mkdir()
    with pytest.raises(InputError, match="not a valid image name"):
        request(context, tmp_path / "out", name="Web App")
    with pytest.raises(InputError, match="contains ':'"):
        request(context, tmp_path / "a:b")
    with pytest.raises(InputError, match="no Dockerfile"):
        buildah.build(request(context, tmp_path / "out"))
    (context / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine\n")
    with pytest.raises(InputError, match="not an OCI image layout"):
        buildah.build(request(context, tmp_path / "taken"))
    assert (tmp_path / "taken" / "notes.txt").read_text() == "mine\n"


@pytest.fixture
def only_buildah_on_path(
    buildah_executable: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A PATH with buildah and a docker that has no buildx, as on this machine."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "buildah").symlink_to(buildah_executable)
    docker = bin_dir / "docker"
    docker.write_text('#!/bin/sh\necho "docker: unknown command: docker $1" >&2\nexit 1\n')
    docker.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    return bin_dir


def test_detection_picks_buildah(only_buildah_on_path: Path, tmp_path: Path) -> None:
    builder = select_builder(buildah_storage=tmp_path / "storage")

    assert builder.name == "buildah"
    assert isinstance(builder, Buildah)
    assert builder.storage == tmp_path / "storage"
    assert builder.executable == str(only_buildah_on_path / "buildah")


def test_buildah_uses_its_own_storage_unless_asked(only_buildah_on_path: Path) -> None:
    del only_buildah_on_path
    own = select_builder("buildah")
    users = select_builder("buildah", user_storage=True)

    assert isinstance(own, Buildah)
    assert own.storage is not None
    assert "--root" in own.command("images")
    assert "vfs" in own.command("images")
    assert isinstance(users, Buildah)
    assert users.storage is None
    assert users.command("images")[1:] == ["images"]


def test_no_builder_names_every_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(NoBuilder) as raised:
        select_builder()

    text = raised.value.render()
    for option in ("docker", "podman", "buildah", "Docker", "Podman", "Buildah", REMOTE_OPTION):
        assert option in text
    assert text.count("not found on PATH") == 3
    assert raised.value.exit_code == 2


def test_named_builder_says_why_it_is_unusable(only_buildah_on_path: Path) -> None:
    del only_buildah_on_path
    with pytest.raises(NoBuilder, match="the docker image builder is not usable") as raised:
        select_builder("docker")
    assert "docker buildx version" in raised.value.message
    assert "unknown command" in raised.value.message

    with pytest.raises(NoBuilder, match="podman: not found on PATH"):
        select_builder("podman")


def test_base_image_script_is_reproducible(base_layout: Path, tmp_path: Path) -> None:
    again = make_base_layout(tmp_path / "again")

    digest = layout_digest(base_layout, "latest")
    assert again.split() == [f"{tmp_path / 'again'}:latest", digest]
    for name in ("index.json", "oci-layout"):
        assert (tmp_path / "again" / name).read_bytes() == (base_layout / name).read_bytes()
    manifest = read_json_blob(base_layout, digest)
    files = image_files(base_layout, manifest)
    assert "bin/busybox" in files
    assert "etc/passwd" in files
