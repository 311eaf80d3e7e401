"""Ports the emulator's containers publish on the host listen on loopback only.

Gap (ministack 1.5.33): databases and caches publish their port on the host
(``ports={"5432/tcp": 15432}``), which the engine binds on every interface: anyone on the
machine's networks could reach a local database. fargo's emulator listens on loopback and
its network's gateway only, and the host reaches the containers on the bridge anyway.

Now every port a container publishes through docker-py (``ports`` as a number, a list of
numbers, or None for any free port) is bound on 127.0.0.1; an address given explicitly
(a tuple) is kept.
"""

from typing import Any

from ._ministack import attr, module

LOOPBACK = "127.0.0.1"


def _on_loopback(binding: Any) -> Any:
    """docker-py's forms: a host port, None (any free port), a list of either, or a tuple
    that already names the address."""
    if binding is None:
        return (LOOPBACK,)
    if isinstance(binding, int | str):
        return (LOOPBACK, binding)
    if isinstance(binding, list):
        return [_on_loopback(b) for b in binding]
    return binding


def publish_on_loopback() -> None:
    collection = attr(module("docker.models.containers"), "ContainerCollection")
    original = collection.create

    def create(self: Any, image: Any, command: Any = None, **kwargs: Any) -> Any:
        ports = kwargs.get("ports")
        if isinstance(ports, dict):
            kwargs["ports"] = {port: _on_loopback(bound) for port, bound in ports.items()}
        return original(self, image, command, **kwargs)

    collection.create = create
