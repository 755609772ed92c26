"""Oro records as sidebar cards: the title, the few facts a salesperson wants, the page in Oro.

Which fields a card shows is decided here, once, for both hosts.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal

from connector.oro import (
    Account,
    B2bCustomer,
    Case,
    Contact,
    Customer,
    CustomerUser,
    Lead,
    Opportunity,
    Order,
    OroRecord,
    RecordRef,
    Rfq,
    Task,
)
from connector.sidebar.view import Fact, RecordCard, Why

TYPE_LABELS = {
    "contacts": "Contact",
    "customerusers": "Customer user",
    "customers": "Customer",
    "accounts": "Account",
    "b2bcustomers": "B2B customer",
    "leads": "Lead",
    "opportunities": "Opportunity",
    "orders": "Order",
    "rfqs": "Request for quote",
    "cases": "Case",
    "tasks": "Task",
    "users": "Oro user",
}
# Types whose records an email can be linked to from the sidebar.
LINKABLE = frozenset(TYPE_LABELS) - {"users"}


def type_label(record_type: str) -> str:
    return TYPE_LABELS.get(record_type, record_type)


def money(value: Decimal | None, currency: str | None) -> str:
    if value is None:
        return ""
    return f"{value:,.2f} {currency or ''}".strip()


def day(value: date | datetime | None) -> str:
    if value is None:
        return ""
    return value.date().isoformat() if isinstance(value, datetime) else value.isoformat()


def status(value: str | None) -> str:
    return (value or "").replace("_", " ").capitalize()


def _facts(*pairs: tuple[str, str | None]) -> tuple[Fact, ...]:
    return tuple(Fact(label, value) for label, value in pairs if value)


def _company_name(companies: Mapping[RecordRef, OroRecord], ref: RecordRef | None) -> str | None:
    if ref is None:
        return None
    company = companies.get(ref)
    return company.title if company else None


def describe(record: OroRecord, companies: Mapping[RecordRef, OroRecord]) -> tuple[str, tuple[Fact, ...]]:
    """(subtitle, facts) for one record."""
    if isinstance(record, CustomerUser):
        customer = _company_name(companies, RecordRef("customers", record.customer_id or ""))
        return customer or "", _facts(("Customer", customer), ("Email", record.email))
    if isinstance(record, Contact):
        account = next(
            (n for a in record.account_ids if (n := _company_name(companies, RecordRef("accounts", a)))), None
        )
        return record.job_title or "", _facts(
            ("Account", account), ("Phone", record.primary_phone), ("Email", record.primary_email)
        )
    if isinstance(record, Lead):
        return record.company_name or "", _facts(
            ("Status", status(record.status)),
            ("Company", record.company_name),
            ("Email", record.primary_email),
        )
    if isinstance(record, B2bCustomer):
        account = _company_name(companies, RecordRef("accounts", record.account_id or ""))
        return account or "", _facts(("Account", account), ("Phone", record.primary_phone))
    if isinstance(record, Opportunity):
        amount = record.budget
        return status(record.status), _facts(
            ("Status", status(record.status)),
            ("Amount", money(amount.amount, amount.currency) if amount else None),
            ("Close date", day(record.close_date)),
        )
    if isinstance(record, Order):
        return status(record.internal_status), _facts(
            ("Status", status(record.internal_status)),
            ("Total", money(record.total_value, record.currency)),
            ("Date", day(record.created_at)),
            ("PO", record.po_number),
        )
    if isinstance(record, Rfq):
        return status(record.internal_status), _facts(
            ("Status", status(record.internal_status)),
            ("Date", day(record.created_at)),
            ("PO", record.po_number),
        )
    if isinstance(record, Case):
        return status(record.status), _facts(
            ("Status", status(record.status)), ("Priority", status(record.priority))
        )
    if isinstance(record, Task):
        return status(record.status), _facts(("Status", status(record.status)), ("Due", day(record.due_date)))
    if isinstance(record, Customer | Account):
        return "", ()
    return "", ()


def card_for(
    record: OroRecord,
    *,
    companies: Mapping[RecordRef, OroRecord],
    in_context: bool = False,
    why: Why | None = None,
) -> RecordCard:
    subtitle, facts = describe(record, companies)
    actions: list[str] = []
    if record.url:
        actions.append("open")
    if record.type in LINKABLE:
        actions.append("unlink" if in_context else "link")
        actions.append("note")
    return RecordCard(
        type=record.type,
        id=record.id,
        title=record.title,
        type_label=type_label(record.type),
        subtitle=subtitle,
        facts=facts,
        url=record.url,
        in_context=in_context,
        why=why,
        actions=tuple(actions),
    )
