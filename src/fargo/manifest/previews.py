"""Preview environments: `--env NAME` for a NAME that `previews.names` matches is built from
the overlay of the environment `previews.from` names, all on Fargate Spot by default.

A preview never takes that environment's `domain`, `cdn` or `mail`: it would overwrite its
DNS records and certificate, collide in its distribution, and verify the same SES domain a
second time. It gets a host of its own from `previews.domain`, or none.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from fnmatch import fnmatchcase
from typing import Any

from pydantic import Field, ValidationError, field_validator
from pydantic_core import ErrorDetails, PydanticCustomError

from fargo.errors import ManifestError, ManifestProblem
from fargo.manifest import messages
from fargo.manifest.base import Strict, invalid, name_rule
from fargo.manifest.marks import Marks, YamlPath
from fargo.manifest.overlay import ENVIRONMENTS, apply_overlay

PREVIEWS = "previews"
ENV_PLACEHOLDER = "{env}"
# What a preview never inherits from the environment it is built from.
NOT_INHERITED = ("domain", "cdn", "mail")
# A preview's services run on Fargate Spot unless its overlay says otherwise.
PREVIEW_SPOT = {"base": 0}

_HOST = re.compile(r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
# The characters the environment name rule allows, for matching a host against a template.
_ENV_CHARS = "[a-z][a-z0-9-]*"
_ENV_LIMIT = 12


class PreviewsSpec(Strict):
    from_: str = Field(alias="from", description="the environment whose overlay previews use")
    names: str = Field(description="a glob of preview environment names, e.g. pr-*")
    domain: str | None = Field(
        None,
        description="the API host of a preview; {env} is its name, e.g. {env}.preview.example.com",
    )

    @field_validator("names")
    @classmethod
    def _names(cls, value: str) -> str:
        if not value or not any(c in value for c in "*?["):
            raise invalid(
                f"`{value}` matches at most one name",
                "a glob such as pr-*: every `--env` it matches is a preview",
            )
        return value

    @field_validator("domain")
    @classmethod
    def _domain(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if value.count(ENV_PLACEHOLDER) != 1 or not _HOST.fullmatch(
            value.replace(ENV_PLACEHOLDER, "pr-1")
        ):
            raise invalid(
                f"`{value}` is not a host template",
                "a lower-case host with {env} once, e.g. {env}.preview.example.com",
            )
        return value


def overlay_for(
    data: dict[str, Any], env: str | None, marks: Marks
) -> tuple[dict[str, Any], Marks, bool]:
    """The manifest `env` deploys, before validation, its marks, and whether it is a
    preview."""
    spec = _checked_spec(data, marks)
    environments = data.get(ENVIRONMENTS)
    known = environments if isinstance(environments, dict) else {}
    if spec is None or env is None or env in known or not fnmatchcase(env, spec.names):
        return (*apply_overlay(data, env, marks), False)
    _check_name(env, marks)
    merged, marks = apply_overlay(data, spec.from_, marks)
    overlay = known.get(spec.from_) or {}
    for key in NOT_INHERITED:
        merged.pop(key, None)
    services = merged.get("services")
    if isinstance(services, dict):
        merged["services"] = {
            name: _preview_service(service, _overlay_service(overlay, name))
            for name, service in services.items()
        }
    if spec.domain is not None:
        zone = _domain_of(data, spec.from_) or {}
        merged["domain"] = {
            "name": zone["name"],
            "api": spec.domain.replace(ENV_PLACEHOLDER, env),
            "dns": zone.get("dns", "route53"),
        }
        marks = _domain_marks(marks)
    return merged, marks, True


def _domain_marks(marks: Marks) -> Marks:
    """The preview's `domain` is made from `previews.domain`: its problems point there."""
    lines = {path: line for path, line in marks.lines.items() if path[:1] != ("domain",)}
    line = marks.line_of((PREVIEWS, "domain"))
    if line is not None:
        lines.update({("domain", key): line for key in ("name", "api", "dns")})
    return Marks(marks.file, lines)


def _preview_service(service: Any, overlay: dict[str, Any]) -> Any:
    if not isinstance(service, dict):
        return service
    out = dict(service)
    if "spot" not in overlay:
        out["spot"] = dict(PREVIEW_SPOT)
    uses = out.get("uses")
    if isinstance(uses, list) and "mail" in uses:
        # No `mail:` in a preview, so nothing to use: the service gets no MAIL_* variables.
        out["uses"] = [used for used in uses if used != "mail"]
    return out


def _overlay_service(overlay: Any, name: str) -> dict[str, Any]:
    services = overlay.get("services") if isinstance(overlay, dict) else None
    service = services.get(name) if isinstance(services, dict) else None
    return service if isinstance(service, dict) else {}


def _check_name(env: str, marks: Marks) -> None:
    try:
        name_rule(env, "preview environment", _ENV_LIMIT)
    except PydanticCustomError as error:
        hint = str((error.context or {}).get("hint"))
        raise ManifestError([marks.problem((PREVIEWS, "names"), error.message(), hint)]) from None


