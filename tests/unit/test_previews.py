"""Preview environments in the manifest: which names are previews, what they inherit from
the environment they are built from, and the collisions refused at load."""

from __future__ import annotations

import textwrap

import pytest

from fargo.errors import ManifestError, ManifestProblem
from fargo.manifest.load import LoadedManifest, parse_manifest
from fargo.model import StackKind, build_app
from fargo.model.app import PREVIEW_TAG
from fargo.synth import synth

MANIFEST = """\
app: shop
services:
  api:
    image: nginx:1.27
    port: 8000
    http: { path: /api/*, healthcheck: /api/health }
    uses: [db, mail]
    spot: true
  worker:
    image: nginx:1.27
    command: [python, -m, app.worker]
database: { size: micro }
mail: { domain: example.com, from: no-reply@example.com }
domain: { name: example.com, dns: cloudflare }
cdn: { existing: E2ABCDEF123456 }
environments:
  staging:
    domain: { api: staging-api.example.com }
    database: { size: small }
    services: { worker: { spot: { base: 1 } } }
  prod: { profile: production }
previews: { from: staging, names: "pr-*", domain: "{env}.preview.example.com" }
"""
PREVIEWS_LINE = (
    MANIFEST.splitlines().index(
        'previews: { from: staging, names: "pr-*", domain: "{env}.preview.example.com" }'
    )
    + 1
)


def load(text: str, env: str | None) -> LoadedManifest:
    return parse_manifest(textwrap.dedent(text), "fargo.yml", env, {})


def problems(text: str, env: str | None = None) -> list[ManifestProblem]:
    with pytest.raises(ManifestError) as caught:
        load(text, env)
    return caught.value.problems


def test_a_name_previews_match_is_built_from_the_source_overlay() -> None:
    loaded = load(MANIFEST, "pr-7")
    assert loaded.preview
    assert loaded.env == "pr-7"
    assert loaded.manifest.database is not None
    assert loaded.manifest.database.size == "small"  # from environments.staging
    assert not load(MANIFEST, "staging").preview
    assert not load(MANIFEST, None).preview


def test_a_preview_takes_no_domain_cdn_or_mail_but_a_host_of_its_own() -> None:
    manifest = load(MANIFEST, "pr-7").manifest
    assert manifest.cdn is None
    assert manifest.mail is None
    assert manifest.services["api"].uses == ("db",)  # nothing to use without `mail:`
    assert manifest.domain is not None
    assert manifest.domain.name == "example.com"
    assert manifest.domain.api == "pr-7.preview.example.com"
    assert manifest.domain.dns == "cloudflare"
    assert manifest.domain.site is None


def test_without_previews_domain_a_preview_has_no_domain() -> None:
    text = MANIFEST.replace(', domain: "{env}.preview.example.com"', "")
    manifest = load(text, "pr-7").manifest
    assert manifest.domain is None
    app = build_app(load(text, "pr-7"))
    assert app.domain is None
    assert app.cdn is None
    assert app.mail is None


def test_preview_services_run_on_spot_unless_the_overlay_says_otherwise() -> None:
    services = load(MANIFEST, "pr-7").manifest.services
    assert services["api"].spot is not None
    assert services["api"].spot.base == 0  # `spot: true` in the base is not the overlay's
    assert services["worker"].spot is not None
    assert services["worker"].spot.base == 1  # environments.staging sets it


def test_a_preview_stack_has_no_on_demand_base_and_carries_the_preview_tag() -> None:
    templates = {t.kind: t for t in synth(build_app(load(MANIFEST, "pr-7")))}
    services = templates[StackKind.SERVICES]
    strategy = services.body["Resources"]["ApiService"]["Properties"]["CapacityProviderStrategy"]
    assert strategy == [{"CapacityProvider": "FARGATE_SPOT", "Weight": 1}]
    for template in templates.values():
        assert template.name.startswith("shop-pr-7-")
        assert template.tags[PREVIEW_TAG] == "true"
        assert template.tags["fargo:env"] == "pr-7"
    staging = synth(build_app(load(MANIFEST, "staging")))
    assert all(PREVIEW_TAG not in t.tags for t in staging)


def test_a_name_neither_defined_nor_matched_is_still_refused() -> None:
    (problem,) = problems(MANIFEST, "qa")
    assert "environment `qa` is not defined" in problem.message


