"""Every template of every example and environment passes cfn-lint (AWS's own schemas)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cfnlint.api import ManualArgs, lint

from fargo.synth.bootstrap import bootstrap_template
from tests.conftest import EXAMPLE_CASES, EXAMPLES
from tests.unit.synth_helpers import stacks_from_file, stacks_from_text


@pytest.mark.parametrize(("manifest", "env"), EXAMPLE_CASES)
def test_cfn_lint_reports_no_errors(manifest: Path, env: str | None) -> None:
    templates = stacks_from_file(manifest, env)
    assert len(templates) >= 3
    for template in templates:
        matches = lint(json.dumps(template.body), config=ManualArgs(regions=["us-east-1"]))
        errors = [f"{m.rule.id} {m.message} ({m.path})" for m in matches if m.rule.id[0] == "E"]
        assert not errors, f"{template.name}:\n" + "\n".join(errors)


def test_cfn_lint_on_the_bootstrap_stack() -> None:
    matches = lint(json.dumps(bootstrap_template()), config=ManualArgs(regions=["us-east-1"]))
    assert not [f"{m.rule.id} {m.message} ({m.path})" for m in matches if m.rule.id[0] == "E"]


def test_cfn_lint_catches_a_broken_template() -> None:
    """The check above can fail: a wrong value in a real template is reported."""
    (network, *_) = stacks_from_file(EXAMPLES / "fullstack" / "fargo.yml", None)
    body = json.loads(json.dumps(network.body))
    body["Resources"]["LoadBalancer"]["Properties"]["Scheme"] = "internet-facing-ish"
    matches = lint(json.dumps(body), config=ManualArgs(regions=["us-east-1"]))
    assert any(m.rule.id.startswith("E") for m in matches)


@pytest.mark.parametrize("env", [None, "prod", "aurora", "allspot"])
def test_cfn_lint_on_every_feature(env: str | None) -> None:
    """The unit manifest uses features the example does not (host routes, spot, ECR, ssm,
    Aurora Serverless at 0 ACU)."""
    from tests.unit.test_synth import MANIFEST  # noqa: PLC0415

    for template in stacks_from_text(MANIFEST, env).values():
        matches = lint(json.dumps(template.body), config=ManualArgs(regions=["us-east-1"]))
        errors = [f"{m.rule.id} {m.message}" for m in matches if m.rule.id[0] == "E"]
        assert not errors, f"{template.name}:\n" + "\n".join(errors)


@pytest.mark.parametrize("env", [None, "prod", "nodes", "spot"])
def test_cfn_lint_on_the_app_tier(env: str | None) -> None:
    from tests.unit.test_synth_app_tier import MANIFEST  # noqa: PLC0415

    for template in stacks_from_text(MANIFEST, env).values():
        matches = lint(json.dumps(template.body), config=ManualArgs(regions=["us-east-1"]))
        errors = [f"{m.rule.id} {m.message}" for m in matches if m.rule.id[0] == "E"]
        assert not errors, f"{template.name}:\n" + "\n".join(errors)


@pytest.mark.parametrize("env", [None, "web", "quiet", "domain"])
def test_cfn_lint_with_and_without_a_load_balancer(env: str | None) -> None:
    from tests.unit.test_synth_load_balancer import MANIFEST  # noqa: PLC0415

    for template in stacks_from_text(MANIFEST, env).values():
        matches = lint(json.dumps(template.body), config=ManualArgs(regions=["us-east-1"]))
        errors = [f"{m.rule.id} {m.message}" for m in matches if m.rule.id[0] == "E"]
        assert not errors, f"{template.name}:\n" + "\n".join(errors)


@pytest.mark.parametrize("env", [None, "domain", "nospa"])
def test_cfn_lint_on_the_static_site(env: str | None) -> None:
    from tests.unit.test_synth_edge import MANIFEST  # noqa: PLC0415

    for template in stacks_from_text(MANIFEST, env).values():
        matches = lint(json.dumps(template.body), config=ManualArgs(regions=["us-east-1"]))
        errors = [f"{m.rule.id} {m.message}" for m in matches if m.rule.id[0] == "E"]
        assert not errors, f"{template.name}:\n" + "\n".join(errors)


@pytest.mark.parametrize("env", [None, "domain", "noassets"])
def test_cfn_lint_on_the_cdn_in_front_of_the_app(env: str | None) -> None:
    from tests.unit.test_synth_cdn_app import MANIFEST  # noqa: PLC0415

    for template in stacks_from_text(MANIFEST, env).values():
        matches = lint(json.dumps(template.body), config=ManualArgs(regions=["us-east-1"]))
        errors = [f"{m.rule.id} {m.message}" for m in matches if m.rule.id[0] == "E"]
        assert not errors, f"{template.name}:\n" + "\n".join(errors)


@pytest.mark.parametrize("env", [None, "existing", "cdnonly", "plain"])
def test_cfn_lint_on_https_and_the_origin_header(env: str | None) -> None:
    """The HTTPS listener and its certificate parameter, the redirect, and listener rules
    that require CloudFront's header through a Secrets Manager dynamic reference."""
    from tests.unit.test_synth_https import MANIFEST  # noqa: PLC0415

    for template in stacks_from_text(MANIFEST, env).values():
        matches = lint(json.dumps(template.body), config=ManualArgs(regions=["us-east-1"]))
        errors = [f"{m.rule.id} {m.message}" for m in matches if m.rule.id[0] == "E"]
        assert not errors, f"{template.name}:\n" + "\n".join(errors)


def test_cfn_lint_on_a_preview() -> None:
    """A preview: all on Spot, its own API host, no cdn or mail, the preview tag."""
    from tests.unit.test_previews import MANIFEST  # noqa: PLC0415

    for template in stacks_from_text(MANIFEST, "pr-7").values():
        matches = lint(json.dumps(template.body), config=ManualArgs(regions=["us-east-1"]))
        errors = [f"{m.rule.id} {m.message}" for m in matches if m.rule.id[0] == "E"]
        assert not errors, f"{template.name}:\n" + "\n".join(errors)
