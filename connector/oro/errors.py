"""What can go wrong when talking to Oro, as typed exceptions the hosts turn into messages.

::

    OroError
     +-- OroUnavailable         Oro cannot be reached, timed out, or kept failing (5xx / 429)
     +-- OroAuthExpired         the user's authorisation is gone: ask them to connect to Oro again
     +-- OroAuthRejected        the token endpoint refused the connector's own client or grant
     +-- OroUnexpectedResponse  Oro answered something that is not its API (wrong URL or prefix?)
     +-- OroRejected            Oro answered with an error document ({"errors": [...]})
          +-- OroBadRequest        400 (filter constraint, not blank constraint, ...)
          +-- OroAccessDenied      403 (Oro's ACL says no)
          +-- OroNotFound          404 (unknown id, or a resource this instance does not have)
          +-- OroConflict          409
          +-- OroValidationFailed  422
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


class OroError(Exception):
    """Base of every failure of the Oro client."""


class OroUnavailable(OroError):
    """Oro could not be reached or did not answer in time, or kept answering 429/5xx after the retries.

    ``url`` is the address the client tried (without its query string, which may hold addresses).
    """

    def __init__(self, message: str, *, url: str, status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


class OroAuthExpired(OroError):
    """Oro no longer accepts this user's authorisation (the refresh was refused, or there is none):
    the user must connect to Oro again."""

    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


class OroAuthRejected(OroError):
    """Oro's token endpoint refused the connector's own credentials or grant.

    ``error`` is the OAuth error code (``invalid_client``, ``invalid_grant``, ...). For the
    integration client this is a configuration problem; for an authorization code, the code was
    used, expired or issued to another redirect URI.
    """

    def __init__(self, message: str, *, error: str, description: str, status: int | None) -> None:
        super().__init__(message)
        self.error = error
        self.description = description
        self.status = status


class OroUnexpectedResponse(OroError):
    """Oro answered, but not with what its API documents (an HTML page, a body without ``data``)."""

    def __init__(self, message: str, *, url: str, status: int) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


@dataclass(frozen=True)
class OroErrorObject:
    """One member of Oro's ``errors`` array."""

    status: int
    title: str
    detail: str
    pointer: str | None = None
    parameter: str | None = None

    def describe(self) -> str:
        where = f" ({self.pointer or self.parameter})" if self.pointer or self.parameter else ""
        text = f"{self.title}: {self.detail}" if self.title and self.detail else self.title or self.detail
        return text + where


class OroRejected(OroError):
    """Oro refused the request and said why; the first error's fields are copied for convenience."""

    def __init__(self, *, method: str, url: str, status: int, errors: Sequence[OroErrorObject]) -> None:
        self.method = method
        self.url = url
        self.status = status
        self.errors = tuple(errors)
        first = self.errors[0] if self.errors else OroErrorObject(status, "", "")
        self.title = first.title
        self.detail = first.detail
        self.pointer = first.pointer
        self.parameter = first.parameter
        reasons = "; ".join(e.describe() for e in self.errors) or "no details given"
        super().__init__(f"Oro refused {method} {url} with {status}: {reasons}")


class OroBadRequest(OroRejected):
    """400: a filter, sort, or field Oro does not accept, or a value that breaks a constraint."""


class OroAccessDenied(OroRejected):
    """403: Oro's permissions do not let this user see or change the record."""


class OroNotFound(OroRejected):
    """404: no such record, or (title ``resource not accessible exception``) no such resource type."""

    @property
    def resource_missing(self) -> bool:
        """True when the resource type itself is unknown to this instance, not just one id."""
        return self.title == "resource not accessible exception" or not self.errors


class OroConflict(OroRejected):
    """409: the type or id does not match, or the record already exists."""


class OroValidationFailed(OroRejected):
    """422: the data is well-formed but Oro will not accept it."""


_BY_STATUS: dict[int, type[OroRejected]] = {
    400: OroBadRequest,
    403: OroAccessDenied,
    404: OroNotFound,
    409: OroConflict,
    422: OroValidationFailed,
}


def parse_error_objects(status: int, body: Any) -> list[OroErrorObject]:
    """Oro's ``{"errors": [...]}``, or the legacy REST ``{"message": ...}``, as error objects."""
    if isinstance(body, Mapping):
        raw = body.get("errors")
        if isinstance(raw, list):
            return [_error_object(status, item) for item in raw if isinstance(item, Mapping)]
        message = body.get("message")
        if isinstance(message, str):
            return [OroErrorObject(status, "", message)]
    return []


def _error_object(default_status: int, item: Mapping[str, Any]) -> OroErrorObject:
    raw_source = item.get("source")
    source: Mapping[str, Any] = raw_source if isinstance(raw_source, Mapping) else {}
    try:
        status = int(item.get("status", default_status))
    except (TypeError, ValueError):
        status = default_status
    return OroErrorObject(
        status=status,
        title=str(item.get("title") or ""),
        detail=str(item.get("detail") or ""),
        pointer=source.get("pointer") or source.get("propertyPath"),
        parameter=source.get("parameter"),
    )


def rejected(*, method: str, url: str, status: int, body: Any) -> OroRejected:
    """The typed exception for an error answer of Oro."""
    cls = _BY_STATUS.get(status, OroRejected)
    return cls(method=method, url=url, status=status, errors=parse_error_objects(status, body))
