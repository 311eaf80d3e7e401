"""A no-op `fargo plan` loads what planning needs and no more: botocore's clients, not
boto3's resource layer (s3transfer), and no HTTP client for DNS providers the app does not
use (httpx). (It reports its steps, so the terminal reporter and rich are made.)"""

from __future__ import annotations

from pathlib import Path

from tests.emulator.helpers import deployer
from tests.module_probe import loaded_by


def test_a_no_op_plan_loads_neither_boto3_nor_httpx(
    fullstack: Path, emulator_endpoint: str, account: str
) -> None:
    del account  # a fresh emulator account, through the environment the probe inherits
    deployer(fullstack, emulator_endpoint).deploy()
    loaded = loaded_by(["plan", "-f", str(fullstack), "--endpoint-url", emulator_endpoint])
    assert {"botocore", "troposphere"} <= loaded  # it did plan, against the emulator
    assert loaded.isdisjoint({"boto3", "s3transfer", "httpx", "httpcore"}), sorted(
        loaded & {"boto3", "s3transfer", "httpx", "httpcore"}
    )
