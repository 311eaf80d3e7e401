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
from fargo.release.history import ReleaseStore
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


def test_the_fifty_first_release_prunes_the_first(app_dir: Path, emulator_endpoint: str) -> None:
    manifest = app_dir / "fargo.yml"
    image_of(app_dir, seed=4)
    deploy = deployer(manifest, emulator_endpoint)
    deploy.deploy()
    found = find_bootstrap(deploy.cloudformation)
    assert found is not None
    store = ReleaseStore(deploy.aws, found.artifact_bucket, deploy.app)
    (first,) = store.releases()

    for n in range(2, 52):
        recorded = store.record(replace(first, manifest_digest=f"sha256:{n:064d}"))
        assert recorded.number == n

    assert store.numbers() == list(range(2, 52))
    assert store.releases()[0].manifest_digest == f"sha256:{51:064d}"


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
