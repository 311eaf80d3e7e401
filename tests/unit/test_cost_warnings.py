"""Plan's cost warnings: each names the cheaper alternative and the monthly difference,
computed here from the price table by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from fargo.aws.cloudformation import DeployedStack
from fargo.cli.main import cli
from fargo.cost.delta import cost_warnings, price_plan
from fargo.cost.estimate import estimate_app
from fargo.cost.prices import load_prices
from fargo.errors import AwsError
from fargo.manifest.load import load_manifest
from fargo.model import build_app
from fargo.plan.planner import Plan, StackRemoval
from fargo.synth.stack import StackTemplate

ROOT = Path(__file__).resolve().parents[2]
TABLE = load_prices("us-east-1")
H = 730
VALKEY_MINIMUM = 0.1 * H * TABLE["elasticache_serverless.gb_hour.valkey"].price


def _warnings(
    tmp_path: Path, example: str, env: str | None = None, **changes: object
) -> dict[str, str]:
    manifest = yaml.safe_load((ROOT / "examples" / example / "fargo.yml").read_text())
    manifest.update(changes)
    path = tmp_path / "fargo.yml"
    path.write_text(yaml.safe_dump(manifest))
    app = build_app(load_manifest(path, env))
    return {w.code: w.message for w in cost_warnings(estimate_app(app), app.profile)}


def test_nat_per_az_off_production_names_a_single_gateway(tmp_path: Path) -> None:
    found = _warnings(tmp_path, "fullstack", network={"nat": "per-az", "azs": 2})
    saved = H * (TABLE["nat.hour"].price + TABLE["public_ipv4.hour"].price)
    assert "network.nat: single" in found["cost-nat-per-az"]
    assert f"${saved:,.2f}" in found["cost-nat-per-az"]


def test_nat_per_az_on_production_is_not_warned(tmp_path: Path) -> None:
    assert "cost-nat-per-az" not in _warnings(tmp_path, "fullstack", "prod")


def test_redis_serverless_names_valkey_and_the_difference(tmp_path: Path) -> None:
    found = _warnings(tmp_path, "fullstack", cache={"engine": "redis"})
    redis = 1.0 * H * TABLE["elasticache_serverless.gb_hour.redis"].price  # 1 GB minimum
    message = found["cost-redis-serverless"]
    assert "valkey" in message
    assert f"${redis - VALKEY_MINIMUM:,.2f}" in message
    assert redis == pytest.approx(91.25, rel=0.01)


def test_a_node_cache_dearer_than_serverless_is_warned(tmp_path: Path) -> None:
    found = _warnings(tmp_path, "workers")  # cache.t4g.micro for Redis OSS
    node = H * TABLE["elasticache.node_hour.cache.t4g.micro.redis"].price
    assert f"${node - VALKEY_MINIMUM:,.2f}" in found["cost-node-cache"]


def test_a_valkey_serverless_cache_is_not_warned(tmp_path: Path) -> None:
    found = _warnings(tmp_path, "fullstack")
    assert "cost-redis-serverless" not in found
    assert "cost-node-cache" not in found


def test_a_plan_in_a_region_without_prices_is_left_unpriced_with_a_warning() -> None:
    cost, warnings = price_plan(Plan(()), (), _no_template, "ap-southeast-7", "lean")
    assert cost is None
    (warning,) = warnings
    assert warning.code == "cost-no-prices"
    assert "ap-southeast-7" in warning.message
    assert "us-east-1" in warning.message


def _no_template(name: str) -> dict[str, object]:
    raise AssertionError(f"{name}: an unpriced plan reads no template")


def _template(resources: dict[str, object]) -> StackTemplate:
    return StackTemplate(
        kind="data", name="shop-data", body={"Resources": resources}, parameters={}
    )


def test_a_node_type_the_table_lacks_leaves_it_unpriced_and_plan_goes_on() -> None:
    # cache.r7g.large is a real ElastiCache node type the us-east-1 table does not list.
    assert TABLE.get("elasticache.node_hour.cache.r7g.large.valkey") is None
    cache = {
        "Type": "AWS::ElastiCache::ReplicationGroup",
        "Properties": {"Engine": "valkey", "CacheNodeType": "cache.r7g.large"},
    }
    key = {"Type": "AWS::KMS::Key", "Properties": {}}
    cost, warnings = price_plan(
        Plan(()), (_template({"Cache": cache, "Key": key}),), _no_template, "us-east-1", "lean"
    )
    assert cost is not None
    (gap,) = cost.after.unpriced
    assert (gap.resource, gap.type) == ("Cache", "AWS::ElastiCache::ReplicationGroup")
    assert "elasticache.node_hour.cache.r7g.large.valkey" in gap.reason
    # The rest is still priced: the key at its monthly rate.
    assert cost.after.monthly_total == pytest.approx(TABLE["kms.key_month"].price)
    (warning,) = [w for w in warnings if w.code == "cost-unpriced"]
    assert "Cache" in warning.message


def test_a_deployed_template_that_cannot_be_read_leaves_the_plan_unpriced() -> None:
    deployed = DeployedStack(
        "shop-data", "arn:stack", "UPDATE_COMPLETE", "", {}, {}, {}, None, False
    )
    removal = StackRemoval("shop-data", deployed, (), ())

    def denied(name: str) -> dict[str, object]:
        raise AwsError(f"GetTemplate on {name}: AccessDenied")

    cost, warnings = price_plan(Plan((), removals=(removal,)), (), denied, "us-east-1", "lean")
    assert cost is None
    (warning,) = warnings
    assert warning.code == "cost-unpriced"
    assert "AccessDenied" in warning.message


def test_fargo_cost_shows_an_unknown_node_type_as_not_priced(tmp_path: Path) -> None:
    manifest = yaml.safe_load((ROOT / "examples/fullstack/fargo.yml").read_text())
    manifest["cache"] = {"engine": "valkey", "node": "cache.r7g.large"}
    path = tmp_path / "fargo.yml"
    path.write_text(yaml.safe_dump(manifest))
    result = CliRunner().invoke(cli, ["cost", "-f", str(path)])
    assert result.exit_code == 0, result.output
    assert "not priced" in result.output
    assert "cache.r7g.large" in result.output
    body = json.loads(CliRunner().invoke(cli, ["cost", "-f", str(path), "--json"]).output)
    assert [g["type"] for g in body["unpriced"]] == ["AWS::ElastiCache::ReplicationGroup"]
