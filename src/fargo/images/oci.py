"""Read an OCI image layout: the directory that buildah, buildkit (`--output type=oci`),
skopeo (`oci:DIR`) and `docker save` (25+) write.

    DIR/oci-layout              {"imageLayoutVersion": "1.0.0"}
    DIR/index.json              an image index: the images the layout holds
    DIR/blobs/sha256/<hex>      manifests, image indexes, configs and layers

Manifests and indexes are read whole and checked against their digest here, since their
exact bytes are what gets pushed and what the pushed digest names. Layers can be hundreds
of MiB: they are only stat'ed here (present, right size) and checked while they are read
for upload (`BlobHasher`), so a push reads each layer once.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from fargo.images.errors import LayoutError

if TYPE_CHECKING:
    from hashlib import _Hash

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MANIFEST_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})

# The annotation by which index.json names its images (a tag, or a whole reference).
REF_NAME = "org.opencontainers.image.ref.name"
# Registries refuse larger manifests (distribution and ECR: 4 MiB), so one is read whole.
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
# Foreign (Windows base) layers live elsewhere: registries neither hold nor want them.
_FOREIGN_TYPES = ("nondistributable", "foreign")
# Only these algorithms: the digest is also a path under blobs/, so nothing else may pass.
_DIGEST = re.compile(r"^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$")


def parse_digest(value: object, where: str) -> str:
    if not isinstance(value, str) or not _DIGEST.match(value):
        raise LayoutError(
            f"{where}: {value!r} is not a digest",
            hint="digests look like sha256:<64 hex digits>; the layout is damaged, rebuild it",
        )
    return value


def digest_of(data: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


class BlobHasher:
    """Hashes a blob as it streams by and says whether it matched its descriptor.

    `checkpoint()` keeps a copy of the hash state, so an upload that resumes from an
    earlier offset can rewind to it instead of hashing the blob again from the start.
    """

    def __init__(self, digest: str) -> None:
        self.digest = digest
        self.algorithm = digest.split(":", 1)[0]
        self._hash: _Hash = hashlib.new(self.algorithm)
        self.offset = 0
        self._saved: tuple[int, _Hash] = (0, self._hash.copy())

    def update(self, data: bytes) -> None:
        self._hash.update(data)
        self.offset += len(data)

    def checkpoint(self) -> None:
        self._saved = (self.offset, self._hash.copy())

    @property
    def checkpoint_offset(self) -> int:
        return self._saved[0]

    def rewind(self) -> None:
        """Back to the last checkpoint."""
        self.offset, saved = self._saved
        self._hash = saved.copy()

    def reset(self) -> None:
        self._hash = hashlib.new(self.algorithm)
        self.offset = 0
        self.checkpoint()

    def result(self) -> str:
        return f"{self.algorithm}:{self._hash.hexdigest()}"


@dataclass(frozen=True)
class Descriptor:
    """What points at a blob: its media type, digest and size (OCI image-spec descriptor)."""

    media_type: str
    digest: str
    size: int
    annotations: Mapping[str, str] = field(default_factory=dict)
    platform: Mapping[str, object] | None = None
    urls: tuple[str, ...] = ()

    @property
    def short(self) -> str:
        """The first 12 hex digits, as docker shows layers."""
        return self.digest.split(":", 1)[1][:12]

    @property
    def foreign(self) -> bool:
        return bool(self.urls) and any(word in self.media_type for word in _FOREIGN_TYPES)

    @classmethod
    def from_json(cls, data: object, where: str) -> Descriptor:
        if not isinstance(data, dict):
            raise LayoutError(f"{where}: a descriptor must be an object, not {data!r}")
        media_type = data.get("mediaType")
        size = data.get("size")
        if not isinstance(media_type, str) or not media_type:
            raise LayoutError(f"{where}: the descriptor has no mediaType")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise LayoutError(f"{where}: the descriptor's size {size!r} is not a byte count")
        annotations = data.get("annotations") or {}
        platform = data.get("platform")
        urls = data.get("urls") or []
        if not isinstance(annotations, dict) or not isinstance(urls, list):
            raise LayoutError(f"{where}: malformed annotations or urls")
        return cls(
            media_type=media_type,
            digest=parse_digest(data.get("digest"), f"{where}.digest"),
            size=size,
            annotations={str(k): str(v) for k, v in annotations.items()},
            platform=platform if isinstance(platform, dict) else None,
            urls=tuple(str(url) for url in urls),
        )


@dataclass(frozen=True)
class ImageManifest:
    """One image: a config and its layers. OCI or Docker v2 schema 2; pushed byte for byte."""

    descriptor: Descriptor
    content: bytes
    config: Descriptor
    layers: tuple[Descriptor, ...]

    @property
    def media_type(self) -> str:
        return self.descriptor.media_type

    @property
    def digest(self) -> str:
        return self.descriptor.digest


@dataclass(frozen=True)
class ImageIndex:
    """A multi-platform image: an OCI image index or a Docker manifest list."""

    descriptor: Descriptor
    content: bytes
    manifests: tuple[Manifest, ...]

    @property
    def media_type(self) -> str:
        return self.descriptor.media_type

    @property
    def digest(self) -> str:
        return self.descriptor.digest


Manifest: TypeAlias = ImageManifest | ImageIndex


def referenced_blobs(manifest: Manifest) -> list[Descriptor]:
    """Every blob the manifest needs in the registry before it can be pushed: config and
    layers, through every child of an index; once each, in first-seen order."""
    seen: dict[str, Descriptor] = {}
    for image in image_manifests(manifest):
        for blob in (image.config, *image.layers):
            seen.setdefault(blob.digest, blob)
    return list(seen.values())


def image_manifests(manifest: Manifest) -> Iterator[ImageManifest]:
    """The image manifests under `manifest`, depth first (itself when it is one)."""
    if isinstance(manifest, ImageManifest):
        yield manifest
        return
    for child in manifest.manifests:
        yield from image_manifests(child)


def child_manifests(manifest: Manifest) -> Iterator[Manifest]:
    """Everything an index points to, children before parents, the top one excluded: the
    order in which a registry accepts them (it checks that what an index names exists)."""
    if isinstance(manifest, ImageIndex):
        for child in manifest.manifests:
            yield from child_manifests(child)
            yield child


class OciLayout:
    """An OCI image layout directory, its index.json read and checked."""

    def __init__(self, root: Path, images: tuple[Descriptor, ...]) -> None:
        self.root = root
        self.images = images

    @classmethod
    def open(cls, root: Path) -> OciLayout:
        if not root.is_dir():
            raise LayoutError(
                f"{root}: no such directory",
                hint="build the image first, or give the directory of an OCI image layout",
            )
        marker = _read_json(root / "oci-layout", f"{root}/oci-layout")
        version = marker.get("imageLayoutVersion") if isinstance(marker, dict) else None
        if not isinstance(version, str) or not version.startswith("1."):
            raise LayoutError(
                f"{root}/oci-layout: unsupported imageLayoutVersion {version!r}",
                hint="fargo reads OCI image layout 1.x",
            )
        index = _read_json(root / "index.json", f"{root}/index.json")
        entries = index.get("manifests") if isinstance(index, dict) else None
        if not isinstance(entries, list) or not entries:
            raise LayoutError(
                f"{root}/index.json: lists no image",
                hint="the build did not finish, or wrote its image elsewhere",
            )
        images = tuple(
            Descriptor.from_json(entry, f"{root}/index.json: manifests[{n}]")
            for n, entry in enumerate(entries)
        )
        return cls(root, images)

    def blob_path(self, digest: str) -> Path:
        algorithm, encoded = digest.split(":", 1)
        return self.root / "blobs" / algorithm / encoded

    def check_blob(self, blob: Descriptor) -> Path:
        """The blob's file, after checking that it exists and has the descriptor's size."""
        path = self.blob_path(blob.digest)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise LayoutError(
                f"{self.root}: blob {blob.digest} ({blob.media_type}) is missing",
                hint="the layout is incomplete; rebuild the image",
            ) from None
        if size != blob.size:
            raise LayoutError(
                f"{path}: {size} bytes, but its descriptor says {blob.size}",
                hint="the layout is corrupt; rebuild the image",
            )
        return path

    def read_blob(self, blob: Descriptor) -> bytes:
        """A small blob's bytes (a manifest, a config), checked against its digest."""
        if blob.size > MAX_MANIFEST_BYTES:
            raise LayoutError(
                f"{self.root}: {blob.digest} ({blob.media_type}) is {blob.size} bytes, "
                f"over the {MAX_MANIFEST_BYTES}-byte limit registries set for manifests",
            )
        data = self.check_blob(blob).read_bytes()
        actual = digest_of(data, blob.digest.split(":", 1)[0])
        if actual != blob.digest:
            raise corrupt_blob(self.root, blob, actual)
        return data

    def image(self, name: str | None = None) -> Manifest:
        """The image index.json lists under `name` (its ref.name annotation), or its only one."""
        if name is not None:
            named = [d for d in self.images if d.annotations.get(REF_NAME) == name]
            if not named:
                raise LayoutError(
                    f"{self.root}/index.json: no image named {name!r}",
                    hint=f"it names: {', '.join(self._names()) or 'nothing'}",
                )
            return self.load(named[0])
        if len(self.images) > 1:
            raise LayoutError(
                f"{self.root}/index.json: lists {len(self.images)} images; which one to push?",
                hint=f"name one of: {', '.join(self._names()) or '(they carry no names)'}",
            )
        return self.load(self.images[0])

    def load(self, descriptor: Descriptor) -> Manifest:
        """The manifest or index `descriptor` points at, children read recursively."""
        return self._load(descriptor, depth=0)

    def _load(self, descriptor: Descriptor, depth: int) -> Manifest:
        # A well-formed index nests once or twice; a cycle is impossible with honest
        # digests, but a hand-edited layout should fail, not recurse forever.
        if depth > 8:
            raise LayoutError(f"{self.root}: image indexes nest deeper than 8 levels")
        content = self.read_blob(descriptor)
        where = f"{self.root}: {descriptor.digest}"
        try:
            data = json.loads(content)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise LayoutError(f"{where}: not JSON ({error})") from None
        if not isinstance(data, dict):
            raise LayoutError(f"{where}: a manifest must be a JSON object")
        media_type = _media_type(descriptor, data, where)
        descriptor = Descriptor(
            media_type, descriptor.digest, descriptor.size, descriptor.annotations,
            descriptor.platform, descriptor.urls,
        )  # fmt: skip
        if media_type in INDEX_TYPES:
            children = data.get("manifests")
            if not isinstance(children, list):
                raise LayoutError(f"{where}: an image index needs a manifests list")
            return ImageIndex(
                descriptor,
                content,
                tuple(
                    self._load(Descriptor.from_json(child, f"{where}.manifests[{n}]"), depth + 1)
                    for n, child in enumerate(children)
                ),
            )
        layers = data.get("layers")
        if not isinstance(layers, list):
            raise LayoutError(f"{where}: an image manifest needs a layers list")
        return ImageManifest(
            descriptor,
            content,
            Descriptor.from_json(data.get("config"), f"{where}.config"),
            tuple(Descriptor.from_json(la, f"{where}.layers[{n}]") for n, la in enumerate(layers)),
        )

    def _names(self) -> list[str]:
        return [d.annotations[REF_NAME] for d in self.images if REF_NAME in d.annotations]


