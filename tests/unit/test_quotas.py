"""CloudFormation's per-template quotas are checked by `render` and `plan` before any AWS
call. The figures are AWS's ("CloudFormation quotas", CloudFormation User Guide): 1 MB of
template body in S3, 500 resources, 200 parameters and 200 outputs per template."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from fargo.aws.facade import CallCounter
from fargo.cli.main import cli
from fargo.deployer import Target, open_deployer
from fargo.model.app import StackKind
from fargo.synth.quotas import QuotaExceeded, check_quotas
from fargo.synth.stack import StackTemplate


def _http_services(count: int, env: dict[str, str] | None = None) -> dict[str, Any]:
    services = {}
    for index in range(count):
        service: dict[str, Any] = {
            "image": "public.ecr.aws/docker/library/nginx:1.27",
            "port": 8080,
            "http": {"path": f"/s{index:02d}/*"},
            "count": {"min": 1, "max": 4, "cpu": 60},
        }
        if env:
            service["env"] = env
        services[f"s{index:02d}"] = service
    return services


def _manifest(tmp_path: Path, services: dict[str, Any]) -> Path:
    path = tmp_path / "fargo.yml"
    path.write_text(yaml.safe_dump({"app": "big", "region": "us-east-1", "services": services}))
    return path


def _resources(tmp_path: Path, manifest: Path) -> int:
    rendered = CliRunner().invoke(cli, ["render", "-f", str(manifest), "--out", str(tmp_path)])
    assert rendered.exit_code == 0, rendered.output
    body = yaml.safe_load((tmp_path / "big-default-services.json").read_text())
    return len(body["Resources"])


def test_render_refuses_a_services_template_over_500_resources(tmp_path: Path) -> None:
    # Each autoscaled HTTP service is ten resources (service, task definition, two roles,
    # log group, target group, listener rule, scalable target, policy, alarm): 50 of them
    # are exactly at the quota, which CloudFormation accepts, and one more is past it.
    at_limit = _manifest(tmp_path, _http_services(50))
    assert _resources(tmp_path, at_limit) == 500

    over = _manifest(tmp_path, _http_services(51))
    result = CliRunner().invoke(cli, ["render", "-f", str(over)])

    assert result.exit_code == 2
    assert "big-default-services" in result.output
    assert "510 resources" in result.output
    assert "limit of 500 resources" in result.output
    assert "hint:" in result.output


def test_render_refuses_a_template_over_one_megabyte(tmp_path: Path) -> None:
    # Twelve services, each with 25 values of 4,000 characters: 1.2 MB of env alone.
    values = {f"SETTING_{i}": "x" * 4000 for i in range(25)}
    manifest = _manifest(tmp_path, _http_services(12, values))

    result = CliRunner().invoke(cli, ["render", "-f", str(manifest)])

    assert result.exit_code == 2
    assert "big-default-services" in result.output
    assert "limit of 1,000,000 bytes" in result.output
    assert "`env` values" in result.output  # the hint names the way out


def test_plan_refuses_before_any_aws_call(tmp_path: Path) -> None:
    manifest = _manifest(tmp_path, _http_services(51))
    counter = CallCounter()
    # Nothing listens there: a call would fail with a connection error, not QuotaExceeded.
    planner = open_deployer(manifest, None, Target("http://127.0.0.1:9"), counter=counter)

    with pytest.raises(QuotaExceeded) as caught:
        planner.plan()

    assert caught.value.exit_code == 2
    assert counter.total == 0


def _template(section: str, count: int) -> StackTemplate:
    entries = {f"Entry{i}": {"Type": "String"} for i in range(count)}
    return StackTemplate(StackKind.SERVICES, "app-env-services", {section: entries})


@pytest.mark.parametrize("section", ["Parameters", "Outputs"])
def test_two_hundred_parameters_or_outputs_pass_and_one_more_is_refused(section: str) -> None:
    check_quotas([_template(section, 200)])

    with pytest.raises(QuotaExceeded) as caught:
        check_quotas([_template(section, 201)])

    assert f"201 {section.lower()}" in caught.value.message
    assert f"limit of 200 {section.lower()}" in caught.value.message
