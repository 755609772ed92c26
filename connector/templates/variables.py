"""Which variables a template may use, per record type, and their values for one record.

Entity variables carry Oro's names (``entity.firstName``, ``entity.poNumber``), so a template written
in Oro reads the same here. Each is taken from a field of our typed records (``connector.oro.records``),
never from the dataclass itself: a template sees plain values (text, numbers, dates, amounts), only the
ones listed here. ``system.*`` and ``user.*`` (the sender) exist for every template; ``system.user*`` are
Oro's names for the sender.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from connector.oro.records import (
    Case,
    Contact,
    Customer,
    CustomerUser,
    Lead,
    Money,
    Opportunity,
    Order,
    OroRecord,
)

Kind = Literal[
    "text",
    "email",
    "phone",
    "code",
    "option",
    "money",
    "price",
    "percent",
    "date",
    "datetime",
    "list",
    "boolean",
    "url",
]

RECORD_TYPE_LABELS: dict[str, str] = {
    "customerusers": "Customer user",
    "customers": "Customer",
    "orders": "Order",
    "contacts": "Contact",
    "leads": "Lead",
    "opportunities": "Opportunity",
    "cases": "Case",
}
"""The record types a template can be for (Oro resource types), and how the UI names them."""

TEMPLATE_RECORD_TYPES: tuple[str, ...] = tuple(RECORD_TYPE_LABELS)

RECORD_CLASSES: dict[str, type[OroRecord]] = {
    "customerusers": CustomerUser,
    "customers": Customer,
    "orders": Order,
    "contacts": Contact,
    "leads": Lead,
    "opportunities": Opportunity,
    "cases": Case,
}


class Percent(float):
    """A fraction (0.75) that prints as a percentage (75%), like Oro's percent fields."""

    __slots__ = ()


@dataclass(frozen=True)
class Variable:
    path: str
    label: str
    kind: Kind

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "label": self.label, "kind": self.kind}


@dataclass(frozen=True)
class _Field:
    name: str
    label: str
    kind: Kind
    read: Callable[[Any], Any]


def _attr(cls: type[OroRecord], name: str) -> Callable[[Any], Any]:
    if name not in {f.name for f in dataclasses.fields(cls)}:
        raise AttributeError(f"{cls.__name__} has no field {name!r}")  # caught by the catalog's own test
    return lambda record: getattr(record, name)


def _fields(
    cls: type[OroRecord], *spec: tuple[str, str, Kind, str | Callable[[Any], Any]]
) -> tuple[_Field, ...]:
    common = (
        _Field("id", "Id", "code", _attr(cls, "id")),
        _Field("url", "Page in Oro", "url", _attr(cls, "url")),
    )
    return common + tuple(
        _Field(name, label, kind, _attr(cls, read) if isinstance(read, str) else read)
        for name, label, kind, read in spec
    )


def _price(amount: str, currency: str) -> Callable[[Any], Money | None]:
    def read(record: Any) -> Money | None:
        value = getattr(record, amount)
        return None if value is None else Money(value, getattr(record, currency))

    return read


def _money_of(name: str) -> Callable[[Any], Any]:
    def read(record: Any) -> Any:
        money = getattr(record, name)
        return None if money is None else money.amount

    return read


def _currency_of(name: str) -> Callable[[Any], Any]:
    def read(record: Any) -> Any:
        money = getattr(record, name)
        return None if money is None else money.currency

    return read


_STAMPS: tuple[tuple[str, str, Kind, str], ...] = (
    ("createdAt", "Created at", "datetime", "created_at"),
    ("updatedAt", "Updated at", "datetime", "updated_at"),
)

