"""Image references as Docker and ECS parse them (the grammar of distribution/reference).

`name[:tag][@digest]`, where name is `[registry/]path`. A bad reference otherwise passes
every check and fails when ECS pulls it, after the stacks changed.
"""

from __future__ import annotations

import re

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_REGISTRY = rf"(?:{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_PATH = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
_REGISTRY_RULE = re.compile(_REGISTRY)
_REMOTE = re.compile(rf"(?P<path>[^:@]+)(?::{_TAG})?(?:@{_DIGEST})?")
NAME_LIMIT = 255  # Docker's bound on the name (registry and path)
EXAMPLE = "e.g. nginx:1.27, ghcr.io/acme/api:2.1 or 1234.dkr.ecr.us-east-1.amazonaws.com/api:v3"


def reference_problem(ref: str) -> str | None:
    """Why `ref` is not an image reference, or None when it is one."""
    if not ref.strip():
        return "the image reference is empty"
    if ref != ref.strip() or any(c.isspace() for c in ref):
        return "an image reference has no spaces or line breaks"
    registry, _, rest = ref.partition("/") if _has_registry(ref) else ("", "", ref)
    match = _REMOTE.fullmatch(rest)
    if match is None or (registry and _REGISTRY_RULE.fullmatch(registry) is None):
        return "it is not of the form [REGISTRY/]NAME[:TAG][@DIGEST]"
    path = match.group("path")
    if path.lower() != path:
        return "repository names are lower-case"
    if _PATH.fullmatch(path) is None:
        return (
            f"`{path}` is not a repository name: lower-case letters and digits, separated "
            "by '.', '_', '__', '-' or '/'"
        )
    name_length = len(registry) + len(path) + (1 if registry else 0)
    return f"the name is longer than {NAME_LIMIT} characters" if name_length > NAME_LIMIT else None


def _has_registry(ref: str) -> bool:
    """Docker's rule: the first component is a registry when it has '.' or ':', or is
    localhost."""
    first, slash, _ = ref.partition("/")
    return bool(slash) and ("." in first or ":" in first or first == "localhost")