def _checked_spec(data: dict[str, Any], marks: Marks) -> PreviewsSpec | None:
    """`previews:` validated and checked against `environments:`, on every load."""
    environments = data.get(ENVIRONMENTS)
    for name, overlay in (environments if isinstance(environments, dict) else {}).items():
        if isinstance(overlay, dict) and PREVIEWS in overlay:
            raise ManifestError(
                [
                    marks.problem(
                        (ENVIRONMENTS, name, PREVIEWS),
                        "`previews` cannot be overridden per environment",
                        "set it once at the top; `from` names the environment previews use",
                    )
                ]
            )
    raw = data.get(PREVIEWS)
    if raw is None:
        return None
    try:
        spec = PreviewsSpec.model_validate(raw)
    except ValidationError as error:
        raise ManifestError(
            [_problem(e, messages.where(e), marks) for e in error.errors()]
        ) from None
    problems: list[ManifestProblem] = []
    known = sorted(environments) if isinstance(environments, dict) else []
    if spec.from_ not in known:
        problems.append(
            marks.problem(
                (PREVIEWS, "from"),
                f"`{spec.from_}` is not an environment of this manifest",
                "previews are built from one of `environments:`: "
                + (", ".join(known) or "none defined"),
            )
        )
    clashes = [name for name in known if fnmatchcase(name, spec.names)]
    if clashes:
        problems.append(
            marks.problem(
                (PREVIEWS, "names"),
                f"`{spec.names}` also matches the environment {', '.join(clashes)}",
                "choose a pattern no name in `environments:` matches, e.g. pr-*",
            )
        )
    if spec.domain is not None and not problems:
        problems += _domain_problems(data, spec, spec.domain, known, marks)
    if problems:
        raise ManifestError(problems)
    return spec


def _domain_problems(
    data: dict[str, Any], spec: PreviewsSpec, template: str, known: list[str], marks: Marks
) -> list[ManifestProblem]:
    path: YamlPath = (PREVIEWS, "domain")
    zone = _domain_of(data, spec.from_)
    if zone is None or not isinstance(zone.get("name"), str):
        return [
            marks.problem(
                path,
                f"previews take their zone and DNS provider from `{spec.from_}`'s `domain`, "
                "and it has none",
                "add a top-level `domain: { name: ZONE, dns: PROVIDER }`, or drop "
                "previews.domain to reach previews by their load balancer's name",
            )
        ]
    name = zone["name"]
    if not template.endswith("." + name):
        return [
            marks.problem(
                path,
                f"`{template}` is outside the zone {name}",
                f"fargo writes records only in {name}; e.g. {{env}}.preview.{name}",
            )
        ]
    problems = _service_host_problems(data, spec, name, marks)
    matcher = _host_matcher(template, spec.names)
    for env in [None, *known]:
        for host in sorted(_hosts(_domain_of(data, env))):
            if matcher(host):
                problems.append(
                    marks.problem(
                        path,
                        f"a preview could get the host {host}, which environment "
                        f"`{env or 'default'}` already uses",
                        "give previews a subdomain of their own, e.g. {env}.preview." + name,
                    )
                )
    return problems


def _service_host_problems(
    data: dict[str, Any], spec: PreviewsSpec, zone: str, marks: Marks
) -> list[ManifestProblem]:
    """A preview keeps its services' `http.host`s, and with a domain it would write their
    records and name them on its certificate: one inside the zone is another environment's,
    which a preview's deploy would point at itself and its destroy would delete."""
    merged, _ = apply_overlay(data, spec.from_, marks)
    services = merged.get("services")
    problems = []
    for name, service in (services if isinstance(services, dict) else {}).items():
        http = service.get("http") if isinstance(service, dict) else None
        host = http.get("host") if isinstance(http, dict) else None
        if isinstance(host, str) and (host == zone or host.endswith("." + zone)):
            problems.append(
                marks.problem(
                    (PREVIEWS, "domain"),
                    f"a preview would take service `{name}`'s host {host}, which "
                    f"`{spec.from_}` uses: its record and certificate would point at the "
                    "preview, and its destroy would delete them",
                    f"route `{name}` by `http.path` instead, or drop previews.domain: "
                    "previews are then reached by their load balancer's name",
                )
            )
    return problems


def _host_matcher(template: str, names: str) -> Callable[[str], bool]:
    """Whether some preview name `names` matches gives this host under `template`."""
    before, after = template.split(ENV_PLACEHOLDER)
    pattern = re.compile(re.escape(before) + f"({_ENV_CHARS})" + re.escape(after))

    def matches(host: str) -> bool:
        found = pattern.fullmatch(host)
        if found is None:
            return False
        env = found.group(1)
        return len(env) <= _ENV_LIMIT and fnmatchcase(env, names)

    return matches


def _domain_of(data: dict[str, Any], env: str | None) -> dict[str, Any] | None:
    """The `domain:` environment `env` deploys with (None: the manifest without overlay)."""
    base = data.get("domain")
    environments = data.get(ENVIRONMENTS)
    overlay = environments.get(env) if env and isinstance(environments, dict) else None
    if isinstance(overlay, dict) and "domain" in overlay:
        value = overlay["domain"]
        base = {**base, **value} if isinstance(base, dict) and isinstance(value, dict) else value
    return base if isinstance(base, dict) else None


def _hosts(domain: dict[str, Any] | None) -> set[str]:
    if domain is None or not isinstance(domain.get("name"), str):
        return set()
    name = domain["name"]
    return {str(domain.get("api") or f"api.{name}"), str(domain.get("site") or f"www.{name}")}


def _problem(error: ErrorDetails, loc: YamlPath, marks: Marks) -> ManifestProblem:
    path: YamlPath = (PREVIEWS, *loc)
    if error["type"] == "missing":
        return marks.problem(path, f"`{loc[-1]}` is required", "previews need `from` and `names`")
    if error["type"] == "extra_forbidden":
        return marks.problem(path, f"unknown key `{loc[-1]}`", "allowed keys: from, names, domain")
    return marks.problem(path, *messages.describe(error))
