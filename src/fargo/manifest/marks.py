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

    def problem(self, path: YamlPath, message: str, hint: str) -> ManifestProblem:
        """A problem at `path`, with a hint: every problem a user meets says what to do."""
        return ManifestProblem(
            self.file, self.line_of(path), escaped(dotted(path)), escaped(message), escaped(hint)
        )


def dotted(path: YamlPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


# Bounds on what a few KB of YAML can make: nesting depth (PyYAML composes recursively) and
# the number of values after aliases are expanded (an "alias bomb" of a few KB expands to
# billions). A real manifest is under ten levels deep and a few hundred values.
MAX_DEPTH = 64
MAX_VALUES = 10_000
_MERGE_TAG = "tag:yaml.org,2002:merge"
# Control characters in a message (a value's trailing newline) would break its line.
_ESCAPES = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F)} | {0x0A: "\\n", 0x09: "\\t"}


class Refused(yaml.MarkedYAMLError):
    """YAML the loader refuses to expand (too deep), with its own hint."""

    def __init__(self, problem: str, hint: str, mark: yaml.Mark | None) -> None:
        super().__init__(problem=problem, problem_mark=mark)
        self.hint = hint


class _Loader(yaml.SafeLoader):
    """SafeLoader, but `on`/`yes`/`no` stay strings (YAML 1.1 booleans surprise users), and
    nesting deeper than MAX_DEPTH is refused before Python's stack runs out."""

    depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise Refused(
                    f"values are nested more than {MAX_DEPTH} levels deep",
                    "a manifest is a few levels deep; check for unclosed or repeated [ and {",
                    self.peek_event().start_mark,  # type: ignore[no-untyped-call]
                )
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


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
    """Parse `text`; return plain data, the marks, and the problems found while building.

    A duplicate key is an error, not a silent overwrite, because a repeated `services:`
    would drop half a manifest; the first one is kept, so the rest of the manifest is still
    checked and every problem reported at once. A key merged in with `<<:` is overridden by
    one written beside it, as YAML's merge key says. Invalid YAML raises `ManifestError`.
    """
    marks = Marks(file)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            marks.lines[()] = 1
            return {}, marks, []
        marks.lines[()] = node.start_mark.line + 1
        problems: list[ManifestProblem] = []
        data = _Builder(loader, marks, problems).build(node, (), ())
    except yaml.MarkedYAMLError as exc:
        raise ManifestError([syntax_problem(exc, text, file)]) from None
    except yaml.reader.ReaderError as exc:
        raise ManifestError(
            [
                ManifestProblem(
                    file,
                    text.count("\n", 0, exc.position) + 1,
                    "",
                    f"not valid YAML: character {exc.character!r} is not allowed",
                    "delete it, or write it as an escape inside double quotes",
                )
            ]
        ) from None
    except yaml.YAMLError as exc:
        raise ManifestError(
            [
                ManifestProblem(
                    file, 1, "", f"not valid YAML: {exc}", "check the file is a YAML mapping"
                )
            ]
        ) from None
    finally:
        loader.dispose()
    return data, marks, problems


def escaped(text: str) -> str:
    """`text` on one line: control characters (a value's trailing newline) as escapes."""
    return text.translate(_ESCAPES)


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


