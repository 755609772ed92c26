"""No raw Oro dict leaves connector/oro: every public operation returns our own typed values."""

from __future__ import annotations

import dataclasses
import inspect
import sys
import types
import typing
from collections import abc
from typing import Any, get_args, get_origin, get_type_hints

import connector.oro as oro
from connector.oro import HttpOroClient, OroClient

ALLOWED_PLAIN = (str, int, float, bool, bytes, type(None))


def _raw_parts(kind: Any, seen: set[Any]) -> list[str]:
    """The parts of a type that are untyped (Any, object, bare containers): a decoded JSON document
    is always typed so; our records and mappings of plain values are not."""
    if kind in seen:
        return []
    seen.add(kind)
    if kind is Any or kind is object:
        return [repr(kind)]
    origin = get_origin(kind)
    if origin is typing.Literal:
        return []
    if kind in (dict, list, tuple) or (
        origin in (dict, abc.Mapping, abc.MutableMapping) and not get_args(kind)
    ):
        return [repr(kind)]  # an untyped container
    if origin is not None:
        found: list[str] = []
        for arg in get_args(kind):
            if arg is not Ellipsis:
                found += _raw_parts(arg, seen)
        return found
    if isinstance(kind, typing.TypeVar):
        return _raw_parts(kind.__bound__, seen) if kind.__bound__ else [repr(kind)]
    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        hints = get_type_hints(kind, vars(sys.modules[kind.__module__]))
        found = []
        for f in dataclasses.fields(kind):
            if f.name.startswith("_"):
                continue
            found += [f"{kind.__name__}.{f.name}: {p}" for p in _raw_parts(hints[f.name], seen)]
        return found
    if isinstance(kind, type) and (
        issubclass(kind, ALLOWED_PLAIN) or kind.__module__ in {"datetime", "decimal"}
    ):
        return []
    if isinstance(kind, types.UnionType):
        return [p for a in get_args(kind) for p in _raw_parts(a, seen)]
    return []


def test_every_client_operation_returns_typed_values() -> None:
    problems: dict[str, list[str]] = {}
    for name, _member in inspect.getmembers(OroClient, predicate=inspect.isfunction):
        if name.startswith("_"):
            continue
        method = getattr(HttpOroClient, name)
        returned = get_type_hints(method, vars(sys.modules[method.__module__]))["return"]
        raw = _raw_parts(returned, set())
        if raw:
            problems[name] = raw
    assert not problems, f"operations returning raw values: {problems}"


def test_the_boundary_check_catches_a_raw_dict() -> None:
    assert _raw_parts(dict[str, Any], set())
    assert _raw_parts(list[typing.Mapping[str, object]], set())
    assert _raw_parts(list[dict], set())  # type: ignore[type-arg]
    assert not _raw_parts(list[oro.Contact], set())
    assert not _raw_parts(typing.Mapping[str, typing.Literal["a", "b"]], set())
