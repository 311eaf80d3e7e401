"""What a task container gets from the emulator, as ECS on AWS gives it: its image from the
account's ECR, its `secrets` from Secrets Manager (whole, or one JSON key, as fargo's
templates ask for DB_PASSWORD), and trust in the certificates of the emulator's TLS
endpoints (the serverless cache's and the database's CAs) through the standard variables."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from fargo.local.server import Emulator
from tests.emulator.runtime.tasks import exit_codes, push_to_ecr, run_to_completion

# Where the emulator mounts the bundle; the variables a TLS client reads it from.
BUNDLE = "/etc/fargo-emulator/ca-bundle.pem"


@pytest.fixture
def image(emulator: Emulator, busybox_layout: Path, account: str) -> str:
    return push_to_ecr(busybox_layout, emulator.endpoint_url, account, "wiring/busybox")


def test_a_task_runs_its_image_from_the_accounts_ecr(aws: Any, image: str) -> None:
    stopped = run_to_completion(aws("ecs"), image, "exit 0")
    assert exit_codes(stopped) == [0]
    # The task's records keep the reference the task definition names.
    assert [c["image"] for c in stopped["containers"]] == [image]


def test_an_image_missing_from_ecr_fails_the_task(aws: Any, image: str) -> None:
    missing = image.split("@", maxsplit=1)[0] + "@sha256:" + "0" * 64
    stopped = run_to_completion(aws("ecs"), missing, "exit 0")
    assert stopped["lastStatus"] == "STOPPED"
    assert stopped["stopCode"] == "TaskFailedToStart"
    assert stopped["stoppedReason"].startswith("CannotPullContainerError:")


def test_secrets_come_from_secrets_manager(aws: Any, image: str) -> None:
    secretsmanager = aws("secretsmanager")
    arn = secretsmanager.create_secret(
        Name="wiring/db", SecretString=json.dumps({"username": "app", "password": "s3cr3t"})
    )["ARN"]
    token = secretsmanager.create_secret(Name="wiring/token", SecretString="plain-value")["ARN"]
    # A partial ARN (no random suffix), as fargo writes a user's `secrets:`, resolves too.
    partial = arn.rsplit("-", 1)[0]
    stopped = run_to_completion(
        aws("ecs"),
        image,
        'test "$DB_PASSWORD" = s3cr3t || exit 10; test "$DB_USER" = app || exit 11; '
        'test "$API_TOKEN" = plain-value || exit 12',
        secrets=[
            {"name": "DB_PASSWORD", "valueFrom": f"{arn}:password::"},
            {"name": "DB_USER", "valueFrom": f"{partial}:username::"},
            {"name": "API_TOKEN", "valueFrom": token},
        ],
    )
    assert exit_codes(stopped) == [0]


def test_a_missing_secret_fails_the_task(aws: Any, image: str, account: str) -> None:
    missing = f"arn:aws:secretsmanager:us-east-1:{account}:secret:wiring/none:password::"
    stopped = run_to_completion(
        aws("ecs"), image, "exit 0", secrets=[{"name": "DB_PASSWORD", "valueFrom": missing}]
    )
    assert stopped["stopCode"] == "TaskFailedToStart"
    assert "ResourceInitializationError" in stopped["stoppedReason"]


def ca_line(emulator: Emulator, path: str) -> str:
    """A line of the CA certificate the emulator serves at `path` (base64 of its key and
    signature: it names that certificate and no other)."""
    with urllib.request.urlopen(emulator.endpoint_url + path, timeout=10) as response:  # noqa: S310 - loopback
        lines = response.read().decode().strip().splitlines()
    assert lines[0] == "-----BEGIN CERTIFICATE-----"
    return lines[len(lines) // 2]


def test_tasks_trust_the_emulators_cas(emulator: Emulator, aws: Any, image: str) -> None:
    cache_ca = ca_line(emulator, "/_ministack/elasticache/ca.pem")
    database_ca = ca_line(emulator, "/_ministack/rds/ca.pem")
    script = (
        f'test "$SSL_CERT_FILE" = {BUNDLE} || exit 10; '
        f'test "$REQUESTS_CA_BUNDLE" = {BUNDLE} || exit 11; '
        f'test "$NODE_EXTRA_CA_CERTS" = {BUNDLE} || exit 12; '
        f'grep -qF "{cache_ca}" {BUNDLE} || exit 13; '
        f'grep -qF "{database_ca}" {BUNDLE} || exit 14; '
        # The public roots stay: the bundle replaces the image's for OpenSSL.
        f'test "$(grep -c "BEGIN CERTIFICATE" {BUNDLE})" -gt 100 || exit 15; '
        # Read-only: a task cannot change what other tasks trust.
        f"! (echo x >> {BUNDLE}) 2>/dev/null || exit 16"
    )
    stopped = run_to_completion(aws("ecs"), image, script)
    assert exit_codes(stopped) == [0]


def test_a_task_definitions_own_bundle_wins(aws: Any, image: str) -> None:
    stopped = run_to_completion(
        aws("ecs"),
        image,
        f'test "$SSL_CERT_FILE" = /app/ca.pem || exit 10; '
        f'test "$REQUESTS_CA_BUNDLE" = {BUNDLE} || exit 11',
        environment=[{"name": "SSL_CERT_FILE", "value": "/app/ca.pem"}],
    )
    assert exit_codes(stopped) == [0]
