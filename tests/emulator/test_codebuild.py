"""`build: { remote: codebuild }` on the emulator: the source goes to S3, the emulator's
CodeBuild really runs the generated buildspec (its `docker` is buildah there), the image
lands in the emulator's ECR and the task definitions pin it by digest.

No public registry is reachable, so each test first pushes the offline busybox base to the
account's ECR (`<app>/base`), and the Dockerfile builds `FROM` it by its ECR name, as a
Dockerfile on CodeBuild would."""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fargo.aws.facade import Aws, AwsConfig, CallCounter
from fargo.images import push
from fargo.images.codebuild_project import CodeBuildProject
from fargo.images.ecr import Ecr
from fargo.progress import SilentReporter
from tests.emulator.helpers import last_updated, run_fargo
from tests.integration.build_helpers import make_base_layout

DOCKERFILE = """\
ARG BASE
FROM ${BASE}
RUN mkdir -p /www && echo ok > /www/health
CMD ["httpd", "-f", "-p", "8000", "-h", "/www"]
"""
MANIFEST = """\
app: {app}
services:
  web:
    image: {{ build: {{ context: ., remote: codebuild, args: {{ BASE: "{base}" }} }} }}
    port: 8000
    http: {{ path: /*, healthcheck: /health }}
"""


@pytest.fixture(scope="module")
def base_layout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    layout = tmp_path_factory.mktemp("base") / "layout"
    make_base_layout(layout)
    return layout


def fargo_aws(emulator_endpoint: str, account: str, counter: CallCounter | None = None) -> Aws:
    return Aws(
        AwsConfig(
            region="us-east-1",
            endpoint_url=emulator_endpoint,
            static_credentials=(account, "test"),
            retry_mode="standard",
            max_attempts=3,
        ),
        counter=counter,
    )


@pytest.fixture
def make_app(
    tmp_path: Path, base_layout: Path, emulator_endpoint: str, account: str
) -> Callable[[str], Path]:
    """An app directory whose Dockerfile builds FROM a base in the account's ECR."""

    def make(app: str) -> Path:
        ecr = Ecr(fargo_aws(emulator_endpoint, account))
        repository = ecr.ensure_repository(f"{app}/base", keep=5, tags={})
        target = ecr.push_target()
        push(
            base_layout,
            f"{target.registry}/{repository.name}:latest",
            credentials=target.credentials,
        )
        (tmp_path / "Dockerfile").write_text(DOCKERFILE)
        (tmp_path / ".dockerignore").write_text("*.log\n")
        (tmp_path / "build.log").write_text("left out of the source by .dockerignore\n")
        (tmp_path / "fargo.yml").write_text(
            MANIFEST.format(app=app, base=f"{repository.uri}:latest")
        )
        return tmp_path / "fargo.yml"

    return make


def source_objects(aws: Any, account: str) -> dict[str, Any]:
    listed = aws("s3").list_objects_v2(Bucket=f"fargo-builds-{account}-us-east-1")
    return {o["Key"]: o["LastModified"] for o in listed.get("Contents", [])}


def builds_of(aws: Any, app: str) -> list[str]:
    return aws("codebuild").list_builds_for_project(projectName=f"fargo-{app}-images")["ids"]


