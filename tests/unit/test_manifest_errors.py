"""Bad manifests: every problem names fargo.yml:LINE, the YAML path and a hint."""

from __future__ import annotations

import textwrap

import pytest

from fargo.errors import ManifestError
from fargo.manifest.load import parse_manifest

GOOD = """\
app: shop
services:
  api:
    image: nginx:1.27
    port: 8000
    http: { path: /api/*, healthcheck: /api/health }
"""


def problems(text: str, env: str | None = None, environ: dict[str, str] | None = None) -> list:
    with pytest.raises(ManifestError) as caught:
        parse_manifest(textwrap.dedent(text), "fargo.yml", env, environ or {})
    return caught.value.problems


def test_good_manifest_loads() -> None:
    loaded = parse_manifest(GOOD, "fargo.yml", None, {})
    assert loaded.manifest.services["api"].port == 8000
    assert loaded.env == "default"


def test_bad_yaml_names_the_line() -> None:
    (problem,) = problems("app: shop\nservices:\n  api: [unclosed\n")
    assert problem.line == 3
    assert "not valid YAML" in problem.message
    assert problem.hint


def test_unknown_key_suggests_the_right_one() -> None:
    (problem,) = problems(GOOD + "    prot: 9000\n")
    assert (problem.line, problem.path) == (7, "services.api.prot")
    assert "unknown key `prot`" in problem.message
    assert problem.hint == "did you mean `port`?"


def test_unknown_top_level_key_lists_allowed_keys() -> None:
    (problem,) = problems(GOOD + "zzz: 1\n")
    assert problem.line == 7
    assert "services" in (problem.hint or "")


def test_fargate_cpu_memory_pair_is_checked() -> None:
    (problem,) = problems(GOOD + "    cpu: 256\n    memory: 4096\n")
    assert problem.path == "services.api"
    assert problem.line == 3
    assert "256 CPU units with 4096 MiB" in problem.message
    assert problem.hint == "with cpu 256 use memory 512, 1024, 2048"


def test_cpu_outside_fargate_sizes() -> None:
    (problem,) = problems(GOOD + "    cpu: 300\n")
    assert (problem.line, problem.path) == (7, "services.api.cpu")
    assert "not a Fargate task size" in problem.message


def test_duplicate_key_is_an_error_not_an_overwrite() -> None:
    (problem,) = problems(GOOD + "app: again\n")
    assert problem.line == 7
    assert problem.message == "duplicate key"
    assert "line 1" in (problem.hint or "")


@pytest.mark.parametrize(
    ("path", "fragment"),
    [("api/*", "not a valid load balancer path"), ("/a/*/*/*/*/*/*", "5 wildcards")],
)
def test_alb_path_pattern_rules(path: str, fragment: str) -> None:
    text = GOOD.replace("path: /api/*", f"path: {path}")
    (problem,) = problems(text)
    assert problem.path == "services.api.http.path"
    assert fragment in problem.message + (problem.hint or "")


def test_names_follow_aws_rules() -> None:
    (problem,) = problems(GOOD.replace("app: shop", "app: Shop_1"))
    assert (problem.line, problem.path) == (1, "app")
    assert "lowercase" in (problem.hint or "")


def test_port_range() -> None:
    (problem,) = problems(GOOD.replace("port: 8000", "port: 70000"))
    assert (problem.line, problem.path) == (5, "services.api.port")


def test_http_needs_a_port() -> None:
    (problem,) = problems(GOOD.replace("    port: 8000\n", ""))
    assert "needs a `port`" in problem.message


def test_unknown_references() -> None:
    text = GOOD + "    uses: [db]\n  worker:\n    image: { from: nope }\n"
    found = problems(text)
    assert [(p.line, p.path) for p in found] == [
        (9, "services.worker.image.from"),
        (7, "services.api.uses[0]"),
    ] or sorted((p.line, p.path) for p in found) == [
        (7, "services.api.uses[0]"),
        (9, "services.worker.image.from"),
    ]
    assert any("no `database:`" in p.message for p in found)


def test_interpolation_and_missing_variable() -> None:
    text = GOOD.replace("nginx:1.27", "${IMAGE}")
    loaded = parse_manifest(text, "fargo.yml", None, {"IMAGE": "repo/app:1"})
    assert loaded.manifest.services["api"].image.ref == "repo/app:1"
    (problem,) = problems(text)
    assert (problem.line, problem.path) == (4, "services.api.image")
    assert "IMAGE is not set" in problem.message


def test_interpolation_default_and_escape() -> None:
    text = GOOD.replace("nginx:1.27", "${IMAGE:-nginx:2}") + '    env: { X: "$${KEEP}" }\n'
    loaded = parse_manifest(text, "fargo.yml", None, {})
    api = loaded.manifest.services["api"]
    assert api.image.ref == "nginx:2"
    assert api.env["X"] == "${KEEP}"


