"""CodeBuild's StartBuild really runs the build, on the emulator's host.

Gap (ministack 1.5.33): StartBuild records a build that SUCCEEDED at once and runs
nothing, unless MINISTACK_CODEBUILD_EXECUTE=1 and a Docker daemon are there, for AWS's
local build agent. It also ignores StartBuild's overrides: the source, the buildspec,
the environment variables and the build image. A remote image build
(`build: { remote: codebuild }`) would "succeed" with nothing pushed.

Now StartBuild honours those overrides and a worker thread runs the build the way
CodeBuild does: the S3 source zip is read from the emulator's own S3 store and unpacked
into a scratch directory ($CODEBUILD_SRC_DIR), and the buildspec's phases `install`,
`pre_build`, `build` and `post_build` run command by command with `sh -c`, with the
build's environment variables (buildspec, project, then StartBuild's). A failed
`install` or `pre_build` skips the rest; a failed `build` still runs `post_build`, as on
CodeBuild. Every line goes to the build's CloudWatch Logs stream, each phase is recorded
as it ends, and the build ends SUCCEEDED, FAILED, STOPPED or TIMED_OUT as ministack's
Docker path ends it.

The emulator has no Docker, and its host is not CodeBuild's standard image: the tools
that image provides are stood in for by shims first on the build's PATH
(`codebuild_tools.py`). `aws ecr get-login-password` answers the token the emulator's
registry accepts (see `ecr_registry.py`); `docker login`, `docker build`,
`docker buildx build [--push]`, `docker push` and `docker tag` are done with buildah
(chroot isolation, vfs storage of the emulator's own), and an ECR repository host
(`<account>.dkr.ecr.<region>.amazonaws.com`) is rewritten to the emulator's registry on
127.0.0.1, spoken to over plain HTTP.
"""

import base64
import contextlib
import contextvars
import copy
import io
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from ._ministack import attr, module, replace
from .ecr_registry import _token

PHASES = ("install", "pre_build", "build", "post_build")
# A failure in one of these skips the build; one in `build` still runs post_build.
_SKIP_ON_FAILURE = {"install", "pre_build"}
_TOOLS = Path(__file__).with_name("codebuild_tools.py")
_USED_INTERNALS = (
    "_record_phase",
    "_finish_build",
    "_timeout_seconds",
    "_stop_requested",
    "_clear_stopped",
    "_log_sink",
    "get_account_id",
    "get_region",
    "json_response",
    "error_response_json",
)
_RUNNING: dict[str, "_BuildRun"] = {}
_RUNNING_LOCK = threading.Lock()

Record = dict[str, Any]


def _registry_address() -> str:
    """Where the emulator's registry listens: its own HTTP port on loopback."""
    host = os.environ.get("BIND_HOST") or "127.0.0.1"
    if host in {"0.0.0.0", "::", ""}:  # noqa: S104 - a wildcard bind is reached on loopback
        host = "127.0.0.1"
    port = os.environ.get("GATEWAY_PORT") or os.environ.get("EDGE_PORT") or "4566"
    return f"{host}:{port}"


