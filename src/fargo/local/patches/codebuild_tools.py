"""Stand-ins for `aws` and `docker` inside a build the emulator runs (see codebuild.py).

CodeBuild's standard image has the AWS CLI and Docker with buildx; the emulator's host has
neither, and no Docker daemon. The shims `aws` and `docker` on the build's PATH run this
file, so the buildspecs written for CodeBuild run unchanged:

- `aws ecr get-login-password` prints the token the emulator's registry accepts for the
  build's account and region. Nothing else of the AWS CLI is offered.
- `docker login`, `docker build`, `docker buildx build [--push]`, `docker push` and
  `docker tag` run buildah, as root with chroot isolation, in a vfs storage of the
  emulator's own. A reference to an ECR repository host is rewritten to the emulator's
  registry on 127.0.0.1, spoken to over plain HTTP (`--tls-verify=false`); a Dockerfile's
  `FROM <ecr host>/...` is pulled from there too, through a registries.conf.

It runs with the emulator's python and imports only the standard library. Configuration
comes from the build's environment (`FARGO_EMULATOR_*`, set by codebuild.py).
"""

import base64
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ECR_HOST = re.compile(r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")
# `docker build` options and whether each takes a value.
_BUILD_OPTIONS = {
    "--platform": True,
    "-f": True,
    "--file": True,
    "--target": True,
    "--build-arg": True,
    "-t": True,
    "--tag": True,
    "--progress": True,
    "--provenance": True,
    "--sbom": True,
    "--label": True,
    "--push": False,
    "--load": False,
    "--pull": False,
    "--no-cache": False,
    "-q": False,
    "--quiet": False,
}
# Options with a value that buildah takes as docker does (under its own name).
_PASSED_ON = {
    "--platform": "--platform",
    "--target": "--target",
    "-f": "-f",
    "--file": "-f",
    "--build-arg": "--build-arg",
    "--label": "--label",
}
_FLAGS = {"--no-cache": "--no-cache", "--pull": "--pull=always", "-q": "-q", "--quiet": "-q"}
_EXIT_USAGE = 2
_EXIT_MISSING = 127


def _say(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _setting(name: str) -> str:
    value = os.environ.get(f"FARGO_EMULATOR_{name}")
    if not value:
        raise SystemExit(f"FARGO_EMULATOR_{name} is not set: run this only inside a build")
    return value


def rewrite_host(host: str) -> str:
    """An ECR repository host is the emulator's registry; any other host stays."""
    return _setting("REGISTRY") if ECR_HOST.match(host) else host


def rewrite(reference: str) -> str:
    """An image reference with an ECR repository host pointed at the emulator's registry."""
    host, slash, rest = reference.partition("/")
    return f"{rewrite_host(host)}/{rest}" if slash else reference


def _build_dir() -> Path:
    return Path(_setting("BUILD_DIR"))


def _authfile() -> Path:
    return _build_dir() / "auth.json"


def _buildah(*args: str) -> list[str]:
    executable = shutil.which("buildah")
    if executable is None:
        _say("docker (emulated): the emulator builds images with buildah, which is not installed")
        raise SystemExit(_EXIT_MISSING)
    root = Path(_setting("BUILDAH_ROOT"))
    return [
        executable,
        "--root",
        str(root / "root"),
        "--runroot",
        str(root / "run"),
        "--storage-driver",
        "vfs",
        "--registries-conf",
        str(_build_dir() / "registries.conf"),
        *args,
    ]


def _run(argv: Sequence[str]) -> int:
    sys.stdout.flush()
    return subprocess.run(list(argv), check=False, stdin=subprocess.DEVNULL).returncode


def _registry_options() -> list[str]:
    authfile = _authfile()
    return ["--tls-verify=false", *(["--authfile", str(authfile)] if authfile.exists() else [])]


# --- aws ------------------------------------------------------------------------------------


def aws(args: list[str]) -> int:
    words: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in {"--region", "--profile", "--output", "--endpoint-url"}:
            skip = True
        elif not arg.startswith("--"):
            words.append(arg)
    if words == ["ecr", "get-login-password"]:
        _out(_setting("ECR_PASSWORD"))
        return 0
    _say(
        "aws (emulated): only `aws ecr get-login-password` works in the emulator's builds; "
        "they have no AWS CLI"
    )
    return _EXIT_USAGE


# --- docker ---------------------------------------------------------------------------------


def _login(args: list[str]) -> int:
    user, password, server = "AWS", None, None
    it = iter(args)
    for arg in it:
        if arg in {"-u", "--username"}:
            user = next(it, "")
        elif arg.startswith("--username="):
            user = arg.partition("=")[2]
        elif arg in {"-p", "--password"}:
            password = next(it, "")
        elif arg == "--password-stdin":
            password = sys.stdin.read().strip()
        else:
            server = arg
    if not server or not password:
        _say("docker login (emulated): give a registry and --password-stdin")
        return _EXIT_USAGE
    registry = rewrite_host(server.removeprefix("https://").rstrip("/"))
    authfile = _authfile()
    auths = json.loads(authfile.read_text()) if authfile.exists() else {"auths": {}}
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    auths["auths"][registry] = {"auth": token}
    authfile.write_text(json.dumps(auths))
    authfile.chmod(0o600)
    _out("Login Succeeded")
    return 0


def _parse_build(args: list[str]) -> tuple[dict[str, list[str]], str] | None:
    options: dict[str, list[str]] = {}
    context: str | None = None
    i = 0
    while i < len(args):
        arg = args[i]
        name, eq, value = arg.partition("=")
        if _BUILD_OPTIONS.get(name):
            if not eq:
                i += 1
                if i == len(args):
                    _say(f"docker build (emulated): {name} needs a value")
                    return None
                value = args[i]
            options.setdefault(name, []).append(value)
        elif arg in _BUILD_OPTIONS:
            options.setdefault(arg, []).append("")
        elif arg.startswith("-"):
            _say(f"docker build (emulated): the option {arg} is not supported")
            return None
        elif context is None:
            context = arg
        else:
            _say(f"docker build (emulated): a second context {arg}")
            return None
        i += 1
    if context is None:
        _say("docker build (emulated): no build context given")
        return None
    return options, context


def _build(args: list[str]) -> int:
    parsed = _parse_build(args)
    if parsed is None:
        return _EXIT_USAGE
    options, context = parsed
    tags = [rewrite(t) for t in options.get("-t", []) + options.get("--tag", [])]
    bud = ["bud", "--layers", "--force-rm", *_registry_options()]
    if os.geteuid() == 0:  # as for fargo's own buildah builds: no user namespaces needed
        bud += ["--isolation", "chroot"]
    for option, to in _PASSED_ON.items():
        bud += [word for value in options.get(option, []) for word in (to, value)]
    bud += [flag for option, flag in _FLAGS.items() if option in options]
    bud += [word for tag in tags for word in ("-t", tag)]
    code = _run(_buildah(*bud, context))
    if code != 0 or "--push" not in options:
        return code
    for tag in tags:
        code = _push(tag)
        if code != 0:
            return code
    return 0


def _push(reference: str) -> int:
    target = rewrite(reference)
    _out(f"pushing {target}")
    return _run(_buildah("push", *_registry_options(), target, f"docker://{target}"))


def docker(args: list[str]) -> int:
    command, rest = (args[0], args[1:]) if args else ("", [])
    if command == "buildx":
        command, rest = (f"buildx {rest[0]}", rest[1:]) if rest else ("buildx", [])
    if command == "login":
        return _login(rest)
    if command in {"build", "buildx build"}:
        return _build(rest)
    if command == "push" and len(rest) == 1:
        return _push(rest[0])
    if command == "tag" and len(rest) == 2:
        return _run(_buildah("tag", rewrite(rest[0]), rewrite(rest[1])))
    if command in {"version", "info", "buildx version"}:
        _out("docker (emulated with buildah on the emulator's host)")
        return _run(_buildah("version"))
    _say(
        f"docker (emulated): `docker {' '.join(args)}` is not offered; the emulator's builds "
        "have login, build, buildx build, push and tag"
    )
    return _EXIT_USAGE


def main(argv: list[str]) -> int:
    tool, args = (argv[0], argv[1:]) if argv else ("", [])
    if tool == "aws":
        return aws(args)
    if tool == "docker":
        return docker(args)
    _say(f"usage: {Path(__file__).name} aws|docker ARGS...")
    return _EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
