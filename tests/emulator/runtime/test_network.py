"""The emulator's container network: fargo creates one per state dir, the emulator listens on
its gateway (and on loopback, never on every interface), and a task RunTask starts joins it
and reaches the emulator's endpoints at the address the task is handed."""

from __future__ import annotations

import ipaddress
import socket
import subprocess
from pathlib import Path
from typing import Any

import boto3
import pytest

from fargo import local
from fargo.local import engine as container_engine
from fargo.local import network as container_network
from fargo.local.server import Emulator
from tests.emulator.runtime.tasks import exit_codes, push_to_ecr, run_to_completion


def engine_get(emulator: Emulator, path: str) -> Any:
    assert emulator.docker_host is not None
    status, body = container_engine.call(emulator.docker_host, "GET", path)
    assert status == 200, body
    return body


def test_the_emulator_gets_a_network_of_its_own(emulator: Emulator, runtime_state: Path) -> None:
    name = container_network.network_name(runtime_state)
    assert emulator.network == name
    inspected = engine_get(emulator, f"/networks/{name}")
    (config,) = inspected["IPAM"]["Config"]
    subnet = ipaddress.IPv4Network(config["Subnet"])
    bridge = container_network.bridge_name(runtime_state, subnet)
    assert subnet.subnet_of(ipaddress.ip_network("10.213.0.0/16"))
    assert config["Gateway"] == emulator.gateway
    assert ipaddress.ip_address(emulator.gateway) in subnet
    # Podman keeps it in the state dir, not in /etc/cni/net.d, on the bridge fargo named.
    conflist = runtime_state / "podman" / "networks" / f"{name}.conflist"
    assert f'"bridge": "{bridge}"' in conflist.read_text()
    assert not Path(f"/etc/cni/net.d/{name}.conflist").exists()


def test_each_state_dir_has_its_own_network(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    assert container_network.network_name(first) != container_network.network_name(second)
    subnet = ipaddress.IPv4Network("10.213.7.0/24")
    assert container_network.bridge_name(first, subnet) != (
        container_network.bridge_name(second, subnet)
    )
    assert len(container_network.bridge_name(first, subnet)) <= 15  # an interface name
    assert (
        container_network.candidate_subnets(first)[0]
        != (container_network.candidate_subnets(second)[0])
    )
    # Every subnet is tried before giving up, each once.
    assert len(set(container_network.candidate_subnets(first))) == 256


def test_a_second_start_finds_the_network(emulator: Emulator, runtime_state: Path) -> None:
    assert emulator.docker_host is not None
    again = container_network.ensure(emulator.docker_host, runtime_state)
    assert (again.name, again.gateway) == (emulator.network, emulator.gateway)


def test_a_task_reaches_the_emulator_through_the_gateway(
    emulator: Emulator, busybox_layout: Path, aws: Any, account: str
) -> None:
    endpoint = f"http://{emulator.gateway}:{emulator.port}"
    # The task is handed the gateway for the endpoints and the metadata, and each answers
    # there; its credentials are its own account's, as static variables (an SDK fetches
    # container credentials over HTTP only from loopback or 169.254.170.2, never from the
    # gateway). A failing step exits with its own code.
    script = (
        f'test "$AWS_ENDPOINT_URL" = "{endpoint}" || exit 10; '
        f'case "$ECS_CONTAINER_METADATA_URI_V4" in {endpoint}/v4/*) ;; *) exit 11;; esac; '
        f'test "$AWS_ACCESS_KEY_ID" = "{account}" || exit 12; '
        'test -z "$AWS_CONTAINER_CREDENTIALS_FULL_URI" || exit 17; '
        'test "$AWS_REGION" = us-east-1 || exit 18; '
        'wget -q -O /tmp/health "$AWS_ENDPOINT_URL/_ministack/health" || exit 13; '
        "grep -q '\"sqs\"' /tmp/health || exit 14; "
        'wget -q -O /tmp/task "$ECS_CONTAINER_METADATA_URI_V4/task" || exit 15; '
        "grep -q TaskARN /tmp/task || exit 16"
    )
    image = push_to_ecr(busybox_layout, emulator.endpoint_url, account, "network/busybox")
    stopped = run_to_completion(aws("ecs"), image, script)
    assert exit_codes(stopped) == [0]
    # Its interface address is on fargo's network.
    (attachment,) = stopped["attachments"]
    details = {d["name"]: d["value"] for d in attachment["details"]}
    network = engine_get(emulator, f"/networks/{emulator.network}")
    (config,) = network["IPAM"]["Config"]
    assert ipaddress.ip_address(details["privateIPv4Address"]) in ipaddress.ip_network(
        config["Subnet"]
    )


def test_the_emulator_listens_on_loopback_and_the_gateway_only(emulator: Emulator) -> None:
    assert emulator.gateway is not None
    for address in ("127.0.0.1", emulator.gateway):
        with socket.create_connection((address, emulator.port), timeout=5):
            pass
    # Any other address of this machine is refused: it does not listen on 0.0.0.0.
    others = [a for a in _host_addresses() if a not in ("127.0.0.1", emulator.gateway)]
    for address in others:
        with (
            pytest.raises(ConnectionRefusedError),
            socket.create_connection((address, emulator.port), 2),
        ):
            pass


def _host_addresses() -> list[str]:
    done = subprocess.run(
        ["ip", "-o", "-4", "addr", "show"], capture_output=True, text=True, check=True
    )
    return [line.split()[3].split("/")[0] for line in done.stdout.splitlines()]


def test_stop_removes_the_network_and_its_bridge(
    tmp_path_factory: pytest.TempPathFactory, busybox_layout: Path
) -> None:
    """An emulator of its own: the session's must keep running."""
    state_dir = tmp_path_factory.mktemp("network-stop")
    started = local.start(state_dir=state_dir, containers=True)
    try:
        assert started.docker_host is not None
        assert started.network is not None
        # A container makes Podman create the bridge (it does so on first use).
        stopped = run_to_completion(
            boto3.client(
                "ecs",
                endpoint_url=started.endpoint_url,
                region_name="us-east-1",
                aws_access_key_id="111111111111",
                aws_secret_access_key="test",
            ),
            push_to_ecr(busybox_layout, started.endpoint_url, "111111111111", "network/stop"),
            "exit 0",
        )
        assert exit_codes(stopped) == [0]
        network = container_network.ensure(started.docker_host, state_dir)
        bridge = container_network.bridge_name(state_dir, ipaddress.IPv4Network(network.subnet))
        assert bridge in _routed_interfaces()
    finally:
        local.stop(state_dir=state_dir)
    assert bridge not in _routed_interfaces()


def _routed_interfaces() -> set[str]:
    lines = Path("/proc/net/route").read_text().splitlines()[1:]
    return {line.split()[0] for line in lines if line.strip()}
