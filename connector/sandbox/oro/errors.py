"""Oro's error objects: ``{"errors": [{"status", "title", "detail", "source"}]}``, Oro's titles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class ErrorObject:
    status: int
    title: str
    detail: str
    pointer: str | None = None
    parameter: str | None = None

    def to_dict(self) -> dict[str, Any]:
        item: dict[str, Any] = {"status": str(self.status), "title": self.title, "detail": self.detail}
        if self.pointer is not None:
            item["source"] = {"pointer": self.pointer}
        elif self.parameter is not None:
            item["source"] = {"parameter": self.parameter}
        return item


class ApiError(Exception):
    """Raised anywhere in request handling; the routes turn it into Oro's error document."""

    def __init__(self, *errors: ErrorObject, headers: dict[str, str] | None = None) -> None:
        super().__init__(errors[0].detail if errors else "")
        self.errors = list(errors)
        self.headers = headers or {}

    @property
    def status(self) -> int:
        # Oro answers with the status of the first error when all agree, 400 for mixed validation errors.
        statuses = {e.status for e in self.errors}
        return self.errors[0].status if len(statuses) == 1 else 400

    def document(self) -> dict[str, Any]:
        return {"errors": [e.to_dict() for e in self.errors]}


def filter_error(detail: str, parameter: str) -> ApiError:
    return ApiError(ErrorObject(400, "filter constraint", detail, parameter=parameter))


def unexpected_value(detail: str, parameter: str) -> ApiError:
    return ApiError(ErrorObject(400, "unexpected value exception", detail, parameter=parameter))


def sort_error(field: str) -> ApiError:
    return ApiError(
        ErrorObject(400, "sort constraint", f'Sorting by "{field}" field is not supported.', parameter="sort")
    )


def not_found(detail: str = "An entity with the requested identifier does not exist.") -> ApiError:
    return ApiError(ErrorObject(404, "not found http exception", detail))


def resource_not_accessible() -> ApiError:
    return ApiError(ErrorObject(404, "resource not accessible exception", "The resource is not accessible."))


def access_denied(detail: str = "No access to the entity.") -> ApiError:
    return ApiError(ErrorObject(403, "access denied exception", detail))


def method_not_allowed(allowed: str) -> ApiError:
    return ApiError(
        ErrorObject(405, "method not allowed http exception", "The requested action is not allowed."),
        headers={"Allow": allowed},
    )


def request_data(detail: str, pointer: str) -> ApiError:
    return ApiError(ErrorObject(400, "request data constraint", detail, pointer=pointer))


def conflict(detail: str, pointer: str | None = None) -> ApiError:
    return ApiError(ErrorObject(409, "conflict constraint", detail, pointer=pointer))


def not_blank(pointer: str) -> ErrorObject:
    return ErrorObject(400, "not blank constraint", "This value should not be blank.", pointer=pointer)


def choice(pointer: str) -> ErrorObject:
    return ErrorObject(
        400, "choice constraint", "The value you selected is not a valid choice.", pointer=pointer
    )
