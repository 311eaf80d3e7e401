"""scripts/price-table.py on small offer files in the Price List Bulk API's documented structure.

The fixtures (tests/fixtures/pricing/offers/) hold a few SKUs per service at AWS's published
us-east-1 prices, beside decoys the mapping must not select: Windows Fargate, the Network Load
Balancer (same usage type as the ALB), MySQL and Multi-AZ-with-readable-standbys RDS lines, another
region's endpoint line, FIFO queues, CloudFront's European edge group, and $0 dimensions (free
allowances, a reservation-applied line).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "price-table.py"
FIXTURES = ROOT / "tests" / "fixtures" / "pricing"
OFFERS = FIXTURES / "offers"
EXISTING = FIXTURES / "us-east-1.json"
BASE = "https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws"


def run(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env=env,
    )


def regenerate(
    out: Path, *extra: str | Path, offers: Path = OFFERS
) -> subprocess.CompletedProcess[str]:
    return run(
        "--region", "us-east-1", "--offers", offers, "--existing", EXISTING, "--out", out, *extra
    )


def format_problems(table: dict[str, Any]) -> list[str]:
    """The price-table format, as its documentation states it."""
    problems = []
    if table.get("currency") != "USD" or not isinstance(table.get("region"), str):
        problems.append("region or currency")
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(table.get("as_of"))):
        problems.append("as_of")
    for key, entry in table["prices"].items():
        if not re.fullmatch(r"[a-z0-9_]+(\.[a-z0-9_]+)*", key):
            problems.append(f"{key}: key")
        if not all(
            isinstance(entry.get(f), str) and entry[f] for f in ("unit", "source", "description")
        ):
            problems.append(f"{key}: unit, source or description")
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(entry.get("as_of"))):
            problems.append(f"{key}: as_of")
        single = isinstance(entry.get("price"), float)
        ranged = isinstance(entry.get("price_low"), float) and isinstance(
            entry.get("price_high"), float
        )
        if single == ranged:
            problems.append(f"{key}: price or price_low/price_high")
    return problems


def test_prices_come_from_the_matching_skus_scaled_to_the_table_units(tmp_path):
    out = tmp_path / "us-east-1.json"
    result = regenerate(out, "--allow-missing")
    assert result.returncode == 0, result.stderr
    table = json.loads(out.read_text())
    prices = table["prices"]
    assert format_problems(table) == []
    assert table["region"] == "us-east-1"
    # The newest publication date among the offer files read (AmazonEC2's).
    assert table["as_of"] == "2026-11-25"
    expected = {
        # key: (price, unit, offer file, publication date) at AWS's published us-east-1 prices
        "fargate.vcpu_hour.x86_64": (
            0.04048,
            "vCPU-hour",
            "AmazonECS/current/us-east-1",
            "2026-11-20",
        ),
        "fargate.gb_hour.x86_64": (
            0.004445,
            "GB-hour",
            "AmazonECS/current/us-east-1",
            "2026-11-20",
        ),
        "fargate.vcpu_hour.arm64": (
            0.03238,
            "vCPU-hour",
            "AmazonECS/current/us-east-1",
            "2026-11-20",
        ),
        "fargate.gb_hour.arm64": (0.00356, "GB-hour", "AmazonECS/current/us-east-1", "2026-11-20"),
        "alb.hour": (0.0225, "hour", "AWSELB/current/us-east-1", "2026-11-12"),
        "alb.lcu_hour": (0.008, "LCU-hour", "AWSELB/current/us-east-1", "2026-11-12"),
        "nat.hour": (0.045, "hour", "AmazonEC2/current/us-east-1", "2026-11-25"),
        "nat.gb": (0.045, "GB", "AmazonEC2/current/us-east-1", "2026-11-25"),
        "public_ipv4.hour": (0.005, "hour", "AmazonVPC/current/us-east-1", "2026-11-17"),
        "vpc_endpoint.hour": (0.01, "hour", "AmazonVPC/current/us-east-1", "2026-11-17"),
        "vpc_endpoint.gb": (0.01, "GB", "AmazonVPC/current/us-east-1", "2026-11-17"),
        "rds.instance_hour.db.t4g.micro.single_az": (
            0.016,
            "instance-hour",
            "AmazonRDS/current/us-east-1",
            "2026-11-21",
        ),
        "rds.instance_hour.db.t4g.micro.multi_az": (
            0.032,
            "instance-hour",
            "AmazonRDS/current/us-east-1",
            "2026-11-21",
        ),
        "rds.storage_gb_month.gp3": (
            0.115,
            "GB-month",
            "AmazonRDS/current/us-east-1",
            "2026-11-21",
        ),
        "aurora.acu_hour": (0.12, "ACU-hour", "AmazonRDS/current/us-east-1", "2026-11-21"),
        # $0.0000004 per request is $0.40 per million; FIFO's $0.50 is a decoy
        "sqs.requests_million": (
            0.40,
            "million requests",
            "AWSQueueService/current/us-east-1",
            "2026-11-03",
        ),
        "kms.key_month": (1.0, "key-month", "awskms/current/us-east-1", "2026-10-30"),
        # the first 20,000 requests are free: the rate is the first paid tier, $0.03 per 10,000
        "kms.requests_10k": (0.03, "10k requests", "awskms/current/us-east-1", "2026-10-30"),
        # CloudFront's file is global; the first 1 TB is free, then $0.085 per GB
        "cloudfront.gb.first_tier": (0.085, "GB", "AmazonCloudFront/current", "2026-07-01"),
        "cloudfront.requests_10k.https": (
            0.01,
            "10k requests",
            "AmazonCloudFront/current",
            "2026-07-01",
        ),
    }
    for key, (price, unit, offer, as_of) in expected.items():
        entry = prices[key]
        assert entry["price"] == price, key
        assert entry["unit"] == unit, key
        assert entry["source"] == f"{BASE}/{offer}/index.json", key
        assert entry["as_of"] == as_of, key
        assert entry["confirmed"] is True, key  # read from the price list


def test_hand_kept_and_unfound_entries_are_carried_over_and_reported(tmp_path):
    out = tmp_path / "us-east-1.json"
    result = regenerate(out, "--allow-missing")
    assert result.returncode == 0, result.stderr
    prices = json.loads(out.read_text())["prices"]
    old = json.loads(EXISTING.read_text())["prices"]
    # Fargate Spot is no bulk-file line: kept as it stands, range and all.
    assert prices["fargate_spot.vcpu_hour.x86_64"] == old["fargate_spot.vcpu_hour.x86_64"]
    assert "kept by hand" in result.stderr
    assert "fargate_spot.vcpu_hour.x86_64" in result.stderr
    # No AmazonS3 file was given: the old S3 price stays, with its own source and date.
    assert prices["s3.gb_month"] == old["s3.gb_month"]
    # Carried over, an entry not confirmed from a price list stays marked so.
    assert prices["s3.gb_month"]["confirmed"] is False
    assert re.search(
        r"carried over .*2026-06-01.*s3\.gb_month.*no AmazonS3 offer file", result.stderr
    )
    # A key the mapping does not know is kept too, and said.
    assert prices["free"] == old["free"]
    assert re.search(r"not in scripts/price_map.py.*: free", result.stderr)
    # A key the offers price replaces the old entry.
    assert prices["fargate.vcpu_hour.x86_64"]["price"] == 0.04048
    assert prices["fargate.vcpu_hour.x86_64"]["source"].startswith(BASE)


def test_keys_with_no_price_at_all_fail_and_nothing_is_written(tmp_path):
    out = tmp_path / "us-east-1.json"
    result = regenerate(out)
    assert result.returncode == 1
    assert "no price for lambda.requests_million" in result.stderr
    assert "nothing written" in result.stderr
    assert not out.exists()


def test_two_skus_for_one_key_is_an_error_naming_both(tmp_path):
    offers = tmp_path / "offers"
    shutil.copytree(OFFERS, offers)
    ecs = json.loads((offers / "AmazonECS.json").read_text())
    original = next(
        sku
        for sku, product in ecs["products"].items()
        if product["attributes"]["usagetype"] == "USE1-Fargate-vCPU-Hours:perCPU"
    )
    twin = "TWINSKU000000001"
    ecs["products"][twin] = {**ecs["products"][original], "sku": twin}
    term = next(iter(ecs["terms"]["OnDemand"][original].values()))
    ecs["terms"]["OnDemand"][twin] = {f"{twin}.JRTCKXETXF": {**term, "sku": twin}}
    (offers / "AmazonECS.json").write_text(json.dumps(ecs))
    out = tmp_path / "us-east-1.json"
    result = regenerate(out, "--allow-missing", offers=offers)
    assert result.returncode == 1
    assert "fargate.vcpu_hour.x86_64" in result.stderr
    assert original in result.stderr
    assert twin in result.stderr
    assert not out.exists()


def test_an_offer_file_of_another_region_is_refused(tmp_path):
    out = tmp_path / "us-east-2.json"
    result = run("--region", "us-east-2", "--offers", OFFERS, "--out", out, "--allow-missing")
    assert result.returncode == 2
    assert "us-east-1, not us-east-2" in result.stderr
    assert not out.exists()


def test_download_without_network_names_the_url_and_suggests_offers_dir(tmp_path):
    # A proxy that refuses every connection stands in for a machine without network access.
    env = {**os.environ, "https_proxy": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9"}
    env.pop("no_proxy", None)
    env.pop("NO_PROXY", None)
    out = tmp_path / "us-east-1.json"
    result = run("--region", "us-east-1", "--download", "--out", out, env=env)
    assert result.returncode == 1
    assert f"could not download {BASE}/AmazonECS/current/us-east-1/index.json" in result.stderr
    assert "--offers DIR" in result.stderr
    assert not out.exists()
