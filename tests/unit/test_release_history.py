"""The release record: its JSON round trip, its keys, and which releases pruning forgets."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

from fargo.aws.facade import Aws
from fargo.images.ecr import Ecr
from fargo.manifest.load import parse_manifest
from fargo.model import build_app
from fargo.release.history import (
    GitCommit,
    Release,
    git_commit,
    release_key,
    release_number,
    release_prefix,
    to_prune,
)
from fargo.release.images import release_tag, untag_pruned_releases
from tests.unit.stubbed_aws import stubbed

RELEASE = Release(
    app="shop",
    env="prod",
    manifest_digest="sha256:" + "a" * 64,
    images={"web": "1.dkr.ecr.us-east-1.amazonaws.com/shop/web@sha256:" + "b" * 64},
    services_template={"Resources": {"Web": {"Type": "AWS::ECS::Service"}}},
    services_parameters={"WebImage": "x@sha256:" + "b" * 64},
    git=GitCommit("c" * 40, dirty=True),
    number=7,
    time="2025-01-02T03:04:05Z",
)


def test_a_release_survives_its_json() -> None:
    assert Release.from_json(RELEASE.to_json()) == RELEASE


def test_content_leaves_out_number_and_time() -> None:
    later = Release.from_json({**RELEASE.to_json(), "number": 8, "time": "2025-02-01T00:00:00Z"})
    assert later.content() == RELEASE.content()
    other = Release.from_json({**RELEASE.to_json(), "images": {"web": "y@sha256:" + "d" * 64}})
    assert other.content() != RELEASE.content()


def test_keys_sort_in_number_order() -> None:
    # S3 lists keys in byte order: zero-padding makes that the number order.
    keys = [release_key("shop", "prod", n) for n in (1, 2, 10, 100, 9)]
    assert keys[0] == "releases/shop/prod/00000001.json"
    assert sorted(keys) == [release_key("shop", "prod", n) for n in (1, 2, 9, 10, 100)]


def test_release_numbers_are_read_back_from_keys_only_under_the_prefix() -> None:
    prefix = release_prefix("shop", "prod")
    assert release_number(release_key("shop", "prod", 42), prefix) == 42
    assert release_number("releases/shop/prod/notes.txt", prefix) is None
    assert release_number("releases/shop/prod/x/00000001.json", prefix) is None
    assert release_number(release_key("shop", "prod-eu", 1), prefix) is None


def test_pruning_keeps_the_newest() -> None:
    assert to_prune(list(range(1, 51))) == []
    assert to_prune(list(range(1, 52))) == [1]
    assert to_prune([5, 3, 9, 1], keep=2) == [1, 3]


def test_release_tags_name_the_environment() -> None:
    # One repository holds a service's images for every environment; ECR tags are immutable.
    assert release_tag("prod", 3) != release_tag("staging", 3)
    assert release_tag("prod", 3).startswith("release-")


def test_git_commit_of_a_checkout(tmp_path: Path) -> None:
    assert git_commit(tmp_path) is None

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip()

    git("init", "-q")
    (tmp_path / "fargo.yml").write_text("app: shop\n")
    git("add", "fargo.yml")
    git("commit", "-qm", "first")
    head = git("rev-parse", "HEAD")
    assert git_commit(tmp_path) == GitCommit(head, dirty=False)
    (tmp_path / "fargo.yml").write_text("app: shop2\n")
    assert git_commit(tmp_path) == GitCommit(head, dirty=True)


def test_a_pruned_release_untags_fargos_repositories_and_notes_what_it_could_not(
    aws: Aws,
) -> None:
    """Its tag comes off the images in the app's own repositories it names, a service
    removed since included (`shop/old`); an image elsewhere or not pinned is not touched
    (the Stubber fails on any call not queued). ECR refusing is a note, not a failure."""
    manifest = "app: shop\nservices: { web: { image: nginx:1.27 } }\n"
    app = build_app(parse_manifest(manifest, "fargo.yml", None, {}))
    tag = release_tag("default", 7)
    image = {"imageDigest": "sha256:" + "b" * 64, "imageTag": tag}
    old = "1.dkr.ecr.us-east-1.amazonaws.com/shop/old@sha256:" + "e" * 64
    pruned = replace(
        RELEASE,
        images={
            **RELEASE.images,
            "old": old,
            "cache": "1.dkr.ecr.us-east-1.amazonaws.com/other/cache@sha256:" + "f" * 64,
            "proxy": "nginx:1.27",
        },
    )
    with stubbed(aws, "ecr") as stub:
        for repository, answer in (("shop/old", None), ("shop/web", "AccessDeniedException")):
            stub.add_response(
                "describe_images",
                {
                    "imageDetails": [
                        {"imageDigest": image["imageDigest"], "imageTags": ["src-1", tag]}
                    ]
                },
                {"repositoryName": repository, "imageIds": [{"imageTag": tag}]},
            )
            request = {"repositoryName": repository, "imageIds": [{"imageTag": tag}]}
            if answer is None:
                stub.add_response(
                    "batch_delete_image",
                    {"imageIds": [image], "failures": []},
                    request,
                )
            else:
                stub.add_client_error("batch_delete_image", answer, "not allowed", 400, request)
        notes = untag_pruned_releases(Ecr(aws), app, [pruned])
    assert notes == [
        f"shop/web: could not take the tag {tag} of pruned release 7 off its image "
        "(AccessDeniedException); ECR keeps it until the lifecycle policy's cap of release images"
    ]
