"""Image tags from the source: the git commit, plus a content hash when the tree is dirty, so
a tag always names exactly one build (ECR tags are immutable)."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

from fargo.model.app import ImageBuild


def image_tag(build: ImageBuild) -> str:
    """The source tag plus a short hash of the build's settings (Dockerfile, target, args,
    platform): repositories are shared by every environment and tags are immutable, so two
    builds of the same source with different settings must not share a tag."""
    settings = json.dumps(
        [build.dockerfile, build.target, list(build.args), build.platform], sort_keys=True
    )
    return f"{source_tag(Path(build.context))}-{hashlib.sha256(settings.encode()).hexdigest()[:6]}"


def source_tag(context: Path) -> str:
    commit = run_git(context, "rev-parse", "--short=12", "HEAD")
    if commit is None:
        return f"src-{_tree_hash(context, _all_files(context))}"
    changed = run_git(context, "status", "--porcelain", "--untracked-files=all", "--", ".")
    if not changed:
        return commit
    paths = [line[3:].split(" -> ")[-1] for line in changed.splitlines() if line.strip()]
    top = Path(run_git(context, "rev-parse", "--show-toplevel") or context)
    return f"{commit}-dirty-{_tree_hash(top, [top / p for p in paths])}"


def run_git(cwd: Path, *args: str) -> str | None:
    try:
        result = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def _all_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def _tree_hash(root: Path, files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(str(path.relative_to(root) if path.is_relative_to(root) else path).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes() if path.is_file() else b"<deleted>")
    return digest.hexdigest()[:12]
