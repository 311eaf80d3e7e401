"""Cross-references inside a manifest: `image.from`, `uses`, `queue`, and route clashes."""

from __future__ import annotations

from collections.abc import Mapping

from fargo.errors import ManifestError, ManifestProblem
from fargo.manifest.fargate import Arch, platform_for_arch
from fargo.manifest.marks import Marks, YamlPath
from fargo.manifest.models import Manifest, ServiceSpec

# Fixed names a service's `uses:` may list, and the top-level section each needs.
FIXED_USES = {"db": "database", "cache": "cache", "mail": "mail"}


def usable_names(manifest: Manifest) -> dict[str, str]:
    """Every name `uses:` accepts → what it is (database, cache, mail, queue, bucket)."""
    names = dict(FIXED_USES)
    names.update(dict.fromkeys(manifest.queues, "queue"))
    names.update(dict.fromkeys(manifest.buckets, "bucket"))
    return names


def service_arch(name: str, services: Mapping[str, ServiceSpec]) -> Arch:
    """The CPU a service runs on: its own `arch`, else (with `image: { from }`) the arch of
    the service whose image it runs, since an image starts only on the CPU it was built for."""
    service = services[name]
    source = services.get(service.image.from_ or "")
    if "arch" in service.model_fields_set or source is None:
        return service.arch
    return source.arch


def check_references(manifest: Manifest, marks: Marks) -> None:
    problems: list[ManifestProblem] = []
    _check_name_clashes(manifest, marks, problems)
    usable = usable_names(manifest)
    for name, service in manifest.services.items():
        base: YamlPath = ("services", name)
        _check_image_source(name, service, manifest.services, marks, problems)
        for index, used in enumerate(service.uses):
            what = usable.get(used)
            if what is None:
                problems.append(
                    marks.problem(
                        (*base, "uses", index),
                        f"`{used}` is not something a service can use",
                        _usable_hint(manifest),
                    )
                )
            elif what in FIXED_USES.values() and getattr(manifest, what) is None:
                problems.append(
                    marks.problem(
                        (*base, "uses", index),
                        f"`{used}` is used but no `{what}:` is defined",
                        f"add a top-level `{what}:` section",
                    )
                )
        _check_injected_names(name, service, marks, problems)
        _check_architecture(name, service, manifest.services, marks, problems)
        if service.queue is not None and service.queue not in manifest.queues:
            problems.append(
                marks.problem(
                    (*base, "queue"),
                    f"`{service.queue}` is not a queue of this manifest",
                    "queues: " + (", ".join(sorted(manifest.queues)) or "none defined"),
                )
            )
    _check_migration(manifest, marks, problems)
    _check_routes(manifest.services, marks, problems)
    _check_edge(manifest, marks, problems)
    if problems:
        raise ManifestError(problems)


def _check_migration(manifest: Manifest, marks: Marks, problems: list[ManifestProblem]) -> None:
    migrate = manifest.migrate
    if migrate is None or migrate.service in manifest.services:
        return
    problems.append(
        marks.problem(
            ("migrate", "service"),
            f"`{migrate.service}` is not a service of this manifest",
            "the service whose image and settings the migration runs with: "
            + ", ".join(sorted(manifest.services)),
        )
    )


def _usable_hint(manifest: Manifest) -> str:
    """The names `uses:` would accept in this manifest: only what it defines."""
    defined = [name for name, what in FIXED_USES.items() if getattr(manifest, what) is not None]
    defined += [*manifest.queues, *manifest.buckets]
    if defined:
        return "this manifest defines: " + ", ".join(sorted(defined))
    return (
        "define it first: `database:` for db, `cache:`, `mail:`, or a queue or bucket "
        "under `queues:` or `buckets:`"
    )


def _check_name_clashes(manifest: Manifest, marks: Marks, problems: list[ManifestProblem]) -> None:
    # `uses: [x]` must mean one thing: a queue and a bucket may not share a name.
    for name in manifest.buckets:
        if name in manifest.queues or name in FIXED_USES:
            problems.append(
                marks.problem(
                    ("buckets", name),
                    f"`{name}` is also the name of a queue or a built-in (db, cache, mail)",
                    "give the bucket its own name",
                )
            )
    for name in manifest.queues:
        if name in FIXED_USES:
            problems.append(
                marks.problem(("queues", name), f"`{name}` is reserved", "rename the queue")
            )


def _check_image_source(
    name: str,
    service: ServiceSpec,
    services: Mapping[str, ServiceSpec],
    marks: Marks,
    problems: list[ManifestProblem],
) -> None:
    source = service.image.from_
    if source is None:
        return
    path: YamlPath = ("services", name, "image", "from")
    # The services this one could take its image from: those with an image of their own.
    sources = sorted(other for other, spec in services.items() if spec.image.from_ is None)
    hint = (
        "services with an image of their own: " + ", ".join(sources)
        if sources
        else "give one service an image of its own: `image: REF` or `image: { build: DIR }`"
    )
    if source not in services or source == name:
        problems.append(
            marks.problem(path, f"`{source}` is not another service in this manifest", hint)
        )
    elif services[source].image.from_ is not None:
        # Name the real source only when it is one; a typo there has its own error.
        upstream = services[source].image.from_
        if upstream in sources and upstream != name:
            hint = f"point at `{upstream}` directly"
        problems.append(
            marks.problem(path, f"`{source}` itself takes its image from another service", hint)
        )


