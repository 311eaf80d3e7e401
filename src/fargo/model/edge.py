"""Edge specs → models: the domain's hosts and the CDN in front of the API."""

from __future__ import annotations

from pathlib import Path

from fargo.manifest.models import Manifest
from fargo.model.app import Cdn, Domain


def build_domain(manifest: Manifest) -> Domain | None:
    spec = manifest.domain
    if spec is None:
        return None
    return Domain(
        name=spec.name,
        api=spec.api or f"api.{spec.name}",
        site=spec.site or f"www.{spec.name}",
        dns=spec.dns,
    )


def build_cdn(manifest: Manifest, env: str, base: Path) -> Cdn | None:
    spec = manifest.cdn
    if spec is None:
        return None
    return Cdn(
        existing=spec.existing,
        static=(base / spec.static).resolve() if spec.static is not None else None,
        path=spec.path,
        spa=spec.spa,
        # Unique per app and environment, so two environments can share one distribution.
        origin_id=f"fargo-{manifest.app}-{env}-api",
    )
