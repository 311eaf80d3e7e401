"""`tags:` as AWS's tagging rules allow them (the "Tag restrictions" every service documents).

At most 50 tags per resource, keys of 1-128 and values of 0-256 characters, letters,
digits, spaces and `_ . : / = + - @`, and no `aws:` prefix (any case) on a key or a value.
fargo puts tags of its own on the same resources, so it keeps room for them.
"""

from __future__ import annotations

import re

from fargo.manifest.base import invalid

PER_RESOURCE = 50
# fargo:app, fargo:env, fargo:preview, fargo:scope and a resource's Name.
FARGO_OWN = 5
USER_LIMIT = PER_RESOURCE - FARGO_OWN
KEY_LIMIT = 128
VALUE_LIMIT = 256
_CHARS = re.compile(r"[\w\s.:/=+\-@]*")
_RULES = "letters, digits, spaces and _ . : / = + - @"


def check_tags(tags: dict[str, str]) -> dict[str, str]:
    if len(tags) > USER_LIMIT:
        raise invalid(
            f"{len(tags)} tags; AWS allows {PER_RESOURCE} per resource and fargo adds its own",
            f"keep at most {USER_LIMIT} tags",
        )
    for key, value in tags.items():
        _check(key, "key", KEY_LIMIT)
        _check(value, "value", VALUE_LIMIT)
        if not key:
            raise invalid("a tag key cannot be empty", "give the tag a name")
        if key.lower().startswith("fargo:"):
            raise invalid(
                f"tag `{key}`: the `fargo:` prefix is fargo's own",
                "fargo finds its stacks by these tags; choose another prefix",
            )
    return tags


def _check(text: str, what: str, limit: int) -> None:
    if len(text) > limit:
        raise invalid(
            f"a tag {what} of {len(text)} characters; AWS allows {limit}",
            f"shorten it to at most {limit} characters",
        )
    if text.lower().startswith("aws:"):
        raise invalid(
            f"tag {what} `{text}`: the `aws:` prefix is reserved for AWS",
            "choose another prefix, e.g. team:",
        )
    if _CHARS.fullmatch(text) is None or "\n" in text or "\r" in text or "\t" in text:
        raise invalid(f"tag {what} `{text}` has a character AWS refuses in tags", f"use {_RULES}")
