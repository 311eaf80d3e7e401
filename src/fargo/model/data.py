"""Data specs → models: the database, cache, queues, buckets and mail, with profile defaults."""

from __future__ import annotations

from fargo.manifest.engines import AURORA_POSTGRES_VERSIONS, POSTGRES_VERSIONS
from fargo.manifest.models import DatabaseSpec, Manifest
from fargo.model.app import Bucket, Cache, Database, Mail, Queue
from fargo.model.profiles import CACHE_MAJOR_VERSIONS, DB_INSTANCE_CLASSES, Profile

_DAY = 86_400
# Performance Insights' free tier (7 days) does not cover the smallest burstable classes.
_NO_PERFORMANCE_INSIGHTS = ("db.t4g.micro", "db.t4g.small")


def build_database(spec: DatabaseSpec, profile: Profile) -> Database:
    multi_az = spec.multi_az if spec.multi_az is not None else profile.multi_az
    serverless = spec.serverless
    if serverless is not None:
        return Database(
            engine=spec.engine,
            kind="serverless",
            engine_version=AURORA_POSTGRES_VERSIONS.get(spec.version, spec.version),
            instance_class="db.serverless",
            allocated_storage=0,
            serverless_min=serverless.min,
            serverless_max=serverless.max,
            multi_az=multi_az,
            backup_retention_days=profile.backup_retention_days,
            deletion_protection=profile.deletion_protection,
            database_name=spec.name,
            performance_insights=profile.performance_insights,
        )
    instance_class = DB_INSTANCE_CLASSES[spec.size or profile.db_size]
    return Database(
        engine=spec.engine,
        kind="instance",
        engine_version=POSTGRES_VERSIONS.get(spec.version, spec.version),
        instance_class=instance_class,
        allocated_storage=spec.storage,
        serverless_min=0,
        serverless_max=0,
        multi_az=multi_az,
        backup_retention_days=profile.backup_retention_days,
        deletion_protection=profile.deletion_protection,
        database_name=spec.name,
        performance_insights=profile.performance_insights
        and instance_class not in _NO_PERFORMANCE_INSIGHTS,
    )


def build_cache(manifest: Manifest, profile: Profile) -> Cache | None:
    spec = manifest.cache
    if spec is None:
        return None
    return Cache(
        engine=spec.engine,
        node_type=spec.node,
        major_version=CACHE_MAJOR_VERSIONS[spec.engine],
        snapshot_retention_days=profile.cache_snapshot_days,
        replicas=profile.cache_replicas,
    )


def build_queues(manifest: Manifest) -> tuple[Queue, ...]:
    return tuple(
        Queue(name, q.fifo, q.visibility, q.retention * _DAY, q.dlq.max_receives)
        for name, q in sorted(manifest.queues.items())
    )


def build_buckets(manifest: Manifest) -> tuple[Bucket, ...]:
    return tuple(
        Bucket(name, b.versioning, b.expire_noncurrent_days)
        for name, b in sorted(manifest.buckets.items())
    )


def build_mail(manifest: Manifest) -> Mail | None:
    spec = manifest.mail
    return Mail(spec.domain, spec.from_) if spec else None
