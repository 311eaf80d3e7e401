"""Environment overlays: `environments.<name>` is deep-merged over the base manifest.

Marks are merged the same way, so an error in an overridden value points at the overlay's
line, where the user wrote it.
"""

from __future__ import annotations

from typing import Any

from fargo.errors import ManifestError
from fargo.manifest.marks import Marks, YamlPath

ENVIRONMENTS = "environments"


def apply_overlay(data: dict[str, Any], env: str | None, marks: Marks) -> dict[str, Any]:
    base = {k: v for k, v in data.items() if k != ENVIRONMENTS}
    if env is None:
        return base
    environments = data.get(ENVIRONMENTS) or {}
    if not isinstance(environments, dict) or env not in environments:
        known = ", ".join(sorted(environments)) if isinstance(environments, dict) else ""
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
            [marks.problem((ENVIRONMENTS, env), "an environment must be a mapping of overrides")]
        )
    for key in (ENVIRONMENTS, "app"):
        if key in overlay:
            raise ManifestError(
                [
                    marks.problem(
                        (ENVIRONMENTS, env, key),
                        f"`{key}` cannot be overridden per environment",
                        "stack names derive from app and environment; set it once at the top",
                    )
                ]
            )
    _remap_marks(marks, (ENVIRONMENTS, env))
    return _merge(base, overlay)


def _merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _remap_marks(marks: Marks, prefix: YamlPath) -> None:
    """Re-key overlay lines as if they were written at the top level."""
    for path, line in list(marks.lines.items()):
        if path[: len(prefix)] == prefix and len(path) > len(prefix):
            marks.lines[path[len(prefix) :]] = line
