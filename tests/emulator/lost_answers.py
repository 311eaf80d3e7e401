"""An HTTP proxy in front of the emulator that loses the answers to some AWS writes.

Every request is passed on whole and its answer read back whole. For a CloudFormation write
(by its `Action`) the proxy draws from a seeded RNG, and on a hit it closes the connection
instead of answering: the write took effect, and the client never hears so, as on a network
that drops a response. The client's SDK sees "connection closed" and retries. Seeded, so a
run is reproducible.

It works per request (tests/integration/faulty_proxy.py cuts TCP streams by path; AWS's query
protocol sends every call to `POST /`, and only the body says which one it is).
"""

from __future__ import annotations

import contextlib
import http.client
import random
import re
import socket
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

# CloudFormation's write calls (any call not named Describe/Get/List/... writes).
CLOUDFORMATION_WRITES = frozenset(
    {
        "CreateChangeSet",
        "ExecuteChangeSet",
        "DeleteChangeSet",
        "CreateStack",
        "UpdateStack",
        "DeleteStack",
        "SetStackPolicy",
        "UpdateTerminationProtection",
        "ContinueUpdateRollback",
        "CancelUpdateStack",
    }
)
_SERVICE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/")
_ATTEMPT = re.compile(r"attempt=(\d+)")
# Hop-by-hop and length headers: the proxy sends the body it read with a length of its own.
_NOT_PASSED = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length"})


@dataclass
class Figures:
    """What went through: calls, the writes that could lose their answer, answers lost, and
    requests the SDK sent again (`amz-sdk-request: attempt=N`, N > 1)."""

    calls: int = 0
    writes: Counter[str] = field(default_factory=Counter)
    lost: Counter[str] = field(default_factory=Counter)
    retries: int = 0

    def add(self, other: Figures) -> None:
        self.calls += other.calls
        self.writes.update(other.writes)
        self.lost.update(other.lost)
        self.retries += other.retries


class LostAnswers:
    def __init__(
        self,
        upstream: str,
        *,
        rate: float,
        seed: int,
        actions: frozenset[str] = CLOUDFORMATION_WRITES,
        service: str = "cloudformation",
    ) -> None:
        self.upstream = upstream.removeprefix("http://").rstrip("/")
        self.rate = rate
        self.actions = actions
        self.service = service
        self.figures = Figures()
        self._rng = random.Random(seed)  # noqa: S311 - reproducible faults, not secrets
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> LostAnswers:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _loses(self, service: str, action: str, attempt: int) -> bool:
        """Whether to lose this call's answer; counts it."""
        with self._lock:
            self.figures.calls += 1
            self.figures.retries += attempt > 1
            if service != self.service or action not in self.actions:
                return False
            self.figures.writes[action] += 1
            lost = self._rng.random() < self.rate
            self.figures.lost[action] += lost
            return lost

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                return

            def _relay(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                service = _SERVICE.search(self.headers.get("Authorization", ""))
                action = parse_qs(body.decode("utf-8", "replace")).get("Action", [""])[0]
                attempt = _ATTEMPT.search(self.headers.get("amz-sdk-request", ""))
                lose = proxy._loses(
                    service.group(1) if service else "",
                    action,
                    int(attempt.group(1)) if attempt else 1,
                )
                upstream = http.client.HTTPConnection(proxy.upstream, timeout=120)
                try:
                    headers = {
                        k: v for k, v in self.headers.items() if k.lower() not in _NOT_PASSED
                    }
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    answer = upstream.getresponse()
                    data = answer.read()
                finally:
                    upstream.close()
                if lose:
                    # The emulator did the work; the client hears nothing back.
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.send_response_only(answer.status, answer.reason)
                head = self.command == "HEAD"  # no body: the length is the one AWS gave
                for key, value in answer.getheaders():
                    if key.lower() not in _NOT_PASSED or (head and key.lower() == "content-length"):
                        self.send_header(key, value)
                if not head:
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _relay  # noqa: N815

        return Handler
