#!/usr/bin/env python3
"""Write the fullstack example's image as an OCI image layout, with no container engine.

    python3 scripts/make-example-layout.py OUT_DIR [--force] [--cache-dir DIR]

`make demo` builds examples/fullstack/Dockerfile with buildah when it can install it. On a
machine without buildah (and without root to install it) it deploys this layout instead, with
`image: { layout: OUT_DIR }`. The layout holds what the Dockerfile's steps produce, made by
hand: the Debian python3.11 root filesystem of scripts/make-python-base.py, the packages of
requirements.txt installed by this machine's pip for the image's python (same version, same
architecture), the `app` user, and the app's code in /srv/app.

Only the standard library and pip are used; the .debs are cached as make-python-base.py caches
them, and the layer is written with fixed timestamps and owners (scripts/oci_layout.py).
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType

import debian_rootfs
import oci_layout
from oci_layout import PATH_ENV, ScriptError, clear

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "fullstack"
IMAGE_PYTHON = (3, 11)
SITE_PACKAGES = "usr/local/lib/python3.11/dist-packages"
APP_UID = 10001
# What the Dockerfile's ENV, WORKDIR, USER, EXPOSE and CMD say. The CMD runs uvicorn as a
# module: pip's console scripts would carry this machine's interpreter path.
CONFIG: dict[str, object] = {
    "Env": [
        PATH_ENV,
        "LANG=C.UTF-8",
        "PYTHONDONTWRITEBYTECODE=1",
        "PYTHONUNBUFFERED=1",
    ],
    "WorkingDir": "/srv",
    "User": f"{APP_UID}:{APP_UID}",
    "ExposedPorts": {"8000/tcp": {}},
    "Cmd": [
        "python3",
        "-m",
        "uvicorn",
        "app.main:app",
        "--host",
        "0.0.0.0",  # noqa: S104 - the task's port, reached only from the load balancer
        "--port",
        "8000",
        "--proxy-headers",
        "--forwarded-allow-ips",
        "*",
    ],
}


def python_base() -> ModuleType:
    """scripts/make-python-base.py, whose name is not an importable module name."""
    spec = importlib.util.spec_from_file_location(
        "make_python_base", Path(__file__).with_name("make-python-base.py")
    )
    if spec is None or spec.loader is None:
        raise ScriptError("scripts/make-python-base.py is missing", "restore it from git")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def image_python_version(debs: list[Path]) -> str:
    """The image's full python version, from its .deb name (python3.11-minimal_3.11.2-6_...).

    pip evaluates markers such as `python_full_version < "3.11.3"` for this version, not the
    one running it: redis needs async-timeout below 3.11.3, and Debian 12 has 3.11.2."""
    for deb in debs:
        package, _, version = deb.name.partition("_")
        if package == "python3.11-minimal":
            return version.split("-", 1)[0].split("_", 1)[0]
    raise ScriptError("no python3.11-minimal among the base's packages", "rerun with apt lists")


def install_requirements(root: Path, python_version: str) -> None:
    """`RUN pip install -r requirements.txt`, done by this machine's pip for the image."""
    if sys.version_info[:2] != IMAGE_PYTHON:
        raise ScriptError(
            f"the image's python is {'.'.join(map(str, IMAGE_PYTHON))}, this one is "
            f"{sys.version_info.major}.{sys.version_info.minor}",
            "run this script with python3.11, whose wheels fit the image",
        )
    target = root / SITE_PACKAGES
    target.mkdir(parents=True, exist_ok=True)
    _pip_install(target, python_version, "-r", str(EXAMPLE / "requirements.txt"))
    # pip evaluates markers for the python running it; add what the image's python needs.
    while missing := _missing_for(target, python_version):
        _pip_install(target, python_version, *missing)
    # Console scripts and their interpreter paths belong to this machine, not the image.
    shutil.rmtree(target / "bin", ignore_errors=True)


def _missing_for(target: Path, python_version: str) -> list[str]:
    """Requirements of the installed packages that hold on `python_version` but are absent."""
    from importlib.metadata import distributions  # noqa: PLC0415

    from pip._vendor.packaging.requirements import Requirement  # noqa: PLC0415
    from pip._vendor.packaging.utils import canonicalize_name  # noqa: PLC0415

    installed = list(distributions(path=[str(target)]))
    names = {canonicalize_name(d.metadata["Name"]) for d in installed}
    environment = {"python_full_version": python_version, "python_version": python_version[:4]}
    missing: set[str] = set()
    for dist in installed:
        for line in dist.requires or []:
            requirement = Requirement(line)
            if canonicalize_name(requirement.name) in names:
                continue
            # Extras the example did not ask for stay out, as pip would leave them.
            marker = requirement.marker
            if marker is None or marker.evaluate({**environment, "extra": ""}):
                requirement.marker = None
                missing.add(str(requirement))
    return sorted(missing)


def _pip_install(target: Path, python_version: str, *requirements: str) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-compile",
            "--disable-pip-version-check",
            "--only-binary=:all:",
            "--python-version",
            python_version,
            "--implementation",
            "cp",
            "--target",
            str(target),
            *requirements,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise ScriptError(
            f"pip could not install the example's requirements:\n{result.stderr.strip()}",
            "PyPI must be reachable (or a pip index configured with PIP_INDEX_URL)",
        )


def add_app(root: Path) -> None:
    """`RUN useradd ... app` and `COPY app ./app`."""
    with (root / "etc/passwd").open("a") as passwd:
        passwd.write(f"app:x:{APP_UID}:{APP_UID}::/nonexistent:/usr/sbin/nologin\n")
    with (root / "etc/group").open("a") as group:
        group.write(f"app:x:{APP_UID}:\n")
    shutil.copytree(
        EXAMPLE / "app",
        root / "srv/app",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )


def write_layout(out_dir: Path, cache: Path) -> str:
    base = python_base()
    debs = base.debs(cache)
    with tempfile.TemporaryDirectory(prefix="fargo-example-image-") as scratch:
        root = Path(scratch) / "rootfs"
        root.mkdir()
        base.assemble(debs, root, [])
        install_requirements(root, image_python_version(debs))
        add_app(root)
        tar = debian_rootfs.layer_tar(root)
    return oci_layout.write_layout(
        out_dir,
        "latest",
        tar,
        config=CONFIG,
        created_by="fargo make-example-layout: examples/fullstack/Dockerfile's steps, by hand",
        compresslevel=6,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path, help="directory to write the OCI layout into")
    parser.add_argument("--force", action="store_true", help="replace OUT_DIR if it exists")
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="where the .debs are kept (~/.cache/fargo/debs)",
    )
    args = parser.parse_args(argv)
    try:
        clear(args.out_dir, force=args.force)
        cache = args.cache_dir or debian_rootfs.default_cache_dir()
        digest = write_layout(args.out_dir, cache)
    except ScriptError as error:
        sys.stderr.write(f"make-example-layout: {error}\n  hint: {error.hint}\n")
        return 1
    print(f"{args.out_dir}: {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
