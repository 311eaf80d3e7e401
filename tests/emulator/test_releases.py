"""Release history on the emulator: each deploy that changes what runs records a release in
the bootstrap stack's artifact bucket and tags its images; `fargo releases` lists them."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from fargo.aws.facade import CallCounter
from fargo.bootstrap import find_bootstrap
from fargo.images.ecr import Ecr
from fargo.release.history import ReleaseStore
from fargo.release.record import record_release
from tests.emulator.helpers import LOCK_WRITES, deployer, run_fargo
from tests.integration.layouts import random_layer, single_image_layout

MANIFEST = """\
app: rel
services:
  tool:
    image: { layout: ./image }
    command: [sh, -c, "sleep 60"]
"""


def image_of(app_dir: Path, seed: int) -> str:
    """A fresh one-layer image at ./image; its manifest digest."""
    layout = app_dir / "image"
    if layout.exists():
        for path in sorted(layout.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
    return single_image_layout(layout, [random_layer(1024, seed)]).digest


@pytest.fixture
def app_dir(tmp_path: Path, account: str) -> Path:
    del account
    (tmp_path / "fargo.yml").write_text(MANIFEST)
    return tmp_path


def releases_json(manifest: Path, endpoint: str) -> dict[str, Any]:
    done = run_fargo("releases", "-f", str(manifest), "--endpoint-url", endpoint, "--json")
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def tags_by_digest(aws: Any, repository: str) -> dict[str, set[str]]:
    images = aws("ecr").describe_images(repositoryName=repository)["imageDetails"]
    return {i["imageDigest"]: set(i.get("imageTags", [])) for i in images}


def test_two_deploys_make_releases_one_and_two(
    app_dir: Path, emulator_endpoint: str, aws: Any
) -> None:
    manifest = app_dir / "fargo.yml"
    assert releases_json(manifest, emulator_endpoint)["releases"] == []

    first = image_of(app_dir, seed=1)
    deployer(manifest, emulator_endpoint).deploy()
    second = image_of(app_dir, seed=2)
    deployer(manifest, emulator_endpoint).deploy()

    listed = releases_json(manifest, emulator_endpoint)
    assert (listed["app"], listed["env"]) == ("rel", "default")
    newest, oldest = listed["releases"]
    assert (newest["number"], oldest["number"]) == (2, 1)
    assert newest["images"]["tool"].endswith(f"/rel/tool@{second}")
    assert oldest["images"]["tool"].endswith(f"/rel/tool@{first}")
    assert newest["time"] >= oldest["time"]
    assert newest["git"] is None  # the manifest is in no git checkout

    # The record itself, as stored: the services template and the image it was given.
    bucket = find_bootstrap(deployer(manifest, emulator_endpoint).cloudformation)
    assert bucket is not None
    stored = aws("s3").get_object(
        Bucket=bucket.artifact_bucket, Key="releases/rel/default/00000002.json"
    )
    record = json.loads(stored["Body"].read())
    assert record["services_parameters"]["ToolImage"].endswith(f"@{second}")
    assert "AWS::ECS::TaskDefinition" in {
        r["Type"] for r in record["services_template"]["Resources"].values()
    }

    table = run_fargo("releases", "-f", str(manifest), "--endpoint-url", emulator_endpoint)
    assert table.returncode == 0, table.stderr
    header, row2, row1 = table.stdout.splitlines()
    assert header.split() == ["#", "time", "git", "commit", "images"]
    assert row2.split()[0] == "2"
    assert row2.endswith(f"tool={second[7:19]}")
    assert row1.endswith(f"tool={first[7:19]}")

    tags = tags_by_digest(aws, "rel/tool")
    assert "release-default-1" in tags[first]
    assert "release-default-2" in tags[second]


def test_a_deploy_that_changes_nothing_records_no_release(
    app_dir: Path, emulator_endpoint: str
) -> None:
    manifest = app_dir / "fargo.yml"
    image_of(app_dir, seed=3)
    deployer(manifest, emulator_endpoint).deploy()

    counter = CallCounter()
    _, result = deployer(manifest, emulator_endpoint, counter=counter).deploy()

    assert not result.changed
    assert counter.writes == LOCK_WRITES
    assert [r["number"] for r in releases_json(manifest, emulator_endpoint)["releases"]] == [1]


def test_the_fifty_first_release_prunes_the_first_and_takes_its_tag_off(
    app_dir: Path, emulator_endpoint: str, aws: Any
) -> None:
    manifest = app_dir / "fargo.yml"
    image_of(app_dir, seed=4)
    deploy = deployer(manifest, emulator_endpoint)
    deploy.deploy()
    found = find_bootstrap(deploy.cloudformation)
    assert found is not None
    store = ReleaseStore(deploy.aws, found.artifact_bucket, deploy.app)
    (first,) = store.releases()

    for n in range(2, 52):
        changed = replace(first, manifest_digest=f"sha256:{n:064d}")
        recorded = record_release(deploy.aws, found.artifact_bucket, deploy.app, changed)
        assert (recorded.release.number, recorded.pruned) == (n, (1,) if n == 51 else ())

    assert store.numbers() == list(range(2, 52))
    assert store.releases()[0].manifest_digest == f"sha256:{51:064d}"
    # Every release ran the same image: it keeps the kept releases' tags and the source tag
    # it was pushed under, and loses the pruned release's.
    digest = first.images["tool"].rpartition("@")[2]
    tags = tags_by_digest(aws, "rel/tool")[digest]
    assert "release-default-1" not in tags
    assert {f"release-default-{n}" for n in range(2, 52)} <= tags
    assert [t for t in tags if not t.startswith("release-")] != []


def test_a_taken_number_is_never_overwritten(
    app_dir: Path, emulator_endpoint: str, aws: Any
) -> None:
    """The store claims a number with If-None-Match: *; S3 refuses the second claim."""
    manifest = app_dir / "fargo.yml"
    image_of(app_dir, seed=5)
    deploy = deployer(manifest, emulator_endpoint)
    deploy.deploy()
    found = find_bootstrap(deploy.cloudformation)
    assert found is not None
    key = "releases/rel/default/00000001.json"
    with pytest.raises(aws("s3").exceptions.ClientError) as refused:
        aws("s3").put_object(Bucket=found.artifact_bucket, Key=key, Body=b"{}", IfNoneMatch="*")
    assert refused.value.response["Error"]["Code"] == "PreconditionFailed"
    store = ReleaseStore(deploy.aws, found.artifact_bucket, deploy.app)
    assert store.read(1).number == 1


def test_a_release_tag_that_is_its_image_last_stays_on_it(
    app_dir: Path, emulator_endpoint: str, aws: Any
) -> None:
    """Taking an image's last tag off deletes the image (BatchDeleteImage); a pruned
    release's tag is taken off only where the image keeps another."""
    ecr = Ecr(deployer(app_dir / "fargo.yml", emulator_endpoint).aws)
    aws("ecr").create_repository(repositoryName="rel/solo")
    for n, tags in ((1, ["release-default-7"]), (2, ["src-2", "release-default-8"])):
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": "sha256:" + str(n) * 64,
                "size": 2,
            },
            "layers": [],
        }
        for tag in tags:
            aws("ecr").put_image(
                repositoryName="rel/solo", imageManifest=json.dumps(manifest), imageTag=tag
            )

    assert not ecr.untag_image("rel/solo", "release-default-7")
    assert ecr.untag_image("rel/solo", "release-default-8")
    assert not ecr.untag_image("rel/solo", "release-default-9")  # no such tag
    assert not ecr.untag_image("rel/gone", "release-default-7")  # no such repository
    assert sorted(map(sorted, tags_by_digest(aws, "rel/solo").values())) == [
        ["release-default-7"],
        ["src-2"],
    ]
