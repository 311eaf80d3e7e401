"""Plan's cost warnings: each names the cheaper alternative and the monthly difference,
computed here from the price table by hand."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from fargo.cost.delta import cost_warnings, price_plan
from fargo.cost.estimate import estimate_app
from fargo.cost.prices import load_prices
from fargo.manifest.load import load_manifest
from fargo.model import build_app
from fargo.plan.planner import Plan

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