ENTITY_FIELDS: dict[str, tuple[_Field, ...]] = {
    "contacts": _fields(
        Contact,
        ("firstName", "First name", "text", "first_name"),
        ("lastName", "Last name", "text", "last_name"),
        ("jobTitle", "Job title", "text", "job_title"),
        ("primaryEmail", "Email", "email", "primary_email"),
        ("emails", "Emails", "list", "emails"),
        ("primaryPhone", "Phone", "phone", "primary_phone"),
        ("phones", "Phones", "list", "phones"),
        *_STAMPS,
    ),
    "customerusers": _fields(
        CustomerUser,
        ("firstName", "First name", "text", "first_name"),
        ("lastName", "Last name", "text", "last_name"),
        ("email", "Email", "email", "email"),
        ("createdAt", "Created at", "datetime", "created_at"),
    ),
    "customers": _fields(Customer, ("name", "Name", "text", "name"), *_STAMPS),
    "orders": _fields(
        Order,
        ("identifier", "Order number", "code", "identifier"),
        ("poNumber", "PO number", "code", "po_number"),
        ("total", "Total", "price", _price("total_value", "currency")),
        ("totalValue", "Total amount", "money", "total_value"),
        ("subtotal", "Subtotal", "price", _price("subtotal_value", "currency")),
        ("subtotalValue", "Subtotal amount", "money", "subtotal_value"),
        ("currency", "Currency", "code", "currency"),
        ("internalStatus", "Internal status", "option", "internal_status"),
        ("status", "Status", "option", "status"),
        ("shippingStatus", "Shipping status", "option", "shipping_status"),
        *_STAMPS,
    ),
    "leads": _fields(
        Lead,
        ("name", "Lead name", "text", "name"),
        ("firstName", "First name", "text", "first_name"),
        ("lastName", "Last name", "text", "last_name"),
        ("companyName", "Company", "text", "company_name"),
        ("jobTitle", "Job title", "text", "job_title"),
        ("primaryEmail", "Email", "email", "primary_email"),
        ("emails", "Emails", "list", "emails"),
        ("primaryPhone", "Phone", "phone", "primary_phone"),
        ("status", "Status", "option", "status"),
        *_STAMPS,
    ),
    "opportunities": _fields(
        Opportunity,
        ("name", "Name", "text", "name"),
        ("status", "Status", "option", "status"),
        ("probability", "Probability", "percent", "probability"),
        ("closeDate", "Expected close date", "date", "close_date"),
        ("budgetAmount", "Budget", "price", "budget"),
        ("budgetAmountValue", "Budget amount", "money", _money_of("budget")),
        ("budgetAmountCurrency", "Budget currency", "code", _currency_of("budget")),
        ("closeRevenue", "Close revenue", "price", "close_revenue"),
        ("closeRevenueValue", "Close revenue amount", "money", _money_of("close_revenue")),
        ("closeRevenueCurrency", "Close revenue currency", "code", _currency_of("close_revenue")),
        *_STAMPS,
    ),
    "cases": _fields(
        Case,
        ("subject", "Subject", "text", "subject"),
        ("description", "Description", "text", "description"),
        ("status", "Status", "option", "status"),
        ("priority", "Priority", "option", "priority"),
        ("source", "Source", "option", "source"),
        ("reportedAt", "Reported at", "datetime", "reported_at"),
        ("closedAt", "Closed at", "datetime", "closed_at"),
        ("createdAt", "Created at", "datetime", "created_at"),
    ),
}

SYSTEM_VARIABLES: tuple[Variable, ...] = (
    Variable("system.appName", "Application name", "text"),
    Variable("system.appURL", "Application URL", "url"),
    Variable("system.currentDate", "Current date", "text"),
    Variable("system.currentTime", "Current time", "text"),
    Variable("system.currentDateTime", "Current date and time", "text"),
    Variable("system.userName", "Your user name", "text"),
    Variable("system.userFirstName", "Your first name", "text"),
    Variable("system.userLastName", "Your last name", "text"),
    Variable("system.userFullName", "Your full name", "text"),
    Variable("system.userEmail", "Your email", "email"),
    Variable("system.userSignature", "Your signature", "text"),
)
"""Oro's system variables (``SystemVariablesProvider``, ``LoggedUserVariablesProvider``)."""

USER_VARIABLES: tuple[Variable, ...] = (
    Variable("user.name", "Your name", "text"),
    Variable("user.firstName", "Your first name", "text"),
    Variable("user.lastName", "Your last name", "text"),
    Variable("user.email", "Your email", "email"),
    Variable("user.signature", "Your signature", "text"),
)
"""The sender of the reply."""


