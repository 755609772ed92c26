"""Values as Oro's templates print them: PHP date formats, ``number_format``, and Oro's formatters.

Oro formats with ICU in the user's locale; the connector formats like Oro's default locale (en_US):
dates ``Jan 5, 2024``, times ``10:00 AM``, amounts ``€1,234.50``, percentages ``75%``. Datetimes are
shown in the render's time zone.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connector.oro.records import Money

CURRENCY_SYMBOLS = {
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "JPY": "¥",
    "CNY": "CN¥",
    "INR": "₹",
    "CAD": "CA$",
    "AUD": "A$",
    "NZD": "NZ$",
    "MXN": "MX$",
    "BRL": "R$",
    "KRW": "₩",
    "ILS": "₪",
    "VND": "₫",
    "HKD": "HK$",
}
"""ICU's en_US symbols for the common currencies; any other currency is written as its code."""

ZERO_DECIMAL_CURRENCIES = frozenset({"JPY", "KRW", "VND", "CLP", "ISK", "HUF"})

MAX_DECIMALS = 20


def zone(name: str | None) -> tzinfo:
    """A time zone by IANA name; UTC for none. Unknown names raise ValueError."""
    if not name or name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def as_datetime(value: object, tz: tzinfo) -> datetime | None:
    """A datetime in ``tz`` from a datetime, a date, a timestamp or an ISO / ``now`` string."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(tz)
    if isinstance(value, date):
        return datetime.combine(value, time(0), tz)
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        return datetime.fromtimestamp(float(value), tz)
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in ("", "now"):
            return datetime.now(tz)
        if text.lower() == "today":
            return datetime.combine(datetime.now(tz).date(), time(0), tz)
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return None
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)).astimezone(tz)
    return None


# --- PHP date() formats (Twig's date filter) -------------------------------------------------------


def _ordinal_suffix(day: int) -> str:
    if 11 <= day % 100 <= 13:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def _offset(moment: datetime, colon: bool) -> str:
    delta = moment.utcoffset()
    seconds = int(delta.total_seconds()) if delta else 0
    sign = "-" if seconds < 0 else "+"
    hours, minutes = divmod(abs(seconds) // 60, 60)
    return f"{sign}{hours:02d}{':' if colon else ''}{minutes:02d}"


def _php_values(m: datetime) -> dict[str, object]:
    """What each PHP format letter stands for, for one moment."""
    hour12 = m.hour % 12 or 12
    offset = m.utcoffset()
    return {
        "d": f"{m.day:02d}",
        "D": m.strftime("%a"),
        "j": m.day,
        "l": m.strftime("%A"),
        "N": m.isoweekday(),
        "S": _ordinal_suffix(m.day),
        "w": m.isoweekday() % 7,
        "z": m.timetuple().tm_yday - 1,
        "W": f"{m.isocalendar().week:02d}",
        "F": m.strftime("%B"),
        "m": f"{m.month:02d}",
        "M": m.strftime("%b"),
        "n": m.month,
        "t": calendar.monthrange(m.year, m.month)[1],
        "L": int(calendar.isleap(m.year)),
        "o": m.isocalendar().year,
        "Y": m.year,
        "y": f"{m.year % 100:02d}",
        "a": "am" if m.hour < 12 else "pm",
        "A": "AM" if m.hour < 12 else "PM",
        "g": hour12,
        "G": m.hour,
        "h": f"{hour12:02d}",
        "H": f"{m.hour:02d}",
        "i": f"{m.minute:02d}",
        "s": f"{m.second:02d}",
        "u": f"{m.microsecond:06d}",
        "v": f"{m.microsecond // 1000:03d}",
        "e": getattr(m.tzinfo, "key", None) or m.tzname() or "UTC",
        "T": m.tzname() or "UTC",
        "I": int(bool(m.dst())),
        "O": _offset(m, False),
        "P": _offset(m, True),
        "p": "Z" if not m.utcoffset() else _offset(m, True),
        "Z": int(offset.total_seconds()) if offset else 0,
        "U": int(m.timestamp()),
        "c": m.strftime("%Y-%m-%dT%H:%M:%S") + _offset(m, True),
        "r": m.strftime("%a, %d %b %Y %H:%M:%S ") + _offset(m, False),
    }


def php_date(moment: datetime, fmt: str) -> str:
    """``moment`` written with a PHP ``date()`` format (``d.m.Y H:i``); ``\\`` escapes a letter."""
    values = _php_values(moment)
    out: list[str] = []
    chars = iter(fmt)
    for char in chars:
        if char == "\\":
            out.append(next(chars, ""))
            continue
        value = values.get(char)
        out.append(char if value is None else str(value))
    return "".join(out)


# --- numbers ------------------------------------------------------------------------------------


def to_decimal(value: object) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or value is None:
        return Decimal(int(bool(value)))
    try:
        return Decimal(str(value).strip() or "0")
    except InvalidOperation as exc:
        raise ValueError(f"not a number: {str(value)[:40]!r}") from exc


def number_format(
    value: object, decimals: int = 0, decimal_point: str = ".", thousands_sep: str = ","
) -> str:
    """PHP's ``number_format``: rounded half away from zero, grouped by thousands."""
    decimals = int(decimals)
    if not 0 <= decimals <= MAX_DECIMALS:
        raise ValueError(f"number_format takes 0 to {MAX_DECIMALS} decimals")
    amount = to_decimal(value).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    whole, _, fraction = f"{abs(amount):f}".partition(".")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    text = sign + thousands_sep.join(groups)
    return f"{text}{decimal_point}{fraction}" if decimals else text


