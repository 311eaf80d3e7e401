"""Digest-pinned image references, as deploy hands images to the stacks: the repository and
digest they name, read in one place (release tags, local architecture notes)."""

from __future__ import annotations

from fargo.images.reference import pinned

DIGEST = "sha256:" + "a" * 64


def test_a_pinned_reference_names_its_repository_and_digest() -> None:
    ecr = f"123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/web@{DIGEST}"
    assert pinned(ecr) == ("shop/web", DIGEST)
    assert pinned(f"127.0.0.1:5000/shop/web@{DIGEST}") == ("shop/web", DIGEST)


def test_a_reference_pinned_to_no_digest_is_not_read() -> None:
    assert pinned("nginx:1.27") is None
    assert pinned("123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/web:v1") is None
    assert pinned(f"web@{DIGEST}") is None  # no registry, so no repository to name
    assert pinned("") is None
