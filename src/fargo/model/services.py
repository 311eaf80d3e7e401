"""Service specs → Service models: kind, image, routes, scaling, what each one uses."""

from __future__ import annotations

from pathlib import Path

from fargo.manifest.fargate import platform_for_arch
from fargo.manifest.models import Manifest, ServiceSpec
from fargo.manifest.references import service_arch, usable_names
from fargo.model.app import (
    HttpRoute,
    ImageBuild,
    Scaling,
    SecretRef,
    Service,
    ServiceKind,
    Uses,
)
from fargo.model.profiles import DEFAULT_BACKLOG_TARGET, DEFAULT_CPU_TARGET, Profile

FIRST_RULE_PRIORITY = 100
RULE_PRIORITY_STEP = 10


def build_services(manifest: Manifest, profile: Profile, base: Path) -> tuple[Service, ...]:
    """`base`: the manifest's directory, which build contexts are relative to."""
    priorities = _rule_priorities(manifest)
    return tuple(
        _service(name, spec, manifest, profile, priority=priorities.get(name), base=base)
        for name, spec in manifest.services.items()
    )


def _kind(spec: ServiceSpec) -> ServiceKind:
    if spec.http is not None:
        return "web"
    if spec.queue is not None:
        return "worker"
    if spec.schedule is not None:
        return "job"
    return "service"


def _image_build(name: str, spec: ServiceSpec, manifest: Manifest, base: Path) -> ImageBuild:
    arch_platform = platform_for_arch(spec.arch)
    if spec.image.layout is not None:
        layout = str((base / spec.image.layout).resolve())
        return ImageBuild(
            context=layout,
            dockerfile=None,
            target=None,
            args=(),
            platform=arch_platform,
            repository=f"{manifest.app}/{name}",
            layout=layout,
        )
    build = spec.image.build
    if build is None:  # callers check; keeps the type honest
        raise ValueError(f"service {name} builds no image")
    platform = build.platform or arch_platform
    return ImageBuild(
        context=str((base / build.context).resolve()),
        dockerfile=build.dockerfile,
        target=build.target,
        args=tuple(sorted(build.args.items())),
        platform=platform,
        repository=f"{manifest.app}/{name}",  # as synth.iam.repository_name
        remote=build.remote,
    )


def _service(
    name: str,
    spec: ServiceSpec,
    manifest: Manifest,
    profile: Profile,
    *,
    priority: int | None,
    base: Path,
) -> Service:
    source_name = spec.image.from_ or name
    source = manifest.services[source_name]
    image = source.image.ref
    pushed = source.image.build is not None or source.image.layout is not None
    built_by = source_name if pushed else None
    own = spec.image.build is not None or spec.image.layout is not None
    build = _image_build(name, spec, manifest, base) if own else None
    route = None
    if spec.http is not None and priority is not None:
        route = HttpRoute(spec.http.path, spec.http.host, spec.http.healthcheck, priority)
    kind = _kind(spec)
    return Service(
        name=name,
        kind=kind,
        image=image,
        port=spec.port,
        route=route,
        cpu=spec.cpu,
        memory=spec.memory,
        arch=service_arch(name, manifest.services),
        desired_count=_desired(spec, kind, profile),
        scaling=_scaling(spec, kind, profile),
        environment=tuple(sorted((k, _env_text(v)) for k, v in spec.env.items())),
        secrets=tuple(_secret(k, v) for k, v in sorted(spec.secrets.items())),
        command=spec.command,
        uses=_uses(spec, manifest),
        spot_base=spec.spot.base if spec.spot is not None else None,
        queue=spec.queue,
        schedule=spec.schedule,
        built_by=built_by,
        build=build,
    )


def _desired(spec: ServiceSpec, kind: ServiceKind, profile: Profile) -> int:
    if kind == "job":
        return 0
    if spec.count.min == 0:
        return 0  # scale to zero was asked for; the profile's HA minimum does not apply
    # Workers are not user-facing: the profile's two-task minimum is for web availability.
    floor = profile.min_tasks if kind != "worker" else 1
    return max(spec.count.min, floor)


def _scaling(spec: ServiceSpec, kind: ServiceKind, profile: Profile) -> Scaling:
    low = _desired(spec, kind, profile)
    high = max(spec.count.max or low, low)
    count = spec.count
    named = any(t is not None for t in (count.cpu, count.memory, count.requests, count.backlog))
    cpu = count.cpu
    backlog = count.backlog
    if high > low and not named:
        if kind == "worker":
            backlog = DEFAULT_BACKLOG_TARGET
        else:
            cpu = DEFAULT_CPU_TARGET
    if kind == "worker" and high > low and backlog is None:
        backlog = DEFAULT_BACKLOG_TARGET  # a worker's load is its queue, whatever else it names
    return Scaling(low, high, cpu, count.memory, count.requests if kind == "web" else None, backlog)


def _uses(spec: ServiceSpec, manifest: Manifest) -> Uses:
    usable = usable_names(manifest)
    used = set(spec.uses)
    queues = {n for n in used if usable.get(n) == "queue"}
    if spec.queue is not None:
        queues.add(spec.queue)  # a worker always uses the queue it consumes
    return Uses(
        database="db" in used,
        cache="cache" in used,
        mail="mail" in used,
        queues=tuple(sorted(queues)),
        buckets=tuple(sorted(n for n in used if usable.get(n) == "bucket")),
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
    routed = {n: s.http for n, s in manifest.services.items() if s.http is not None}

    def specificity(name: str) -> tuple[int, int, str]:
        http = routed[name]
        path = http.path or ""
        wildcards = path.count("*") + path.count("?")
        return (0 if http.host else 1, -(len(path) - wildcards), name)

    ordered = sorted(routed, key=specificity)
    return {
        name: FIRST_RULE_PRIORITY + index * RULE_PRIORITY_STEP for index, name in enumerate(ordered)
    }
