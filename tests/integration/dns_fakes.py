"""Local stand-ins for the Cloudflare, GoDaddy and Porkbun DNS APIs (stdlib http.server on
127.0.0.1, one thread each).

Each implements the documented request and response shapes of exactly the endpoints
fargo's clients use, keeps records in memory, checks credentials the way the real API
does (and answers a refusal in the provider's own error envelope), and rejects requests
the real API would reject or misread (a GoDaddy name that is not relative, a Porkbun
body without both keys, a Cloudflare duplicate). Tests can make the next request fail
(429, 5xx) and read back what a server holds and which writes it saw.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, unquote, urlsplit

Reply = tuple[int, Any]


@dataclass
class Stored:
    """One record as the fake keeps it: absolute lower-case name, provider-native content."""

    id: str
    name: str
    type: str
    content: str
    ttl: int
    priority: int | None = None


@dataclass
class Seen:
    method: str
    path: str
    write: bool


@dataclass
class FakeDnsApi:
    """What every fake shares: records, the request log, failures to inject, the server."""

    zone: str
    credentials: tuple[str, ...]
    records: list[Stored] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    _failures: list[tuple[int, bool]] = field(default_factory=list)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1000))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    base_path: ClassVar[str] = ""

    # -- what tests use ------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{self.base_path}"

    @property
    def writes(self) -> list[Seen]:
        return [s for s in self.seen if s.write]

    def seed(self, name: str, type_: str, content: str, *, priority: int | None = None) -> None:
        """A record the user made outside fargo."""
        self.records.append(Stored(self.new_id(), name, type_, content, 3600, priority))

    def values(self, name: str, type_: str) -> list[str]:
        return sorted(
            f"{r.priority} {r.content}" if r.type == "MX" else r.content
            for r in self.records
            if r.name == name and r.type == type_
        )

    def fail_next(self, status: int, *, writes_only: bool = False) -> None:
        """Answer the next request (or the next write) with `status`, then behave."""
        self._failures.append((status, writes_only))

    def start(self) -> FakeDnsApi:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, reply = fake.handle(self.command, self.path, dict(self.headers), raw)
                data = b"" if reply is None else json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if status == 429:
                    self.send_header("Retry-After", "0")
                self.end_headers()
                self.wfile.write(data)

            # http.server dispatches on these names.
            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle  # noqa: N815

            def log_message(self, *_: object) -> None:
                pass  # keep test output clean

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # -- what subclasses use -------------------------------------------------------
    def handle(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> Reply:
        parts = urlsplit(target)
        path = unquote(parts.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        write = self.is_write(method, path)
        with self._lock:
            self.seen.append(Seen(method, path, write))
            for i, (status, writes_only) in enumerate(self._failures):
                if write or not writes_only:
                    del self._failures[i]
                    return status, self.error(status, "injected failure")
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                return 400, self.error(400, "malformed JSON")
            return self.route(method, path, query, headers, body)

    def new_id(self) -> str:
        return str(next(self._ids))

    def is_write(self, method: str, path: str) -> bool:
        return method != "GET"

    def route(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> Reply:
        raise NotImplementedError

    def error(self, status: int, message: str) -> Any:
        raise NotImplementedError


class FakeCloudflare(FakeDnsApi):
    """Cloudflare v4: Bearer token, `{success, errors, messages, result}` envelopes."""

    base_path = "/client/v4"
    zone_id = "023e105f4ecef8ad9ca31a8372d0c353"
    # Cloudflare's record types: no ALIAS. A CNAME at the apex is taken and flattened.
    types = frozenset({"A", "AAAA", "CAA", "CNAME", "HTTPS", "MX", "NS", "SRV", "SVCB", "TXT"})

    def error(self, status: int, message: str, code: int = 10000) -> Any:
        return {"success": False, "errors": [{"code": code, "message": message}], "messages": []}

    def route(  # noqa: PLR0911 - one answer per route and refusal
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> Reply:
        if headers.get("Authorization") != f"Bearer {self.credentials[0]}":
            return 403, self.error(403, "Authentication error", 10000)
        path = path.removeprefix(self.base_path)
        if method == "GET" and path == "/zones":
            zones = (
                [{"id": self.zone_id, "name": self.zone}] if query.get("name") == self.zone else []
            )
            return 200, self._ok(zones, info={"page": 1, "total_pages": 1, "count": len(zones)})
        match = re.fullmatch(r"/zones/([^/]+)/dns_records(?:/([^/]+))?", path)
        if match is None or match.group(1) != self.zone_id:
            return 404, self.error(404, f"Could not route to {path}", 7003)
        record_id = match.group(2)
        if method == "GET" and record_id is None:
            return self._list(query)
        if method == "POST" and record_id is None:
            return self._write(None, body)
        found = next((r for r in self.records if r.id == record_id), None)
        if found is None:
            return 404, self.error(404, "Record does not exist.", 81044)
        if method == "PUT":
            return self._write(found, body)
        if method == "DELETE":
            self.records.remove(found)
            return 200, self._ok({"id": found.id})
        return 405, self.error(405, "Method not allowed", 10405)

    def _list(self, query: dict[str, str]) -> Reply:
        per_page, page = int(query.get("per_page", "100")), int(query.get("page", "1"))
        if not 5 <= per_page <= 5000 or page < 1:
            return 400, self.error(400, "Invalid pagination", 1004)
        if "name" in query:
            return 400, self.error(400, "use name.exact", 1004)  # fargo asks for exact names
        matches = [
            r
            for r in self.records
            if r.name == query.get("name.exact", r.name) and r.type == query.get("type", r.type)
        ]
        chunk = matches[(page - 1) * per_page : page * per_page]
        total_pages = max(1, -(-len(matches) // per_page))
        info = {
            "page": page,
            "per_page": per_page,
            "count": len(chunk),
            "total_count": len(matches),
            "total_pages": total_pages,
        }
        return 200, self._ok([self._show(r) for r in chunk], info=info)

    def _write(self, found: Stored | None, body: Any) -> Reply:  # noqa: PLR0911
        missing = [k for k in ("type", "name", "content", "ttl") if k not in (body or {})]
        if missing:
            return 400, self.error(400, f"missing {', '.join(missing)}", 9000)
        name, type_, content = body["name"], body["type"], body["content"]
        if type_ not in self.types:
            return 400, self.error(400, f"DNS record type {type_} is invalid", 9004)
        if not (name == self.zone or name.endswith("." + self.zone)):
            return 400, self.error(400, "Record name is not in the zone", 9000)
        if type_ == "MX" and "priority" not in body:
            return 400, self.error(400, "MX records need a priority", 9000)
        if not (body["ttl"] == 1 or 60 <= body["ttl"] <= 86400):
            return 400, self.error(400, "Invalid TTL", 9021)
        others = [r for r in self.records if r.name == name and r is not found]
        if any(r.type == type_ and r.content == content for r in others):
            return 400, self.error(400, "An identical record already exists.", 81058)
        if others and (type_ == "CNAME" or any(r.type == "CNAME" for r in others)):
            return 400, self.error(400, "A CNAME cannot share its name.", 81053)
        stored = found or Stored(self.new_id(), name, type_, content, body["ttl"])
        stored.type, stored.content, stored.ttl = type_, content, body["ttl"]
        stored.priority = body.get("priority")
        if found is None:
            self.records.append(stored)
        return 200, self._ok(self._show(stored))

    def _show(self, r: Stored) -> dict[str, Any]:
        shown = {"id": r.id, "zone_id": self.zone_id, "zone_name": self.zone, "name": r.name}
        shown |= {"type": r.type, "content": r.content, "ttl": r.ttl, "proxied": False}
        if r.priority is not None:
            shown["priority"] = r.priority
        return shown

    @staticmethod
    def _ok(result: Any, info: dict[str, Any] | None = None) -> dict[str, Any]:
        body = {"success": True, "errors": [], "messages": [], "result": result}
        return body | ({"result_info": info} if info else {})


class FakeGoDaddy(FakeDnsApi):
    """GoDaddy v1: `sso-key KEY:SECRET`, relative names, PUT replaces a type+name set."""

    # GoDaddy's record types: no ALIAS, and its zones take no CNAME at the apex.
    types = frozenset({"A", "AAAA", "CAA", "CNAME", "MX", "NS", "SOA", "SRV", "TXT"})

    def error(self, status: int, message: str, code: str = "ERROR") -> Any:
        return {"code": code, "message": message}

    def is_write(self, method: str, path: str) -> bool:
        return method in ("PUT", "DELETE", "PATCH", "POST")

    def route(  # noqa: PLR0911, PLR0912 - one answer per route and refusal
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> Reply:
        key, secret = self.credentials
        if headers.get("Authorization") != f"sso-key {key}:{secret}":
            return 401, self.error(
                401, "Unable to authenticate your request", "UNABLE_TO_AUTHENTICATE"
            )
        domain_only = re.fullmatch(r"/v1/domains/([^/]+)", path)
        if method == "GET" and domain_only is not None:
            # The domain's details (trimmed to what identifies it), 404 when not held.
            if domain_only.group(1) != self.zone:
                return 404, self.error(404, "Domain not found", "NOT_FOUND")
            return 200, {"domain": self.zone, "domainId": 1002003, "status": "ACTIVE"}
        match = re.fullmatch(r"/v1/domains/([^/]+)/records/([A-Z]+)/([^/]+)", path)
        if match is None:
            return 404, self.error(404, f"no route {path}", "NOT_FOUND")
        domain, type_, relative = match.groups()
        if domain != self.zone:
            return 404, self.error(404, f"Domain {domain} not found", "NOT_FOUND")
        if type_ not in self.types:
            return 422, self.error(422, f"type {type_} is not one of the enum", "INVALID_BODY")
        if type_ == "CNAME" and relative == "@" and method == "PUT":
            return 422, self.error(422, "a CNAME cannot be at the apex", "INVALID_BODY")
        if relative.endswith(".") or relative == domain or relative.endswith("." + domain):
            return 422, self.error(422, f"name {relative} must be relative", "INVALID_BODY")
        name = domain if relative == "@" else f"{relative}.{domain}"
        held = [r for r in self.records if r.name == name and r.type == type_]
        if method == "GET":
            return 200, [self._show(r, relative) for r in held]
        if method == "DELETE":
            if not held:
                return 404, self.error(404, "Record not found", "NOT_FOUND")
            self.records = [r for r in self.records if r not in held]
            return 204, None
        if method == "PUT":
            problem = self._invalid(type_, body)
            if problem:
                return 422, {
                    "code": "INVALID_BODY",
                    "message": "Request body doesn't fulfill schema",
                    "fields": [{"path": "records", "message": problem}],
                }
            self.records = [r for r in self.records if r not in held] + [
                Stored(self.new_id(), name, type_, item["data"], item["ttl"], item.get("priority"))
                for item in body
            ]
            return 200, None
        return 405, self.error(405, "Method not allowed")

    @staticmethod
    def _invalid(type_: str, body: Any) -> str | None:
        if not isinstance(body, list) or not body:
            return "a non-empty array of records"
        for item in body:
            if not isinstance(item, dict) or "data" not in item:
                return "each record needs data"
            if {"name", "type"} & item.keys():
                return "name and type come from the path"
            if int(item.get("ttl", 3600)) < 600:
                return "ttl must be at least 600"
            if type_ == "MX" and "priority" not in item:
                return "MX needs priority"
        return None

    @staticmethod
    def _show(r: Stored, relative: str) -> dict[str, Any]:
        shown = {"data": r.content, "name": relative, "ttl": r.ttl, "type": r.type}
        return shown | ({"priority": r.priority} if r.priority is not None else {})


class FakePorkbun(FakeDnsApi):
    """Porkbun v3: POST only, keys in the body, `{status: SUCCESS|ERROR}`."""

    base_path = "/api/json/v3"
    # Porkbun's record types, ALIAS among them.
    types = frozenset(
        {"A", "MX", "CNAME", "ALIAS", "TXT", "NS", "AAAA", "SRV", "TLSA", "CAA", "HTTPS", "SVCB"}
    )

    def error(self, status: int, message: str) -> Any:
        return {"status": "ERROR", "message": message}

    def is_write(self, method: str, path: str) -> bool:
        return "/dns/retrieve" not in path

    def route(  # noqa: PLR0911 - one answer per route and refusal
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> Reply:
        if method != "POST":
            return 405, self.error(405, "POST only")
        key, secret = self.credentials
        if not isinstance(body, dict) or "apikey" not in body or "secretapikey" not in body:
            return 400, self.error(400, "All API calls must include apikey and secretapikey.")
        if (body["apikey"], body["secretapikey"]) != (key, secret):
            return 400, self.error(400, "Invalid API key. (002)")
        parts = path.removeprefix(self.base_path).strip("/").split("/")
        if len(parts) < 3 or parts[0] != "dns":
            return 404, self.error(404, f"no route {path}")
        action, domain, rest = parts[1], parts[2], parts[3:]
        if domain != self.zone:
            return 400, self.error(400, "Invalid domain.")
        if action == "retrieveByNameType" and len(rest) in (1, 2):
            name = self._absolute(rest[1] if len(rest) == 2 else "")
            held = [r for r in self.records if r.name == name and r.type == rest[0]]
            return 200, {"status": "SUCCESS", "records": [self._show(r) for r in held]}
        if action == "create" and not rest:
            return self._create(body)
        if action == "editByNameType" and len(rest) in (1, 2):
            name = self._absolute(rest[1] if len(rest) == 2 else "")
            held = [r for r in self.records if r.name == name and r.type == rest[0]]
            if not held or "content" not in body:
                return 400, self.error(400, "Edit error: nothing to edit or no content.")
            for r in held:
                r.content, r.ttl = body["content"], int(body.get("ttl", r.ttl))
            return 200, {"status": "SUCCESS"}
        if action == "delete" and len(rest) == 1:
            found = [r for r in self.records if r.id == rest[0]]
            if not found:
                return 400, self.error(400, "Invalid record ID.")
            self.records.remove(found[0])
            return 200, {"status": "SUCCESS"}
        return 404, self.error(404, f"no route {path}")

    def _create(self, body: dict[str, Any]) -> Reply:
        if "type" not in body or "content" not in body:
            return 400, self.error(400, "Create error: type and content are required.")
        if body["type"] not in self.types:
            return 400, self.error(400, "Create error: invalid type.")
        sub = str(body.get("name", ""))
        if sub == self.zone or sub.endswith("." + self.zone) or sub.endswith("."):
            return 400, self.error(400, f"name {sub} must be the subdomain only")
        if int(body.get("ttl", 600)) < 600:
            return 400, self.error(400, "TTL must be at least 600.")
        prio = body.get("prio")
        stored = Stored(
            self.new_id(),
            self._absolute(sub),
            body["type"],
            body["content"],
            int(body.get("ttl", 600)),
            int(prio) if prio not in (None, "") else None,
        )
        self.records.append(stored)
        return 200, {"status": "SUCCESS", "id": int(stored.id)}

    def _absolute(self, sub: str) -> str:
        return f"{sub}.{self.zone}" if sub else self.zone

    @staticmethod
    def _show(r: Stored) -> dict[str, Any]:
        return {
            "id": r.id,
            "name": r.name,
            "type": r.type,
            "content": r.content,
            "ttl": str(r.ttl),
            "prio": str(r.priority or 0),
            "notes": "",
        }
