"""`build: { remote: codebuild }`: build a service's image in AWS CodeBuild.

For machines and CI runners with no container engine. The build context is zipped to
fargo's source bucket (codebuild_source.py), the app's project and role are made or brought
in step (codebuild_project.py), and a build starts with a buildspec of its own
(codebuild_spec.py) that logs in to ECR and runs `docker buildx build --push`. While it
runs, its CloudWatch Logs lines are streamed as a local builder's output is, and its phases
are reported. A build that does not succeed is a BuildFailed carrying the log's last lines;
one that does is read back from ECR: the task definitions pin the digest ECR holds under
the tag, exactly as after a local build and push.
"""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path
from typing import Any

from fargo.aws.facade import Aws
from fargo.aws.log_stream import LogStream
from fargo.errors import FargoError
from fargo.images.build import BuildFailed, BuildRequest, LineSink, ignore_line
from fargo.images.codebuild_project import TIMEOUT_MINUTES, CodeBuildProject, environment
from fargo.images.codebuild_source import SourceArchive, SourceBucket, dockerfile_in_archive
from fargo.images.codebuild_spec import RemoteBuild, buildspec, environment_variables
from fargo.images.ecr import Ecr, Repository
from fargo.manifest.fargate import Platform
from fargo.model.app import App
from fargo.progress import Reporter

SUCCEEDED = "SUCCEEDED"
IN_PROGRESS = "IN_PROGRESS"
# A build may wait in CodeBuild's queue before its own timeout starts counting.
QUEUE_ALLOWANCE_MINUTES = 30
# CodeBuild reports a status, not an exit code; a failed build is exit status 1 as a whole.
FAILED_BUILD_EXIT_CODE = 1


class BuildLog:
    """The lines of one build's CloudWatch Logs stream, read on from where the last read
    stopped (`nextForwardToken`)."""

    def __init__(self, aws: Aws) -> None:
        self._aws = aws
        self._stream: LogStream | None = None

    def read(self, logs: dict[str, Any] | None) -> list[str]:
        group = (logs or {}).get("groupName")
        stream = (logs or {}).get("streamName")
        if not group or not stream:
            return []  # CodeBuild names the stream once the build is provisioned
        if self._stream is None:
            self._stream = LogStream(self._aws, group, stream)
        return self._stream.read()


def phase_problems(build: dict[str, Any]) -> list[str]:
    """What CodeBuild says went wrong, phase by phase (a failed download, a command's
    exit status), for when the log itself has no line on it."""
    problems = []
    for phase in build.get("phases") or []:
        for context in phase.get("contexts") or []:
            message = context.get("message")
            if message:
                status = context.get("statusCode", "")
                problems.append(f"{phase.get('phaseType')}: {status}: {message}")
    return problems


def _project_platform(app: App) -> Platform:
    """The project's own environment: the first remote build's platform. Each build passes
    its own, so an app with both platforms never flips the project back and forth."""
    platforms: list[Platform] = [s.build.platform for s in app.builds if s.build and s.build.remote]
    return platforms[0] if platforms else "linux/amd64"


