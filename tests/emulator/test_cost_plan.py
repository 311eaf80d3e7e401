"""`plan` prices what is deployed and what would be: the NAT change's monthly delta."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fargo.cost.prices import load_prices
from tests.emulator.helpers import edit, run_fargo

H = 730


def test_plan_shows_the_monthly_delta_of_nat_per_az(
    fullstack: Path, emulator_endpoint: str, aws: Any
) -> None:
    del aws  # a fresh account
    target = ("-f", str(fullstack), "--endpoint-url", emulator_endpoint)
    done = run_fargo("deploy", *target, "--yes")
    assert done.returncode == 0, done.stderr
    priced = run_fargo("cost", "-f", str(fullstack), "--json")
    assert priced.returncode == 0, priced.stderr
    deployed_total = json.loads(priced.stdout)["monthly_total"]

    edit(fullstack, "profile: lean", "network: { nat: per-az, azs: 2 }\nprofile: lean")
    planned = run_fargo("plan", *target, "--json")
    assert planned.returncode == 0, planned.stdout + planned.stderr
    body = json.loads(planned.stdout)
    cost = body["cost"]

    # The deployed templates price exactly as the same templates did before deploy.
    assert cost["before"] == pytest.approx(deployed_total, abs=0.01)
    table = load_prices("us-east-1")
    gateways = 2 * H * table["nat.hour"].price
    assert cost["delta"] == pytest.approx(66, rel=0.10)
    assert cost["delta"] >= gateways
    changed = {(line["resource"], line["item"]) for line in cost["lines"]}
    assert ("NatGateway1", "NAT gateway hours") in changed
    assert ("NatAddress2", "Elastic IP (public IPv4) hours") in changed
    # The tasks move to private subnets: their own public addresses go.
    api_ip = [x for x in cost["lines"] if x["resource"] == "ApiService" and "IPv4" in x["item"]]
    assert api_ip
    assert api_ip[0]["after"] == 0
    codes = [w["code"] for w in body["warnings"]]
    assert "cost-nat-per-az" in codes

    text = run_fargo("plan", *target)
    assert text.returncode == 0, text.stderr
    assert "cost: $" in text.stdout
    assert "warning [cost-nat-per-az]" in text.stdout
