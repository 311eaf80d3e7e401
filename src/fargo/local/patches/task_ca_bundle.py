"""Tasks trust the certificates of the emulator's TLS endpoints.

Gap (ministack 1.5.33): the emulator's serverless caches speak TLS only, with server
certificates from a CA it mints (elasticache.py), and its PostgreSQL databases serve TLS
from another (rds.py). On AWS these chain to public roots every image trusts; here they
chain to nothing a task knows, so an app that keeps certificate checks on (`rediss://`
with redis-py's defaults) cannot connect, and turning the checks off would change the app.

Now every task container gets, read-only, a bundle of the usual public roots (the host's
bundle, else certifi's) plus the emulator's CAs, and the standard variables that point
TLS clients at a bundle: SSL_CERT_FILE (OpenSSL, Python's ssl), REQUESTS_CA_BUNDLE
(requests) and NODE_EXTRA_CA_CERTS (Node.js), unless the task definition sets them. The
task definition itself stays the one that goes to AWS.
"""

import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from ._ministack import attr, module, replace

# Where the bundle appears inside task containers.
CONTAINER_PATH = "/etc/fargo-emulator/ca-bundle.pem"
VARIABLES = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "NODE_EXTRA_CA_CERTS")
_HOST_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt")

log = logging.getLogger("ministack")


def _public_roots() -> str:
    for candidate in _HOST_BUNDLES:
        try:
            return Path(candidate).read_text()
        except OSError:
            continue
    # certifi: ministack's own dependency, through requests.
    return Path(module("certifi").where()).read_text()


def _emulator_cas() -> list[str]:
    """The CAs the emulator signs its servers' certificates with, minted if need be."""
    minted: list[str] = []
    for service, getter in (
        ("elasticache", "serverless_ca_cert_pem"),
        ("rds", "pg_ca_cert_pem"),
    ):
        try:
            minted.append(attr(module(f"ministack.services.{service}"), getter)())
        except RuntimeError:  # no `cryptography`: the service serves no TLS either
            log.warning("fargo: no %s CA for task containers", service, exc_info=True)
    return minted


def write_bundle(directory: str) -> str:
    """The bundle's path on this machine, rewritten only when its content changes."""
    content = "\n".join(pem.strip() + "\n" for pem in [_public_roots(), *_emulator_cas()])
    path = Path(directory) / "fargo-task-ca-bundle.pem"
    try:
        if path.read_text() == content:
            return str(path)
    except OSError:
        pass
    staging = path.with_suffix(f".{os.getpid()}.tmp")
    staging.write_text(content)
    staging.replace(path)  # a running container keeps the file it was given
    return str(path)


def inject_ca_bundle() -> None:
    ecs = module("ministack.services.ecs")

    def build_run_kwargs(*args: Any, **kwargs: Any) -> dict[str, Any]:
        run_kwargs: dict[str, Any] = original(*args, **kwargs)
        bundle = write_bundle(tempfile.gettempdir())
        run_kwargs["volumes"] = [
            *(run_kwargs.get("volumes") or []),
            f"{bundle}:{CONTAINER_PATH}:ro",
        ]
        environment = run_kwargs.get("environment")
        if isinstance(environment, dict):
            for name in VARIABLES:
                environment.setdefault(name, CONTAINER_PATH)
        return run_kwargs

    original = replace(ecs, "_build_run_kwargs", build_run_kwargs)