class CodeBuild:
    """Runs an app's remote builds: one source bucket, project and role, many builds."""

    def __init__(
        self,
        aws: Aws,
        reporter: Reporter,
        app: App,
        *,
        poll_seconds: float,
        work_dir: Path | None = None,
    ) -> None:
        self._aws = aws
        self._reporter = reporter
        self._app = app
        self._poll = poll_seconds
        self._work_dir = work_dir
        self._ecr = Ecr(aws)
        self._account: str | None = None
        self._project: str | None = None

    def build(
        self,
        request: BuildRequest,
        repository: Repository,
        *,
        service: str,
        on_line: LineSink = ignore_line,
    ) -> str:
        """Build `request` in CodeBuild, pushed as `repository:request.tag`; the digest."""
        account = self._account_id()
        bucket = SourceBucket(self._aws, account, self._reporter)
        with tempfile.TemporaryDirectory(dir=self._work_dir, prefix="fargo-source-") as scratch:
            archive = SourceArchive.of(
                request.context, request.dockerfile_path, Path(scratch) / "source.zip"
            )
            key = bucket.upload(self._app.name, archive)
        project = self._ensure_project(account)
        remote = RemoteBuild(
            image=f"{repository.uri}:{request.tag}",
            platform=request.platform,
            dockerfile=dockerfile_in_archive(request.context, request.dockerfile_path),
            target=request.target,
            build_args=request.build_args,
        )
        wanted = environment(request.platform)
        started = self._aws.call(
            "codebuild",
            "start_build",
            projectName=project,
            sourceTypeOverride="S3",
            sourceLocationOverride=f"{bucket.name}/{key}",
            buildspecOverride=buildspec(remote),
            environmentVariablesOverride=environment_variables(remote),
            environmentTypeOverride=wanted["type"],
            imageOverride=wanted["image"],
            computeTypeOverride=wanted["computeType"],
            privilegedModeOverride=True,
        )["build"]
        build_id = str(started["id"])
        self._reporter.note(f"{service}: CodeBuild build {build_id} started")
        finished, lines = self._follow(service, build_id, on_line)
        status = finished.get("buildStatus")
        if status != SUCCEEDED:
            logs = finished.get("logs") or {}
            raise BuildFailed(
                f"building {service} in AWS CodeBuild ended {status}",
                hint=f"the lines above are the build's log (CloudWatch Logs group "
                f"{logs.get('groupName', '?')}, stream {logs.get('streamName', '?')}); "
                f"CodeBuild build {build_id}",
                builder="codebuild",
                builder_exit_code=FAILED_BUILD_EXIT_CODE,
                output=lines + phase_problems(finished),
            )
        digest = self._ecr.image_digest(repository.name, request.tag)
        if digest is None:
            raise FargoError(
                f"CodeBuild build {build_id} succeeded but {remote.image} is not in ECR",
                hint="the build pushes with `docker buildx build --push`; its log above says "
                "where the push went",
            )
        self._reporter.note(f"{service}: CodeBuild pushed {remote.image} ({digest})")
        return digest

    def _follow(
        self, service: str, build_id: str, on_line: LineSink
    ) -> tuple[dict[str, Any], list[str]]:
        """Poll the build to its end, passing on its log lines and phases as they come."""
        log = BuildLog(self._aws)
        lines: list[str] = []
        phase: str | None = None

        def relay(build: dict[str, Any]) -> None:
            for line in log.read(build.get("logs")):
                lines.append(line)
                on_line(line)

        deadline = self._aws.clock() + (TIMEOUT_MINUTES + QUEUE_ALLOWANCE_MINUTES) * 60
        try:
            while True:
                found = self._aws.call("codebuild", "batch_get_builds", ids=[build_id])["builds"]
                build: dict[str, Any] = found[0] if found else {}
                if build.get("currentPhase") and build.get("currentPhase") != phase:
                    phase = str(build["currentPhase"])
                    self._reporter.note(f"{service}: CodeBuild phase {phase}")
                relay(build)
                if build.get("buildStatus", IN_PROGRESS) != IN_PROGRESS:
                    # CodeBuild ships its last lines to CloudWatch shortly after it ends.
                    self._aws.sleep(self._poll)
                    relay(build)
                    return build, lines
                if self._aws.clock() > deadline:
                    self._stop(build_id)
                    raise FargoError(
                        f"CodeBuild build {build_id} did not finish within "
                        f"{TIMEOUT_MINUTES + QUEUE_ALLOWANCE_MINUTES} minutes; it was stopped",
                        hint="see the build in the CodeBuild console, then deploy again",
                    )
                self._aws.sleep(self._poll)
        except KeyboardInterrupt:
            self._stop(build_id)  # as with a local build: nothing runs on after Ctrl-C
            raise

    def _stop(self, build_id: str) -> None:
        with contextlib.suppress(FargoError):
            self._aws.call("codebuild", "stop_build", id=build_id)

    def _account_id(self) -> str:
        if self._account is None:
            self._account = str(self._aws.call("sts", "get_caller_identity")["Account"])
        return self._account

    def _ensure_project(self, account: str) -> str:
        if self._project is None:
            tags = {"fargo:app": self._app.name, "ManagedBy": "fargo"}
            self._project = CodeBuildProject(self._aws, account, self._reporter).ensure(
                self._app.name, _project_platform(self._app), tags
            )
        return self._project
