"""Building blocks every manifest model shares."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict
from pydantic_core import PydanticCustomError

NAME_RULE = re.compile(r"^[a-z][a-z0-9-]*$")


def invalid(message: str, hint: str) -> PydanticCustomError:
    """A manifest problem: what is wrong, and (always) what to do about it."""
    return PydanticCustomError("fargo", message, {"hint": hint})


class Strict(BaseModel):
    # defer_build: a model's validator is built on its first use, not at import. Built
    # eagerly, each of the ~20 models gets a validator of its own, though most are only
    # ever validated inside `Manifest`'s, which embeds their schemas: wasted on every run.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


def name_rule(value: str, what: str, limit: int) -> str:
    if not NAME_RULE.fullmatch(value) or len(value) > limit or value.endswith("-"):
        raise invalid(
            f"{what} `{value}` is not a valid name",
            f"use lowercase letters, digits and '-', start with a letter, at most {limit} "
            "characters (it becomes part of AWS resource names)",
        )
    return value


def _not_a_boolean(value: object) -> object:
    # pydantic takes `true` as 1 for an int field (lax mode); a manifest means no such thing.
    # Strings stay accepted: `port: ${PORT}` is a string until validated.
    if isinstance(value, bool):
        raise invalid(
            f"`{str(value).lower()}` is a boolean, not a number",
            "write a number (YAML's true is not 1 here)",
        )
    return value


Int = Annotated[int, BeforeValidator(_not_a_boolean)]
Number = Annotated[float, BeforeValidator(_not_a_boolean)]
