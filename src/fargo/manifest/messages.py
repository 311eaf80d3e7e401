"""pydantic's validation errors in the manifest's words, each with a hint.

pydantic says "Input should be a valid dictionary or instance of ServiceSpec"; a user wrote
YAML, not Python, so every error type they can meet is put in YAML's terms here, and any
other keeps a hint that says where the reference is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic_core import ErrorDetails

from fargo.manifest.marks import YamlPath, escaped

REFERENCE = "the keys and values fargo accepts are listed in docs/architecture.md, §3"
# Type names pydantic puts in an error's location for a member of a union or a validator.
_TYPE_PARTS = frozenset({"str", "int", "float", "bool", "list", "dict", "tuple", "none"})


def where(err: ErrorDetails) -> YamlPath:
    """The YAML path of an error: pydantic's location minus its type and validator names."""
    out: list[str | int] = []
    for part in err["loc"]:
        if isinstance(part, str) and (
            part in _TYPE_PARTS or "[" in part or part in ("ref", "[key]")
        ):
            continue
        out.append("from" if part == "from_" else part)
    return tuple(out)


def is_key_error(err: ErrorDetails) -> bool:
    """The error is about a mapping's key (`env: { bad-name: x }`), not its value."""
    return "[key]" in err["loc"]


_KINDS: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (type(None), "empty (null)"),
    (bool, "true/false"),
    ((int, float), "a number"),
    (str, "a string"),
    (dict, "a mapping"),
    ((list, tuple), "a list"),
)


def kind_of(value: Any) -> str:
    """What a YAML value is, in YAML's words."""
    for types, name in _KINDS:
        if isinstance(value, types):
            return name
    return f"a {type(value).__name__}"


def shown(value: Any) -> str:
    """A short rendering of a scalar the user wrote, or what kind of value it is."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float) and len(str(value)) <= 80:
        return f"`{escaped(str(value))}`"
    return kind_of(value)


def _expects(what: str, example: str) -> Callable[[ErrorDetails], tuple[str, str]]:
    def describe(err: ErrorDetails) -> tuple[str, str]:
        value = err.get("input")
        if isinstance(value, bool) and what == "a whole number":
            return (
                f"{shown(value)} is a boolean, not a number",
                f"write a number, e.g. {example}: YAML's true is not 1 here",
            )
        return f"must be {what}, not {shown(value)}", f"for example {example}"

    return describe


def _bound(word: str, key: str) -> Callable[[ErrorDetails], tuple[str, str]]:
    def describe(err: ErrorDetails) -> tuple[str, str]:
        limit = (err.get("ctx") or {}).get(key)
        return (
            f"{shown(err.get('input'))} is too {word}: the {'least' if word == 'small' else 'most'}"
            f" allowed is {limit}",
            f"use a value {'at least' if word == 'small' else 'at most'} {limit}",
        )

    return describe


def _one_of(err: ErrorDetails) -> tuple[str, str]:
    expected = str((err.get("ctx") or {}).get("expected", "")).replace("'", "")
    return f"{shown(err.get('input'))} is not allowed here", f"use one of: {expected}"


def _pattern(err: ErrorDetails) -> tuple[str, str]:
    pattern = (err.get("ctx") or {}).get("pattern", "")
    return (
        f"{shown(err.get('input'))} does not have the form this key takes",
        f"it must match the regular expression {pattern}",
    )


_MAPPING = _expects("a mapping of keys", "`key: value` pairs indented under it, or { key: value }")
_DESCRIBE: dict[str, Callable[[ErrorDetails], tuple[str, str]]] = {
    "model_type": _MAPPING,
    "model_attributes_type": _MAPPING,
    "dict_type": _MAPPING,
    "int_type": _expects("a whole number", "8000 (no quotes)"),
    "int_parsing": _expects("a whole number", "8000 (no quotes)"),
    "int_from_float": _expects("a whole number", "2, not 2.5"),
    "float_type": _expects("a number", "0.5 or 4"),
    "float_parsing": _expects("a number", "0.5 or 4"),
    "bool_type": _expects("true or false", "true"),
    "bool_parsing": _expects("true or false", "true"),
    "string_type": _expects("a string", 'text; quote what YAML would read otherwise, e.g. "16"'),
    "list_type": _expects("a list", "[a, b] or one `- item` per line"),
    "tuple_type": _expects("a list", "[a, b] or one `- item` per line"),
    "greater_than_equal": _bound("small", "ge"),
    "greater_than": _bound("small", "gt"),
    "less_than_equal": _bound("large", "le"),
    "less_than": _bound("large", "lt"),
    "literal_error": _one_of,
    "enum": _one_of,
    "string_pattern_mismatch": _pattern,
    "string_too_long": _bound("long", "max_length"),
    "too_long": _bound("long", "max_length"),
}


def describe(err: ErrorDetails) -> tuple[str, str]:
    """(message, hint) for one of pydantic's errors about the manifest."""
    kind = err["type"]
    if kind == "fargo":
        ctx = err.get("ctx") or {}
        return err["msg"], str(ctx.get("hint") or REFERENCE)
    describer = _DESCRIBE.get(kind)
    if describer is not None:
        return describer(err)
    return f"{shown(err.get('input'))} is not valid here ({kind.replace('_', ' ')})", REFERENCE


def union(errs: list[ErrorDetails]) -> tuple[str, str]:
    """One message for a value that matched none of a union's types."""
    value = errs[0].get("input")
    wanted = []
    for err in errs:
        message, _ = describe(err)
        if message.startswith("must be "):
            wanted.append(message.removeprefix("must be ").split(", not ")[0])
    if not wanted:
        return describe(errs[0])
    return f"must be {' or '.join(dict.fromkeys(wanted))}, not {shown(value)}", REFERENCE