def _scratch() -> Path:
    """The emulator's scratch space for builds; buildah's storage persists there so base
    images and unchanged steps are not fetched and run again on every build."""
    root = Path(tempfile.gettempdir()) / "fargo-codebuild"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _stamp() -> str:
    now = time.time()
    return time.strftime("%Y/%m/%d %H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1e6):06d}"


def effective_project(project: Record, data: Record) -> Record:
    """The project as this one build sees it, with StartBuild's overrides applied."""
    effective = copy.deepcopy(project)
    source = dict(effective.get("source") or {})
    if data.get("sourceTypeOverride"):
        source = {"type": data["sourceTypeOverride"]}
    if data.get("sourceLocationOverride"):
        source["location"] = data["sourceLocationOverride"]
    if data.get("buildspecOverride"):
        source["buildspec"] = data["buildspecOverride"]
    effective["source"] = source
    environment = dict(effective.get("environment") or {})
    for override, key in (
        ("environmentTypeOverride", "type"),
        ("imageOverride", "image"),
        ("computeTypeOverride", "computeType"),
        ("privilegedModeOverride", "privilegedMode"),
    ):
        if override in data:
            environment[key] = data[override]
    variables = {v.get("name"): v for v in environment.get("environmentVariables") or []}
    for variable in data.get("environmentVariablesOverride") or []:
        variables[variable.get("name")] = variable
    environment["environmentVariables"] = list(variables.values())
    effective["environment"] = environment
    if data.get("timeoutInMinutesOverride"):
        effective["timeoutInMinutes"] = data["timeoutInMinutesOverride"]
    return effective


def parse_buildspec(text: str, yaml: Any) -> Record:
    """A buildspec's phases and variables; JSON is read as the YAML it also is."""
    try:
        spec = json.loads(text)
    except ValueError:
        spec = yaml.safe_load(text)
    if not isinstance(spec, dict) or not isinstance(spec.get("phases") or {}, dict):
        # A ValueError like the parser's own: both are the build's YAML_FILE_ERROR.
        raise ValueError("the buildspec is not a mapping with a `phases` mapping")  # noqa: TRY004
    for phase in PHASES:
        commands = ((spec.get("phases") or {}).get(phase) or {}).get("commands") or []
        if not isinstance(commands, list) or not all(isinstance(c, str) for c in commands):
            raise ValueError(f"phases.{phase}.commands is not a list of strings")
    return spec


def unpack_source(data: bytes, into: Path) -> None:
    """Unzip a source archive, keeping executable bits, refusing paths that leave `into`."""
    root = into.resolve()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            target = (root / info.filename).resolve()
            if not target.is_relative_to(root):
                raise ValueError(f"the source archive holds a path outside it: {info.filename}")
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as source, target.open("wb") as out:
                shutil.copyfileobj(source, out)
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                target.chmod(mode)


def _write_shims(directory: Path) -> None:
    directory.mkdir(parents=True)
    for tool in ("aws", "docker"):
        shim = directory / tool
        shim.write_text(
            "#!/bin/sh\n"
            f'exec {shlex.quote(sys.executable)} {shlex.quote(str(_TOOLS))} {tool} "$@"\n'
        )
        shim.chmod(0o755)


def _registries_conf(path: Path, ecr_host: str, registry: str) -> None:
    """Images named by their ECR host (a Dockerfile's FROM) are pulled from the emulator."""
    path.write_text(
        f'[[registry]]\nprefix = "{ecr_host}"\nlocation = "{registry}"\ninsecure = true\n'
    )


class _BuildRun:
    """One build, run on a worker thread inside the request's account and region."""

    def __init__(self, codebuild: ModuleType, s3: ModuleType, yaml: Any, build: Record) -> None:
        self._cb = codebuild
        self._s3 = s3
        self._yaml = yaml
        self._build = build
        self._process: subprocess.Popen[str] | None = None
        self._timed_out = threading.Event()
        self._emit: Callable[[str], None] = attr(codebuild, "_log_sink")(build)

    @property
    def _id(self) -> str:
        return str(self._build["id"])

    def log(self, line: str) -> None:
        self._emit(line)

    def note(self, text: str) -> None:
        self.log(f"[Container] {_stamp()} {text}")

    def enter(self, phase: str) -> None:
        self._build["phases"].append({"phaseType": phase, "startTime": int(time.time())})
        self._build["currentPhase"] = phase

    def end(self, phase: str, status: str, problem: str | None = None, code: str = "") -> None:
        attr(self._cb, "_record_phase")(self._build, phase, status)
        if problem is not None:
            for record in reversed(self._build["phases"]):
                if record["phaseType"] == phase:
                    record["contexts"] = [{"statusCode": code, "message": problem}]
                    break

    def stop(self) -> None:
        """Kill the command that runs now; the run then ends as stopped or timed out."""
        process = self._process
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)

    def _time_out(self) -> None:
        self._timed_out.set()
        self.stop()

    def _interrupted(self) -> str | None:
        if attr(self._cb, "_stop_requested")(self._id):
            return "STOPPED"
        if self._timed_out.is_set():
            return "TIMED_OUT"
        return None

    def run(self, project: Record) -> None:
        timeout = threading.Timer(attr(self._cb, "_timeout_seconds")(project), self._time_out)
        timeout.daemon = True
        timeout.start()
        work = Path(tempfile.mkdtemp(prefix="build-", dir=_scratch()))
        try:
            status = self._run(project, work)
        except Exception as error:  # noqa: BLE001 - a bug here must end the build, not hang it
            self.note(f"emulator fault: {type(error).__name__}: {error}")
            status = "FAULT"
        finally:
            timeout.cancel()
            shutil.rmtree(work, ignore_errors=True)
            with _RUNNING_LOCK:
                _RUNNING.pop(self._id, None)
            attr(self._cb, "_clear_stopped")(self._id)
        self.end("FINALIZING", "SUCCEEDED")
        attr(self._cb, "_finish_build")(self._build, status)
        self._build["buildComplete"] = True
        self.note(f"Phase complete: COMPLETED State: {status}")

    def _run(self, project: Record, work: Path) -> str:
        self.end("QUEUED", "SUCCEEDED")
        self.enter("PROVISIONING")
        source_dir = work / "src"
        source_dir.mkdir()
        _write_shims(work / "bin")
        registry = _registry_address()
        account, region = self._cb.get_account_id(), self._cb.get_region()
        ecr_host = f"{account}.dkr.ecr.{region}.amazonaws.com"
        _registries_conf(work / "registries.conf", ecr_host, registry)
        self.end("PROVISIONING", "SUCCEEDED")

        self.enter("DOWNLOAD_SOURCE")
        source = project.get("source") or {}
        problem = self._download(source, source_dir)
        if problem is not None:
            self.note(f"CLIENT_ERROR: {problem}")
            self.end("DOWNLOAD_SOURCE", "FAILED", problem, "CLIENT_ERROR")
            return "FAILED"
        try:
            spec = parse_buildspec(self._buildspec_text(source, source_dir), self._yaml)
        except (OSError, ValueError) as error:
            self.note(f"YAML_FILE_ERROR: {error}")
            self.end("DOWNLOAD_SOURCE", "FAILED", str(error), "YAML_FILE_ERROR")
            return "FAILED"
        self.end("DOWNLOAD_SOURCE", "SUCCEEDED")

        password = base64.b64decode(_token(account, region)).decode().partition(":")[2]
        env = self._environment(project, spec, source_dir, work)
        env.update(
            {
                "FARGO_EMULATOR_REGISTRY": registry,
                "FARGO_EMULATOR_ECR_HOST": ecr_host,
                "FARGO_EMULATOR_ECR_PASSWORD": password,
                "FARGO_EMULATOR_BUILDAH_ROOT": str(_scratch() / "buildah"),
                "FARGO_EMULATOR_BUILD_DIR": str(work),
            }
        )
        failed = False
        for phase in PHASES:
            if failed and phase != "post_build":
                continue
            status = self._phase(phase, spec, env, source_dir)
            interrupted = self._interrupted()
            if interrupted is not None:
                return interrupted
            if status != "SUCCEEDED":
                failed = True
                if phase in _SKIP_ON_FAILURE:
                    break
        return "FAILED" if failed else "SUCCEEDED"

    def _download(self, source: Record, into: Path) -> str | None:
        """None when the source is in place, else what went wrong, as CodeBuild says it."""
        kind = source.get("type", "NO_SOURCE")
        if kind == "NO_SOURCE":
            return None
        if kind != "S3":
            return f"source type {kind} is not run by the emulator, only S3"
        bucket, _, key = str(source.get("location") or "").partition("/")
        status, _, body = attr(self._s3, "_get_object")(bucket, key, {}, {})
        if status != 200 or not isinstance(body, bytes | bytearray):
            return f"no such source: s3://{bucket}/{key} (HTTP {status})"
        try:
            unpack_source(bytes(body), into)
        except (zipfile.BadZipFile, ValueError) as error:
            return f"the source s3://{bucket}/{key} is not a usable zip: {error}"
        self.note(f"Downloaded source s3://{bucket}/{key} into {into}")
        return None

    @staticmethod
    def _buildspec_text(source: Record, source_dir: Path) -> str:
        inline = source.get("buildspec") or ""
        if inline.strip():
            return str(inline)
        return (source_dir / "buildspec.yml").read_text()

    def _environment(
        self, project: Record, spec: Record, source_dir: Path, work: Path
    ) -> dict[str, str]:
        build = self._build
        region = self._cb.get_region()
        home = work / "home"
        home.mkdir()
        environment = project.get("environment") or {}
        env = {
            "PATH": f"{work / 'bin'}:{os.environ.get('PATH') or '/usr/bin:/bin'}",
            "HOME": str(home),
            "TMPDIR": str(work),
            "LANG": "C.UTF-8",
            "AWS_DEFAULT_REGION": region,
            "AWS_REGION": region,
            "CODEBUILD_BUILD_ID": build["id"],
            "CODEBUILD_BUILD_ARN": build["arn"],
            "CODEBUILD_BUILD_NUMBER": str(build["buildNumber"]),
            "CODEBUILD_BUILD_IMAGE": str(environment.get("image", "")),
            "CODEBUILD_INITIATOR": build["initiator"],
            "CODEBUILD_SRC_DIR": str(source_dir),
        }
        variables = (spec.get("env") or {}).get("variables") or {}
        env.update({str(k): str(v) for k, v in variables.items()})
        for variable in environment.get("environmentVariables") or []:
            env[str(variable.get("name"))] = str(variable.get("value", ""))
        return env

    def _phase(self, phase: str, spec: Record, env: dict[str, str], cwd: Path) -> str:
        name = phase.upper()
        self.enter(name)
        self.note(f"Entering phase {name}")
        commands = ((spec.get("phases") or {}).get(phase) or {}).get("commands") or []
        for command in commands:
            self.note(f"Running command {command}")
            code = self._command(command, env, cwd)
            if code != 0:
                problem = f"Error while executing command: {command}. Reason: exit status {code}"
                self.note(f"Command did not exit successfully {command} exit status {code}")
                status = self._interrupted() or "FAILED"
                self.note(f"Phase complete: {name} State: {status}")
                self.note(f"Phase context status code: COMMAND_EXECUTION_ERROR Message: {problem}")
                self.end(name, status, problem, "COMMAND_EXECUTION_ERROR")
                return status
        self.note(f"Phase complete: {name} State: SUCCEEDED")
        self.end(name, "SUCCEEDED")
        return "SUCCEEDED"

    def _command(self, command: str, env: dict[str, str], cwd: Path) -> int:
        if self._interrupted() is not None:
            return 1
        try:
            process = subprocess.Popen(
                ["sh", "-c", command],
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
                bufsize=1,
                start_new_session=True,  # its own group, so a stop ends what it started too
            )
        except OSError as error:
            self.log(f"sh: {error}")
            return 127
        self._process = process
        with process:
            assert process.stdout is not None  # noqa: S101 - stdout=PIPE above
            for line in process.stdout:
                self.log(line.rstrip("\r\n"))
        self._process = None
        return process.returncode


