"""Templates with null values are refused up front, as AWS refuses them.

Gap (ministack 1.5.33): a null anywhere in a template is accepted. AWS answers
CreateStack, UpdateStack and CreateChangeSet with a ValidationError
("[/Resources/X/DependsOn] 'null' values are not allowed in templates");
ministack goes on, and a null DependsOn crashes its deploy task with a
TypeError that leaves the stack IN_PROGRESS for good, with no failure event.
"""

from collections.abc import Callable
from typing import Any

from ._ministack import SUPPORTED_VERSION, PatchError, attr, module, replace

# The modules that imported the parser by name, each holding its own reference.
_PARSER_HOLDERS = (
    "ministack.services.cloudformation.engine",
    "ministack.services.cloudformation.changesets",
    "ministack.services.cloudformation.handlers",
)


def _null_path(value: Any, path: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    """Where the first null in a parsed template is, as AWS spells the path."""
    if value is None:
        return path
    if isinstance(value, dict):
        children = [(str(k), v) for k, v in value.items()]
    elif isinstance(value, list):
        children = [(str(i), v) for i, v in enumerate(value)]
    else:
        return None
    for key, child in children:
        found = _null_path(child, (*path, key))
        if found is not None:
            return found
    return None


def _refusing_nulls(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse_template(template_body: str) -> Any:
        template = parse(template_body)
        path = _null_path(template)
        if path is not None:
            # ministack prefixes parse errors with "Template format error: ".
            raise ValueError(f"[/{'/'.join(path)}] 'null' values are not allowed in templates")
        return template

    return parse_template


def refuse_null_values() -> None:
    """Closes the gap in the module docstring, wherever a template is parsed."""
    original = attr(module(_PARSER_HOLDERS[0]), "_parse_template")
    wrapped = _refusing_nulls(original)
    for name in _PARSER_HOLDERS:
        holder = module(name)
        if attr(holder, "_parse_template") is not original:
            raise PatchError(
                f"ministack {SUPPORTED_VERSION} internals moved: {name}._parse_template "
                "is not the engine's parser"
            )
        replace(holder, "_parse_template", wrapped)
