"""Containers find the emulator on fargo's container network.

Gap (ministack 1.5.33): ministack expects to run in a container itself. It learns "its"
network and address by inspecting its own container (`containers.get($HOSTNAME)` in ECS's
task worker, RDS, ElastiCache, ...), then starts tasks on that network and hands them that
address in AWS_ENDPOINT_URL, ECS_CONTAINER_METADATA_URI_V4 and
AWS_CONTAINER_CREDENTIALS_FULL_URI. Run on the host, as fargo runs it, it finds no container,
so tasks land on the engine's default network with `host.docker.internal` mapped to Docker's
`host-gateway`, which Podman 4.3 does not know, and an emulator bound to 127.0.0.1 is out of
their reach anyway.

fargo creates a network for the emulator (DOCKER_NETWORK) and the launcher listens on its
gateway (FARGO_EMULATOR_GATEWAY). Now the emulator's own container, as ministack looks it up,
is a stand-in attached to that network at the gateway address: tasks join the network and
call the emulator at `http://<gateway>:<port>`.
"""

import os
from typing import Any

from ._ministack import attr, module


class _EmulatorOnHost:
    """What ministack reads of its own container: the network it is on and its address."""

    def __init__(self, name: str, network: str, gateway: str) -> None:
        self.id = self.name = self.short_id = name
        self.attrs: dict[str, Any] = {
            "Id": name,
            "Name": f"/{name}",
            "Config": {"Hostname": name},
            "NetworkSettings": {
                "IPAddress": "",
                "Networks": {network: {"IPAddress": gateway, "Gateway": gateway}},
            },
        }

    def reload(self) -> None:
        """Nothing to refresh: the network and the gateway are fixed for the emulator's life."""


def place_emulator_on_network() -> None:
    collection = attr(module("docker.models.containers"), "ContainerCollection")
    original_get = collection.get

    def get(self: Any, container_id: str, *args: Any, **kwargs: Any) -> Any:
        network = os.environ.get("DOCKER_NETWORK")
        gateway = os.environ.get("FARGO_EMULATOR_GATEWAY")
        # ministack names itself by $HOSTNAME, empty where the variable is not exported.
        if network and gateway and container_id == os.environ.get("HOSTNAME", ""):
            return _EmulatorOnHost(container_id or "fargo-emulator", network, gateway)
        return original_get(self, container_id, *args, **kwargs)

    collection.get = get
