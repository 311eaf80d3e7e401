"""A TCP proxy on 127.0.0.1 in front of the test registry that fails on purpose.

It reads each HTTP/1.1 request's head and its Content-Length body (httpx sends no other
kind) and passes it on, except for a request a planned `Fault` matches: then it cuts the
connection partway through the body, or answers a status of its own without asking the
registry. Answers come back byte for byte. Real sockets, real registry: the client meets
the same errors as on a broken network.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
from dataclasses import dataclass, field

_ABSOLUTE_LOCATION = re.compile(rb"\r\nLocation: https?://[^/\r]+/")


@dataclass
class Fault:
    method: str
    path_contains: str = ""
    drop_after: int | None = None  # read this many body bytes, then close both sides
    forward_body: bool = True  # whether those bytes reach the registry before the cut
    status: int | None = None  # answer this status instead of forwarding
    headers: dict[str, str] = field(default_factory=dict)
    skip: int = 0  # let this many matching requests through first
    times: int = 1
    hits: int = 0
    seen: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.hits >= self.times or method != self.method or self.path_contains not in path:
            return False
        self.seen += 1
        return self.seen > self.skip


class FaultyProxy:
    def __init__(
        self, upstream: str, faults: list[Fault], *, relative_locations: bool = False
    ) -> None:
        """`relative_locations`: rewrite the registry's absolute Location headers to
        paths, as registries behind some proxies answer."""
        host, port = upstream.rsplit(":", 1)
        self.upstream = (host, int(port))
        self.faults = faults
        self.relative_locations = relative_locations
        self.rewritten = 0
        self.requests: list[tuple[str, str]] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.address = f"127.0.0.1:{self._listener.getsockname()[1]}"
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def __enter__(self) -> FaultyProxy:
        self._spawn(self._accept)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        with self._lock:
            for sock in self._sockets:
                _close(sock)
        for thread in list(self._threads):
            thread.join(timeout=5)
        self._listener.close()

    def _spawn(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            upstream = socket.create_connection(self.upstream)
            with self._lock:
                self._sockets += [client, upstream]
            self._spawn(self._answers, upstream, client)
            self._spawn(self._requests, client, upstream)

    def _answers(self, upstream: socket.socket, client: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := upstream.recv(65536):
                if self.relative_locations:
                    # An answer's head arrives whole in one read on loopback.
                    data, count = _ABSOLUTE_LOCATION.subn(rb"\r\nLocation: /", data)
                    self.rewritten += count
                client.sendall(data)
        _close(client)

    def _requests(self, client: socket.socket, upstream: socket.socket) -> None:
        buffer = b""
        try:
            while True:
                while b"\r\n\r\n" not in buffer:
                    data = client.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                method, path, length = _parse(head)
                self.requests.append((method, path))
                fault = self._fault(method, path)
                if fault is not None and fault.status is not None:
                    buffer = _skip(client, buffer, length)
                    extra = "".join(f"{k}: {v}\r\n" for k, v in fault.headers.items())
                    answer = f"HTTP/1.1 {fault.status} Fault\r\nContent-Length: 0\r\n{extra}\r\n"
                    client.sendall(answer.encode())
                    continue
                upstream.sendall(head + b"\r\n\r\n")
                if fault is not None and fault.drop_after is not None:
                    count = min(fault.drop_after, length)
                    if fault.forward_body:
                        _forward(client, upstream, buffer, count)
                    else:
                        _skip(client, buffer, count)
                    return
                buffer = _forward(client, upstream, buffer, length)
        except OSError:
            return
        finally:
            _close(client)
            _close(upstream)

    def _fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    fault.hits += 1
                    return fault
        return None


def _parse(head: bytes) -> tuple[str, str, int]:
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    return method, path, length


def _forward(client: socket.socket, upstream: socket.socket, buffer: bytes, count: int) -> bytes:
    """Pass `count` body bytes on; return what was read beyond them."""
    while len(buffer) < count:
        upstream.sendall(buffer)
        count -= len(buffer)
        buffer = client.recv(min(65536, max(count, 1)))
        if not buffer:
            raise OSError("client closed mid-body")
    upstream.sendall(buffer[:count])
    return buffer[count:]


def _skip(client: socket.socket, buffer: bytes, count: int) -> bytes:
    while len(buffer) < count:
        count -= len(buffer)
        buffer = client.recv(min(65536, count))
        if not buffer:
            raise OSError("client closed mid-body")
    return buffer[count:]


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
