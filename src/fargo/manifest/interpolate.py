"""`${VAR}` and `${VAR:-default}` in string values, from the process environment.

Interpolation happens on parsed values, never on raw text, so a variable can't inject YAML
structure. `$${` escapes a literal `${`. Any other `${` that is not a reference (`${BAD-NAME}`, an
unclosed `${A`) is an error rather than text kept as written: it is almost always a typo.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from fargo.errors import ManifestError, ManifestProblem
from fargo.manifest.marks import Marks, YamlPath

_VAR = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{([^}]*)\}?")


def interpolate(data: Any, env: Mapping[str, str], marks: Marks) -> Any:
    problems: list[ManifestProblem] = []
    result = _walk(data, (), env, marks, problems)
    if problems:
        raise ManifestError(problems)
    return result


def _walk(
    value: Any,
    path: YamlPath,
    env: Mapping[str, str],
    marks: Marks,
    problems: list[ManifestProblem],
) -> Any:
    if isinstance(value, dict):
        return {k: _walk(v, (*path, k), env, marks, problems) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, (*path, i), env, marks, problems) for i, v in enumerate(value)]
    if isinstance(value, str) and "${" in value:
        return _substitute(value, path, env, marks, problems)
    return value


def _substitute(
    text: str, path: YamlPath, env: Mapping[str, str], marks: Marks, problems: list[ManifestProblem]
) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        name, default = match.group(1), match.group(2)
        if name is None:
            problems.append(
                marks.problem(
                    path,
                    f"`{match.group(0)}` is not a variable reference",
                    "write ${NAME} or ${NAME:-default}: a name of letters, digits and _, not "
                    "starting with a digit; $${ writes a literal ${",
                )
            )
            return match.group(0)
        if name in env:
            return env[name]
        if default is not None:
            return default
        problems.append(
            marks.problem(
                path,
                f"environment variable {name} is not set",
                f"export {name}=... before running fargo, or write ${{{name}:-default}}",
            )
        )
        return ""

    return _VAR.sub(replace, text)
