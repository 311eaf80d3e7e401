"""Load YAML keeping the line of every key and item, so errors can say `fargo.yml:LINE`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from fargo.errors import ManifestError, ManifestProblem

YamlPath = tuple[str | int, ...]


@dataclass
class Marks:
    """1-based line of each YAML path, for keys (mapping entries) and sequence items."""

    file: str
    lines: dict[YamlPath, int] = field(default_factory=dict)

    def line_of(self, path: YamlPath) -> int | None:
        """Line of `path`, or of its nearest ancestor that has one."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return None

    def problem(self, path: YamlPath, message: str, hint: str | None = None) -> ManifestProblem:
        return ManifestProblem(self.file, self.line_of(path), dotted(path), message, hint)


def dotted(path: YamlPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


class _Loader(yaml.SafeLoader):
    """SafeLoader, but `on`/`yes`/`no` stay strings: YAML 1.1 booleans surprise users."""


# Drop the YAML 1.1 bool resolver and re-add one that only knows true/false.
_Loader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def load_yaml(text: str, file: str) -> tuple[Any, Marks, list[ManifestProblem]]:
    """Parse `text`; return plain data, the marks, and the duplicate keys found.

    A duplicate key is an error, not a silent overwrite, because a repeated `services:`
    would drop half a manifest; the first one is kept, so the rest of the manifest is still
    checked and every problem reported at once. Invalid YAML raises `ManifestError`.
    """
    marks = Marks(file)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return {}, marks, []
        problems: list[ManifestProblem] = []
        data = _build(node, (), loader, marks, problems)
    except yaml.MarkedYAMLError as exc:
        raise ManifestError([syntax_problem(exc, text, file)]) from None
    except yaml.YAMLError as exc:
        raise ManifestError(
            [ManifestProblem(file, None, "", f"not valid YAML: {exc}", None)]
        ) from None
    finally:
        loader.dispose()
    return data, marks, problems


# PyYAML's contexts for a construct left open: the error surfaces where the parser gives up
# (often the end of the file), but the problem starts where the construct was opened.
_OPENED = {"flow sequence": "[ list", "flow mapping": "{ mapping", "quoted scalar": "quoted string"}


def syntax_problem(exc: yaml.MarkedYAMLError, text: str, file: str) -> ManifestProblem:
    """The line where a YAML syntax problem starts, and what it is."""
    problem, context = exc.problem or "", exc.context or ""
    mark, context_mark = exc.problem_mark, exc.context_mark
    last_line = max(text.count("\n"), 1)
    if "'\\t'" in problem and mark is not None:
        line_text = text.splitlines()[mark.line] if mark.line < len(text.splitlines()) else ""
        leading = line_text[: len(line_text) - len(line_text.lstrip(" \t"))]
        message = (
            "tabs are not allowed for indentation; use spaces"
            if mark.column < len(leading)
            else "a tab is not allowed here; use spaces"
        )
        return ManifestProblem(
            file, mark.line + 1, "", message, "replace the tab on this line with spaces"
        )
    opened = next((name for word, name in _OPENED.items() if context.endswith(word)), None)
    if context_mark is not None and opened is not None:
        where = f" on line {min(mark.line + 1, last_line)}" if mark is not None else ""
        return ManifestProblem(
            file,
            context_mark.line + 1,
            "",
            f"not valid YAML: the {opened} that starts here is not closed ({problem}{where})",
            "close it, or check the quotes, brackets and commas from this line on",
        )
    point = mark or context_mark
    # At end of input PyYAML points one line past the text; name the last real line.
    line = min(point.line + 1, last_line) if point else None
    return ManifestProblem(
        file,
        line,
        "",
        f"not valid YAML: {problem or context or 'invalid YAML'}",
        "check indentation and quoting near this line",
    )


def _build(
    node: yaml.Node,
    path: YamlPath,
    loader: _Loader,
    marks: Marks,
    problems: list[ManifestProblem],
) -> Any:
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            key = str(key) if not isinstance(key, str) else key
            child = (*path, key)
            if key in out:
                problems.append(
                    ManifestProblem(
                        marks.file,
                        key_node.start_mark.line + 1,
                        dotted(child),
                        "duplicate key",
                        f"`{key}` is already set on line {marks.lines[child]}; keep one",
                    )
                )
                continue
            marks.lines[child] = key_node.start_mark.line + 1
            out[key] = _build(value_node, child, loader, marks, problems)
        return out
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            child = (*path, index)
            marks.lines[child] = item.start_mark.line + 1
            items.append(_build(item, child, loader, marks, problems))
        return items
    return loader.construct_object(node, deep=True)