@dataclass(frozen=True)
class VariableCatalog:
    """What the template editor offers for one record type (``None``: a template for no record)."""

    record_type: str | None
    label: str
    entity: tuple[Variable, ...]
    system: tuple[Variable, ...] = SYSTEM_VARIABLES
    user: tuple[Variable, ...] = USER_VARIABLES

    @property
    def paths(self) -> frozenset[str]:
        return frozenset(v.path for v in (*self.entity, *self.system, *self.user))

    def to_dict(self) -> dict[str, Any]:
        return {
            "record_type": self.record_type,
            "label": self.label,
            "entity": [v.to_dict() for v in self.entity],
            "system": [v.to_dict() for v in self.system],
            "user": [v.to_dict() for v in self.user],
        }


def check_record_type(record_type: str | None) -> str | None:
    """``record_type`` if templates can be for it; ValueError otherwise."""
    if record_type is not None and record_type not in RECORD_TYPE_LABELS:
        raise ValueError(f"templates cannot be for {record_type!r} records")
    return record_type


def catalog(record_type: str | None) -> VariableCatalog:
    check_record_type(record_type)
    if record_type is None:
        return VariableCatalog(None, "No record", ())
    entity = tuple(Variable(f"entity.{f.name}", f.label, f.kind) for f in ENTITY_FIELDS[record_type])
    return VariableCatalog(record_type, RECORD_TYPE_LABELS[record_type], entity)


def all_catalogs() -> list[VariableCatalog]:
    return [catalog(None), *(catalog(t) for t in TEMPLATE_RECORD_TYPES)]


def record_type_of(record: OroRecord) -> str | None:
    """The template record type of a typed record (None when templates cannot be for it)."""
    for name, cls in RECORD_CLASSES.items():
        if type(record) is cls:
            return name
    return None


OPTION_LABELS: dict[str, str] = {
    "open": "Open",
    "pending": "Pending",
    "processing": "Processing",
    "closed": "Closed",
    "cancelled": "Cancelled",
    "archived": "Archived",
    "shipped": "Shipped",
    "not_shipped": "Not Shipped",
    "partially_shipped": "Partially Shipped",
    "new": "New",
    "qualified": "Qualified",
    "canceled": "Disqualified",
    "in_progress": "In Progress",
    "resolved": "Resolved",
    "low": "Low",
    "normal": "Normal",
    "high": "High",
    "identification_alignment": "Identification & Alignment",
    "needs_analysis": "Needs Analysis",
    "solution_development": "Solution Development",
    "negotiation": "Negotiation",
    "won": "Closed Won",
    "lost": "Closed Lost",
    "email": "Email",
    "phone": "Phone",
    "web": "Web",
    "other": "Other",
}
"""Names of the options Oro installs (enum ``name`` / ``label``). Records keep only the option's code;
a code Oro does not ship is shown humanised (``on_hold`` -> ``On hold``)."""

OPPORTUNITY_OPTION_LABELS = {**OPTION_LABELS, "in_progress": "Open"}


def option_label(code: str, record_type: str = "") -> str:
    """The name Oro shows for an option code (Oro's opportunity status ``in_progress`` reads "Open")."""
    labels = OPPORTUNITY_OPTION_LABELS if record_type == "opportunities" else OPTION_LABELS
    if code in labels:
        return labels[code]
    text = code.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _value(kind: Kind, raw: Any, record_type: str) -> Any:
    if raw is None:
        return None
    if kind == "option":
        return option_label(str(raw), record_type)
    if kind == "percent":
        return Percent(raw)
    if kind == "list":
        return tuple(str(item) for item in raw)
    if kind in ("money",) and not isinstance(raw, Decimal):
        return Decimal(str(raw))
    if isinstance(raw, Money | datetime | date | Decimal | bool | str | int | float):
        return raw
    return str(raw)


def entity_values(record: OroRecord) -> dict[str, Any]:
    """The entity variables of ``record`` as plain values (None where the record has no value)."""
    record_type = record_type_of(record)
    if record_type is None:
        raise ValueError(f"templates cannot use {type(record).__name__} records")
    return {f.name: _value(f.kind, f.read(record), record_type) for f in ENTITY_FIELDS[record_type]}


def entity_kinds(record_type: str) -> Mapping[str, Kind]:
    return {f.name: f.kind for f in ENTITY_FIELDS[record_type]}
