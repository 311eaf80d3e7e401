"""Remote builds before any AWS call: the manifest's `remote`, the buildspec, the source
archive and `.dockerignore`, the build role's policy, and the no-builder hint."""

from __future__ import annotations

import io
import json
import os
import shlex
import zipfile
from pathlib import Path

import pytest

from fargo.images.build import NoBuilder
from fargo.images.builders import select_builder
from fargo.images.codebuild_project import environment, role_policy, trust_policy
from fargo.images.codebuild_source import (
    OUTSIDE_DOCKERFILE,
    SourceArchive,
    context_files,
    dockerignore_patterns,
    ignored,
    source_key,
)
from fargo.images.codebuild_spec import RemoteBuild, build_command, buildspec
from fargo.manifest.load import parse_manifest
from fargo.model import build_app
from tests.unit.test_manifest_errors import problems

MANIFEST = """\
app: shop
services:
  web:
    image: { build: { context: ., remote: codebuild } }
    port: 8000
    arch: arm64
    http: { path: /*, healthcheck: /health }
"""


def test_remote_codebuild_is_a_build_whose_platform_follows_arch() -> None:
    app = build_app(parse_manifest(MANIFEST, "fargo.yml", None, {}))
    (web,) = app.builds
    assert web.build is not None
    assert web.build.remote == "codebuild"
    assert web.build.platform == "linux/arm64"
    assert environment(web.build.platform)["type"] == "ARM_CONTAINER"
    assert environment("linux/amd64")["image"] == "aws/codebuild/standard:7.0"


def test_an_unknown_remote_builder_names_the_line_and_the_one_there_is() -> None:
    (problem,) = problems(MANIFEST.replace("remote: codebuild", "remote: cloudbuild"))
    assert (problem.line, problem.path) == (4, "services.web.image.build.remote")
    assert "`cloudbuild` is not a remote builder" in problem.message
    assert "remote: codebuild" in (problem.hint or "")


def test_buildspec_logs_in_then_builds_and_pushes_one_manifest() -> None:
    build = RemoteBuild(
        image="123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/web:abc123-def456",
        platform="linux/arm64",
        dockerfile="docker/Dockerfile.prod",
        target="runtime",
        build_args={"VERSION": "1 $(rm -rf /)", "A": "x"},
    )
    spec = json.loads(buildspec(build))

    assert spec["version"] == "0.2"
    (login,) = spec["phases"]["pre_build"]["commands"]
    assert login.startswith('aws ecr get-login-password --region "$AWS_DEFAULT_REGION" | ')
    assert login.endswith('docker login --username AWS --password-stdin "$FARGO_REGISTRY"')
    (command,) = spec["phases"]["build"]["commands"]
    assert command == build_command(build)
    words = shlex.split(command)
    assert words[:3] == ["docker", "buildx", "build"]
    assert "--provenance=false" in words
    assert words[words.index("--platform") + 1] == "linux/arm64"
    assert words[words.index("-f") + 1] == "docker/Dockerfile.prod"
    assert words[words.index("--target") + 1] == "runtime"
    # Each value is one shell word, sorted by name, whatever it holds.
    args = [words[i + 1] for i, word in enumerate(words) if word == "--build-arg"]
    assert args == ["A=x", "VERSION=1 $(rm -rf /)"]
    assert words[-4:] == ["-t", "$FARGO_IMAGE", "--push", "."]
    assert build.registry == "123456789012.dkr.ecr.eu-west-1.amazonaws.com"


def test_a_build_without_target_or_args_names_neither() -> None:
    command = build_command(RemoteBuild("r/x:t", "linux/amd64", "Dockerfile"))
    assert "--target" not in command
    assert "--build-arg" not in command


@pytest.mark.parametrize(
    ("path", "patterns", "expected"),
    [
        ("app.log", "*.log", True),
        ("sub/app.log", "*.log", False),  # `*` stays in one directory, as in Docker
        ("sub/app.log", "**/*.log", True),
        ("app.log", "**/*.log", True),
        ("node_modules/x/y.js", "node_modules", True),  # a directory takes what is under it
        ("a/node_modules/x.js", "**/node_modules", True),
        ("secrets/key", "/secrets/", True),
        ("keep.log", "*.log\n!keep.log", False),  # the last matching line decides
        ("keep.log", "!keep.log\n*.log", True),
        ("docs/a.md", "docs\n!docs/a.md", False),
        ("# not a comment", "\\#*", True),
        ("src/main.py", "# comment\n\n*.log", False),
        ("a1", "a?", True),
        ("ab/c", "a[a-c]/c", True),
    ],
)
def test_dockerignore_matches_as_docker_does(path: str, patterns: str, expected: bool) -> None:
    assert ignored(path, dockerignore_patterns(patterns)) is expected


