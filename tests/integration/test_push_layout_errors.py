"""A layout fargo cannot push faithfully is refused with a clear error, and nothing of it
ends up under the tag."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from fargo.errors import InputError
from fargo.images import LayoutError, push
from fargo.images.local_registry import LocalRegistry
from fargo.images.oci import OciLayout, referenced_blobs
from fargo.images.push import MIB
from fargo.images.reference import ImageReference
from tests.integration.conftest import Skopeo
from tests.integration.layouts import LayoutWriter, random_layer, single_image_layout

pytestmark = pytest.mark.integration


def _blob(root: Path, digest: object) -> Path:
    return root / "blobs" / "sha256" / str(digest).split(":")[1]


@pytest.mark.parametrize("size", [MIB, 12 * MIB], ids=["single-put", "chunked"])
def test_a_corrupt_layer_is_refused_and_the_tag_never_appears(
    registry: LocalRegistry,
    skopeo: Skopeo,
    repo: str,
    layout_dir: Callable[[str], Path],
    size: int,
) -> None:
    image = single_image_layout(layout_dir("app"), [random_layer(size, seed=40)])
    blob = _blob(layout_dir("app"), image.layers[0]["digest"])
    data = bytearray(blob.read_bytes())
    data[-100] ^= 0xFF  # same size, other content: only the digest can tell
    blob.write_bytes(bytes(data))
    reference = f"{registry.address}/{repo}:v1"

    with pytest.raises(LayoutError) as raised:
        push(layout_dir("app"), reference)

    assert "is corrupt" in raised.value.message
    assert str(image.layers[0]["digest"]) in raised.value.message
    assert raised.value.hint is not None
    assert "rebuild" in raised.value.hint
    assert not skopeo.exists(reference)


def test_a_corrupt_manifest_is_refused_before_any_request(
    layout_dir: Callable[[str], Path],
) -> None:
    image = single_image_layout(layout_dir("app"), [random_layer(MIB, seed=41)])
    manifest = _blob(layout_dir("app"), image.digest)
    manifest.write_bytes(
        manifest.read_bytes().replace(b'"schemaVersion": 2', b'"schemaVersion": 3')
    )

    with pytest.raises(LayoutError, match="is corrupt"):
        # nothing listens on port 9: the layout is refused before the registry is asked
        push(layout_dir("app"), f"127.0.0.1:9/{image.digest[7:15]}:v1")


def test_a_missing_layer_is_refused_before_any_request(layout_dir: Callable[[str], Path]) -> None:
    image = single_image_layout(layout_dir("app"), [random_layer(MIB, seed=42)])
    _blob(layout_dir("app"), image.layers[0]["digest"]).unlink()

    with pytest.raises(LayoutError, match="is missing"):
        push(layout_dir("app"), "127.0.0.1:9/app:v1")


def test_a_digest_that_is_not_one_is_refused(layout_dir: Callable[[str], Path]) -> None:
    root = layout_dir("app")
    LayoutWriter(root).finish(
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:../../x",
         "size": 10}
    )  # fmt: skip

    with pytest.raises(LayoutError, match="is not a digest"):
        OciLayout.open(root)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda root: (root / "index.json").unlink(), "index.json: missing"),
        (lambda root: (root / "index.json").write_text("{"), "not JSON"),
        (lambda root: (root / "oci-layout").write_text('{"imageLayoutVersion": "2.0.0"}'),
         "unsupported imageLayoutVersion"),
        (lambda root: (root / "index.json").write_text('{"manifests": []}'), "lists no image"),
    ],
    ids=["no-index", "bad-json", "layout-version", "empty-index"],
)  # fmt: skip
def test_a_damaged_layout_says_what_is_wrong(
    layout_dir: Callable[[str], Path], damage: Callable[[Path], object], message: str
) -> None:
    single_image_layout(layout_dir("app"), [random_layer(MIB, seed=43)])
    damage(layout_dir("app"))

    with pytest.raises(LayoutError, match=message):
        OciLayout.open(layout_dir("app")).image()


def test_no_layout_at_all(tmp_path: Path) -> None:
    with pytest.raises(LayoutError, match="no such directory"):
        OciLayout.open(tmp_path / "nothing")


def test_several_images_need_a_name(layout_dir: Callable[[str], Path]) -> None:
    writer = LayoutWriter(layout_dir("two"))
    web = writer.image([random_layer(MIB, seed=44)])
    worker = writer.image([random_layer(MIB, seed=45)])
    writer.finish(web.descriptor, worker.descriptor, names=["web", "worker"])
    layout = OciLayout.open(layout_dir("two"))

    with pytest.raises(LayoutError, match="lists 2 images") as raised:
        layout.image()

    assert raised.value.hint == "name one of: web, worker"
    assert layout.image("worker").digest == worker.digest


def test_referenced_blobs_are_each_once_across_an_index(layout_dir: Callable[[str], Path]) -> None:
    shared = random_layer(MIB, seed=46)
    writer = LayoutWriter(layout_dir("multi"))
    amd64 = writer.image([shared], architecture="amd64")
    arm64 = writer.image([shared], architecture="arm64")
    writer.finish(writer.index([amd64, arm64]))

    blobs = referenced_blobs(OciLayout.open(layout_dir("multi")).image())

    assert [b.digest for b in blobs] == [
        amd64.config["digest"], shared.digest, arm64.config["digest"]
    ]  # fmt: skip


def test_the_declared_media_type_must_agree_with_the_pointer(
    layout_dir: Callable[[str], Path],
) -> None:
    root = layout_dir("app")
    writer = LayoutWriter(root)
    image = writer.image([random_layer(MIB, seed=47)])
    pointer = dict(image.descriptor, mediaType="application/vnd.oci.image.index.v1+json")
    writer.finish(pointer)

    with pytest.raises(LayoutError, match=r"declares .* but is referenced as"):
        OciLayout.open(root).image()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("app:v1", "names no registry"),
        ("registry.example.com/app", "has no tag"),
        ("registry.example.com/App:v1", "is not a repository name"),
        ("registry.example.com/app:-v1", "is not a tag"),
        ("registry.example.com/app@sha256:" + "0" * 64, "has a digest"),
    ],
)
def test_image_references_are_checked(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        ImageReference.parse(text)


def test_image_reference_with_port_and_path() -> None:
    parsed = ImageReference.parse("127.0.0.1:5000/team/web:v1.2")
    assert (parsed.registry, parsed.repository, parsed.tag) == (
        "127.0.0.1:5000",
        "team/web",
        "v1.2",
    )
    assert str(parsed) == "127.0.0.1:5000/team/web:v1.2"


def test_index_json_entries_keep_their_annotations(layout_dir: Callable[[str], Path]) -> None:
    writer = LayoutWriter(layout_dir("app"))
    image = writer.image([random_layer(MIB, seed=48)])
    writer.finish(image.descriptor, names=["v1"])
    index = json.loads((layout_dir("app") / "index.json").read_text())

    layout = OciLayout.open(layout_dir("app"))

    assert layout.images[0].annotations == index["manifests"][0]["annotations"]