def corrupt_blob(root: Path, blob: Descriptor, actual: str) -> LayoutError:
    return LayoutError(
        f"{root}: blob {blob.digest} ({blob.media_type}) is corrupt: its content hashes to "
        f"{actual}",
        hint="the file under blobs/ changed after the image was built; rebuild the image",
    )


def _media_type(descriptor: Descriptor, data: dict[str, object], where: str) -> str:
    """The manifest's media type: the one its JSON declares must agree with the pointer's."""
    declared = data.get("mediaType")
    known = MANIFEST_TYPES | INDEX_TYPES
    if isinstance(declared, str) and declared:
        if descriptor.media_type in known and declared != descriptor.media_type:
            raise LayoutError(
                f"{where}: declares {declared} but is referenced as {descriptor.media_type}"
            )
        media_type = declared
    elif descriptor.media_type in known:
        media_type = descriptor.media_type
    else:
        # OCI makes mediaType optional in the JSON; the shape tells manifest from index.
        media_type = OCI_INDEX if "manifests" in data else OCI_MANIFEST
    if media_type not in known:
        raise LayoutError(
            f"{where}: {media_type} is not an image manifest or index",
            hint="fargo pushes OCI and Docker v2 schema 2 images",
        )
    return media_type


def _read_json(path: Path, where: str) -> object:
    try:
        return json.loads(path.read_bytes())
    except FileNotFoundError:
        raise LayoutError(
            f"{where}: missing",
            hint="this is not an OCI image layout (it needs oci-layout, index.json and blobs/)",
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise LayoutError(f"{where}: not JSON ({error})") from None