def run_builds() -> None:
    codebuild = module("ministack.services.codebuild")
    s3 = module("ministack.services.s3")
    # ministack reads YAML templates with PyYAML; a YAML buildspec is read with the same.
    yaml = attr(module("ministack.services.cloudformation.engine"), "yaml")
    projects = attr(codebuild, "_projects")
    builds = attr(codebuild, "_builds")
    # What a run calls later: checked now, so a moved internal stops the emulator at start.
    for used in _USED_INTERNALS:
        attr(codebuild, used)
    attr(s3, "_get_object")
    make_record = attr(codebuild, "_make_build_record")
    new_build_id = attr(codebuild, "_build_id")
    mark_stopped = attr(codebuild, "_mark_stopped")

    def start_build(data: Record) -> Any:
        name = data.get("projectName", "")
        project = projects.get(name) if name else None
        if project is None:
            return codebuild.error_response_json(
                "ResourceNotFoundException", f"Project not found: {name}", 400
            )
        effective = effective_project(project, data)
        build_id = new_build_id(name)
        build = make_record(effective, build_id, data.get("sourceVersion"))
        now = build["startTime"]
        build.pop("endTime", None)
        build["buildStatus"] = "IN_PROGRESS"
        build["buildComplete"] = False
        build["currentPhase"] = "QUEUED"
        build["phases"] = [
            {
                "phaseType": "SUBMITTED",
                "phaseStatus": "SUCCEEDED",
                "startTime": now,
                "endTime": now,
            },
            {"phaseType": "QUEUED", "startTime": now},
        ]
        builds[build_id] = build
        run = _BuildRun(codebuild, s3, yaml, build)
        with _RUNNING_LOCK:
            _RUNNING[build_id] = run
        # The stores are scoped by the request's account and region contextvars.
        context = contextvars.copy_context()
        threading.Thread(
            target=context.run, args=(run.run, effective), daemon=True, name=f"build {build_id}"
        ).start()
        return codebuild.json_response({"build": copy.deepcopy(build)})

    original_stop = attr(codebuild, "_stop_build")

    def stop_build(data: Record) -> Any:
        build_id = data.get("id", "")
        with _RUNNING_LOCK:
            run = _RUNNING.get(build_id)
        if run is not None:
            mark_stopped(build_id)
            run.stop()
        return original_stop(data)

    replace(codebuild, "_start_build", start_build)
    replace(codebuild, "_stop_build", stop_build)
