"""Manifest → App: apply profile defaults, resolve `from:` images, order routes."""

from __future__ import annotations

from fargo.manifest.load import LoadedManifest
from fargo.manifest.models import DatabaseSpec, Manifest, ServiceSpec
from fargo.model.app import App, Database, HttpRoute, Network, SecretRef, Service
from fargo.model.profiles import (
    AURORA_POSTGRES_VERSIONS,
    DB_INSTANCE_CLASSES,
    POSTGRES_VERSIONS,
    PROFILES,
    Profile,
)

FIRST_RULE_PRIORITY = 100
RULE_PRIORITY_STEP = 10


def build_app(loaded: LoadedManifest) -> App:
    manifest = loaded.manifest
    profile = PROFILES[manifest.profile]
    priorities = _rule_priorities(manifest)
    services = tuple(
        _service(name, spec, manifest, profile, priorities.get(name))
        for name, spec in manifest.services.items()
    )
    tags = {"fargo:app": manifest.app, "fargo:env": loaded.env, **manifest.tags}
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
        services=services,
        database=_database(manifest.database, profile) if manifest.database else None,
        tags=tuple(sorted(tags.items())),
        log_retention_days=profile.log_retention_days,
        manifest_digest=loaded.digest,
    )


def _service(
    name: str, spec: ServiceSpec, manifest: Manifest, profile: Profile, priority: int | None
) -> Service:
    image_source = manifest.services[spec.image.from_] if spec.image.from_ else spec
    image = image_source.image.ref
    if image is None:  # guarded by load's reference check; keeps the type honest
        raise ValueError(f"service {name} has no image reference")
    route = None
    if spec.http is not None and priority is not None:
        route = HttpRoute(spec.http.path, spec.http.host, spec.http.healthcheck, priority)
    desired = max(spec.count.min, profile.min_tasks) if spec.count.min > 0 else 0
    return Service(
        name=name,
        image=image,
        port=spec.port,
        route=route,
        cpu=spec.cpu,
        memory=spec.memory,
        arch=spec.arch,
        desired_count=desired,
        max_count=max(spec.count.max or desired, desired),
        cpu_target=spec.count.cpu,
        environment=tuple(sorted((k, _env_text(v)) for k, v in spec.env.items())),
        secrets=tuple(_secret(k, v) for k, v in sorted(spec.secrets.items())),
        command=spec.command,
        uses_database="db" in spec.uses,
        spot=spec.spot,
    )


def _env_text(value: str | int | float | bool) -> str:
    # ECS environment values are strings; YAML `true` must arrive as "true", not "True".
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _secret(env_name: str, ref: str) -> SecretRef:
    source, _, rest = ref.partition(":")
    if source == "ssm":
        return SecretRef(env_name, "ssm", rest)
    name, _, key = rest.partition(":")
    return SecretRef(env_name, "secretsmanager", name, key or None)


def _rule_priorities(manifest: Manifest) -> dict[str, int]:
    """Most specific routes first: host+path, then host, then longer paths before shorter."""
    routed = [(n, s.http) for n, s in manifest.services.items() if s.http is not None]

    def specificity(item: tuple[str, object]) -> tuple[int, int, str]:
        name, http = item
        host = getattr(http, "host", None)
        path = getattr(http, "path", None) or ""
        wild = path.count("*") + path.count("?")
        return (0 if host else 1, -(len(path) - wild), name)

    ordered = sorted(routed, key=specificity)
    return {
        name: FIRST_RULE_PRIORITY + index * RULE_PRIORITY_STEP
        for index, (name, _http) in enumerate(ordered)
    }


def _database(spec: DatabaseSpec, profile: Profile) -> Database:
    serverless = spec.serverless
    if serverless is not None:
        version = AURORA_POSTGRES_VERSIONS.get(spec.version, spec.version)
        return Database(
            engine=spec.engine,
            kind="serverless",
            engine_version=version,
            instance_class="db.serverless",
            allocated_storage=0,
            serverless_min=serverless.min,
            serverless_max=serverless.max,
            multi_az=spec.multi_az if spec.multi_az is not None else profile.multi_az,
            backup_retention_days=profile.backup_retention_days,
            deletion_protection=profile.deletion_protection,
            database_name=spec.name,
        )
    return Database(
        engine=spec.engine,
        kind="instance",
        engine_version=POSTGRES_VERSIONS.get(spec.version, spec.version),
        instance_class=DB_INSTANCE_CLASSES[spec.size or profile.db_size],
        allocated_storage=spec.storage,
        serverless_min=0,
        serverless_max=0,
        multi_az=spec.multi_az if spec.multi_az is not None else profile.multi_az,
        backup_retention_days=profile.backup_retention_days,
        deletion_protection=profile.deletion_protection,
        database_name=spec.name,
    )
