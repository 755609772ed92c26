"""HTTP to Oro over one ``requests.Session``: timeouts, bounded retries, JSON:API documents, errors.

Two layers. :class:`HttpTransport` sends one request with the configured ``(connect, read)`` timeout
and retries what is safe to retry. :class:`OroApi` speaks Oro's back-office JSON:API (and the legacy
REST API) on top of it: media types, bearer tokens with one refresh on a 401, and Oro's error
documents turned into typed exceptions.

Retry policy, and why:

- Reads (GET, HEAD, OPTIONS) are retried on 429, 500, 502, 503 and 504: repeating them changes nothing.
- Writes (POST, PATCH, DELETE) are retried only on 429 and 503. Both mean the request was turned away
  before Oro processed it (rate limit, maintenance mode or an overloaded front end). A 500, 502 or 504
  to a write may come after Oro committed it, and a second POST would create a second email or note.
- Connection failures and timeouts are not retried: Oro is down or hung, a sidebar is waiting, and
  each further attempt would cost another full timeout. The caller gets :class:`OroUnavailable` after
  at most one connect plus one read timeout.
- The wait doubles from ``backoff_seconds`` up to ``max_backoff_seconds``. A ``Retry-After`` header
  (seconds or an HTTP date) replaces the computed wait; when it asks for longer than the cap the
  client stops and reports that Oro is busy, rather than hold a request for minutes.

The session is shared by every user's client, so it keeps no cookies: a cookie set in answer to
one user's call must never travel with another user's.
"""

from __future__ import annotations

import email.utils
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from http.cookiejar import DefaultCookiePolicy
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from connector.oro.config import OroConfig
from connector.oro.errors import (
    OroError,
    OroUnavailable,
    OroUnexpectedResponse,
    parse_error_objects,
    rejected,
)

logger = logging.getLogger(__name__)

JSONAPI_MEDIA_TYPE = "application/vnd.api+json"
POOL_SIZE = 32
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
READ_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
WRITE_RETRY_STATUSES = frozenset({429, 503})

Params = Sequence[tuple[str, str]]
JsonObject = dict[str, Any]


@dataclass(frozen=True)
class HttpAnswer:
    """One HTTP answer, its body parsed as JSON when it is JSON."""

    method: str
    url: str
    status: int
    headers: Mapping[str, str]
    body: Any
    text: str = ""

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()


