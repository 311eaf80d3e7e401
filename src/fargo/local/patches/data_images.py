"""RDS and ElastiCache: where the official image cannot be pulled, the local equivalent runs.

Gap (ministack 1.5.33): an RDS PostgreSQL instance runs ``postgres:<major>-alpine`` and an
ElastiCache Valkey or Redis cache ``valkey/valkey:<major.minor>-alpine`` or
``redis:<major>-alpine`` (``_docker_image_for_engine``, ``_engine_image_and_port``), pulled
from Docker Hub. Where no registry is reachable (fargo's tests, ``make demo``, CI), the pull
fails and the database or cache never becomes available. fargo's scripts build
``localhost/fargo-postgres:15`` and ``localhost/fargo-redis:7`` from Debian packages, with the
official images' entrypoint contracts; when the official image is neither in the engine's
storage nor pullable, and the local one is there, the local one runs instead, by this explicit
version map, and the substitution is said: in the emulator log, and in
``data-image-substitutions.json`` in the emulator's state dir (``FARGO_LOCAL_STATE_DIR``),
which fargo prints. On a machine that can pull, nothing changes. An image is never tagged as
another: the records and the log name both.
"""

import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

from ._ministack import attr, module, replace

logger = logging.getLogger("fargo.data_images")

POSTGRES = "localhost/fargo-postgres:15"
REDIS = "localhost/fargo-redis:7"
SUBSTITUTIONS_FILE = "data-image-substitutions.json"
# The data dir of the local postgres, a pre-18 layout whatever major was asked for.
POSTGRES_DATA = "/var/lib/postgresql/data"

_lock = threading.Lock()
# Official image → the image that runs for it, decided once per emulator process.
_decided: dict[str, str] = {}


def run_local_data_images() -> None:
    rds = module("ministack.services.rds")
    elasticache = module("ministack.services.elasticache")

    rds_image = attr(rds, "_docker_image_for_engine")
    get_rds_docker = attr(rds, "_get_docker")

    def _docker_image_for_engine(
        engine: str, engine_version: str, user: str, password: str, db_name: str
    ) -> tuple[Any, ...]:
        image, env, port, data_path = rds_image(engine, engine_version, user, password, db_name)
        if image and "postgres" in engine:
            major = str(engine_version).split(".")[0]
            note = f"postgres {major} requested, local 15"
            chosen = _choose(get_rds_docker(), image, POSTGRES, note)
            if chosen != image:
                return chosen, env, port, POSTGRES_DATA
        return image, env, port, data_path

    replace(rds, "_docker_image_for_engine", _docker_image_for_engine)

    cache_image = attr(elasticache, "_engine_image_and_port")
    get_cache_docker = attr(elasticache, "_get_docker")

    def _engine_image_and_port(engine: str, engine_version: str) -> tuple[str, int]:
        image, port = cache_image(engine, engine_version)
        if engine in ("valkey", "redis"):
            local = "7" if engine == "redis" else "redis 7"
            note = f"{engine} {engine_version} requested, local {local}"
            image = _choose(get_cache_docker(), image, REDIS, note)
        return image, port

    replace(elasticache, "_engine_image_and_port", _engine_image_and_port)


def _choose(docker_client: Any, official: str, local: str, note: str) -> str:
    """`official` when the engine holds it or can pull it, else `local` if the engine holds
    that. Offline the pull fails at once (the registry's name does not resolve)."""
    if docker_client is None:
        return official
    with _lock:
        if official in _decided:
            return _decided[official]
        chosen = official
        if not _holds(docker_client, official) and _holds(docker_client, local):
            try:
                docker_client.images.pull(official)
            # docker-py's errors (docker is not importable where fargo type-checks this) and
            # the connection's: any failure to pull leaves the official image out of reach.
            except Exception as error:  # noqa: BLE001
                logger.warning(
                    "%s: running %s, %s cannot be pulled (%s)", note, local, official, error
                )
                _record(official, local, note)
                chosen = local
        _decided[official] = chosen
        return chosen


def _holds(docker_client: Any, image: str) -> bool:
    try:
        docker_client.images.get(image)
    except Exception:  # noqa: BLE001 - docker-py's ImageNotFound, or the engine is gone
        return False
    return True


def _record(official: str, local: str, note: str) -> None:
    state_dir = os.environ.get("FARGO_LOCAL_STATE_DIR")
    if not state_dir:
        return
    path = Path(state_dir) / SUBSTITUTIONS_FILE
    try:
        recorded = json.loads(path.read_text())
    except (OSError, ValueError):
        recorded = []
    recorded.append({"requested": official, "running": local, "note": f"{note} ({local})"})
    scratch = path.with_suffix(".tmp")
    scratch.write_text(json.dumps(recorded, indent=2))
    scratch.replace(path)