def test_deploy_builds_in_codebuild_and_pins_the_pushed_digest(
    make_app: Callable[[str], Path], emulator_endpoint: str, account: str, aws: Any
) -> None:
    manifest = str(make_app("cbd"))
    done = run_fargo("deploy", "-f", manifest, "--endpoint-url", emulator_endpoint)
    assert done.returncode == 0, done.stderr[-3000:]
    # The build's CloudWatch Logs lines and phases, streamed as they came.
    assert "web: building in AWS CodeBuild (linux/amd64)" in done.stderr
    assert "web: CodeBuild phase " in done.stderr
    assert re.search(r"web \| .*Running command docker buildx build .*--push \.", done.stderr)
    assert "web | STEP 2/3: RUN mkdir -p /www" in done.stderr

    (image,) = aws("ecr").describe_images(repositoryName="cbd/web")["imageDetails"]
    container = aws("ecs").describe_task_definition(taskDefinition="cbd-default-web")[
        "taskDefinition"
    ]["containerDefinitions"][0]
    assert re.fullmatch(r".+/cbd/web@sha256:[0-9a-f]{64}", container["image"])
    assert container["image"].endswith(f"@{image['imageDigest']}")

    (project,) = aws("codebuild").batch_get_projects(names=["fargo-cbd-images"])["projects"]
    assert project["environment"]["privilegedMode"] is True
    assert project["environment"]["image"] == "aws/codebuild/standard:7.0"
    assert project["serviceRole"].endswith(":role/fargo-cbd-codebuild")
    (build_id,) = builds_of(aws, "cbd")
    (build,) = aws("codebuild").batch_get_builds(ids=[build_id])["builds"]
    assert build["buildStatus"] == "SUCCEEDED"
    assert build["source"]["type"] == "S3"
    assert {p["phaseType"]: p.get("phaseStatus") for p in build["phases"]}["BUILD"] == "SUCCEEDED"

    bucket = f"fargo-builds-{account}-us-east-1"
    s3 = aws("s3")
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    (rule,) = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert rule["Expiration"]["Days"] == 7
    (sse,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert sse["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    sources = source_objects(aws, account)
    (key,) = sources
    archive = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert b"build.log" not in archive  # .dockerignore kept it home
    assert b"Dockerfile" in archive

    again = run_fargo("deploy", "-f", manifest, "--endpoint-url", emulator_endpoint)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "is already in ECR" in again.stderr
    assert "cbd/default: no changes" in again.stdout
    assert builds_of(aws, "cbd") == [build_id]  # no build started
    assert source_objects(aws, account) == sources  # nothing uploaded


def test_a_failed_remote_build_exits_1_with_its_log_and_changes_no_stack(
    make_app: Callable[[str], Path], emulator_endpoint: str, account: str, aws: Any
) -> None:
    manifest_path = make_app("cbf")
    manifest = str(manifest_path)
    # `fargo build` of a remote build builds in CodeBuild, which pushes: it says so.
    built = run_fargo("build", "-f", manifest, "--endpoint-url", emulator_endpoint)
    assert built.returncode == 0, built.stderr[-3000:]
    assert "pushes to ECR as it builds" in built.stderr
    assert re.fullmatch(
        r"web: pushed .+/cbf/web@sha256:[0-9a-f]{64} \(built in AWS CodeBuild\)\n", built.stdout
    )
    done = run_fargo("deploy", "-f", manifest, "--endpoint-url", emulator_endpoint)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "is already in ECR" in done.stderr
    stacks = ["cbf-default-network", "cbf-default-services"]
    before = last_updated(aws, stacks)

    dockerfile = manifest_path.parent / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text().replace("RUN mkdir", "RUN false && mkdir"))
    failed = run_fargo("deploy", "-f", manifest, "--endpoint-url", emulator_endpoint)
    assert failed.returncode == 1
    assert "building web in AWS CodeBuild ended FAILED" in failed.stderr
    assert "  | STEP 2/3: RUN false && mkdir -p /www" in failed.stderr  # in the error's tail
    assert "Traceback" not in failed.stderr
    assert last_updated(aws, stacks) == before
    sources = source_objects(aws, account)
    assert len(sources) == 2

    again = run_fargo("push", "-f", manifest, "--endpoint-url", emulator_endpoint, "--json")
    assert again.returncode == 1
    error = json.loads(again.stdout)
    assert error["builder"] == "codebuild"
    assert any("RUN false" in line for line in error["output_tail"])
    assert source_objects(aws, account) == sources  # the same source is not uploaded again
    assert len(builds_of(aws, "cbf")) == 3
    assert last_updated(aws, stacks) == before


def test_project_and_role_are_left_alone_when_nothing_changed(
    emulator_endpoint: str, account: str, aws: Any
) -> None:
    tags = {"fargo:app": "cbp"}
    CodeBuildProject(fargo_aws(emulator_endpoint, account), account, SilentReporter()).ensure(
        "cbp", "linux/amd64", tags
    )
    counter = CallCounter()
    again = fargo_aws(emulator_endpoint, account, counter)
    assert (
        CodeBuildProject(again, account, SilentReporter()).ensure("cbp", "linux/amd64", tags)
        == "fargo-cbp-images"
    )
    # BatchGetProjects reads, though the call counter's prefixes take it for a write.
    assert counter.writes == [("codebuild", "BatchGetProjects")]

    changed = CallCounter()
    CodeBuildProject(
        fargo_aws(emulator_endpoint, account, changed), account, SilentReporter()
    ).ensure("cbp", "linux/arm64", tags)
    assert changed.writes == [("codebuild", "BatchGetProjects"), ("codebuild", "UpdateProject")]
    (project,) = aws("codebuild").batch_get_projects(names=["fargo-cbp-images"])["projects"]
    assert project["environment"]["type"] == "ARM_CONTAINER"
    policy = aws("iam").get_role_policy(RoleName="fargo-cbp-codebuild", PolicyName="fargo-images")
    assert policy["PolicyDocument"]


def test_the_emulators_codebuild_runs_phases_and_stops_after_a_failed_pre_build(
    emulator_endpoint: str, account: str, aws: Any
) -> None:
    """The patch on its own: overrides honoured, phases run in order, a failing pre_build
    skips build, every line in the build's log stream."""
    s3 = aws("s3")
    s3.create_bucket(Bucket="sources")
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        archive.writestr("hello.txt", "from the source\n")
    s3.put_object(Bucket="sources", Key="src.zip", Body=data.getvalue())
    codebuild = aws("codebuild")
    codebuild.create_project(
        name="plain",
        source={"type": "NO_SOURCE", "buildspec": "version: 0.2"},
        artifacts={"type": "NO_ARTIFACTS"},
        environment={
            "type": "LINUX_CONTAINER",
            "image": "aws/codebuild/standard:7.0",
            "computeType": "BUILD_GENERAL1_SMALL",
        },
        serviceRole=f"arn:aws:iam::{account}:role/x",
    )
    spec = """\
version: 0.2
env:
  variables: { GREETING: from-the-buildspec }
phases:
  install:
    commands:
      - cat hello.txt
      - echo "$GREETING $FROM_START"
  pre_build:
    commands:
      - echo before && false
      - echo never
  build:
    commands:
      - echo never built
"""
    build = codebuild.start_build(
        projectName="plain",
        sourceTypeOverride="S3",
        sourceLocationOverride="sources/src.zip",
        buildspecOverride=spec,
        environmentVariablesOverride=[{"name": "FROM_START", "value": "and-start-build"}],
    )["build"]
    deadline = time.monotonic() + 120
    while True:
        (found,) = codebuild.batch_get_builds(ids=[build["id"]])["builds"]
        if found["buildStatus"] != "IN_PROGRESS" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert found["buildStatus"] == "FAILED"
    phases = {p["phaseType"]: p.get("phaseStatus") for p in found["phases"]}
    assert phases["INSTALL"] == "SUCCEEDED"
    assert phases["PRE_BUILD"] == "FAILED"
    assert "BUILD" not in phases
    (context,) = next(p for p in found["phases"] if p["phaseType"] == "PRE_BUILD")["contexts"]
    assert context["statusCode"] == "COMMAND_EXECUTION_ERROR"
    events = aws("logs").get_log_events(
        logGroupName=found["logs"]["groupName"],
        logStreamName=found["logs"]["streamName"],
        startFromHead=True,
    )["events"]
    lines = [e["message"] for e in events]
    assert "from the source" in lines
    assert "from-the-buildspec and-start-build" in lines
    assert "before" in lines
    assert "never" not in lines
    assert "never built" not in lines
