"""The container network of one emulator: tasks, databases and caches join it, and the
emulator listens on its gateway address so that they reach its AWS endpoints.

Several emulators may share a machine (the test suite's beside a user's) and even an engine
(one Docker daemon), so the network's name and subnet derive from the state dir:
`fargo-<digest>`, a /24 of 10.213.0.0/16 (a private range home and office networks rarely
use), on a bridge named after both. A subnet the host already routes is skipped: another
emulator's, or the bridge of one that did not stop cleanly, which keeps its address until
it is deleted and which the engine refuses to give another.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from fargo.errors import FargoError
from fargo.local.engine import call

# 10.213.0.0/16 split into /24s; the digest picks where to start looking.
_RANGE: Final = ipaddress.IPv4Network("10.213.0.0/16")
_PREFIX: Final = 24
_ROUTES: Final = Path("/proc/net/route")


@dataclass(frozen=True)
class Network:
    name: str
    subnet: str
    # The host's address on the bridge: containers reach the emulator there.
    gateway: str


def network_name(state_dir: Path) -> str:
    return f"fargo-{_digest(state_dir)[:8]}"


def bridge_name(state_dir: Path, subnet: ipaddress.IPv4Network) -> str:
    """`fargo` + 6 hex digits of the state dir + the subnet's third octet in hex: an
    interface name (at most 15 characters) no other state dir or subnet uses."""
    return f"fargo{_digest(state_dir)[:6]}{subnet.network_address.packed[2]:02x}"


def candidate_subnets(state_dir: Path) -> list[ipaddress.IPv4Network]:
    """Every /24 of the range, starting from the one the state dir's digest picks."""
    subnets = list(_RANGE.subnets(new_prefix=_PREFIX))
    start = int(_digest(state_dir), 16) % len(subnets)
    return [*subnets[start:], *subnets[:start]]


def ensure(docker_host: str, state_dir: Path) -> Network:
    """The engine network of `state_dir`, created if it does not exist yet."""
    name = network_name(state_dir)
    existing = _inspect(docker_host, name)
    if existing is not None:
        return existing
    routed = _routed_subnets()
    errors: list[str] = []
    for subnet in candidate_subnets(state_dir):
        if any(subnet.overlaps(other) for other in routed):
            continue
        gateway = str(subnet.network_address + 1)
        status, body = call(
            docker_host,
            "POST",
            "/networks/create",
            {
                "Name": name,
                "Driver": "bridge",
                "CheckDuplicate": True,
                "IPAM": {
                    "Driver": "default",
                    "Config": [{"Subnet": str(subnet), "Gateway": gateway}],
                },
                "Options": {"com.docker.network.bridge.name": bridge_name(state_dir, subnet)},
                "Labels": {"fargo.state-dir": str(state_dir.resolve())},
            },
        )
        if status == 201:
            return Network(name, str(subnet), gateway)
        # Created meanwhile by a concurrent start: Docker answers 409, Podman 500.
        existing = _inspect(docker_host, name)
        if existing is not None:
            return existing
        # Else the subnet overlaps a network of the engine's: try the next one.
        errors.append(f"{subnet}: {_message(body)}")
        if len(errors) >= 8:
            break
    raise FargoError(
        f"could not create the emulator's container network {name}:\n" + "\n".join(errors),
        hint="free a /24 in 10.213.0.0/16 (remove unused container networks), then retry",
    )


def remove_members(docker_host: str, name: str) -> int:
    """Remove the containers on the network `name`, running or not, with their anonymous
    volumes; the number removed. What the emulator started must not outlive it: a database's
    shm and tmpfs mounts would keep its state directory busy, and its ports taken."""
    query = urllib.parse.quote(json.dumps({"network": [name]}))
    try:
        status, listed = call(docker_host, "GET", f"/containers/json?all=1&filters={query}")
    except OSError:
        return 0
    if status != 200 or not isinstance(listed, list):
        return 0
    removed = 0
    for container in listed:
        try:
            status, _ = call(docker_host, "DELETE", f"/containers/{container['Id']}?force=1&v=1")
        except OSError:
            continue
        removed += status in (200, 204)
    return removed


def _inspect(docker_host: str, name: str) -> Network | None:
    status, body = call(docker_host, "GET", f"/networks/{name}")
    if status != 200 or not isinstance(body, dict):
        return None
    for config in (body.get("IPAM") or {}).get("Config") or []:
        subnet = config.get("Subnet", "")
        if subnet and ":" not in subnet:
            gateway = config.get("Gateway") or str(ipaddress.ip_network(subnet)[1])
            return Network(name, subnet, gateway)
    raise FargoError(
        f"the container network {name} exists but has no IPv4 subnet",
        hint=f"remove it (`podman network rm {name}` or `docker network rm {name}`) and retry",
    )


def remove(docker_host: str, state_dir: Path) -> None:
    """Remove the network of `state_dir` (its containers are gone); the engine deletes its
    bridge with it, so the subnet is free again."""
    call(docker_host, "DELETE", f"/networks/{network_name(state_dir)}")


def _routed_subnets() -> list[ipaddress.IPv4Network]:
    """The IPv4 subnets the host routes (the LAN, a VPN, other emulators' networks): a
    bridge there would shadow them."""
    try:
        lines = _ROUTES.read_text().splitlines()[1:]
    except OSError:
        return []
    routed = []
    for line in lines:
        fields = line.split()
        if len(fields) < 8:
            continue
        destination, mask = (_little_endian_ip(fields[i]) for i in (1, 7))
        route = ipaddress.IPv4Network(f"{destination}/{mask}", strict=False)
        if route.prefixlen > 0:  # the default route overlaps everything
            routed.append(route)
    return routed


def _little_endian_ip(hex_value: str) -> str:
    return str(ipaddress.IPv4Address(int(hex_value, 16).to_bytes(4, "little")))


def _digest(state_dir: Path) -> str:
    return hashlib.sha256(str(state_dir.resolve()).encode()).hexdigest()


def _message(body: Any) -> str:
    if isinstance(body, dict):
        return str(body.get("message") or json.dumps(body))
    return str(body)
