"""Image references as fargo pushes them: REGISTRY/REPOSITORY:TAG, the registry always named.

fargo never guesses a registry (no Docker Hub default): an image goes to the account's ECR
or to a registry the user wrote down.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from fargo.errors import InputError

# distribution's grammar (reference/regexp.go): path components and tags.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REPOSITORY = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_HINT = (
    "write it as REGISTRY/REPOSITORY:TAG, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:v1"
)


@dataclass(frozen=True)
class ImageReference:
    registry: str  # host, or host:port
    repository: str
    tag: str

    def __str__(self) -> str:
        return f"{self.registry}/{self.repository}:{self.tag}"

    @classmethod
    def parse(cls, text: str) -> ImageReference:
        registry, slash, rest = text.partition("/")
        if not slash or not _looks_like_host(registry):
            raise InputError(f"image reference {text!r} names no registry", hint=_HINT)
        if "@" in rest:
            raise InputError(
                f"image reference {text!r} has a digest; fargo pushes to a tag",
                hint=_HINT,
            )
        repository, colon, tag = rest.rpartition(":")
        if not colon or "/" in tag:
            raise InputError(f"image reference {text!r} has no tag", hint=_HINT)
        if not _REPOSITORY.match(repository) or len(repository) > 255:
            raise InputError(
                f"image reference {text!r}: {repository!r} is not a repository name",
                hint="lowercase letters, digits and single separators (. _ __ - /)",
            )
        if not _TAG.match(tag):
            raise InputError(
                f"image reference {text!r}: {tag!r} is not a tag",
                hint="up to 128 of letters, digits, _ . -, not starting with . or -",
            )
        return cls(registry, repository, tag)


def pinned(reference: str) -> tuple[str, str] | None:
    """The repository and digest of a digest-pinned `REGISTRY/REPOSITORY@DIGEST`, as deploy
    hands images to the stacks; None for a reference pinned to no digest."""
    name, at, digest = reference.partition("@")
    _, slash, repository = name.partition("/")
    return (repository, digest) if at and slash else None


def registry_host(registry: str) -> str:
    """The host part of host[:port] (IPv6 in brackets included)."""
    if registry.startswith("["):
        return registry[1 : registry.find("]")] if "]" in registry else registry
    return registry.rsplit(":", 1)[0] if registry.count(":") == 1 else registry


def is_loopback(registry: str) -> bool:
    host = registry_host(registry)
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _looks_like_host(part: str) -> bool:
    return "." in part or ":" in part or part == "localhost"