def format_decimal(value: object, *, min_decimals: int = 0, max_decimals: int = 3) -> str:
    """ICU's decimal style: grouped, trailing zeros dropped down to ``min_decimals``."""
    amount = to_decimal(value)
    text = number_format(amount, max_decimals)
    if max_decimals > min_decimals and "." in text:
        whole, fraction = text.split(".")
        fraction = fraction.rstrip("0").ljust(min_decimals, "0")
        text = f"{whole}.{fraction}" if fraction else whole
    return text


def format_amount(value: object) -> str:
    """A money amount without its currency: ``1,234.50``."""
    return format_decimal(value, min_decimals=2, max_decimals=4)


def format_currency(value: object, currency: str | None) -> str:
    """Oro's ``oro_format_currency`` in en_US: ``€1,234.50``, ``CHF 1,234.50``, ``-$3.00``."""
    amount = to_decimal(value)
    code = (currency or "").upper()
    decimals = 0 if code in ZERO_DECIMAL_CURRENCIES else 2
    digits = number_format(abs(amount), decimals)
    sign = "-" if amount < 0 else ""
    if not code:
        return sign + digits
    symbol = CURRENCY_SYMBOLS.get(code)
    return f"{sign}{symbol}{digits}" if symbol else f"{sign}{code}\u00a0{digits}"


def format_price(value: object) -> str:
    """Oro's ``oro_format_price`` for a price (amount and currency)."""
    if isinstance(value, Money):
        return format_currency(value.amount, value.currency)
    return format_currency(value, None)


def format_percent(value: object) -> str:
    """ICU's percent style: ``0.755`` -> ``76%`` (Oro stores probabilities as fractions)."""
    return format_decimal(to_decimal(value) * 100, max_decimals=0) + "%"


# --- Oro's date formats (en_US, ICU medium date and short time) ---------------------------------


def format_date(value: object, tz: tzinfo = UTC) -> str:
    if isinstance(value, date) and not isinstance(value, datetime):
        return f"{value.strftime('%b')} {value.day}, {value.year}"
    moment = as_datetime(value, tz)
    if moment is None:
        raise ValueError("not a date")
    return f"{moment.strftime('%b')} {moment.day}, {moment.year}"


def format_time(value: object, tz: tzinfo = UTC) -> str:
    moment = as_datetime(value, tz)
    if moment is None:
        raise ValueError("not a time")
    return f"{moment.hour % 12 or 12}:{moment.minute:02d} {'AM' if moment.hour < 12 else 'PM'}"


def format_datetime(value: object, tz: tzinfo = UTC) -> str:
    if isinstance(value, date) and not isinstance(value, datetime):
        return format_date(value, tz)
    return f"{format_date(value, tz)}, {format_time(value, tz)}"
