"""The price tables: their shape, and a region without one refused with a hint."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

import pytest
from click.testing import CliRunner

from fargo.cli.main import cli
from fargo.cost.prices import load_prices, parse_table, regions
from fargo.errors import EXIT_BAD_INPUT, InputError

ROOT = Path(__file__).resolve().parents[2]

REQUIRED = {
    # The lines every estimate needs in us-east-1.
    "fargate.vcpu_hour.x86_64",
    "fargate.gb_hour.arm64",
    "fargate_spot.vcpu_hour.x86_64",
    "alb.hour",
    "alb.lcu_hour",
    "nat.hour",
    "nat.gb",
    "public_ipv4.hour",
    "vpc_endpoint.hour",
    "rds.instance_hour.db.t4g.micro.single_az",
    "rds.instance_hour.db.t4g.medium.multi_az",
    "rds.storage_gb_month.gp3",
    "aurora.acu_hour",
    "aurora.storage_gb_month",
    "rds_proxy.vcpu_hour",
    "elasticache_serverless.gb_hour.valkey",
    "elasticache_serverless.gb_hour.redis",
    "elasticache_serverless.min_gb.valkey",
    "elasticache_serverless.min_gb.redis",
    "elasticache.node_hour.cache.t4g.micro.redis",
    "sqs.requests_million",
    "s3.gb_month",
    "secretsmanager.secret_month",
    "logs.ingest_gb",
    "cloudwatch.alarm_month",
    "kms.key_month",
    "cloudfront.gb.first_tier",
    "route53.zone_month",
    "apigateway_http.requests_million",
    "lambda.gb_second",
    "dynamodb.write_million",
    "codebuild.minute.general1.small",
    "ecr.storage_gb_month",
}


def _documents() -> list[dict[str, object]]:
    folder = resources.files("fargo.cost").joinpath("prices")
    return [json.loads(f.read_text()) for f in folder.iterdir() if f.name.endswith(".json")]


@pytest.mark.parametrize("document", _documents(), ids=lambda d: str(d["region"]))
def test_every_entry_has_a_price_unit_source_and_date(document: dict[str, object]) -> None:
    assert document["currency"] == "USD"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(document["as_of"]))
    prices = document["prices"]
    assert isinstance(prices, dict)
    for key, entry in prices.items():
        assert re.fullmatch(r"[a-z0-9_]+(\.[a-z0-9_.]+)*", key), key
        fixed = "price" in entry
        ranged = "price_low" in entry and "price_high" in entry
        assert fixed != ranged, f"{key}: either price or price_low + price_high"
        if ranged:
            assert 0 <= entry["price_low"] < entry["price_high"], key
        else:
            assert entry["price"] >= 0, key
        assert entry["unit"], key
        assert entry["source"].startswith("https://"), key
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", entry["as_of"]), key
        assert entry["description"], key


def test_us_east_1_has_every_line_estimates_need() -> None:
    table = load_prices("us-east-1")
    assert set(table.prices) >= REQUIRED


def test_published_us_east_1_rates() -> None:
    # AWS's pricing pages: Fargate x86 $0.04048/vCPU-h and $0.004445/GB-h, public IPv4
    # $0.005/h, the Valkey serverless minimum 100 MB against Redis OSS's 1 GB.
    table = load_prices("us-east-1")
    assert table["fargate.vcpu_hour.x86_64"].price == 0.04048
    assert table["fargate.gb_hour.x86_64"].price == 0.004445
    assert table["public_ipv4.hour"].price == 0.005
    assert table["elasticache_serverless.min_gb.valkey"].price == 0.1
    assert table["elasticache_serverless.min_gb.redis"].price == 1.0
    spot = table["fargate_spot.vcpu_hour.x86_64"]
    assert spot.is_range
    assert spot.low < spot.high < table["fargate.vcpu_hour.x86_64"].price


def test_a_region_without_a_table_is_refused_with_the_regions_that_have_one() -> None:
    with pytest.raises(InputError) as caught:
        load_prices("ap-southeast-7")
    assert caught.value.exit_code == EXIT_BAD_INPUT
    assert "ap-southeast-7" in caught.value.message
    assert caught.value.hint is not None
    assert "us-east-1" in caught.value.hint
    assert "us-east-1" in regions()


def test_confirmed_is_optional_and_true_by_default() -> None:
    base = {
        "unit": "hour",
        "price": 0.01,
        "source": "https://aws.amazon.com/x/",
        "as_of": "2026-01-01",
    }
    document = {
        "region": "us-east-1",
        "currency": "USD",
        "as_of": "2026-01-01",
        "prices": {
            "a.hour": {**base, "description": "read from the price list"},
            "b.hour": {**base, "description": "published", "confirmed": False},
        },
    }
    table = parse_table(document)
    assert table["a.hour"].confirmed is True
    assert table["b.hour"].confirmed is False
    assert table["b.hour"].render() == "$0.01*"


def test_the_shipped_table_describes_prices_not_how_it_was_written() -> None:
    for key, price in load_prices("us-east-1").prices.items():
        assert "confirmed" not in price.description, key
        assert "search" not in price.description, key


def test_fargo_cost_marks_unconfirmed_prices_and_says_why_once() -> None:
    example = str(ROOT / "examples/fullstack/fargo.yml")
    text = CliRunner().invoke(cli, ["cost", "-f", example]).output
    body = json.loads(CliRunner().invoke(cli, ["cost", "-f", example, "--json"]).output)
    unconfirmed = [line for line in body["lines"] if line["confirmed"] is False]
    assert unconfirmed  # the table has published prices not read from the price list
    assert all(isinstance(line["confirmed"], bool) for line in body["lines"])
    assert text.count("* price as published by AWS") == 1
    rows = [row for row in text.splitlines() if row.startswith("  ") and "$" in row]
    marked = [row for row in rows if re.search(r"\*\s+\$", row)]
    assert len(marked) == len(unconfirmed)
