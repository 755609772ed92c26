"""Rendering templates: Oro's Twig subset on a locked-down Jinja2 sandbox, strict about empty fields.

A template sees three read-only views (``entity``, ``system``, ``user``) holding plain values from the
catalog (``variables.py``); nothing else is reachable. On top of Jinja2's ``SandboxedEnvironment``:

- attributes are allow-listed per type (``loop.index``, ``price.amount``), and nothing can be called
  but the ``date()`` function: no methods, no ``str.format``, no Jinja globals (``range``, ``lipsum``,
  ``cycler``, ``joiner``, ``namespace``, ``dict``);
- only the filters and tests of the subset exist (``twig.ALLOWED_FILTERS``), so ``attr``, ``map`` and
  friends are unknown names;
- every operation that could grow without bound is counted: loop iterations, string and list sizes
  (``*``, ``+``, ``~``, ``join``, ``format`` widths, powers) and the size of the output.

Strictness: a field the template prints that is unknown, or empty on the record, is reported in
:attr:`RenderedEmail.missing` (and shown as ``[missing: entity.poNumber]`` in the text), so the
caller can refuse to send (:meth:`RenderedEmail.require_complete`) until the user fills it
(``filled={"entity.poNumber": "..."}``) or removes it from the template. Asking about a field
(``{% if entity.poNumber %}``, ``|default('')``, ``is empty``) is not using it.
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import quote

from jinja2 import pass_context
from jinja2.exceptions import SecurityError, TemplateError, TemplateRuntimeError, UndefinedError
from jinja2.runtime import Context, LoopContext, Undefined, markup_join, str_join
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import missing as _jinja_missing
from markupsafe import Markup, escape

from connector.oro.records import Money, OroRecord
from connector.templates import formatting, twig
from connector.templates.errors import (
    TemplateFieldsMissing,
    TemplateInvalid,
    TemplateRenderFailed,
    TemplateUnsafe,
)
from connector.templates.variables import Percent, entity_values, record_type_of

logger = logging.getLogger(__name__)

Format = Literal["html", "text"]

MAX_SOURCE = 200_000
MAX_STRING = 200_000
MAX_OUTPUT = 1_000_000
MAX_ITERATIONS = 10_000
MAX_FORMAT_WIDTH = 200
MAX_EXPONENT = 100
MAX_INT_BITS = 4096
DEFAULT_APP_NAME = "Oro Connector"


class RenderLimitExceeded(SecurityError):
    """A render grew past one of the limits above."""


# --- what one render knows ------------------------------------------------------------------------


@dataclass
class _RenderState:
    tz: tzinfo
    now: datetime
    filled: Mapping[str, str]
    missing: dict[str, None] = field(default_factory=dict)
    iterations: int = 0

    def fill(self, path: str) -> str | None:
        value = self.filled.get(path)
        return value if value is not None and value.strip() else None


_STATE: ContextVar[_RenderState | None] = ContextVar("template_render_state", default=None)


def _missing_marker(path: str) -> str:
    state = _STATE.get()
    if state is not None:
        state.missing.setdefault(path, None)
    return f"[missing: {path}]"


class MissingField(Undefined):
    """An unknown or empty field. Printing it reports its path; testing it is harmless."""

    __slots__ = ("_known",)

    def __init__(
        self,
        hint: str | None = None,
        obj: Any = _jinja_missing,
        name: str | None = None,
        exc: type[TemplateRuntimeError] = UndefinedError,
        known: bool = False,
    ) -> None:
        super().__init__(hint, obj, name, exc)
        self._known = known

    @property
    def path(self) -> str:
        name = str(self._undefined_name)
        obj = self._undefined_obj
        if isinstance(obj, FieldsView):
            return f"{obj._path}.{name}"
        if isinstance(obj, MissingField):
            return f"{obj.path}.{name}"
        if obj is _jinja_missing:
            return name
        return f"?.{name}"

    @property
    def known(self) -> bool:
        """The field exists (it is in the catalog) but the record has no value for it."""
        return self._known

    def _unsafe(self) -> bool:
        return issubclass(self._undefined_exception, SecurityError)

    def _check(self) -> None:
        if self._unsafe():
            self._fail_with_undefined_error()

    def __str__(self) -> str:
        self._check()
        return _missing_marker(self.path)

    def __iter__(self) -> Iterator[Any]:
        self._check()
        return iter(())

    def __bool__(self) -> bool:
        self._check()
        return False

    def __len__(self) -> int:
        self._check()
        return 0

    def __getattr__(self, name: str) -> Any:
        if name[:2] == "__":
            raise AttributeError(name)
        self._check()
        return MissingField(obj=self, name=name)

    def __getitem__(self, key: Any) -> Any:
        self._check()
        return MissingField(obj=self, name=str(key))

    def _used(self, *_args: Any) -> Any:
        self._check()
        _missing_marker(self.path)
        return self

    def _compared(self, *_args: Any) -> bool:
        self._check()
        _missing_marker(self.path)
        return False

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _used
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = _used
    __pow__ = __rpow__ = __pos__ = __neg__ = _used
    __lt__ = __le__ = __gt__ = __ge__ = _compared  # type: ignore[assignment]

    def __eq__(self, other: Any) -> bool:
        self._check()  # like Twig's loose ==: a missing value equals null and ''
        return isinstance(other, Undefined) or other is None or (isinstance(other, str) and other == "")

    def __ne__(self, other: Any) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return id(type(self))

    def __repr__(self) -> str:
        return "MissingField"


class FieldsView:
    """A read-only set of named values (``entity``, ``system``, ``user``, a price). Only lookups by
    name work; it has no public attribute, and printing it prints ``text`` (the record's name)."""

    __slots__ = ("_path", "_text", "_values")

    def __init__(self, path: str, values: Mapping[str, Any], text: str = "") -> None:
        self._path = path
        self._values = dict(values)
        self._text = text

    def __getitem__(self, key: Any) -> Any:
        name = str(key)
        if name not in self._values:
            filled = self._filled(name)
            if filled is not None:
                return filled
            raise KeyError(name)
        value = self._values[name]
        if value is None or value == "" or value == ():
            return self._filled(name) or MissingField(name=f"{self._path}.{name}", known=True)
        return value

    def _filled(self, name: str) -> str | None:
        state = _STATE.get()
        return state.fill(f"{self._path}.{name}") if state is not None else None

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"<{self._path}>"


# --- values as Oro prints them --------------------------------------------------------------------


def _tz() -> tzinfo:
    state = _STATE.get()
    return state.tz if state is not None else UTC


def _plain(value: Any) -> str:
    """A value as text, the way ``{{ value }}`` prints it (without escaping)."""
    if isinstance(value, Undefined):
        return str(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime):
        return formatting.format_datetime(value, _tz())
    if isinstance(value, date):
        return formatting.format_date(value)
    if isinstance(value, Money):
        return formatting.format_price(value)
    if isinstance(value, Percent):
        return formatting.format_percent(value)
    if isinstance(value, Decimal):
        return formatting.format_amount(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else str(value)
    if isinstance(value, tuple | list):
        return ", ".join(_plain(item) for item in value)
    return str(value)


def _finalize(value: Any) -> Any:
    if isinstance(value, str | Undefined | int) and not isinstance(value, bool):
        return value
    return _plain(value)


def _limit_length(size: int, what: str) -> None:
    if size > MAX_STRING:
        raise RenderLimitExceeded(f"{what} would exceed {MAX_STRING} characters")


_PRINTF = re.compile(
    r"%(?:\((?P<key>[^)]*)\))?(?P<flags>[-+ #0]*)(?P<width>\*|\d+)?(?:\.(?P<precision>\*|\d+))?"
    r"(?P<conversion>.)",
    re.S,
)
_PRINTF_CONVERSIONS = frozenset("sdifFeEgGxXobc%")


def safe_printf(pattern: str, args: Sequence[Any]) -> str:
    """Twig's ``format`` (PHP sprintf) on plain values only: no ``%r``, no ``%(name)s``, bounded widths."""
    for match in _PRINTF.finditer(pattern):
        conversion = match.group("conversion")
        if match.group("key") is not None:
            raise SecurityError("named formats (%(name)s) are not supported")
        if conversion not in _PRINTF_CONVERSIONS:
            raise SecurityError(f"the format %{conversion} is not supported")
        for size in (match.group("width"), match.group("precision")):
            if size == "*" or (size and int(size) > MAX_FORMAT_WIDTH):
                raise RenderLimitExceeded("format widths are limited")
    values: list[Any] = []
    for arg in args:
        if isinstance(arg, Undefined):
            values.append(str(arg))
        elif isinstance(arg, bool) or not isinstance(arg, int | float | Decimal):
            values.append(_plain(arg))
        else:
            values.append(arg)
    return pattern % tuple(values)


# --- filters, tests and functions of the subset -----------------------------------------------------


def _text(value: Any) -> str:
    return value if isinstance(value, str) else _plain(value)


def _keep_markup(value: Any, result: str) -> str:
    # a case or whitespace change of safe markup is still safe markup
    return Markup(result) if isinstance(value, Markup) else result  # noqa: S704


def f_default(value: Any, default_value: Any = "") -> Any:
    """Twig's ``default``: undefined, null, empty string and empty list take the default."""
    if isinstance(value, Undefined):
        if isinstance(value, MissingField):
            value._check()
        return default_value
    if value is None or value == "" or (isinstance(value, tuple | list) and not value):
        return default_value
    return value


def f_escape(value: Any, strategy: str = "html", *_args: Any) -> Markup:
    if strategy in ("html", "html_attr"):
        return value if isinstance(value, Markup) else escape(_text(value))
    if strategy == "url":
        return Markup(quote(_text(value), safe=""))  # noqa: S704  (percent-encoded: no markup left)
    raise ValueError(f"the escaping strategy {strategy!r} is not supported")


def f_format(value: Any, *args: Any) -> str:
    result = safe_printf(_text(value), args)
    _limit_length(len(result), "format")
    return result


def f_length(value: Any) -> int:
    if isinstance(value, Undefined) or value is None:
        return 0
    if isinstance(value, str | tuple | list | dict):
        return len(value)
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return len(_plain(value))
    return 1


def f_lower(value: Any) -> str:
    return _keep_markup(value, _text(value).lower())


def f_upper(value: Any) -> str:
    return _keep_markup(value, _text(value).upper())


def f_title(value: Any) -> str:
    return _keep_markup(value, _text(value).title())


def f_trim(value: Any, characters: str | None = None, side: str = "both") -> str:
    text = _text(value)
    trimmed = {"left": text.lstrip, "right": text.rstrip}.get(side, text.strip)(characters)
    return _keep_markup(value, trimmed)


def f_nl2br(value: Any) -> Markup:
    escaped = value if isinstance(value, Markup) else escape(_text(value))
    return Markup(re.sub(r"\r\n|\n|\r", "<br />\n", str(escaped)))  # noqa: S704  (escaped above)


def f_number_format(value: Any, decimals: int = 0, decimal_point: str = ".", thousands_sep: str = ",") -> str:
    if isinstance(value, Undefined):
        return str(value)
    return formatting.number_format(value, int(decimals), str(decimal_point), str(thousands_sep))


@pass_context
def f_join(context: Context, value: Any, glue: str = "", last_glue: str | None = None) -> str:
    if isinstance(value, Undefined):
        return ""
    items = list(value) if isinstance(value, tuple | list) else [value]
    autoescape = context.eval_ctx.autoescape
    convert: Callable[[Any], str] = (lambda v: escape(_text(v))) if autoescape else _text
    parts = [convert(item) for item in items]
    glue_text, last_text = convert(glue), convert(last_glue) if last_glue is not None else None
    _limit_length(sum(map(len, parts)) + len(glue_text) * len(parts), "join")
    if last_text is not None and len(parts) > 1:
        joined = glue_text.join(parts[:-1]) + last_text + parts[-1]
    else:
        joined = glue_text.join(parts)
    return Markup(joined) if autoescape else joined  # noqa: S704  (every part escaped above)


def f_spaceless(value: Any) -> str:
    return _keep_markup(value, re.sub(r">\s+<", "><", _text(value).strip()))


def _options(options: Any, key: str) -> Any:
    return options.get(key) if isinstance(options, Mapping) else None


def f_format_price(value: Any) -> str:
    if isinstance(value, Undefined):
        return str(value)
    return formatting.format_price(value)


def f_format_currency(value: Any, options: Any = None) -> str:
    if isinstance(value, Undefined):
        return str(value)
    if isinstance(value, Money):
        return formatting.format_price(value)
    currency = options if isinstance(options, str) else _options(options, "currency")
    if isinstance(currency, Undefined):
        return str(currency)
    return formatting.format_currency(value, str(currency) if currency else None)


def _zone_option(options: Any) -> tzinfo:
    name = _options(options, "timeZone")
    return formatting.zone(str(name)) if name else _tz()


@pass_context
def f_format_date(_context: Context, value: Any, options: Any = None) -> str:
    return (
        str(value) if isinstance(value, Undefined) else formatting.format_date(value, _zone_option(options))
    )


@pass_context
def f_format_datetime(_context: Context, value: Any, options: Any = None) -> str:
    if isinstance(value, Undefined):
        return str(value)
    return formatting.format_datetime(value, _zone_option(options))


@pass_context
def f_format_time(_context: Context, value: Any, options: Any = None) -> str:
    return (
        str(value) if isinstance(value, Undefined) else formatting.format_time(value, _zone_option(options))
    )


def f_format_name(value: Any) -> str:
    """Oro's person-name format (``%prefix% %first_name% %middle_name% %last_name% %suffix%``)."""
    if isinstance(value, FieldsView):
        parts = []
        for name in ("namePrefix", "firstName", "middleName", "lastName", "nameSuffix"):
            part = value._values.get(name)
            if isinstance(part, str) and part.strip():
                parts.append(part.strip())
        return " ".join(parts) or str(value)
    return _text(value)


def f_format_number(value: Any, *_args: Any) -> str:
    return str(value) if isinstance(value, Undefined) else formatting.format_decimal(value)


def f_format_percent(value: Any, *_args: Any) -> str:
    return str(value) if isinstance(value, Undefined) else formatting.format_percent(value)


@pass_context
def f_oro_format(context: Context, value: Any, formatter: str = "", *args: Any) -> str:
    named: dict[str, Callable[[], str]] = {
        "date": lambda: f_format_date(context, value),
        "datetime": lambda: f_format_datetime(context, value),
        "time": lambda: f_format_time(context, value),
        "currency": lambda: f_format_currency(value, *args[:1]),
        "decimal": lambda: f_format_number(value),
        "integer": lambda: f_number_format(value),
        "percent": lambda: f_format_percent(value),
        "boolean": lambda: _plain(bool(value)),
    }
    if formatter not in named:
        raise ValueError(f"the formatter {formatter!r} is not supported")
    return named[formatter]()


def f_html_sanitize(value: Any) -> Markup:
    # No HTML sanitiser ships with the connector: sanitising means escaping (stricter than Oro).
    return f_escape(value)


def f_strip_tags(value: Any) -> str:
    return html.unescape(re.sub(r"<[^>]*>", "", _text(value)))


@pass_context
def f_date(_context: Context, value: Any, fmt: str | None = None, timezone: str | None = None) -> str:
    if isinstance(value, Undefined):
        return str(value)
    if value is None:
        return ""
    tz = formatting.zone(timezone) if timezone else _tz()
    moment = formatting.as_datetime(value, tz)
    if moment is None:
        raise ValueError("the date filter needs a date")
    return formatting.php_date(moment, fmt or "F j, Y H:i")


def date_function(value: Any = "now", timezone: str | None = None) -> datetime:
    """Twig's ``date()``: ``date()``, ``date('2024-01-31')``, ``date(entity.createdAt)``."""
    if isinstance(value, Undefined):
        return value  # type: ignore[return-value]  # printed or filtered later, it reports the field
    tz = formatting.zone(timezone) if timezone else _tz()
    state = _STATE.get()
    if isinstance(value, str) and value.strip().lower() in ("", "now") and state is not None:
        return state.now.astimezone(tz)
    moment = formatting.as_datetime(value, tz)
    if moment is None:
        raise ValueError("date() needs a date")
    return moment


@pass_context
def guarded_iteration(_context: Context, value: Any) -> Iterator[Any]:
    if isinstance(value, Undefined):
        return iter(value)
    if isinstance(value, FieldsView | Money | datetime | date):
        raise TypeError("only lists can be looped over")
    return _counted(iter(value))


def _counted(items: Iterator[Any]) -> Iterator[Any]:
    for item in items:
        state = _STATE.get()
        if state is not None:
            state.iterations += 1
            if state.iterations > MAX_ITERATIONS:
                raise RenderLimitExceeded(f"loops are limited to {MAX_ITERATIONS} iterations")
        yield item


@pass_context
def guarded_concat(context: Context, parts: list[Any]) -> str:
    texts = [p if isinstance(p, str) else _plain(p) for p in parts]
    _limit_length(sum(map(len, texts)), "a concatenation")
    return markup_join(texts) if context.eval_ctx.autoescape else str_join(texts)


def t_defined(value: Any) -> bool:
    return not isinstance(value, Undefined) or (isinstance(value, MissingField) and value.known)


def t_empty(value: Any) -> bool:
    if isinstance(value, Undefined) or value is None or value is False:
        return True
    if isinstance(value, str | tuple | list | dict):
        return len(value) == 0
    return False


def t_null(value: Any) -> bool:
    return value is None or isinstance(value, Undefined)


def t_even(value: Any) -> bool:
    return int(value) % 2 == 0


def t_odd(value: Any) -> bool:
    return int(value) % 2 == 1


def t_iterable(value: Any) -> bool:
    return isinstance(value, tuple | list | str) and not isinstance(value, Undefined)


FILTERS: dict[str, Callable[..., Any]] = {
    "default": f_default,
    "date": f_date,
    "escape": f_escape,
    "e": f_escape,
    "format": f_format,
    "length": f_length,
    "lower": f_lower,
    "upper": f_upper,
    "title": f_title,
    "trim": f_trim,
    "nl2br": f_nl2br,
    "number_format": f_number_format,
    "join": f_join,
    "spaceless": f_spaceless,
    "oro_format_price": f_format_price,
    "oro_format_currency": f_format_currency,
    "oro_format_date": f_format_date,
    "oro_format_datetime": f_format_datetime,
    "oro_format_time": f_format_time,
    "oro_format_name": f_format_name,
    "oro_format_number": f_format_number,
    "oro_format_decimal": f_format_number,
    "oro_format_percent": f_format_percent,
    "oro_format": f_oro_format,
    "oro_html_sanitize": f_html_sanitize,
    "oro_html_strip_tags": f_strip_tags,
}
TESTS: dict[str, Callable[..., bool]] = {
    "defined": t_defined,
    "empty": t_empty,
    "null": t_null,
    "none": t_null,
    "even": t_even,
    "odd": t_odd,
    "iterable": t_iterable,
}
assert set(FILTERS) == twig.ALLOWED_FILTERS and set(TESTS) == twig.ALLOWED_TESTS

_ALLOWED_ATTRIBUTES: tuple[tuple[type, frozenset[str]], ...] = (
    (
        LoopContext,
        frozenset(
            {
                "index",
                "index0",
                "revindex",
                "revindex0",
                "first",
                "last",
                "length",
                "previtem",
                "nextitem",
                "depth",
                "depth0",
            }
        ),
    ),
    (Money, frozenset({"amount", "currency"})),
)


# --- the environment ------------------------------------------------------------------------------


class TemplateEnvironment(SandboxedEnvironment):
    """Jinja2's sandbox narrowed to the Twig subset (see the module docstring)."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, *, autoescape: bool) -> None:
        # Twig drops the first newline after a tag and keeps the source's last newline.
        super().__init__(
            autoescape=autoescape,
            undefined=MissingField,
            finalize=_finalize,
            trim_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,
            cache_size=0,
        )
        self.globals.clear()
        self.globals.update({"date": date_function, "null": None})
        self.filters = {**FILTERS, twig.ITERATION_GUARD: guarded_iteration, twig.CONCAT_GUARD: guarded_concat}
        self.tests = dict(TESTS)
        self._callables = frozenset({id(date_function)})

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if attr.startswith("_"):
            return False
        if isinstance(obj, MissingField):
            return True
        return any(isinstance(obj, kind) and attr in names for kind, names in _ALLOWED_ATTRIBUTES)

    def is_safe_callable(self, obj: Any) -> bool:
        return id(obj) in self._callables

    def wrap_str_format(self, value: Any) -> None:
        return None  # str.format is an attribute like any other: not allowed

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        if not __self.is_safe_callable(__obj):
            if isinstance(__obj, Undefined):
                __obj._fail_with_undefined_error()
            raise SecurityError("only the date() function can be called in templates")
        return __context.call(__obj, *args, **kwargs)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        for operand in (left, right):
            if isinstance(operand, MissingField):
                return operand._used()
        if operator == "%" and isinstance(left, str):
            result = safe_printf(left, right if isinstance(right, tuple) else (right,))
        elif operator == "**":
            if not isinstance(right, int | float) or abs(right) > MAX_EXPONENT:
                raise RenderLimitExceeded("powers are limited")
            result = self.binop_table[operator](left, right)
        elif operator == "*":
            for sequence, times in ((left, right), (right, left)):
                if isinstance(sequence, str | list | tuple) and isinstance(times, int):
                    _limit_length(len(sequence) * max(times, 0), "a repetition")
            result = self.binop_table[operator](left, right)
        else:
            result = self.binop_table[operator](left, right)
        if isinstance(result, str | list | tuple):
            _limit_length(len(result), "a value")
        if isinstance(result, int) and result.bit_length() > MAX_INT_BITS:
            raise RenderLimitExceeded("numbers are limited")
        return result


# --- compiling, with a cache ------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceCheck:
    """What a source uses: its problems (empty when it compiles) and the variable paths it reads."""

    problems: tuple[str, ...]
    variables: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Sender:
    """Who sends the reply (``user.*`` and Oro's ``system.user*``). ``signature`` is plain text."""

    name: str
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    signature: str = ""
    username: str = ""


@dataclass(frozen=True)
class RenderContext:
    """Everything a render reads besides the template: the record, the sender, and the moment."""

    record: OroRecord | None
    sender: Sender
    app_name: str = DEFAULT_APP_NAME
    app_url: str = ""
    timezone: str = "UTC"
    now: datetime | None = None
    filled: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    body: str
    format: Format
    locale: str = ""
    missing: tuple[str, ...] = ()

    @property
    def ready(self) -> bool:
        """True when nothing is missing: the email may be sent."""
        return not self.missing

    def require_complete(self) -> RenderedEmail:
        """This email, or :class:`TemplateFieldsMissing` naming each missing field."""
        if self.missing:
            raise TemplateFieldsMissing(self.missing)
        return self

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "body": self.body,
            "format": self.format,
            "locale": self.locale,
            "missing": list(self.missing),
            "ready": self.ready,
        }


CacheKey = tuple[Any, ...]


class TemplateRenderer:
    """Compiles (with an LRU cache of compiled templates) and renders. Thread-safe; one per process."""

    def __init__(self, *, cache_size: int = 512) -> None:
        self._environments: dict[str, TemplateEnvironment] = {
            "html": TemplateEnvironment(autoescape=True),
            "text": TemplateEnvironment(autoescape=False),
        }
        self._cache: OrderedDict[CacheKey, Any] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self.compilations = 0

    def __repr__(self) -> str:
        return f"<TemplateRenderer {len(self._cache)} compiled>"

    def check(self, source: str, *, format: Format) -> SourceCheck:
        """Problems and variables of ``source``, without compiling it."""
        if len(source) > MAX_SOURCE:
            return SourceCheck((f"a template can hold at most {MAX_SOURCE} characters",), ())
        tree, problems = twig.parse(self._environments[format], source)
        variables = tuple(twig.variable_paths(tree)) if tree is not None else ()
        return SourceCheck(tuple(dict.fromkeys(problems)), variables)

    def compile(self, source: str, *, format: Format, key: CacheKey | None = None) -> Any:
        """The compiled template, cached under ``key`` and a digest of the source: an id and version
        alone could name another text (another database, or an id reused after a delete)."""
        cache_key = (format, *(key or ()), hashlib.sha256(source.encode()).digest())
        with self._lock:
            compiled = self._cache.get(cache_key)
            if compiled is not None:
                self._cache.move_to_end(cache_key)
                return compiled
        if len(source) > MAX_SOURCE:
            raise TemplateInvalid("the template is too long", problems=(f"at most {MAX_SOURCE} characters",))
        environment = self._environments[format]
        tree, problems = twig.parse(environment, source)
        if problems or tree is None:
            raise TemplateInvalid("the template uses what templates do not support", problems=problems)
        try:
            compiled = environment.from_string(twig.guarded(tree, environment))
        except TemplateError as exc:
            raise TemplateInvalid("the template does not compile", problems=(str(exc),)) from exc
        except RecursionError as exc:
            raise TemplateInvalid("the template does not compile", problems=("nested too deeply",)) from exc
        with self._lock:
            self.compilations += 1
            self._cache[cache_key] = compiled
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return compiled

    def render(
        self,
        *,
        subject: str,
        body: str,
        format: Format,
        context: RenderContext,
        locale: str = "",
        key: CacheKey | None = None,
    ) -> RenderedEmail:
        """Subject (always as text, on one line) and body, with what is missing. ``key`` (template id,
        version, locale) names the compiled forms in the cache; without it the sources' digests do."""
        subject_template = self.compile(subject, format="text", key=(*key, "subject") if key else None)
        body_template = self.compile(body, format=format, key=(*key, "body") if key else None)
        now = context.now or datetime.now(UTC)
        try:
            tz = formatting.zone(context.timezone)
        except ValueError as exc:
            raise TemplateRenderFailed(str(exc)) from exc
        state = _RenderState(tz=tz, now=now, filled=dict(context.filled))
        token = _STATE.set(state)
        try:
            variables = template_variables(context, now=now.astimezone(tz))
            # a filled top-level name ({{ note }}) becomes a variable; the three views stay as they are
            variables.update(
                {k: v for k, v in state.filled.items() if "." not in k and v.strip() and k not in variables}
            )
            rendered_subject = " ".join(_run(subject_template, variables).split())
            rendered_body = _run(body_template, variables)
        finally:
            _STATE.reset(token)
        return RenderedEmail(rendered_subject, rendered_body, format, locale, tuple(state.missing))


def _run(template: Any, variables: dict[str, Any]) -> str:
    size = 0
    chunks: list[str] = []
    try:
        for chunk in template.generate(variables):
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise RenderLimitExceeded(f"a rendered template is limited to {MAX_OUTPUT} characters")
            chunks.append(chunk)
    except RenderLimitExceeded as exc:
        logger.warning("template render stopped at a limit: %s", exc)
        raise TemplateUnsafe(f"The template was stopped: {exc}.") from exc
    except SecurityError as exc:
        logger.warning("template render refused: %s", exc)
        raise TemplateUnsafe("The template tried to use something templates may not use.") from exc
    except UndefinedError as exc:
        raise TemplateRenderFailed(f"The template uses something that does not exist: {exc.message}") from exc
    except (TemplateError, TypeError, ValueError, ArithmeticError, LookupError, RecursionError) as exc:
        logger.info("template render failed: %s", type(exc).__name__)
        raise TemplateRenderFailed(f"The template could not be rendered: {_reason(exc)}") from exc
    return "".join(chunks)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ValueError | TemplateError) and str(exc):
        return str(exc)[:200]
    return type(exc).__name__


def template_variables(context: RenderContext, *, now: datetime) -> dict[str, Any]:
    """The three views a template sees for ``context``."""
    sender = context.sender
    first = sender.first_name or sender.name.partition(" ")[0]
    last = sender.last_name or sender.name.partition(" ")[2]
    signature = sender.signature
    system = FieldsView(
        "system",
        {
            "appName": context.app_name,
            "appFullName": context.app_name,
            "appShortName": context.app_name,
            "appURL": context.app_url,
            "currentDate": formatting.format_date(now),
            "currentTime": formatting.format_time(now, now.tzinfo or UTC),
            "currentDateTime": formatting.format_datetime(now, now.tzinfo or UTC),
            "userName": sender.username or sender.email,
            "userFirstName": first,
            "userLastName": last,
            "userFullName": sender.name,
            "userEmail": sender.email,
            "userSignature": _signature(signature),
        },
    )
    user = FieldsView(
        "user",
        {
            "name": sender.name,
            "firstName": first,
            "lastName": last,
            "email": sender.email,
            "signature": _signature(signature),
        },
        sender.name,
    )
    variables: dict[str, Any] = {"system": system, "user": user}
    if context.record is not None:
        variables["entity"] = FieldsView("entity", entity_values(context.record), context.record.title)
    return variables


class _Signature(str):
    """A plain-text signature: escaped, with its line breaks kept, in HTML templates."""

    __slots__ = ()

    def __html__(self) -> Markup:
        return f_nl2br(str(self))


def _signature(text: str) -> str:
    return _Signature(text) if text.strip() else ""


def check_record(record_type: str | None, record: OroRecord | None) -> None:
    """A template for ``record_type`` renders with a record of that type (or none at all)."""
    if record is not None and record_type_of(record) != record_type:
        raise TemplateRenderFailed(
            f"This template is for {record_type or 'no record'}, not for {type(record).__name__} records."
        )


_default_renderer: TemplateRenderer | None = None
_default_lock = threading.Lock()


def default_renderer() -> TemplateRenderer:
    """The process's renderer (built on first use, so importing this module does no work)."""
    global _default_renderer
    with _default_lock:
        if _default_renderer is None:
            _default_renderer = TemplateRenderer()
        return _default_renderer
