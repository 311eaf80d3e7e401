"""Environment overlays: `environments.<name>` is deep-merged over the base manifest.

Marks are merged the same way, so an error in an overridden value points at the overlay's
line, where the user wrote it.
"""

from __future__ import annotations

from typing import Any

from fargo.errors import ManifestError
from fargo.manifest.marks import Marks, YamlPath

ENVIRONMENTS = "environments"


def environment_names(data: dict[str, Any]) -> list[str]:
    """The environments the manifest defines, in its order."""
    environments = data.get(ENVIRONMENTS)
    return [str(name) for name in environments] if isinstance(environments, dict) else []


def apply_overlay(
    data: dict[str, Any], env: str | None, marks: Marks
) -> tuple[dict[str, Any], Marks]:
    """The manifest `env` deploys, and its marks (the overlay's lines where it overrides)."""
    base = {k: v for k, v in data.items() if k != ENVIRONMENTS}
    if env is None:
        return base, marks
    environments = data.get(ENVIRONMENTS) or {}
    if not isinstance(environments, dict) or env not in environments:
        known = ", ".join(environment_names(data))
        raise ManifestError(
            [
                marks.problem(
                    (ENVIRONMENTS,) if ENVIRONMENTS in data else (),
                    f"environment `{env}` is not defined",
                    f"defined environments: {known}"
                    if known
                    else f"add `environments: {{ {env}: {{}} }}` to the manifest",
                )
            ]
        )
    overlay = environments[env] or {}
    if not isinstance(overlay, dict):
        raise ManifestError(
            [
                marks.problem(
                    (ENVIRONMENTS, env),
                    "an environment must be a mapping of overrides",
                    "write the keys it overrides under it, e.g. `prod: { profile: production }`",
                )
            ]
        )
    fixed = [key for key in (ENVIRONMENTS, "app") if key in overlay]
    if fixed:
        raise ManifestError(
            [
                marks.problem(
                    (ENVIRONMENTS, env, key),
                    f"`{key}` cannot be overridden per environment",
                    "stack names derive from app and environment; set it once at the top",
                )
                for key in fixed
            ]
        )
    return _merge(base, overlay), _remap_marks(marks, (ENVIRONMENTS, env))


def _merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _remap_marks(marks: Marks, prefix: YamlPath) -> Marks:
    """A copy of `marks` with the overlay's lines re-keyed as if written at the top level."""
    lines = dict(marks.lines)
    for path, line in marks.lines.items():
        if path[: len(prefix)] == prefix and len(path) > len(prefix):
            lines[path[len(prefix) :]] = line
    return Marks(marks.file, lines)
