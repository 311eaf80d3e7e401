"""The local runtime's database and cache images: loaded into the engine, and what stood in.

The emulator runs RDS databases and ElastiCache caches from the official `postgres` and
`valkey`/`redis` images, which a user's engine pulls. Where no registry is reachable (fargo's
tests, `make demo`, CI), `scripts/make-data-image.py` builds equivalents from Debian packages,
named for what they hold, and `load` puts them in the engine; the emulator then runs them in
place of an official image it cannot pull, and records each substitution in its state dir
(the `data-image-substitutions` patch), which `notes` reads back for fargo to say.
"""

from __future__ import annotations

import io
import json
import tarfile
import tempfile
import urllib.parse
from pathlib import Path
from typing import IO, Any, Final

from fargo.errors import FargoError
from fargo.local import engine as container_engine

POSTGRES: Final = "localhost/fargo-postgres:15"
REDIS: Final = "localhost/fargo-redis:7"
# The file the emulator's data-image-substitutions patch writes in its state dir.
SUBSTITUTIONS_FILE: Final = "data-image-substitutions.json"
_LOAD_TIMEOUT_SECONDS = 300.0


def image_id(docker_host: str, reference: str) -> str | None:
    """The Id (config digest) of the image the engine holds as `reference`, if any."""
    status, body = _request(docker_host, "GET", f"/images/{_quote(reference)}/json")
    if status != 200:
        return None
    found = json.loads(body).get("Id")
    return str(found) if found else None


def load(docker_host: str, layout: Path, reference: str) -> bool:
    """Load the single-image OCI layout at `layout` into the engine as `reference`, unless the
    engine already holds that very image under that tag. Returns whether it loaded.

    `POST /images/load` takes a docker-archive (manifest.json naming the config, layers and
    tags), which both Docker and Podman's compatible API accept, where an OCI layout would be
    read by neither the same way; the layout's blobs go in unchanged.
    """
    config = _config_digest(layout)
    if _same_image(image_id(docker_host, reference), config):
        return False
    with tempfile.TemporaryFile() as archive:
        _write_docker_archive(layout, reference, archive)
        size = archive.tell()
        archive.seek(0)
        status, body = _request(
            docker_host,
            "POST",
            "/images/load?quiet=1",
            body=archive,
            headers={"Content-Type": "application/x-tar", "Content-Length": str(size)},
        )
    if status != 200 or not _same_image(image_id(docker_host, reference), config):
        raise FargoError(
            f"the container engine did not load {reference} from {layout} "
            f"(HTTP {status}): {body[-500:].decode(errors='replace')}",
            hint="rebuild it with scripts/prepare-data-images.py",
        )
    return True


def notes(state_dir: Path) -> list[str]:
    """What the emulator ran in place of what was asked, e.g. "postgres 16 requested, local 15
    (localhost/fargo-postgres:15)", oldest first; none when it ran only what was asked."""
    try:
        recorded = json.loads((state_dir / SUBSTITUTIONS_FILE).read_text())
    except (OSError, ValueError):
        return []
    if not isinstance(recorded, list):
        return []
    said = [str(entry["note"]) for entry in recorded if isinstance(entry, dict) and "note" in entry]
    return list(dict.fromkeys(said))


def _same_image(found: str | None, config_digest: str) -> bool:
    # Docker reports "sha256:<hex>", Podman's compatible API the bare hex.
    return found is not None and found.removeprefix("sha256:") == config_digest.removeprefix(
        "sha256:"
    )


def _manifest(layout: Path) -> dict[str, Any]:
    index = json.loads((layout / "index.json").read_text())
    manifest: dict[str, Any] = json.loads(
        _blob(layout, index["manifests"][0]["digest"]).read_text()
    )
    return manifest


def _config_digest(layout: Path) -> str:
    return str(_manifest(layout)["config"]["digest"])


def _write_docker_archive(layout: Path, reference: str, out: IO[bytes]) -> None:
    manifest = _manifest(layout)
    config = _blob(layout, manifest["config"]["digest"])
    layers = [_blob(layout, layer["digest"]) for layer in manifest["layers"]]
    description = [
        {
            "Config": f"{config.name}.json",
            "RepoTags": [reference],
            "Layers": [f"{layer.name}/layer.tar" for layer in layers],
        }
    ]
    with tarfile.open(fileobj=out, mode="w") as archive:
        archive.add(config, arcname=f"{config.name}.json")
        for layer in layers:
            archive.add(layer, arcname=f"{layer.name}/layer.tar")
        data = json.dumps(description).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))


def _blob(layout: Path, digest: str) -> Path:
    path = layout / "blobs" / "sha256" / digest.removeprefix("sha256:")
    if not path.is_file():
        raise FargoError(
            f"the image layout {layout} has no blob {digest}",
            hint="rebuild it with scripts/prepare-data-images.py",
        )
    return path


def _request(
    docker_host: str,
    method: str,
    path: str,
    *,
    body: IO[bytes] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    api = container_engine.connection_to(docker_host, _LOAD_TIMEOUT_SECONDS)
    if api is None:
        raise FargoError(
            f"fargo cannot reach a container engine at {docker_host}",
            hint=container_engine.INSTALL_HINT,
        )
    try:
        api.request(method, path, body=body, headers=headers or {})
        response = api.getresponse()
        return response.status, response.read()
    except OSError as error:
        raise FargoError(
            f"the container engine at {docker_host} did not answer: {error}",
            hint=container_engine.INSTALL_HINT,
        ) from error
    finally:
        api.close()


def _quote(reference: str) -> str:
    return urllib.parse.quote(reference, safe="")