def test_a_preview_name_must_be_a_valid_environment_name() -> None:
    (problem,) = problems(MANIFEST, "pr-1234567890")
    assert (problem.line, problem.path) == (PREVIEWS_LINE, "previews.names")
    assert "pr-1234567890" in problem.message
    assert "at most 12 characters" in (problem.hint or "")


def test_names_matching_a_defined_environment_are_refused_on_every_load() -> None:
    text = MANIFEST.replace('names: "pr-*"', 'names: "p*"')
    (problem,) = problems(text)
    assert (problem.line, problem.path) == (PREVIEWS_LINE, "previews.names")
    assert "matches the environment prod" in problem.message
    assert problem.hint


def test_from_must_name_an_environment() -> None:
    (problem,) = problems(MANIFEST.replace("from: staging", "from: stagin"), "staging")
    assert (problem.line, problem.path) == (PREVIEWS_LINE, "previews.from")
    assert "`stagin` is not an environment" in problem.message
    assert "prod, staging" in (problem.hint or "")


def test_a_host_another_environment_uses_is_refused() -> None:
    # `pr-api` is a name `pr-*` matches; its host would be staging's API host.
    text = MANIFEST.replace("staging-api.example.com", "pr-api.example.com").replace(
        "{env}.preview.example.com", "{env}.example.com"
    )
    (problem,) = problems(text, "prod")
    assert (problem.line, problem.path) == (PREVIEWS_LINE, "previews.domain")
    assert "pr-api.example.com" in problem.message
    assert "`staging`" in problem.message
    assert "{env}.preview.example.com" in (problem.hint or "")


def test_a_service_host_in_the_zone_is_refused_with_a_preview_domain() -> None:
    """The preview would write admin.example.com's record and certificate (and its destroy
    delete them): another environment's host."""
    admin = (
        "  admin:\n    image: nginx:1.27\n    port: 8001\n"
        "    http: { host: admin.example.com, healthcheck: /health }\n"
    )
    text = MANIFEST.replace("  worker:\n", admin + "  worker:\n")
    line = PREVIEWS_LINE + 4
    (problem,) = problems(text)
    assert (problem.line, problem.path) == (line, "previews.domain")
    assert "admin.example.com" in problem.message
    assert "route `admin` by `http.path`" in (problem.hint or "")
    # Without previews.domain a preview has no domain: no record, no certificate.
    loaded = load(text.replace(', domain: "{env}.preview.example.com"', ""), "pr-7")
    assert build_app(loaded).api_hosts == ()


def test_a_host_outside_the_zone_or_without_a_zone_is_refused() -> None:
    outside = MANIFEST.replace("{env}.preview.example.com", "{env}.preview.example.org")
    (problem,) = problems(outside)
    assert problem.path == "previews.domain"
    assert "outside the zone example.com" in problem.message
    no_zone = MANIFEST.replace("domain: { name: example.com, dns: cloudflare }\n", "").replace(
        "    domain: { api: staging-api.example.com }\n", ""
    )
    (problem,) = problems(no_zone)
    assert problem.path == "previews.domain"
    assert "has none" in problem.message


@pytest.mark.parametrize(
    ("spec", "path", "words"),
    [
        ('{ from: staging, names: "pr-7" }', "previews.names", "matches at most one name"),
        (
            '{ from: staging, names: "pr-*", domain: "preview.example.com" }',
            "previews.domain",
            "not a host template",
        ),
        ('{ names: "pr-*" }', "previews.from", "`from` is required"),
        ('{ from: staging, names: "pr-*", zone: x }', "previews.zone", "unknown key `zone`"),
    ],
)
def test_a_bad_previews_section_names_its_line(spec: str, path: str, words: str) -> None:
    text = MANIFEST.replace(
        'previews: { from: staging, names: "pr-*", domain: "{env}.preview.example.com" }',
        f"previews: {spec}",
    )
    (problem,) = problems(text)
    assert (problem.line, problem.path) == (PREVIEWS_LINE, path)
    assert words in problem.message
    assert problem.hint


def test_previews_cannot_be_set_per_environment() -> None:
    text = MANIFEST.replace(
        "  prod: { profile: production }",
        '  prod: { profile: production, previews: { from: prod, names: "x-*" } }',
    )
    (problem,) = problems(text)
    assert problem.path == "environments.prod.previews"
    assert (
        problem.line
        == text.splitlines().index(
            '  prod: { profile: production, previews: { from: prod, names: "x-*" } }'
        )
        + 1
    )
    assert "cannot be overridden" in problem.message
