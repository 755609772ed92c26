"""Oro's query-string grammar: ``filter``, ``sort``, ``page``, ``include``, ``fields`` and ``meta``.

Filters come in two spellings, read from the raw query string as Oro does:
``filter[id][gt]=5`` and the operator form ``filter[id]>5`` (``=``, ``!=``, ``<``, ``<=``, ``>``,
``>=``, ``*`` exists, ``!*`` neq_or_null, ``~``, ``!~``, ``^``, ``!^``, ``$``, ``!$``). A comma
means OR where the filter allows arrays; ``a..b`` is an inclusive range on numbers and dates. Like PHP,
a literal ``+`` in the query string is a space.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import unquote_plus

from connector.sandbox.oro.errors import filter_error, sort_error, unexpected_value
from connector.sandbox.oro.schema import FilterDef, Record, ResourceSpec

DEFAULT_PAGE_SIZE = 10

_OPERATOR_NAMES = {
    "eq",
    "neq",
    "lt",
    "lte",
    "gt",
    "gte",
    "exists",
    "neq_or_null",
    "contains",
    "not_contains",
    "starts_with",
    "not_starts_with",
    "ends_with",
    "not_ends_with",
}
_SYMBOLS = {
    "!=": "neq",
    "<>": "neq",
    "<=": "lte",
    ">=": "gte",
    "!*": "neq_or_null",
    "!~": "not_contains",
    "!^": "not_starts_with",
    "!$": "not_ends_with",
    "=": "eq",
    "<": "lt",
    ">": "gt",
    "*": "exists",
    "~": "contains",
    "^": "starts_with",
    "$": "ends_with",
}
_PART = re.compile(
    r"^(?P<key>[^=<>!*~^$\[\]]+(?:\[[^\]]*\])*)(?P<op>!=|<>|<=|>=|!\*|!~|!\^|!\$|=|<|>|\*|~|\^|\$)?(?P<value>.*)$",
    re.S,
)
_FILTER_KEY = re.compile(r"^filter\[(?P<name>[^\]]+)\](?:\[(?P<op>[^\]]*)\])?$")
_DATETIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$"
)


@dataclass
class FilterValue:
    key: str  # as written in the query string, e.g. "filter[id][gt]"
    name: str
    op: str
    raw: str


@dataclass
class ListQuery:
    """A parsed query string."""

    filters: list[FilterValue] = field(default_factory=list)
    sort: str | None = None
    page_number: str | None = None
    page_size: str | None = None
    include: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    fields_errors: list[str] = field(default_factory=list)
    meta: str | None = None
    pairs: list[tuple[str, str]] = field(default_factory=list)  # every param but page[number], for links


def parse_query(raw_query: str) -> ListQuery:
    query = ListQuery()
    for part in raw_query.split("&"):
        if not part:
            continue
        match = _PART.match(unquote_plus(part))
        if match is None:
            continue
        key, symbol, value = match.group("key"), match.group("op"), match.group("value")
        if symbol is None:
            value = ""
        if key.startswith("filter["):
            _add_filter(query, key, symbol or "=", value)
            added = query.filters[-1]
            link_key = key if symbol in (None, "=") or not added.name else f"filter[{added.name}][{added.op}]"
            query.pairs.append((link_key, value))
            continue
        if key == "page[number]":
            query.page_number = value
            continue
        query.pairs.append((key, value))
        if key == "page[size]":
            query.page_size = value
        elif key == "sort":
            query.sort = value
        elif key == "include":
            query.include = value
        elif key == "meta":
            query.meta = value
        elif key == "fields":
            query.fields_errors.append("fields")
        elif key.startswith("fields[") and key.endswith("]"):
            type_ = key[len("fields[") : -1]
            if not type_:
                query.fields_errors.append(key)
            else:
                query.fields[type_] = value
    return query


def _add_filter(query: ListQuery, key: str, symbol: str, value: str) -> None:
    match = _FILTER_KEY.match(key)
    if match is None:
        query.filters.append(FilterValue(key, "", "", value))
        return
    name, op_name = match.group("name"), match.group("op")
    if op_name is not None:
        if symbol != "=" or op_name not in _OPERATOR_NAMES:
            query.filters.append(FilterValue(key, "", "", value))  # unknown: reported as unsupported
            return
        query.filters.append(FilterValue(key, name, op_name, value))
        return
    query.filters.append(FilterValue(key, name, _SYMBOLS[symbol], value))


def split_list(raw: str, parameter: str, *, allow_empty: bool = False) -> list[str]:
    """A comma-separated list as Oro validates it: no empty items, no leading or trailing comma."""
    if raw == "":
        if allow_empty:
            return []
        raise filter_error('Expected string value. Given "".', parameter)
    items = [item.strip() for item in raw.split(",")]
    if any(not item for item in items):
        raise filter_error(f'Expected an array of strings. Given "{raw}".', parameter)
    return items


# --- filters --------------------------------------------------------------------------------------


@dataclass
class Range:
    low: Any
    high: Any


@dataclass
class Condition:
    definition: FilterDef
    op: str
    values: list[Any] | None = None  # OR-ed values
    range: Range | None = None
    flag: bool | None = None  # exists


def parse_datetime(raw: str) -> datetime | None:
    match = _DATETIME.match(raw.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, zone = match.groups()
    try:
        value = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0))
    except ValueError:
        return None
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        value -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return value.replace(tzinfo=UTC)


def _parse_scalar(definition: FilterDef, raw: str, parameter: str) -> Any:
    kind = definition.kind
    if kind in ("string", "ref"):
        return raw
    if kind == "int":
        if not re.fullmatch(r"-?\d+", raw):
            raise unexpected_value(f'Expected integer value. Given "{raw}".', parameter)
        return int(raw)
    if kind in ("float", "money"):
        try:
            return Decimal(raw)
        except InvalidOperation:
            raise unexpected_value(f'Expected decimal value. Given "{raw}".', parameter) from None
    if kind == "bool":
        flag = parse_bool(raw)
        if flag is None:
            raise unexpected_value(f'Expected boolean value. Given "{raw}".', parameter)
        return flag
    if kind == "datetime":
        value = parse_datetime(raw)
        if value is None:
            raise unexpected_value(f'Expected datetime value. Given "{raw}".', parameter)
        return value
    if kind == "date":
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise unexpected_value(f'Expected date value. Given "{raw}".', parameter) from None
    raise AssertionError(kind)


def parse_bool(raw: str) -> bool | None:
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes"):
        return True
    if lowered in ("0", "false", "no"):
        return False
    return None


def build_conditions(
    spec: ResourceSpec,
    values: list[FilterValue],
    *,
    skip: set[str] | frozenset[str] = frozenset(),
    extra: dict[str, FilterDef] | None = None,
) -> list[Condition]:
    """Validate the requested filters against ``spec`` and turn them into conditions."""
    available = dict(spec.filters)
    available.update(extra or {})
    conditions = []
    for value in values:
        if value.name in skip:
            continue
        definition = available.get(value.name)
        if definition is None:
            raise filter_error(f'Filter "{value.key}" is not supported.', value.key)
        if value.op not in definition.ops:
            raise filter_error(f'The operator "{value.op}" is not supported.', value.key)
        conditions.append(_condition(definition, value))
    return conditions


def _condition(definition: FilterDef, value: FilterValue) -> Condition:
    if value.op == "exists":
        flag = parse_bool(value.raw)
        if flag is None:
            raise unexpected_value(f'Expected boolean value. Given "{value.raw}".', value.key)
        return Condition(definition, "exists", flag=flag)
    raw = value.raw
    if definition.range_allowed and value.op in ("eq", "neq") and ".." in raw:
        low, _, high = raw.partition("..")
        return Condition(
            definition,
            value.op,
            range=Range(
                _parse_scalar(definition, low, value.key), _parse_scalar(definition, high, value.key)
            ),
        )
    items = raw.split(",") if definition.array and value.op in ("eq", "neq", "neq_or_null") else [raw]
    parsed = [_parse_scalar(definition, item, value.key) for item in items]
    if definition.case_insensitive:
        parsed = [p.lower() if isinstance(p, str) else p for p in parsed]
    return Condition(definition, value.op, values=parsed)


def _normalise(value: Any, definition: FilterDef) -> Any:
    if (
        isinstance(value, float | int)
        and definition.kind in ("float", "money")
        and not isinstance(value, bool)
    ):
        return Decimal(str(value))
    if isinstance(value, str) and definition.case_insensitive:
        return value.lower()
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def matches(record: Record, condition: Condition) -> bool:
    definition = condition.definition
    current = definition.read(record)
    if definition.many:
        items = [_normalise(v, definition) for v in current or []]
        if condition.op == "exists":
            return bool(items) == condition.flag
        hit = any(_scalar_hit(item, condition) for item in items)
        if condition.op == "eq":
            return hit
        return not hit  # neq, neq_or_null: contains none
    value = None if current is None else _normalise(current, definition)
    if condition.op == "exists":
        return (value is not None) == condition.flag
    if value is None:
        return condition.op == "neq_or_null"
    if condition.op == "eq":
        return _scalar_hit(value, condition)
    if condition.op in ("neq", "neq_or_null"):
        return not _scalar_hit(value, condition)
    target = (condition.values or [None])[0]
    try:
        if condition.op == "lt":
            return bool(value < target)
        if condition.op == "lte":
            return bool(value <= target)
        if condition.op == "gt":
            return bool(value > target)
        if condition.op == "gte":
            return bool(value >= target)
    except TypeError:
        return False
    return False


def _scalar_hit(value: Any, condition: Condition) -> bool:
    if condition.range is not None:
        try:
            return bool(condition.range.low <= value <= condition.range.high)
        except TypeError:
            return False
    return value in (condition.values or [])


# --- sorting and paging -----------------------------------------------------------------------------


def sort_records(records: list[Record], spec: ResourceSpec, raw: str | None) -> list[Record]:
    """Sort like Oro: ``id`` ascending by default; 400 "sort constraint" for an unsupported field."""
    keys: list[tuple[str, bool]] = []
    for item in raw.split(",") if raw else ["id"]:
        item = item.strip()
        descending = item.startswith("-")
        name = item[1:] if descending else item
        if name not in spec.sorters:
            raise sort_error(name)
        keys.append((name, descending))
    if ("id", False) not in keys and ("id", True) not in keys:
        keys.append(("id", False))
    ordered = list(records)
    for name, descending in reversed(keys):
        ordered.sort(key=functools.partial(_sort_key, name=name, descending=descending), reverse=descending)
    return ordered


def _sort_key(record: Record, name: str, descending: bool) -> tuple[int, Any]:
    value: Any = record.id if name == "id" else record.attributes.get(name)
    if name == "id":
        return (0, int(value) if value.isdigit() else value)
    # PostgreSQL's order: NULLs last ascending, first descending.
    if value is None:
        return (1, 0) if not descending else (-1, 0)
    if isinstance(value, str):
        value = value.lower()
    return (0, value)


@dataclass
class Page:
    number: int
    size: int  # -1: no paging


def parse_page(query: ListQuery) -> Page:
    size = DEFAULT_PAGE_SIZE
    number = 1
    if query.page_size is not None:
        if not re.fullmatch(r"-?\d+", query.page_size):
            raise unexpected_value(f'Expected integer value. Given "{query.page_size}".', "page[size]")
        size = int(query.page_size)
        if size == 0 or size < -1:
            raise filter_error(f'Expected integer value greater than 0 or -1. Given "{size}".', "page[size]")
    if query.page_number is not None:
        if not re.fullmatch(r"-?\d+", query.page_number):
            raise unexpected_value(f'Expected integer value. Given "{query.page_number}".', "page[number]")
        number = int(query.page_number)
        if number < 1:
            raise filter_error(f'Expected integer value greater than 0. Given "{number}".', "page[number]")
    return Page(number=number, size=size)


def slice_page(records: list[Any], page: Page) -> tuple[list[Any], bool]:
    """The records of ``page`` and whether another page follows."""
    if page.size == -1:
        return records, False
    start = (page.number - 1) * page.size
    chunk = records[start : start + page.size + 1]
    return chunk[: page.size], len(chunk) > page.size
