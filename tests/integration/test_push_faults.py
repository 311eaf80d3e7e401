"""Pushes through a proxy that breaks connections and answers errors on purpose: the push
resumes or retries, and the registry ends up with exactly the image."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from fargo.images import PushOptions, RegistryError, push
from fargo.images.local_registry import LocalRegistry
from fargo.images.push import MIB
from fargo.images.retry import RetryPolicy
from tests.integration.conftest import Skopeo
from tests.integration.faulty_proxy import Fault, FaultyProxy
from tests.integration.layouts import random_layer, single_image_layout

pytestmark = pytest.mark.integration

# No waiting between attempts: the faults are one-off, the backoff has its own test.
FAST = PushOptions(retry=RetryPolicy(sleep=lambda _: None))


def test_a_connection_dropped_mid_chunk_resumes_at_the_registrys_offset(
    registry: LocalRegistry, skopeo: Skopeo, repo: str, layout_dir: Callable[[str], Path]
) -> None:
    image = single_image_layout(layout_dir("app"), [random_layer(21 * MIB, seed=20)])
    sizes = int(image.layers[0]["size"]) + int(image.config["size"])
    # The second chunk dies 3 MiB in, between the client and the proxy: the registry holds
    # the first chunk and sees the second one's request end without a body.
    drop = Fault("PATCH", "/blobs/uploads/", drop_after=3 * MIB, forward_body=False, skip=1)

    with FaultyProxy(registry.address, [drop]) as proxy:
        result = push(layout_dir("app"), f"{proxy.address}/{repo}:v1", options=FAST)

    assert drop.hits == 1
    assert any(method == "GET" and "/blobs/uploads/" in path for method, path in proxy.requests)
    stats = result.stats
    assert (stats.resumes, stats.upload_sessions) == (1, 2)  # went on in the same session
    assert stats.bytes_uploaded == sizes  # from 8 MiB on: the first chunk was not sent again
    assert stats.chunks == 3
    assert skopeo.raw_digest(f"{registry.address}/{repo}:v1") == image.digest


def test_a_server_error_on_a_chunk_resumes(
    registry: LocalRegistry, skopeo: Skopeo, repo: str, layout_dir: Callable[[str], Path]
) -> None:
    image = single_image_layout(layout_dir("app"), [random_layer(12 * MIB, seed=21)])

    with FaultyProxy(registry.address, [Fault("PATCH", status=503, skip=1)]) as proxy:
        result = push(layout_dir("app"), f"{proxy.address}/{repo}:v1", options=FAST)

    assert (result.stats.resumes, result.stats.upload_sessions) == (1, 2)
    assert skopeo.raw_digest(f"{registry.address}/{repo}:v1") == image.digest


def test_a_session_the_registry_cannot_resume_starts_over(
    registry: LocalRegistry, skopeo: Skopeo, repo: str, layout_dir: Callable[[str], Path]
) -> None:
    image = single_image_layout(layout_dir("app"), [random_layer(21 * MIB, seed=28)])
    # Part of the chunk reaches the registry. distribution keeps those bytes but its
    # session state (the _state in Location) still says the old offset, so it refuses
    # the session from then on (BLOB_UPLOAD_INVALID): the blob goes again in a new one.
    drop = Fault("PATCH", "/blobs/uploads/", drop_after=3 * MIB, skip=1)

    with FaultyProxy(registry.address, [drop]) as proxy:
        result = push(layout_dir("app"), f"{proxy.address}/{repo}:v1", options=FAST)

    assert drop.hits == 1
    assert (result.stats.resumes, result.stats.upload_sessions) == (1, 3)
    assert skopeo.raw_digest(f"{registry.address}/{repo}:v1") == image.digest


def test_a_lost_upload_session_starts_a_new_one(
    registry: LocalRegistry, skopeo: Skopeo, repo: str, layout_dir: Callable[[str], Path]
) -> None:
    image = single_image_layout(layout_dir("app"), [random_layer(12 * MIB, seed=22)])
    faults = [Fault("PATCH", status=404), Fault("GET", "/blobs/uploads/", status=404)]

    with FaultyProxy(registry.address, faults) as proxy:
        result = push(layout_dir("app"), f"{proxy.address}/{repo}:v1", options=FAST)

    assert result.stats.upload_sessions == 3  # config, layer, layer again
    assert skopeo.raw_digest(f"{registry.address}/{repo}:v1") == image.digest


def test_a_single_put_cut_midway_recovers(
    registry: LocalRegistry, skopeo: Skopeo, repo: str, layout_dir: Callable[[str], Path]
) -> None:
    image = single_image_layout(layout_dir("app"), [random_layer(4 * MIB, seed=23)])
    drop = Fault("PUT", _digest_param(image.layers[0]), drop_after=MIB)

    with FaultyProxy(registry.address, [drop]) as proxy:
        result = push(layout_dir("app"), f"{proxy.address}/{repo}:v1", options=FAST)

    assert drop.hits == 1
    assert result.stats.blobs_uploaded == 2
    assert skopeo.raw_digest(f"{registry.address}/{repo}:v1") == image.digest


def test_a_lost_answer_to_the_closing_put_is_checked_not_resent(
    registry: LocalRegistry, skopeo: Skopeo, repo: str, layout_dir: Callable[[str], Path]
) -> None:
    image = single_image_layout(layout_dir("app"), [random_layer(10 * MIB, seed=24)])
    # the closing PUT has no body: its head reaches the registry, the answer never comes back
    drop = Fault("PUT", _digest_param(image.layers[0]), drop_after=0)

    with FaultyProxy(registry.address, [drop]) as proxy:
        result = push(layout_dir("app"), f"{proxy.address}/{repo}:v1", options=FAST)

    assert drop.hits == 1
    assert result.stats.retries >= 1
    assert skopeo.raw_digest(f"{registry.address}/{repo}:v1") == image.digest


def test_throttling_and_a_dropped_manifest_put_are_retried(
    registry: LocalRegistry, skopeo: Skopeo, repo: str, layout_dir: Callable[[str], Path]
) -> None:
    image = single_image_layout(layout_dir("app"), [random_layer(MIB, seed=25)])
    faults = [
        Fault("HEAD", "/blobs/", status=429, headers={"Retry-After": "0"}, times=2),
        Fault("PUT", "/manifests/", drop_after=10),
    ]

    with FaultyProxy(registry.address, faults) as proxy:
        result = push(layout_dir("app"), f"{proxy.address}/{repo}:v1", options=FAST)

    assert [fault.hits for fault in faults] == [2, 1]
    assert result.stats.retries == 3
    assert skopeo.raw_digest(f"{registry.address}/{repo}:v1") == image.digest


def test_a_registry_that_keeps_failing_is_a_clear_error(
    registry: LocalRegistry, repo: str, layout_dir: Callable[[str], Path]
) -> None:
    single_image_layout(layout_dir("app"), [random_layer(MIB, seed=26)])
    sleeps: list[float] = []
    options = PushOptions(retry=RetryPolicy(attempts=4, sleep=sleeps.append))

    fault = Fault("HEAD", status=503, times=100)
    with (
        FaultyProxy(registry.address, [fault]) as proxy,
        pytest.raises(RegistryError) as raised,
    ):
        push(layout_dir("app"), f"{proxy.address}/{repo}:v1", options=options)

    assert raised.value.status == 503
    assert "answered 503" in raised.value.message
    # The blob that gives up first waited three times before its fourth and last attempt.
    # The other (the layout has two) stops once that failure is known, so it may have made
    # fewer attempts, never more: the push does not go on after a blob has failed.
    assert 3 <= len(sleeps) <= 3 * 2
    assert 4 <= fault.hits <= 4 * 2


def test_an_unreachable_registry_is_a_clear_error(
    repo: str, layout_dir: Callable[[str], Path]
) -> None:
    single_image_layout(layout_dir("app"), [random_layer(MIB, seed=27)])
    with socket.socket() as probe:  # a port nothing listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{probe.getsockname()[1]}"
    options = PushOptions(retry=RetryPolicy(attempts=2, sleep=lambda _: None))

    with pytest.raises(RegistryError) as raised:
        push(layout_dir("app"), f"{address}/{repo}:v1", options=options)

    assert "cannot reach" in raised.value.message
    assert raised.value.hint == "is the local registry running?"


def test_relative_upload_locations_are_followed(
    registry: LocalRegistry, skopeo: Skopeo, repo: str, layout_dir: Callable[[str], Path]
) -> None:
    image = single_image_layout(layout_dir("app"), [random_layer(12 * MIB, seed=29)])

    with FaultyProxy(registry.address, [], relative_locations=True) as proxy:
        result = push(
            layout_dir("app"), f"{proxy.address}/{repo}:v1", options=PushOptions(chunk_size=5 * MIB)
        )

    assert proxy.rewritten >= 5  # two sessions started, three chunks answered
    assert result.stats.chunks == 3
    assert skopeo.raw_digest(f"{registry.address}/{repo}:v1") == image.digest


def test_backoff_grows_exponentially_within_its_cap() -> None:
    sleeps: list[float] = []
    policy = RetryPolicy(base_delay=0.5, max_delay=3.0, sleep=sleeps.append, jitter=lambda: 1.0)

    for attempt in range(1, 6):
        policy.wait(attempt)

    assert sleeps == [0.5, 1.0, 2.0, 3.0, 3.0]


def _digest_param(blob: dict[str, object]) -> str:
    """How the blob's digest appears in an upload URL's query."""
    return "digest=" + str(blob["digest"]).replace(":", "%3A")
