"""CloudFormation logical ids from the manifest's names (pure: no template library)."""

from __future__ import annotations

import re


def logical_id(*parts: str) -> str:
    """`my-api`, `TaskDefinition` → `MyApiTaskDefinition`: CloudFormation ids are alphanumeric."""
    return "".join(
        word[:1].upper() + word[1:] for part in parts for word in re.split(r"[^A-Za-z0-9]+", part)
    )
