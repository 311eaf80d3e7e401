"""Manifest → App: apply the profile's defaults and resolve references."""

from __future__ import annotations

from fargo.manifest.load import LoadedManifest
from fargo.manifest.migrate import duration_seconds
from fargo.model.app import PREVIEW_TAG, App, Migration, Network
from fargo.model.data import (
    build_buckets,
    build_cache,
    build_database,
    build_mail,
    build_queues,
)
from fargo.model.edge import build_cdn, build_domain
from fargo.model.profiles import PROFILES
from fargo.model.services import build_services


def build_app(loaded: LoadedManifest) -> App:
    manifest = loaded.manifest
    profile = PROFILES[manifest.profile]
    tags = {"fargo:app": manifest.app, "fargo:env": loaded.env, **manifest.tags}
    if loaded.preview:
        tags[PREVIEW_TAG] = "true"  # how `fargo previews list` finds a preview's stacks
    return App(
        name=manifest.app,
        env=loaded.env,
        region=manifest.region,
        profile=manifest.profile,
        network=Network(
            nat=manifest.network.nat or profile.nat,
            azs=manifest.network.azs,
            cidr=manifest.network.cidr,
        ),
        services=build_services(manifest, profile, loaded.file.parent),
        database=build_database(manifest.database, profile) if manifest.database else None,
        tags=tuple(sorted(tags.items())),
        log_retention_days=profile.log_retention_days,
        manifest_digest=loaded.digest,
        cache=build_cache(manifest, profile),
        queues=build_queues(manifest),
        buckets=build_buckets(manifest),
        mail=build_mail(manifest),
        alert_emails=manifest.alerts.email if manifest.alerts else (),
        termination_protection=profile.termination_protection,
        builder=manifest.builder,
        keep_images=manifest.keep_images,
        domain=build_domain(manifest),
        cdn=build_cdn(manifest, loaded.env, loaded.file.parent),
        migration=(
            Migration(
                tuple(manifest.migrate.command),
                manifest.migrate.service,
                duration_seconds(manifest.migrate.timeout),
            )
            if manifest.migrate
            else None
        ),
    )
