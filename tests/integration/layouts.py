"""OCI image layouts written on the fly for the push tests and bench/push.py: random-byte
layers (incompressible, so sizes are what they say), a config, manifests, an index."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import random
import tarfile
from dataclasses import dataclass
from pathlib import Path

from fargo.images.oci import (
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    OCI_INDEX,
    OCI_MANIFEST,
    REF_NAME,
)

OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
MIB = 1024 * 1024


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Layer:
    tar: bytes
    blob: bytes  # the gzip of tar: what the registry stores

    @property
    def digest(self) -> str:
        return sha256(self.blob)


def random_layer(size: int, seed: int) -> Layer:
    """A layer holding one file of `size` random bytes. gzip level 0 keeps making it
    cheap: random bytes do not compress anyway."""
    data = random.Random(seed).randbytes(size)  # noqa: S311 - test data, reproducible by seed
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(f"data/{seed}.bin")
        info.size = size
        info.mtime = 0
        tar.addfile(info, io.BytesIO(data))
    tar_bytes = buffer.getvalue()
    return Layer(tar_bytes, gzip.compress(tar_bytes, compresslevel=0, mtime=0))


@dataclass(frozen=True)
class Image:
    descriptor: dict[str, object]  # the manifest's descriptor
    config: dict[str, object]
    layers: list[dict[str, object]]

    @property
    def digest(self) -> str:
        return str(self.descriptor["digest"])


class LayoutWriter:
    """Writes blobs into an OCI image layout; `finish` writes index.json."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
        (root / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))

    def blob(self, data: bytes, media_type: str) -> dict[str, object]:
        digest = sha256(data)
        (self.root / "blobs" / "sha256" / digest.split(":")[1]).write_bytes(data)
        return {"mediaType": media_type, "digest": digest, "size": len(data)}

    def image(
        self, layers: list[Layer], *, architecture: str = "amd64", docker: bool = False
    ) -> Image:
        config = {
            "architecture": architecture,
            "os": "linux",
            "config": {"Cmd": ["/bin/true"]},
            "rootfs": {"type": "layers", "diff_ids": [sha256(layer.tar) for layer in layers]},
        }
        config_descriptor = self.blob(
            json.dumps(config, sort_keys=True).encode(), DOCKER_CONFIG if docker else OCI_CONFIG
        )
        layer_descriptors = [
            self.blob(layer.blob, DOCKER_LAYER if docker else OCI_LAYER) for layer in layers
        ]
        media_type = DOCKER_MANIFEST if docker else OCI_MANIFEST
        manifest = {
            "schemaVersion": 2,
            "mediaType": media_type,
            "config": config_descriptor,
            "layers": layer_descriptors,
        }
        descriptor = self.blob(json.dumps(manifest, indent=2).encode(), media_type)
        descriptor["platform"] = {"architecture": architecture, "os": "linux"}
        return Image(descriptor, config_descriptor, layer_descriptors)

    def index(self, images: list[Image], *, docker: bool = False) -> dict[str, object]:
        media_type = DOCKER_MANIFEST_LIST if docker else OCI_INDEX
        body = {
            "schemaVersion": 2,
            "mediaType": media_type,
            "manifests": [image.descriptor for image in images],
        }
        return self.blob(json.dumps(body, indent=2).encode(), media_type)

    def finish(self, *tops: dict[str, object], names: list[str] | None = None) -> Path:
        entries = []
        for n, top in enumerate(tops):
            entry = {k: v for k, v in top.items() if k != "platform"}
            if names:
                entry["annotations"] = {REF_NAME: names[n]}
            entries.append(entry)
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}
        (self.root / "index.json").write_text(json.dumps(index, indent=2))
        return self.root


def single_image_layout(root: Path, layers: list[Layer], *, docker: bool = False) -> Image:
    writer = LayoutWriter(root)
    image = writer.image(layers, docker=docker)
    writer.finish(image.descriptor)
    return image