def _check_routes(
    services: Mapping[str, ServiceSpec], marks: Marks, problems: list[ManifestProblem]
) -> None:
    seen: dict[tuple[str | None, str | None], str] = {}
    for name, service in services.items():
        if service.http is None:
            continue
        route = (service.http.host, service.http.path)
        if route in seen:
            problems.append(
                marks.problem(
                    ("services", name, "http"),
                    f"the same route is already served by `{seen[route]}`",
                    "give each service its own path or host",
                )
            )
        seen[route] = name


# Container secrets fargo sets for `uses: [db]`; a user secret of the same name would clash.
_INJECTED_SECRETS = ("DB_USER", "DB_PASSWORD")


def _check_injected_names(
    name: str, service: ServiceSpec, marks: Marks, problems: list[ManifestProblem]
) -> None:
    for secret in service.secrets:
        if secret in service.env:
            problems.append(
                marks.problem(
                    ("services", name, "secrets", secret),
                    f"`{secret}` is both an env value and a secret",
                    "keep one: a container variable has one source",
                )
            )
        if "db" in service.uses and secret in _INJECTED_SECRETS:
            problems.append(
                marks.problem(
                    ("services", name, "secrets", secret),
                    f"`{secret}` is set by `uses: [db]` from the database's own secret",
                    "drop it, or drop `db` from uses and wire the database yourself",
                )
            )


def _check_architecture(
    name: str,
    service: ServiceSpec,
    services: Mapping[str, ServiceSpec],
    marks: Marks,
    problems: list[ManifestProblem],
) -> None:
    """An image runs only on the CPU it was built for: say so before a task fails to start."""
    build = service.image.build
    wanted = platform_for_arch(service.arch)
    if build is not None and build.platform is not None and build.platform != wanted:
        problems.append(
            marks.problem(
                ("services", name, "image", "build", "platform"),
                f"platform {build.platform} does not match arch {service.arch}",
                "drop platform (it follows arch) or set arch to match",
            )
        )
    source = services.get(service.image.from_ or "")
    if source is not None and source.arch != service_arch(name, services):
        problems.append(
            marks.problem(
                ("services", name, "arch"),
                f"`{service.image.from_}` is built for {source.arch}, this service runs "
                f"{service.arch}",
                f"drop `arch` here: with `image: {{ from: {service.image.from_} }}` a service "
                "runs on the arch of the service whose image it takes",
            )
        )


def _check_edge(manifest: Manifest, marks: Marks, problems: list[ManifestProblem]) -> None:
    if manifest.cdn is not None and not any(s.http for s in manifest.services.values()):
        problems.append(
            marks.problem(
                ("cdn",),
                "`cdn` routes its path to the API, but no service has `http`",
                "give the API service `http: { path: /api/* }` and a `port`",
            )
        )
    domain = manifest.domain
    if domain is None:
        return
    api = domain.api or f"api.{domain.name}"
    site = domain.site or f"www.{domain.name}"
    owned = manifest.cdn is not None and (manifest.cdn.static is not None or manifest.cdn.app)
    if manifest.cdn is not None and manifest.cdn.app:
        _check_origin_host(manifest, f"origin.{domain.name}", marks, problems)
    if owned and api == site:
        problems.append(
            marks.problem(
                ("domain", "api" if domain.api else "site"),
                f"the API and the static site cannot share the host {api}",
                f"for example api: api.{domain.name} and site: {domain.name}",
            )
        )


def _check_origin_host(
    manifest: Manifest, origin: str, marks: Marks, problems: list[ManifestProblem]
) -> None:
    """`cdn: { app }` with a domain reaches the load balancer by `origin.<zone>`, a host no
    listener rule routes on: CloudFront's requests under it must reach the app's default
    rules, not a service that claims the host (and, as a host fargo points at the load
    balancer, it cannot be the API's or the site's either)."""
    hint = (
        f"{origin} is the host CloudFront reaches the load balancer by with `cdn: {{ app }}`; "
        "give this one another name"
    )
    for name, service in manifest.services.items():
        if service.http is not None and service.http.host == origin:
            problems.append(
                marks.problem(
                    ("services", name, "http", "host"),
                    f"`{name}` routes the host {origin}, which fargo keeps for CloudFront",
                    hint,
                )
            )
    domain = manifest.domain
    hosts = (("api", domain.api), ("site", domain.site)) if domain is not None else ()
    for key, host in hosts:
        if host == origin:
            problems.append(
                marks.problem(
                    ("domain", key),
                    f"`{key}: {origin}` is the host fargo keeps for CloudFront",
                    hint,
                )
            )
