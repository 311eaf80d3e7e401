"""Images before any AWS call: tags, lifecycle policy, the manifest's build rules, the
services stack's image parameter and how the planner resolves it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from fargo.aws.cloudformation import CloudFormation
from fargo.aws.facade import Aws, AwsConfig
from fargo.images.ecr import lifecycle_policy
from fargo.images.tags import image_tag
from fargo.model import StackKind
from fargo.model.app import ImageBuild
from fargo.plan.planner import Built, Planner
from fargo.progress import SilentReporter
from fargo.synth.stack import PushedImage
from tests.unit.synth_helpers import stacks_from_text
from tests.unit.test_manifest_errors import problems

MANIFEST = """\
app: shop
services:
  web:
    image: { build: ./web }
    port: 8000
    http: { path: /*, healthcheck: /health }
  jobs:
    image: { from: web }
    command: [sh, -c, "sleep 1"]
"""


def build_of(context: Path, **settings: object) -> ImageBuild:
    values: dict[str, object] = {
        "dockerfile": None,
        "target": None,
        "args": (),
        "platform": "linux/amd64",
        "repository": "shop/web",
    }
    values.update(settings)
    return ImageBuild(context=str(context), **values)  # type: ignore[arg-type]


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def test_tag_is_the_commit_then_dirty_then_settings(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "one")
    clean = image_tag(build_of(tmp_path))
    commit, settings = clean.split("-")
    assert len(commit) == 12
    assert len(settings) == 6
    (tmp_path / "app.py").write_text("print(1)\n")
    dirty = image_tag(build_of(tmp_path))
    assert dirty.startswith(f"{commit}-dirty-")
    (tmp_path / "app.py").write_text("print(2)\n")
    assert image_tag(build_of(tmp_path)) != dirty  # the content hash follows the change
    arm = image_tag(build_of(tmp_path, platform="linux/arm64"))
    assert arm.rsplit("-", 1)[0] == image_tag(build_of(tmp_path)).rsplit("-", 1)[0]
    assert arm != image_tag(build_of(tmp_path))


def test_tag_outside_git_hashes_the_context(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    first = image_tag(build_of(tmp_path))
    assert first.startswith("src-")
    assert image_tag(build_of(tmp_path)) == first
    (tmp_path / "Dockerfile").write_text('FROM scratch\nCMD ["x"]\n')
    assert image_tag(build_of(tmp_path)) != first


def test_lifecycle_policy_keeps_the_last_n_images() -> None:
    release, rule = json.loads(lifecycle_policy(7))["rules"]
    # ECR: an image matching a higher-priority rule's tags is never expired by a lower one,
    # and a tagStatus `any` rule must come last.
    assert release["rulePriority"] < rule["rulePriority"]
    assert release["selection"]["tagStatus"] == "tagged"
    assert release["selection"]["tagPrefixList"] == ["release-"]
    assert rule["selection"] == {
        "tagStatus": "any",
        "countType": "imageCountMoreThan",
        "countNumber": 7,
    }
    assert rule["action"] == {"type": "expire"}


def test_built_images_become_a_services_stack_parameter() -> None:
    services = stacks_from_text(MANIFEST)[StackKind.SERVICES]
    assert services.parameters["WebImage"] == PushedImage("web")
    for family in ("WebTaskDefinition", "JobsTaskDefinition"):
        (container,) = services.body["Resources"][family]["Properties"]["ContainerDefinitions"]
        assert container["Image"] == {"Ref": "WebImage"}
    policy = services.body["Resources"]["JobsExecutionRole"]["Properties"]["Policies"][0]
    pull = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}["PullOwnImage"]
    assert pull["Resource"][0]["Fn::Sub"].endswith(":repository/shop/web")


def test_planner_resolves_images_built_now_else_keeps_the_deployed_one() -> None:
    services = stacks_from_text(MANIFEST)[StackKind.SERVICES]
    planner = Planner(CloudFormation(Aws(AwsConfig("us-east-1"))), SilentReporter())
    outputs = {StackKind.NETWORK: dict.fromkeys(services.parameters, "x")}
    assert planner.resolve(services, outputs) is None  # never built, never deployed
    kept = planner.resolve(services, outputs, {"WebImage": "repo@sha256:old"})
    assert kept is not None
    assert kept["WebImage"] == "repo@sha256:old"
    built = Built(images={"web": "repo@sha256:new"})
    fresh = planner.resolve(services, outputs, {"WebImage": "repo@sha256:old"}, built)
    assert fresh is not None
    assert fresh["WebImage"] == "repo@sha256:new"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (
            MANIFEST.replace("{ build: ./web }", "{ build: { platform: linux/arm64 } }"),
            "does not match arch x86_64",
        ),
        (MANIFEST + "    arch: arm64\n", "is built for x86_64"),
        (MANIFEST.replace("{ build: ./web }", "{ build: ., ref: x }"), "exactly one source"),
    ],
)
def test_build_rules(text: str, fragment: str) -> None:
    assert any(fragment in p.message for p in problems(text))


def test_a_from_service_runs_on_its_sources_arch_unless_it_sets_its_own() -> None:
    arm = MANIFEST.replace("{ build: ./web }", "{ build: ./web }\n    arch: arm64")
    services = stacks_from_text(arm)[StackKind.SERVICES].body["Resources"]
    for family in ("WebTaskDefinition", "JobsTaskDefinition"):
        platform = services[family]["Properties"]["RuntimePlatform"]
        assert platform["CpuArchitecture"] == "ARM64"
    (problem,) = problems(arm + "    arch: x86_64\n")
    assert (problem.line, problem.path) == (11, "services.jobs.arch")
    assert problem.message == "`web` is built for arm64, this service runs x86_64"
    assert "drop `arch` here" in (problem.hint or "")


def test_a_layout_image_is_pushed_not_built(tmp_path: Path) -> None:
    text = MANIFEST.replace("{ build: ./web }", "{ layout: ./web-image }")
    services = stacks_from_text(text)[StackKind.SERVICES]
    assert services.parameters["WebImage"] == PushedImage("web")
    assert any(
        "exactly one source" in p.message
        for p in problems(MANIFEST.replace("{ build: ./web }", "{ build: ., layout: ./x }"))
    )
    from fargo.images.local_build import build_layouts  # noqa: PLC0415
    from fargo.manifest.load import parse_manifest  # noqa: PLC0415
    from fargo.model import build_app  # noqa: PLC0415

    app = build_app(parse_manifest(text, str(tmp_path / "fargo.yml"), None, {}))
    assert build_layouts(app, (), tmp_path / "out") == {}  # nothing to build, no builder asked