def test_overlay_errors_point_at_the_overlay_line() -> None:
    text = GOOD + "environments:\n  prod:\n    services:\n      api: { memory: 9999 }\n"
    (problem,) = problems(text, env="prod")
    assert problem.line == 10
    assert "9999 MiB" in problem.message


def test_unknown_environment() -> None:
    (problem,) = problems(GOOD + "environments:\n  prod: {}\n", env="qa")
    assert "`qa` is not defined" in problem.message
    assert "prod" in (problem.hint or "")


def test_several_problems_are_reported_together() -> None:
    found = problems(GOOD + "    bogus: 1\nregion: mars\n")
    assert {p.path for p in found} == {"services.api.bogus", "region"}


def test_healthcheck_is_a_plain_path() -> None:
    (problem,) = problems(GOOD.replace("/api/health", "/h*'$(reboot)"))
    assert problem.path == "services.api.http.healthcheck"
    assert "not a health check path" in problem.message


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("cron(0 3 * * * *)", "exactly one of day-of-month and day-of-week"),
        ("cron(0 3 * *)", "cron takes 6 fields"),
        ("rate(1 hours)", "rate(1 hour)"),
        ("every day", "not cron(...), rate(...) or at(...)"),
    ],
)
def test_schedule_expressions_are_checked(expression: str, fragment: str) -> None:
    text = GOOD + f'  nightly:\n    image: x\n    schedule: "{expression}"\n'
    (problem,) = problems(text)
    assert problem.path == "services.nightly"
    assert fragment in problem.message


def test_good_schedules_load() -> None:
    for expression in ("cron(0 3 * * ? *)", "rate(15 minutes)", "rate(1 day)"):
        text = GOOD + f'  nightly:\n    image: x\n    schedule: "{expression}"\n'
        assert parse_manifest(text, "fargo.yml", None, {}).manifest.services["nightly"].schedule


def test_worker_queue_and_uses_must_exist() -> None:
    text = GOOD + "    uses: [jobs]\n  worker:\n    image: x\n    queue: jobs\n"
    found = problems(text)
    assert {(p.line, p.path) for p in found} == {
        (7, "services.api.uses[0]"),
        (10, "services.worker.queue"),
    }


def test_a_service_has_one_role() -> None:
    text = GOOD + "    queue: jobs\nqueues:\n  jobs: {}\n"
    (problem,) = problems(text)
    assert "sets http and queue" in problem.message


def test_mail_sender_must_belong_to_the_domain() -> None:
    (problem,) = problems(GOOD + "mail: { domain: example.com, from: me@other.org }\n")
    assert problem.path == "mail"
    assert "not an address of example.com" in problem.message


def test_queue_and_bucket_names_do_not_clash() -> None:
    (problem,) = problems(GOOD + "queues: { files: {} }\nbuckets: { files: {} }\n")
    assert problem.path == "buckets.files"


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ("  nightly:\n    image: x\n    schedule: rate(1 hour)\n    count: 2\n", "count"),
        ("  side:\n    image: x\n    count: { min: 1, max: 2, requests: 9 }\n", "needs `http`"),
        ("  side:\n    image: x\n    count: { min: 1, max: 2, backlog: 9 }\n", "needs `queue`"),
        ("  side:\n    image: x\n    count: { min: 0, max: 2 }\n", "scale up from zero"),
    ],
)
def test_scaling_targets_fit_the_kind_of_service(extra: str, fragment: str) -> None:
    found = problems(GOOD + extra)
    assert any(fragment in p.message for p in found), [p.message for p in found]


def test_secrets_do_not_clash_with_env_or_injected_names() -> None:
    text = (
        GOOD
        + '    uses: [db]\n    env: { TOKEN: x }\n    secrets: { TOKEN: "ssm:/a", '
        + 'DB_PASSWORD: "ssm:/b" }\ndatabase: {}\n'
    )
    found = problems(text)
    assert {p.path for p in found} == {
        "services.api.secrets.TOKEN",
        "services.api.secrets.DB_PASSWORD",
    }


@pytest.mark.parametrize(("key", "instead"), [("site", "www"), ("api", "api")])
def test_godaddy_has_no_alias_for_the_apex(key: str, instead: str) -> None:
    (problem,) = problems(
        GOOD + f"domain: {{ name: example.com, {key}: example.com, dns: godaddy }}\n"
    )
    assert problem.line == 7
    assert problem.path == "domain"
    assert "apex" in problem.message
    assert "godaddy" in problem.message
    assert problem.hint is not None
    assert f"use {instead}.example.com" in problem.hint
    assert "move the zone's DNS" in problem.hint


@pytest.mark.parametrize("dns", ["route53", "cloudflare", "porkbun", "powerdns"])
def test_other_providers_take_a_site_at_the_apex(dns: str) -> None:
    loaded = parse_manifest(
        GOOD + f"domain: {{ name: example.com, site: example.com, dns: {dns} }}\n",
        "fargo.yml",
        None,
        {},
    )
    assert loaded.manifest.domain is not None
    assert loaded.manifest.domain.site == "example.com"