def _context(root: Path) -> Path:
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("print('hi')\n")
    (root / "run.sh").write_text("#!/bin/sh\necho run\n")
    (root / "run.sh").chmod(0o755)
    (root / "debug.log").write_text("noise\n")
    (root / ".env").write_text("SECRET=1\n")
    (root / "Dockerfile").write_text("FROM scratch\nCOPY . /app\n")
    (root / ".dockerignore").write_text("*.log\n.env\nDockerfile\n")
    return root


def test_the_archive_holds_what_docker_would_send(tmp_path: Path) -> None:
    context = _context(tmp_path / "ctx")
    files = context_files(context, context / "Dockerfile")
    # Ignored files stay home; the Dockerfile and .dockerignore always go, as docker sends them.
    assert sorted(files) == [".dockerignore", "Dockerfile", "run.sh", "src/app.py"]


def test_the_archive_is_deterministic_and_keeps_modes(tmp_path: Path) -> None:
    context = _context(tmp_path / "ctx")
    first = SourceArchive.of(context, context / "Dockerfile", tmp_path / "one.zip")
    for path in context.rglob("*"):
        os.utime(path, (1_700_000_000, 1_700_000_000))  # a checkout, a touch: same content
    second = SourceArchive.of(context, context / "Dockerfile", tmp_path / "two.zip")
    assert first.sha256 == second.sha256
    assert first.path.read_bytes() == second.path.read_bytes()
    assert source_key("shop", first) == f"sources/shop/{first.sha256}.zip"

    with zipfile.ZipFile(io.BytesIO(first.path.read_bytes())) as archive:
        infos = archive.infolist()
        assert [i.filename for i in infos] == sorted(i.filename for i in infos)
        assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in infos}
        assert modes["run.sh"] == 0o755
        assert modes["src/app.py"] == 0o644
        assert archive.read("src/app.py") == b"print('hi')\n"

    (context / "src" / "app.py").write_text("print('changed')\n")
    third = SourceArchive.of(context, context / "Dockerfile", tmp_path / "three.zip")
    assert third.sha256 != first.sha256


def test_a_dockerfile_outside_the_context_travels_with_it(tmp_path: Path) -> None:
    context = _context(tmp_path / "ctx")
    outside = tmp_path / "Dockerfile.remote"
    outside.write_text("FROM scratch\n")
    files = context_files(context, outside)
    assert files[OUTSIDE_DOCKERFILE] == outside


def test_the_build_role_names_every_action_and_only_the_apps_resources() -> None:
    policy = role_policy("shop", "123456789012", "eu-west-1")
    statements = policy["Statement"]
    for statement in statements:
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        assert all("*" not in action for action in actions), statement
        resources = (
            statement["Resource"]
            if isinstance(statement["Resource"], list)
            else [statement["Resource"]]
        )
        if "*" in resources:
            assert actions == ["ecr:GetAuthorizationToken"]
        else:
            assert all(":123456789012:" in r or "fargo-builds-123456789012" in r for r in resources)
    by_sid = {s["Sid"]: s for s in statements}
    assert by_sid["ReadSources"]["Resource"] == (
        "arn:aws:s3:::fargo-builds-123456789012-eu-west-1/sources/shop/*"
    )
    assert by_sid["PushImages"]["Resource"] == (
        "arn:aws:ecr:eu-west-1:123456789012:repository/shop/*"
    )
    assert "ecr:PutImage" in by_sid["PushImages"]["Action"]
    assert all(
        ":log-group:/aws/codebuild/fargo-shop-images" in r for r in by_sid["BuildLogs"]["Resource"]
    )
    (trust,) = trust_policy("123456789012")["Statement"]
    assert trust["Principal"] == {"Service": "codebuild.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}


def test_no_builder_names_every_way_to_get_an_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing to run: no probe is attempted
    with pytest.raises(NoBuilder) as raised:
        select_builder()
    hint = raised.value.hint or ""
    for option in ("Docker", "Podman", "Buildah", "build: { remote: codebuild }"):
        assert option in hint
    assert "image: REGISTRY/REPO:TAG" in hint
    assert raised.value.exit_code == 2
