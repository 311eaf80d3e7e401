"""Start ministack with fargo's emulator patches applied.

fargo runs this file with the python of ministack's own virtualenv (ministack
pins botocore exactly, so it cannot share fargo's environment):

    BIND_HOST=127.0.0.1 GATEWAY_PORT=4566 TMPDIR=/some/dir VENV/bin/python launcher.py

With FARGO_EMULATOR_GATEWAY (the gateway address of the emulator's container
network) it listens there too, on the same port, so that containers reach it.
It imports only the standard library and what that virtualenv holds, never
fargo. The patches live in the sibling ``patches`` package; once they are in
place ministack serves exactly as its own foreground ``main()`` does, health
endpoint included.
"""

import importlib
import os
import socket
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

_HERE = Path(__file__).resolve().parent
# Exit status when the installed ministack is not the one the patches fit.
_EXIT_PATCH_FAILED = 3


def _import_patches() -> ModuleType:
    """The sibling ``patches`` package, found from this file's location.

    Python put this directory first on sys.path when it started the script;
    moved to the end, a sibling module cannot shadow the stdlib or ministack.
    """
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
    sys.path.append(str(_HERE))
    patches = importlib.import_module("patches")
    if Path(str(patches.__file__)).resolve().parent != _HERE / "patches":
        raise ImportError(f"imported 'patches' from {patches.__file__}, not from {_HERE}")
    return patches


def _apply_patches() -> list[str]:
    patches = _import_patches()
    try:
        applied: list[str] = patches.apply_all()
    except patches.PatchError as exc:
        print(f"fargo emulator launcher: {exc}", file=sys.stderr)
        raise SystemExit(_EXIT_PATCH_FAILED) from exc
    return applied


# Linux's IP_FREEBIND (Python names it from 3.12 on): bind an address no interface has yet.
_IP_FREEBIND = getattr(socket, "IP_FREEBIND", 15)


def _gateway_socket(address: str, port: int) -> socket.socket:
    """A listening socket on the container network's gateway.

    Podman creates the network's bridge, and puts the gateway address on it, only when
    the first container joins, after the emulator starts; a free bind lets the socket
    wait for the address instead of failing.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if sys.platform == "linux":
        sock.setsockopt(socket.IPPROTO_IP, _IP_FREEBIND, 1)
    sock.bind((address, port))
    sock.listen(socket.SOMAXCONN)
    sock.set_inheritable(True)
    return sock


def _serve_on_gateway_too(address: str, port: int) -> None:
    """Add the gateway to the addresses ministack's main() binds (it binds only
    BIND_HOST): hypercorn serves an already bound socket given as fd://N."""
    sock = _gateway_socket(address, port)
    hypercorn_asyncio = importlib.import_module("hypercorn.asyncio")
    serve = hypercorn_asyncio.serve

    async def serve_with_gateway(app: Any, config: Any, *args: Any, **kwargs: Any) -> Any:
        config.bind = [*config.bind, f"fd://{sock.fileno()}"]
        return await serve(app, config, *args, **kwargs)

    setattr(hypercorn_asyncio, "serve", serve_with_gateway)  # noqa: B010 - a module mypy cannot see


def main() -> None:
    gateway = os.environ.get("FARGO_EMULATOR_GATEWAY")
    if gateway:
        _serve_on_gateway_too(gateway, int(os.environ["GATEWAY_PORT"]))
    applied = _apply_patches()
    print(f"fargo emulator launcher: ministack patched ({', '.join(applied)})", flush=True)
    # ministack's own entry point reads BIND_HOST, GATEWAY_PORT and TMPDIR, refuses
    # a port in use, writes its PID file and serves ministack.app:app with hypercorn.
    serve = importlib.import_module("ministack.app").main
    sys.argv[1:] = []  # its argument parser must not see ours
    serve()


if __name__ == "__main__":
    main()
