"""Oro's JSON:API query parameters as an immutable value (reference §1.5).

``Query().where("emails", ["a@x.com", "A@x.com"]).where("createdAt", since, op="gt")`` becomes
``filter[emails]=a@x.com,A@x.com&filter[createdAt][gt]=2024-05-01T10:00:00Z``. A list means OR, a
:class:`Range` is Oro's inclusive ``a..b``; ``page_size=-1`` turns paging off.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Literal, get_args

Op = Literal["eq", "neq", "lt", "lte", "gt", "gte", "exists", "neq_or_null"]
OPS: frozenset[str] = frozenset(get_args(Op))

Scalar = str | int | float | Decimal | bool | datetime | date


@dataclass(frozen=True)
class Range:
    """An inclusive range, ``low..high`` (numbers and dates)."""

    low: Scalar
    high: Scalar


FilterValue = Scalar | Range | Sequence[Scalar]


def format_value(value: Scalar) -> str:
    """One filter value as Oro reads it: UTC ``...Z`` datetimes, ISO dates, ``true``/``false``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"datetime filter values must be timezone-aware, got {value!r}")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, int | float):
        return repr(value)
    if not value:
        raise ValueError("an empty string is not a filter value")
    return value


@dataclass(frozen=True)
class Filter:
    """``filter[field]=value`` or, for another operator, ``filter[field][op]=value``."""

    field: str
    value: FilterValue
    op: Op = "eq"

    def __post_init__(self) -> None:
        if self.op not in OPS:
            raise ValueError(f"unknown filter operator {self.op!r}; Oro's are {', '.join(sorted(OPS))}")
        if isinstance(self.value, Range) and self.op not in ("eq", "neq"):
            raise ValueError("a range works with eq and neq only")
        if self.op == "exists" and not isinstance(self.value, bool):
            raise ValueError("exists takes True (not null) or False (null)")

    def param(self) -> tuple[str, str]:
        key = f"filter[{self.field}]" if self.op == "eq" else f"filter[{self.field}][{self.op}]"
        return key, self._text()

    def _text(self) -> str:
        value = self.value
        if isinstance(value, Range):
            return f"{format_value(value.low)}..{format_value(value.high)}"
        if isinstance(value, str) or not isinstance(value, Sequence):
            return format_value(value)
        items = [format_value(item) for item in value]
        if not items:
            raise ValueError(f"filter[{self.field}] needs at least one value")
        if any("," in item for item in items):
            # Oro splits on commas; an item holding one cannot be expressed in a list.
            raise ValueError(f"filter[{self.field}]: a listed value cannot contain a comma")
        return ",".join(items)


@dataclass(frozen=True)
class Query:
    """Filters, includes, sparse fieldsets, sorting, paging, ``meta`` and the total-count header."""

    filters: tuple[Filter, ...] = ()
    include: tuple[str, ...] = ()
    fields: tuple[tuple[str, tuple[str, ...]], ...] = ()
    sort: tuple[str, ...] = ()
    page_number: int | None = None
    page_size: int | None = None
    meta: tuple[str, ...] = ()
    total_count: bool = False

    def __post_init__(self) -> None:
        if self.page_size is not None and self.page_size != -1 and self.page_size < 1:
            raise ValueError("page_size must be at least 1, or -1 for no paging")
        if self.page_number is not None and self.page_number < 1:
            raise ValueError("page_number starts at 1")

    def where(self, field: str, value: FilterValue, op: Op = "eq") -> Query:
        return replace(self, filters=(*self.filters, Filter(field, value, op)))

    def including(self, *relationships: str) -> Query:
        return replace(self, include=(*self.include, *relationships))

    def only(self, resource_type: str, *fields: str) -> Query:
        """A sparse fieldset; with ``include`` the included relationship must be among ``fields``."""
        return replace(self, fields=(*self.fields, (resource_type, fields)))

    def sorted_by(self, *keys: str) -> Query:
        """``"-createdAt"`` sorts descending; Oro's default is ``id`` ascending."""
        return replace(self, sort=keys)

    def page(self, *, size: int | None = None, number: int | None = None) -> Query:
        return replace(self, page_size=size, page_number=number)

    def counted(self) -> Query:
        """Ask for ``X-Include: totalCount`` (one more COUNT query on Oro's side)."""
        return replace(self, total_count=True)

    def params(self) -> list[tuple[str, str]]:
        pairs = [f.param() for f in self.filters]
        if self.include:
            pairs.append(("include", ",".join(self.include)))
        for resource_type, names in self.fields:
            pairs.append((f"fields[{resource_type}]", ",".join(names)))
        if self.sort:
            pairs.append(("sort", ",".join(self.sort)))
        if self.page_number is not None:
            pairs.append(("page[number]", str(self.page_number)))
        if self.page_size is not None:
            pairs.append(("page[size]", str(self.page_size)))
        if self.meta:
            pairs.append(("meta", ",".join(self.meta)))
        return pairs