class HttpTransport:
    """Sends requests to Oro with timeouts and retries. Safe to share between threads."""

    def __init__(
        self,
        config: OroConfig,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        if session is None:
            session = requests.Session()
            # Room for a thread pool's worth of kept-alive connections to the one Oro host.
            adapter = HTTPAdapter(pool_connections=2, pool_maxsize=POOL_SIZE)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
        self._session = session
        self._session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        self._sleep = sleep
        self._clock = clock

    def close(self) -> None:
        self._session.close()

    def send(
        self,
        method: str,
        url: str,
        *,
        params: Params = (),
        headers: Mapping[str, str] | None = None,
        data: bytes | Mapping[str, str] | None = None,
    ) -> HttpAnswer:
        """Send, retrying as the module docstring says; any answer that is not retried is returned."""
        method = method.upper()
        retry_statuses = READ_RETRY_STATUSES if method in READ_METHODS else WRITE_RETRY_STATUSES
        attempt = 0
        while True:
            response = self._request_once(method, url, params=params, headers=headers, data=data)
            status = response.status_code
            if status not in retry_statuses:
                if status >= 500:
                    raise OroUnavailable(
                        f"Oro failed with {status} on {method} {url}{_detail(response)}"
                        + ("" if method in READ_METHODS else " (not retried: Oro may have processed it)"),
                        url=url, status=status,
                    )
                return _answer(method, url, response)
            delay = self._retry_delay(attempt, response)
            if attempt >= self.config.max_retries or delay is None:
                busy = "busy (429)" if status == 429 else f"failing ({status})"
                if delay is None:
                    why = (
                        f"it asked to wait {response.headers.get('Retry-After')}, longer than the "
                        f"{self.config.max_backoff_seconds:g} s the connector waits"
                    )
                else:
                    why = f"still {status} after {attempt + 1} attempts"
                raise OroUnavailable(f"Oro at {url} is {busy}: {why}", url=url, status=status)
            attempt += 1
            logger.warning(
                "Oro answered %s to %s %s; retry %d of %d in %.2f s",
                status, method, _path(url), attempt, self.config.max_retries, delay,
            )
            response.close()
            self._sleep(delay)

    def _request_once(
        self,
        method: str,
        url: str,
        *,
        params: Params,
        headers: Mapping[str, str] | None,
        data: bytes | Mapping[str, str] | None,
    ) -> requests.Response:
        try:
            return self._session.request(
                method, url, params=list(params), headers=dict(headers or {}), data=data,
                timeout=self.config.timeout, allow_redirects=False,
            )
        except requests.Timeout as exc:
            raise OroUnavailable(
                f"Oro at {url} did not answer within {self.config.connect_timeout:g} s to connect "
                f"and {self.config.read_timeout:g} s to respond",
                url=url,
            ) from exc
        except requests.RequestException as exc:
            raise OroUnavailable(f"Cannot reach Oro at {url}: {_reason(exc)}", url=url) from exc

    def _retry_delay(self, attempt: int, response: requests.Response) -> float | None:
        """Seconds to wait before the next attempt; None when Oro asks for longer than the cap."""
        cap = self.config.max_backoff_seconds
        asked = retry_after_seconds(response.headers.get("Retry-After"), now=self._clock())
        if asked is not None:
            return asked if asked <= cap else None
        return min(self.config.backoff_seconds * (2**attempt), cap)


def retry_after_seconds(value: str | None, *, now: float) -> float | None:
    """``Retry-After`` as seconds to wait: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def _answer(method: str, url: str, response: requests.Response) -> HttpAnswer:
    raw = response.content
    body: Any = None
    text = ""
    if raw:
        try:
            body = json.loads(raw)
        except ValueError:
            text = raw[:200].decode("utf-8", "replace")
    return HttpAnswer(method, url, response.status_code, response.headers, body, text)


def _detail(response: requests.Response) -> str:
    try:
        errors = parse_error_objects(response.status_code, response.json())
    except ValueError:
        return ""
    return ": " + "; ".join(e.describe() for e in errors) if errors else ""


def _reason(exc: BaseException) -> str:
    """The innermost cause, e.g. "[Errno 111] Connection refused", not urllib3's whole story."""
    current: BaseException = exc
    seen = set()
    while id(current) not in seen:
        seen.add(id(current))
        inner = current.__cause__ or current.__context__
        if inner is None and current.args and isinstance(current.args[0], BaseException):
            inner = current.args[0]
        if inner is None:
            reason = getattr(current, "reason", None)
            inner = reason if isinstance(reason, BaseException) else None
        if inner is None:
            break
        current = inner
    text = str(current)
    # urllib3 prefixes the connection object's repr: keep what follows the last colon-space pair.
    return text.split(": ", 1)[-1] if text.startswith("<") else text


def _path(url: str) -> str:
    return urlsplit(url).path


# --- authentication seen from the API side -----------------------------------------------------------


class Authenticator(Protocol):
    """Provides bearer tokens for one identity (a user, or the integration client)."""

    def access_token(self) -> str:
        """A token believed valid now (refreshed first when it has expired)."""
        ...

    def renew(self, *, rejected: str) -> str:
        """Oro answered 401 to ``rejected``: return a new token, or raise when none can be had."""
        ...

    def refused(self) -> OroError:
        """The error to raise when Oro refuses even the renewed token."""
        ...


# --- JSON:API documents ----------------------------------------------------------------------------


Ref = tuple[str, str]


@dataclass(frozen=True)
class Document:
    """A JSON:API document as the client reads it. Stays inside ``connector.oro``."""

    data: Any
    included: Mapping[Ref, JsonObject] = field(default_factory=dict)
    links: Mapping[str, Any] = field(default_factory=dict)
    total_count: int | None = None
    status: int = 200

    @property
    def resources(self) -> list[JsonObject]:
        """``data`` as a list of resource objects (one item for a single-resource document)."""
        if isinstance(self.data, list):
            return [item for item in self.data if isinstance(item, dict)]
        if isinstance(self.data, dict):
            return [self.data]
        return []

    @property
    def next_link(self) -> str | None:
        link = self.links.get("next")
        if isinstance(link, dict):  # JSON:API allows link objects {"href": ...}
            link = link.get("href")
        return link if isinstance(link, str) and link else None


def index_included(included: Any) -> dict[Ref, JsonObject]:
    index: dict[Ref, JsonObject] = {}
    if isinstance(included, list):
        for item in included:
            if isinstance(item, dict) and "type" in item and "id" in item:
                index[(str(item["type"]), str(item["id"]))] = item
    return index


class OroApi:
    """Oro's back-office JSON:API and legacy REST API for any identity. Thread-safe."""

    def __init__(self, transport: HttpTransport) -> None:
        self.transport = transport
        self.config = transport.config

    def jsonapi(
        self,
        method: str,
        path: str,
        *,
        auth: Authenticator,
        params: Params = (),
        body: JsonObject | None = None,
        total_count: bool = False,
    ) -> Document:
        """Call ``{api_base}/{path}``; raise the typed error for any error answer."""
        method = method.upper()
        url = f"{self.config.api_base}/{path.lstrip('/')}"
        headers = {"Accept": JSONAPI_MEDIA_TYPE}
        if method not in READ_METHODS:
            headers["Content-Type"] = JSONAPI_MEDIA_TYPE
        if total_count:
            headers["X-Include"] = "totalCount"
        data = json.dumps(body).encode() if body is not None else None
        answer = self._authorized(method, url, auth=auth, params=params, headers=headers, data=data)
        self._raise_for_error(answer)
        if answer.status == 204:
            return Document(data=None, status=204)
        if not isinstance(answer.body, dict) or "data" not in answer.body:
            raise self._unexpected(answer)
        count_header = answer.headers.get("X-Include-Total-Count")
        return Document(
            data=answer.body.get("data"),
            included=index_included(answer.body.get("included")),
            links=answer.body.get("links") or {},
            total_count=int(count_header) if count_header and count_header.isdigit() else None,
            status=answer.status,
        )

    def legacy(self, method: str, path: str, *, auth: Authenticator, params: Params = ()) -> Any:
        """Call the plain-JSON REST API at ``{api_base}/rest/latest/{path}``; return the parsed body."""
        url = f"{self.config.legacy_rest_base}/{path.lstrip('/')}"
        headers = {"Accept": "application/json"}
        answer = self._authorized(method.upper(), url, auth=auth, params=params, headers=headers, data=None)
        self._raise_for_error(answer)
        if answer.body is None and answer.status != 204:
            raise self._unexpected(answer)
        return answer.body

    def _authorized(
        self,
        method: str,
        url: str,
        *,
        auth: Authenticator,
        params: Params,
        headers: dict[str, str],
        data: bytes | None,
    ) -> HttpAnswer:
        token = auth.access_token()
        answer = self.transport.send(
            method, url, params=params, headers={**headers, "Authorization": f"Bearer {token}"}, data=data
        )
        if answer.status != 401:
            return answer
        # Oro answers an expired or revoked token with an empty 401: refresh once, retry once.
        logger.info("Oro refused the access token for %s %s; renewing it once", method, _path(url))
        token = auth.renew(rejected=token)
        answer = self.transport.send(
            method, url, params=params, headers={**headers, "Authorization": f"Bearer {token}"}, data=data
        )
        if answer.status == 401:
            raise auth.refused()
        return answer

    def _raise_for_error(self, answer: HttpAnswer) -> None:
        if 300 <= answer.status < 400:
            where = answer.headers.get("Location", "elsewhere")
            raise OroUnexpectedResponse(
                f"Oro redirected {answer.method} {answer.url} to {where}: check ORO_CONNECTOR_ORO_URL and "
                "ORO_CONNECTOR_ORO_BACKOFFICE_PREFIX",
                url=answer.url, status=answer.status,
            )
        if answer.status >= 400:
            raise rejected(method=answer.method, url=answer.url, status=answer.status, body=answer.body)

    @staticmethod
    def _unexpected(answer: HttpAnswer) -> OroUnexpectedResponse:
        kind = answer.content_type or "no content type"
        return OroUnexpectedResponse(
            f"Oro answered {answer.method} {answer.url} with {answer.status} ({kind}), not the API's JSON: "
            "is the URL, the back-office prefix or the API feature (System Configuration > Web API) wrong?",
            url=answer.url, status=answer.status,
        )