class _Builder:
    """Plain data from composed nodes, with line marks, counting what aliases expand to."""

    def __init__(self, loader: _Loader, marks: Marks, problems: list[ManifestProblem]) -> None:
        self.loader = loader
        self.marks = marks
        self.problems = problems
        self.values = 0
        self.merged: dict[int, list[tuple[yaml.Node, yaml.Node, bool]]] = {}

    def refuse(self, path: YamlPath, message: str, hint: str) -> None:
        self.problems.append(self.marks.problem(path, message, hint))

    def build(self, node: yaml.Node, path: YamlPath, above: tuple[int, ...]) -> Any:
        self.values += 1
        if self.values > MAX_VALUES:
            # Stop here: what follows would be built from the same expansion. The line is
            # that of the top-level key: deeper ones are the anchors' lines, not the use's.
            raise ManifestError(
                [
                    self.marks.problem(
                        path[:1],
                        f"aliases (*name) expand this manifest beyond {MAX_VALUES} values",
                        "write the repeated part out, or use fewer nested aliases",
                    )
                ]
            )
        if id(node) in above:
            self.refuse(
                path,
                "an alias (*name) refers to a value that contains it",
                "an anchor's alias must be outside the anchored value",
            )
            return None
        if len(path) > MAX_DEPTH:
            self.refuse(
                path,
                f"values are nested more than {MAX_DEPTH} levels deep",
                "check the aliases (*name) used here",
            )
            return None
        inside = (*above, id(node))
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, path, inside)
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                child = (*path, index)
                self.marks.lines[child] = item.start_mark.line + 1
                items.append(self.build(item, child, inside))
            return items
        return self.loader.construct_object(node, deep=True)

    def mapping(self, node: yaml.MappingNode, path: YamlPath, inside: tuple[int, ...]) -> Any:
        out: dict[str, Any] = {}
        for key_node, value_node, merged in self.entries(node, path, inside):
            if not isinstance(key_node, yaml.ScalarNode):
                self.refuse(
                    path,
                    "a key must be a plain name, not a list or mapping",
                    f"line {key_node.start_mark.line + 1}: write `name: value`",
                )
                continue
            key = self.loader.construct_object(key_node, deep=True)
            key = str(key) if not isinstance(key, str) else key
            child = (*path, key)
            if key in out:
                if not merged:
                    self.problems.append(
                        ManifestProblem(
                            self.marks.file,
                            key_node.start_mark.line + 1,
                            dotted(child),
                            "duplicate key",
                            f"`{escaped(key)}` is already set on line {self.marks.lines[child]}; "
                            "keep one",
                        )
                    )
                continue
            self.marks.lines[child] = key_node.start_mark.line + 1
            out[key] = self.build(value_node, child, inside)
        return out

    def entries(
        self, node: yaml.MappingNode, path: YamlPath, inside: tuple[int, ...]
    ) -> list[tuple[yaml.Node, yaml.Node, bool]]:
        """The mapping's entries, those it writes first, then those `<<:` merges in (an
        earlier merged mapping before a later one): the first of a key wins. Merged entries
        are kept once per key and each mapping's are worked out once, so merges of merges
        stay linear."""
        known = self.merged.get(id(node))
        if known is not None:
            return known
        written: list[tuple[yaml.Node, yaml.Node, bool]] = []
        merged: list[tuple[yaml.Node, yaml.Node, bool]] = []
        for key_node, value_node in node.value:
            if key_node.tag != _MERGE_TAG:
                written.append((key_node, value_node, False))
                continue
            sources = (
                value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            )
            for source in sources:
                if not isinstance(source, yaml.MappingNode) or id(source) in inside:
                    self.problems.append(
                        ManifestProblem(
                            self.marks.file,
                            key_node.start_mark.line + 1,
                            dotted(path),
                            "`<<:` merges a mapping (an alias of one) or a list of them",
                            "write `<<: *name` where `&name` anchors a mapping outside this one",
                        )
                    )
                    continue
                merged += [
                    (key, value, True)
                    for key, value, _ in self.entries(source, path, (*inside, id(source)))
                ]
        seen = {_scalar_key(key) for key, _, _ in written}
        result = list(written)
        for entry in merged:
            key = _scalar_key(entry[0])
            if key is None or key not in seen:
                seen.add(key)
                result.append(entry)
        self.merged[id(node)] = result
        return result


def _scalar_key(node: yaml.Node) -> tuple[str, str] | None:
    return (node.tag, node.value) if isinstance(node, yaml.ScalarNode) else None
