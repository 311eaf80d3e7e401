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


def load_yaml(text: str, file: str) -> tuple[Any, Marks]:
    """Parse `text`; return plain data and the marks. Duplicate keys are an error, not a
    silent overwrite, because a repeated `services:` would drop half a manifest."""
    marks = Marks(file)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return {}, marks
        problems: list[ManifestProblem] = []
        data = _build(node, (), loader, marks, problems)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        # At end of input PyYAML points one line past the text; name the last real line.
        line = min(mark.line + 1, max(text.count("\n"), 1)) if mark else None
        reason = exc.problem or exc.context or "invalid YAML"
        raise ManifestError(
            [
                ManifestProblem(
                    file,
                    line,
                    "",
                    f"not valid YAML: {reason}",
                    "check indentation and quoting near this line",
                )
            ]
        ) from None
    except yaml.YAMLError as exc:
        raise ManifestError(
            [ManifestProblem(file, None, "", f"not valid YAML: {exc}", None)]
        ) from None
    finally:
        loader.dispose()
    if problems:
        raise ManifestError(problems)
    return data, marks


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
