"""A scripted Oro on 127.0.0.1 for the client's unit tests: what Oro answers is queued per route, and
every request is kept so tests can check what the client actually sent over the wire."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

import pytest
from werkzeug.serving import BaseWSGIServer, make_server

from connector.oro import OroConfig, OroConnection

JSONAPI = "application/vnd.api+json"


@dataclass
class Seen:
    """One request as the scripted Oro received it."""

    method: str
    path: str
    raw_query: str
    headers: dict[str, str]
    body: bytes

    @property
    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(self.raw_query, keep_blank_values=True)

    def param(self, name: str) -> str | None:
        return dict(self.query).get(name)

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode()))


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    raw: bytes | None = None

    def encode(self) -> tuple[bytes, dict[str, str]]:
        headers = dict(self.headers)
        if self.raw is not None:
            return self.raw, headers
        if self.body is None:
            return b"", headers
        headers.setdefault("Content-Type", JSONAPI)
        return json.dumps(self.body).encode(), headers


Handler = Callable[[Seen], Reply]


class FakeOro:
    """Routes are ``(METHOD, path)``; each holds a queue of replies (the last one repeats) or a handler."""

    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self._routes: dict[tuple[str, str], list[Reply] | Handler] = {}
        self._lock = threading.Lock()
        self.url = ""

    def reply(self, method: str, path: str, *replies: Reply) -> None:
        self._routes[(method, path)] = list(replies)

    def handle(self, method: str, path: str, handler: Handler) -> None:
        self._routes[(method, path)] = handler

    def seen(self, method: str | None = None, path: str | None = None) -> list[Seen]:
        with self._lock:
            return [
                r for r in self.requests
                if (method is None or r.method == method) and (path is None or r.path == path)
            ]

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        headers = {
            key[5:].replace("_", "-").title(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        seen = Seen(
            method=environ["REQUEST_METHOD"],
            path=unquote(environ.get("PATH_INFO", "")),
            raw_query=environ.get("QUERY_STRING", ""),
            headers=headers,
            body=environ["wsgi.input"].read(length) if length else b"",
        )
        with self._lock:
            self.requests.append(seen)
            route = self._routes.get((seen.method, seen.path))
            if isinstance(route, list):
                reply = route.pop(0) if len(route) > 1 else (route[0] if route else None)
            else:
                reply = None
        if callable(route):
            reply = route(seen)
        if reply is None:
            reply = Reply(404, {"errors": [{"status": "404", "title": "resource not accessible exception",
                                            "detail": "The resource is not accessible."}]})
        if reply.delay:
            time.sleep(reply.delay)
        body, reply_headers = reply.encode()
        start_response(f"{reply.status} X", list(reply_headers.items()))
        return [body]


@dataclass
class Served:
    fake: FakeOro
    server: BaseWSGIServer
    thread: threading.Thread


@pytest.fixture
def fake_oro() -> Iterator[FakeOro]:
    fake = FakeOro()
    server = make_server("127.0.0.1", 0, fake, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_port}"
    yield fake
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SleepRecorder:
    """Stands in for time.sleep: remembers each wait instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self._lock = threading.Lock()

    def __call__(self, seconds: float) -> None:
        with self._lock:
            self.waits.append(seconds)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


def make_config(url: str, **overrides: Any) -> OroConfig:
    values: dict[str, Any] = {
        "oro_url": url,
        "backoffice_prefix": "admin",
        "client_id": "connector-app",
        "client_secret": "connector-app-secret",
        "integration_client_id": "integration-app",
        "integration_client_secret": "integration-app-secret",
        "connect_timeout": 2.0,
        "read_timeout": 5.0,
        "max_retries": 3,
        "backoff_seconds": 0.5,
    }
    values.update(overrides)
    return OroConfig(**values)


@pytest.fixture
def connect(fake_oro: FakeOro, sleeps: SleepRecorder) -> Iterator[Callable[..., OroConnection]]:
    """``connect(**config_overrides)``: an OroConnection to the scripted Oro whose waits are recorded."""
    made: list[OroConnection] = []

    def build(clock: Callable[[], float] = time.time, **overrides: Any) -> OroConnection:
        connection = OroConnection(make_config(fake_oro.url, **overrides), sleep=sleeps, clock=clock)
        made.append(connection)
        return connection

    yield build
    for connection in made:
        connection.close()


def token_reply(access: str = "access-1", refresh: str | None = "refresh-1", expires_in: int = 3600) -> Reply:
    body: dict[str, Any] = {"token_type": "Bearer", "expires_in": expires_in, "access_token": access}
    if refresh is not None:
        body["refresh_token"] = refresh
    return Reply(200, body, {"Content-Type": "application/json"})


def jsonapi_list(resources: list[dict[str, Any]], *, next_link: str | None = None,
                 included: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    document: dict[str, Any] = {"data": resources, "links": {"self": "http://oro/admin/api/x"}}
    if next_link:
        document["links"]["next"] = next_link
    if included:
        document["included"] = included
    return document


def contact(
    record_id: int, first: str = "Ada", last: str = "Lovelace", email: str = "ada@example.com"
) -> dict[str, Any]:
    return {
        "type": "contacts", "id": str(record_id),
        "attributes": {"firstName": first, "lastName": last, "primaryEmail": email,
                       "emails": [{"email": email}]},
        "relationships": {"accounts": {"data": []}, "owner": {"data": {"type": "users", "id": "1"}}},
    }
