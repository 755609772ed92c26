"""How the sandbox's Oro compiles an email template for the legacy ``compiled`` endpoint.

Oro renders templates with Twig in a sandbox (HTML autoescaping) after rewriting every bare
``{{ entity.field }}`` into its ``_entity_var`` helper, which prints the field with the default
formatter of its type (datetimes ``Jan 5, 2024, 10:00 AM``, dates ``Jan 5, 2024``, money ``1,234.50``,
booleans ``Yes``/``No``), a related record by its name, and anything else HTML-sanitised (for plain
text: ``&``, ``<`` and ``>`` escaped, quotes kept).

The sandbox imitates that for the part of Twig that email templates use most, with a reader of its
own (not the connector's renderer, so that comparing the two means something): ``{{ path }}`` and
``{{ path|filter|filter('arg') }}`` with ``default``, ``upper``, ``lower``, ``title``, ``trim``,
``escape``/``e``; and one level of ``{% if path %}…{% else %}…{% endif %}`` with ``not``,
``is defined``, ``is empty`` and ``is not empty`` (dropping the newline after a tag, as Twig does).
Anything else is left as written.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from connector.sandbox.oro.schema import RESOURCES, Record

_IF = re.compile(  # like Twig, the newline right after a tag is dropped
    r"\{%-?\s*if\s+(?P<cond>[^%]+?)\s*-?%\}\n?(?P<then>.*?)"
    r"(?:\{%-?\s*else\s*-?%\}\n?(?P<else>.*?))?\{%-?\s*endif\s*-?%\}\n?",
    re.S,
)
_OUTPUT = re.compile(
    r"\{\{\s*(?P<path>(?:entity|system)\.\w+)(?P<filters>(?:\s*\|\s*\w+(?:\([^)]*\))?)*)\s*\}\}"
)
_FILTER = re.compile(r"\|\s*(?P<name>\w+)(?:\((?P<arg>[^)]*)\))?")
_CONDITION = re.compile(
    r"(?P<not>not\s+)?(?P<path>(?:entity|system)\.\w+)(?:\s+is\s+(?P<negate>not\s+)?(?P<test>defined|empty))?"
)

_FILTERS: dict[str, Callable[[str, str | None], str]] = {
    "upper": lambda value, _arg: value.upper(),
    "lower": lambda value, _arg: value.lower(),
    "title": lambda value, _arg: value.title(),
    "trim": lambda value, _arg: value.strip(),
    "escape": lambda value, _arg: value,  # the output is escaped anyway (autoescape)
    "e": lambda value, _arg: value,
}

_UNDEFINED = object()


def _literal(arg: str | None) -> str:
    text = (arg or "").strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _formatted(value: Any) -> str:
    """Oro's default formatters by field type (en_US, UTC)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime):
        hour, half = value.hour % 12 or 12, "AM" if value.hour < 12 else "PM"
        return f"{value:%b} {value.day}, {value.year}, {hour}:{value.minute:02d} {half}"
    if isinstance(value, date):
        return f"{value:%b} {value.day}, {value.year}"
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    return str(value)


class OroTemplateCompiler:
    """Renders one template text for one record and the logged-in user, the way the sandbox's Oro does."""

    def __init__(self, state: Any, entity: Record | None, user: Record | None, *, html_type: bool) -> None:
        self.state = state
        self.entity = entity
        self.user = user
        self.html_type = html_type

    def __repr__(self) -> str:
        return f"<OroTemplateCompiler {self.entity!r}>"

    def render(self, text: str) -> str:
        text = _IF.sub(self._conditional, text)
        return _OUTPUT.sub(self._output, text)

    def _value(self, path: str) -> Any:
        scope, _, name = path.partition(".")
        if scope == "system":
            return self._system(name)
        if self.entity is None:
            return _UNDEFINED
        spec = RESOURCES[self.entity.type]
        if spec.attr(name) is not None:
            return self.entity.attributes.get(name)
        relationship = spec.rel(name)
        if relationship is not None and not relationship.many:
            ref = self.entity.relationships.get(name)
            target = self.state.get(ref) if ref else None
            return RESOURCES[target.type].entity_name(target) if target is not None else None
        return _UNDEFINED

    def _system(self, name: str) -> Any:
        if self.user is None:
            return _UNDEFINED
        first, last = self.user.attributes.get("firstName") or "", self.user.attributes.get("lastName") or ""
        values = {
            "userName": self.user.attributes.get("username") or "",
            "userFirstName": first,
            "userLastName": last,
            "userFullName": f"{first} {last}".strip(),
            "userEmail": self.user.attributes.get("email") or "",
        }
        return values.get(name, _UNDEFINED)

    def _conditional(self, match: re.Match[str]) -> str:
        condition = _CONDITION.fullmatch(match.group("cond").strip())
        if condition is None:
            return match.group(0)
        value = self._value(condition.group("path"))
        test = condition.group("test")
        if test == "defined":
            result = value is not _UNDEFINED
        elif test == "empty":
            result = value is _UNDEFINED or value in (None, "", [], ())
        else:
            result = value is not _UNDEFINED and bool(value)
        if condition.group("negate"):
            result = not result
        if condition.group("not"):
            result = not result
        return match.group("then") if result else (match.group("else") or "")

    def _output(self, match: re.Match[str]) -> str:
        value = self._value(match.group("path"))
        filters = list(_FILTER.finditer(match.group("filters") or ""))
        text = "" if value is _UNDEFINED else _formatted(value)
        if not filters:
            # the bare variable: _entity_var, HTML-sanitised (quotes stay as they are)
            return html.escape(text, quote=False) if self.html_type else text
        for applied in filters:
            name, arg = applied.group("name"), applied.group("arg")
            if name == "default":
                if value is _UNDEFINED or text == "":
                    text = _literal(arg)
            elif name in _FILTERS:
                text = _FILTERS[name](text, arg)
            else:
                return match.group(0)
        return html.escape(text, quote=True) if self.html_type else text
