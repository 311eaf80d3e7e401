"""Edge specs → models: the domain's hosts and the CDN in front of the API."""

from __future__ import annotations

from pathlib import Path

from fargo.manifest.models import Manifest
from fargo.model.app import DEFAULT_API_PATH, Cdn, CdnAssets, Domain


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
    domain = build_domain(manifest)
    origin_host: str | None = None
    forwarded: tuple[str, ...] = ()
    if domain is not None and spec.app:
        # A host of its own for the origin, named by the load balancer's certificate and
        # routed to no service: CloudFront connects by it over HTTPS, and forwards the
        # viewer's Host (the site host), which the app's cache policy keys on.
        origin_host = f"origin.{domain.name}"
        forwarded = (domain.site, origin_host)
    elif domain is not None:
        # The API path's behavior forwards no Host: CloudFront names the origin, the API host.
        origin_host = domain.api
        forwarded = (domain.api,)
    assets = spec.assets
    return Cdn(
        existing=spec.existing,
        static=(base / spec.static).resolve() if spec.static is not None else None,
        path=spec.path or DEFAULT_API_PATH,
        spa=spec.spa,
        # Unique per app and environment, so two environments can share one distribution.
        origin_id=f"fargo-{manifest.app}-{env}-{'app' if spec.app else 'api'}",
        app=spec.app,
        assets=CdnAssets(assets.path, (base / assets.dir).resolve()) if assets else None,
        forwarded_hosts=forwarded,
        origin_host=origin_host,
        spa_errors=spec.spa_errors == "function",
    )
