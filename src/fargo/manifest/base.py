"""Building blocks every manifest model shares."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict
from pydantic_core import PydanticCustomError

NAME_RULE = re.compile(r"^[a-z][a-z0-9-]*$")


def invalid(message: str, hint: str | None = None) -> PydanticCustomError:
    return PydanticCustomError("fargo", message, {"hint": hint} if hint else None)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def name_rule(value: str, what: str, limit: int) -> str:
    if not NAME_RULE.match(value) or len(value) > limit or value.endswith("-"):
        raise invalid(
            f"{what} `{value}` is not a valid name",
            f"use lowercase letters, digits and '-', start with a letter, at most {limit} "
            "characters (it becomes part of AWS resource names)",
        )
    return value
