"""Hand HTTP requests for a real URL to a WSGI app in process: the sandbox answers as that host.

MSAL Python refuses any authority that is not ``https://`` (reference/verified.md, item 4). Rather than
serving the sandbox over loopback TLS with a generated CA, the demo and the tests keep the production
authority URL and mount :class:`WSGITransport` on the ``requests.Session`` they give to the verifier and
the broker. The connector's code and settings stay exactly those of production; no port, certificate or
CA-bundle variable is involved, and a stray request can never leave the process for the real Microsoft.
"""

from __future__ import annotations

import io
from urllib.parse import urlsplit
from wsgiref.types import WSGIApplication

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers
from werkzeug.datastructures import Headers
from werkzeug.test import EnvironBuilder, run_wsgi_app

# Derived by the WSGI environment builder from the URL and the body; passing them twice confuses it.
_DROPPED_HEADERS = frozenset({"host", "content-length"})


class WSGITransport(BaseAdapter):
    """A requests transport adapter that answers from ``app``, with ``path_prefix`` put before each path."""

    def __init__(self, app: WSGIApplication, *, path_prefix: str = "") -> None:
        super().__init__()
        self._app = app
        self._prefix = "/" + path_prefix.strip("/") if path_prefix.strip("/") else ""

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: object = None,
    ) -> requests.Response:
        url = urlsplit(request.url or "")
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        headers = Headers([(k, v) for k, v in request.headers.items() if k.lower() not in _DROPPED_HEADERS])
        builder = EnvironBuilder(
            path=self._prefix + (url.path or "/"),
            query_string=url.query,
            method=request.method or "GET",
            headers=headers,
            data=body if isinstance(body, bytes) else b"".join(body),
            base_url=f"{url.scheme}://{url.netloc}",
        )
        try:
            environ = builder.get_environ()
        finally:
            builder.close()
        app_iter, status, response_headers = run_wsgi_app(self._app, environ, buffered=True)
        try:
            content = b"".join(app_iter)
        finally:
            close = getattr(app_iter, "close", None)
            if close is not None:
                close()

        response = requests.Response()
        code, _, reason = status.partition(" ")
        response.status_code = int(code)
        response.reason = reason
        response.headers = CaseInsensitiveDict(response_headers.items())
        response.encoding = get_encoding_from_headers(response.headers)
        response.raw = io.BytesIO(content)
        response._content = content
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        """Nothing to release: no sockets."""


def route_to_sandbox(
    session: requests.Session, *, base_url: str, app: WSGIApplication, path_prefix: str = ""
) -> requests.Session:
    """Make ``session`` answer every request under ``base_url`` from ``app`` (at ``path_prefix``).

    E.g. ``route_to_sandbox(session, base_url=settings.microsoft_authority, app=sandbox_app,
    path_prefix="/entra")``. Other URLs keep their usual transport. Returns ``session``.
    """
    session.mount(base_url.rstrip("/") + "/", WSGITransport(app, path_prefix=path_prefix))
    return session
