"""Oro's resources as our own frozen dataclasses, built at the boundary (``X.from_jsonapi``).

Attribute names follow Oro's API fixtures (reference §3, §4). Money arrives as decimal strings
("1234.0000") and becomes :class:`~decimal.Decimal`; datetimes arrive as UTC ``...Z`` strings and
become aware datetimes. Enum and dictionary values (statuses, priorities) are relationships whose id
is the option code (``"open"``, ``"won"``): records keep that code.

Back-office URLs. Oro gives a page URL only on search and email-context items (``links.entityUrl``);
records taken from there keep it. Everywhere else the URL is built from the back-office root and the
view route of the record's type (:data:`VIEW_PATHS`). Those paths are Oro's view routes as its
controllers declare them (the reference confirms ``user/view/{id}`` from Oro's tests; the others are
inferred from the bundles' routes and kept in one table so a correction is one line). Notes have no
page of their own: their ``url`` is None.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, Generic, Literal, Self, TypeVar

JsonObject = dict[str, Any]
Included = Mapping[tuple[str, str], JsonObject]

VIEW_PATHS: dict[str, str] = {
    "users": "user/view/{id}",
    "contacts": "contact/view/{id}",
    "accounts": "account/view/{id}",
    "b2bcustomers": "b2bcustomer/view/{id}",
    "leads": "lead/view/{id}",
    "opportunities": "opportunity/view/{id}",
    "customers": "customer/customer/view/{id}",
    "customerusers": "customer/user/view/{id}",
    "orders": "order/view/{id}",
    "cases": "case/view/{id}",
    "rfqs": "rfp/request/view/{id}",
    "tasks": "task/view/{id}",
    "emails": "email/view/{id}",
}

ENTITY_CLASSES: dict[str, str] = {
    "users": "Oro\\Bundle\\UserBundle\\Entity\\User",
    "contacts": "Oro\\Bundle\\ContactBundle\\Entity\\Contact",
    "accounts": "Oro\\Bundle\\AccountBundle\\Entity\\Account",
    "b2bcustomers": "Oro\\Bundle\\SalesBundle\\Entity\\B2bCustomer",
    "leads": "Oro\\Bundle\\SalesBundle\\Entity\\Lead",
    "opportunities": "Oro\\Bundle\\SalesBundle\\Entity\\Opportunity",
    "customers": "Oro\\Bundle\\CustomerBundle\\Entity\\Customer",
    "customerusers": "Oro\\Bundle\\CustomerBundle\\Entity\\CustomerUser",
    "orders": "Oro\\Bundle\\OrderBundle\\Entity\\Order",
    "cases": "Oro\\Bundle\\CaseBundle\\Entity\\CaseEntity",
    "rfqs": "Oro\\Bundle\\RFPBundle\\Entity\\Request",
    "tasks": "Oro\\Bundle\\TaskBundle\\Entity\\Task",
}
"""Entity classes by resource type: the legacy template endpoints take the class, not the type."""


def view_url(backoffice_url: str, resource_type: str, record_id: str) -> str | None:
    path = VIEW_PATHS.get(resource_type)
    if not path or not backoffice_url:
        return None
    return f"{backoffice_url.rstrip('/')}/{path.format(id=record_id)}"


# --- small values -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordRef:
    """A resource identifier: which record, of which type."""

    type: str
    id: str

    def to_jsonapi(self) -> JsonObject:
        return {"type": self.type, "id": self.id}


@dataclass(frozen=True)
class ActivityTarget:
    """A record an activity (email, note, task) is linked to. ``context_item_id`` is Oro's
    ``emailThreadContextItemId`` (``{type}-{id}-{emailId}``) on email targets."""

    type: str
    id: str
    context_item_id: str | None = None

    @property
    def ref(self) -> RecordRef:
        return RecordRef(self.type, self.id)


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str | None


@dataclass(frozen=True)
class EmailAddress:
    email: str
    name: str | None = None

    def to_jsonapi(self) -> JsonObject:
        return {"email": self.email, "name": self.name} if self.name else {"email": self.email}


@dataclass(frozen=True)
class EmailBody:
    content: str
    type: Literal["text", "html"] = "text"


# --- reading a resource object -----------------------------------------------------------------------


class _Resource:
    """Typed, forgiving access to one JSON:API resource object."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        if not isinstance(raw, Mapping) or "type" not in raw or "id" not in raw:
            raise ValueError("a JSON:API resource needs a type and an id")
        self.raw = raw
        self.type = str(raw["type"])
        self.id = str(raw["id"])
        attributes = raw.get("attributes")
        self.attributes: Mapping[str, Any] = attributes if isinstance(attributes, Mapping) else {}
        relationships = raw.get("relationships")
        self.relationships: Mapping[str, Any] = relationships if isinstance(relationships, Mapping) else {}

    @property
    def entity_url(self) -> str | None:
        links = self.raw.get("links")
        url = links.get("entityUrl") if isinstance(links, Mapping) else None
        if isinstance(url, Mapping):
            url = url.get("href")
        return url if isinstance(url, str) and url else None

    def text(self, name: str) -> str | None:
        value = self.attributes.get(name)
        if value is None:
            return None
        return value if isinstance(value, str) else str(value)

    def flag(self, name: str) -> bool | None:
        value = self.attributes.get(name)
        return value if isinstance(value, bool) else None

    def number(self, name: str) -> float | None:
        value = self.attributes.get(name)
        if isinstance(value, bool) or value is None:
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            return None

    def decimal(self, name: str) -> Decimal | None:
        return parse_decimal(self.attributes.get(name))

    def moment(self, name: str) -> datetime | None:
        return parse_datetime(self.attributes.get(name))

    def day(self, name: str) -> date | None:
        value = self.attributes.get(name)
        if not isinstance(value, str):
            return None
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None

    def strings(self, name: str, key: str) -> tuple[str, ...]:
        """``[{"email": "a"}, {"email": "b"}]`` -> ``("a", "b")``."""
        items = self.attributes.get(name)
        if not isinstance(items, list):
            return ()
        return tuple(str(i[key]) for i in items if isinstance(i, Mapping) and i.get(key))

    def address(self, name: str) -> EmailAddress | None:
        return _address(self.attributes.get(name))

    def addresses(self, name: str) -> tuple[EmailAddress, ...]:
        items = self.attributes.get(name)
        if not isinstance(items, list):
            return ()
        return tuple(a for a in (_address(i) for i in items) if a is not None)

    def _linkage(self, name: str) -> Any:
        relationship = self.relationships.get(name)
        return relationship.get("data") if isinstance(relationship, Mapping) else None

    def rel_id(self, name: str) -> str | None:
        data = self._linkage(name)
        return str(data["id"]) if isinstance(data, Mapping) and "id" in data else None

    def rel_ref(self, name: str) -> RecordRef | None:
        data = self._linkage(name)
        if isinstance(data, Mapping) and "id" in data and "type" in data:
            return RecordRef(str(data["type"]), str(data["id"]))
        return None

    def rel_ids(self, name: str) -> tuple[str, ...]:
        data = self._linkage(name)
        if not isinstance(data, list):
            return ()
        return tuple(str(item["id"]) for item in data if isinstance(item, Mapping) and "id" in item)

    def targets(self, name: str = "activityTargets") -> tuple[ActivityTarget, ...]:
        data = self._linkage(name)
        return activity_targets(data)


def activity_targets(data: Any) -> tuple[ActivityTarget, ...]:
    """Resource identifiers (with Oro's ``meta.emailThreadContextItemId``) as targets."""
    if not isinstance(data, list):
        return ()
    targets = []
    for item in data:
        if not isinstance(item, Mapping) or "type" not in item or "id" not in item:
            continue
        meta = item.get("meta")
        context_id = meta.get("emailThreadContextItemId") if isinstance(meta, Mapping) else None
        context = str(context_id) if context_id else None
        targets.append(ActivityTarget(str(item["type"]), str(item["id"]), context))
    return tuple(targets)


def _address(value: Any) -> EmailAddress | None:
    if not isinstance(value, Mapping) or not value.get("email"):
        return None
    name = value.get("name")
    return EmailAddress(str(value["email"]), str(name) if name else None)


def parse_datetime(value: Any) -> datetime | None:
    """Oro's ``2024-01-01T10:00:00Z`` as an aware datetime (UTC when no zone is written)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_decimal(value: Any) -> Decimal | None:
    """Oro's money strings ("1234.0000") as Decimal; floats go through str() to stay exact."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(value if isinstance(value, str) else str(value))
    except InvalidOperation:
        return None


def _join(*parts: str | None) -> str:
    return " ".join(p for p in parts if p)


# --- records ------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class OroRecord:
    """A record of one Oro resource type. ``url`` is its back-office page (see the module docstring)."""

    RESOURCE: ClassVar[str] = ""

    id: str
    type: str = ""
    url: str | None = None

    def __post_init__(self) -> None:
        if not self.type:
            object.__setattr__(self, "type", self.RESOURCE)

    @property
    def ref(self) -> RecordRef:
        return RecordRef(self.type, self.id)

    @property
    def title(self) -> str:
        """What Oro would show as the record's name."""
        return f"{self.type} #{self.id}"

    @classmethod
    def from_jsonapi(
        cls,
        resource: Mapping[str, Any],
        included: Included | None = None,
        *,
        backoffice_url: str = "",
        url: str | None = None,
    ) -> Self:
        """Build the record from a resource object (``included``: the document's included records)."""
        res = _Resource(resource)
        if cls.RESOURCE and res.type != cls.RESOURCE:
            raise ValueError(f"{cls.__name__} reads {cls.RESOURCE!r} resources, not {res.type!r}")
        values = cls._values(res, included or {}, backoffice_url)
        page = url or res.entity_url or view_url(backoffice_url, res.type, res.id)
        return cls(id=res.id, type=res.type, url=page, **values)

    @classmethod
    def _values(cls, res: _Resource, included: Included, backoffice_url: str) -> dict[str, Any]:
        return {}


def _person_title(first: str | None, last: str | None, fallback: str | None, record_id: str) -> str:
    return _join(first, last) or fallback or f"#{record_id}"


@dataclass(frozen=True, kw_only=True)
class User(OroRecord):
    RESOURCE: ClassVar[str] = "users"

    username: str | None = None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    enabled: bool | None = None

    @property
    def title(self) -> str:
        return _person_title(self.first_name, self.last_name, self.username, self.id)

    @classmethod
    def _values(cls, res: _Resource, included: Included, backoffice_url: str) -> dict[str, Any]:
        return {
            "username": res.text("username"), "email": res.text("email"), "first_name": res.text("firstName"),
            "last_name": res.text("lastName"), "enabled": res.flag("enabled"),
        }


@dataclass(frozen=True, kw_only=True)
class Contact(OroRecord):
    RESOURCE: ClassVar[str] = "contacts"

    first_name: str | None = None
    last_name: str | None = None
    job_title: str | None = None
    primary_email: str | None = None
    emails: tuple[str, ...] = ()
    primary_phone: str | None = None
    phones: tuple[str, ...] = ()
    account_ids: tuple[str, ...] = ()
    owner_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def title(self) -> str:
        return _person_title(self.first_name, self.last_name, self.primary_email, self.id)

    @classmethod
    def _values(cls, res: _Resource, included: Included, backoffice_url: str) -> dict[str, Any]:
        return {
            "first_name": res.text("firstName"), "last_name": res.text("lastName"),
            "job_title": res.text("jobTitle"), "primary_email": res.text("primaryEmail"),
            "emails": res.strings("emails", "email"), "primary_phone": res.text("primaryPhone"),
            "phones": res.strings("phones", "phone"), "account_ids": res.rel_ids("accounts"),
            "owner_id": res.rel_id("owner"), "created_at": res.moment("createdAt"),
            "updated_at": res.moment("updatedAt"),
        }


@dataclass(frozen=True, kw_only=True)
class Account(OroRecord):
    RESOURCE: ClassVar[str] = "accounts"

    name: str | None = None
    contact_ids: tuple[str, ...] = ()
    default_contact_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def title(self) -> str:
        return self.name or f"#{self.id}"

    @classmethod
    def _values(cls, res: _Resource, included: Included, backoffice_url: str) -> dict[str, Any]:
        return {
            "name": res.text("name"), "contact_ids": res.rel_ids("contacts"),
            "default_contact_id": res.rel_id("defaultContact"), "created_at": res.moment("createdAt"),
            "updated_at": res.moment("updatedAt"),
        }


@dataclass(frozen=True, kw_only=True)
class B2bCustomer(OroRecord):
    RESOURCE: ClassVar[str] = "b2bcustomers"

    name: str | None = None
    primary_email: str | None = None
    emails: tuple[str, ...] = ()
    primary_phone: str | None = None
    account_id: str | None = None
    contact_id: str | None = None
    opportunity_ids: tuple[str, ...] = ()
    lead_ids: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        return self.name or f"#{self.id}"

    @classmethod
    def _values(cls, res: _Resource, included: Included, backoffice_url: str) -> dict[str, Any]:
        return {
            "name": res.text("name"), "primary_email": res.text("primaryEmail"),
            "emails": res.strings("emails", "email"), "primary_phone": res.text("primaryPhone"),
            "account_id": res.rel_id("account"), "contact_id": res.rel_id("contact"),
            "opportunity_ids": res.rel_ids("opportunities"), "lead_ids": res.rel_ids("leads"),
        }


@dataclass(frozen=True, kw_only=True)
class Customer(OroRecord):
    """A Commerce customer (company)."""

    RESOURCE: ClassVar[str] = "customers"

    name: str | None = None
    parent_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def title(self) -> str:
        return self.name or f"#{self.id}"

    @classmethod
    def _values(cls, res: _Resource, included: Included, backoffice_url: str) -> dict[str, Any]:
        return {
            "name": res.text("name"), "parent_id": res.rel_id("parent"),
            "created_at": res.moment("createdAt"), "updated_at": res.moment("updatedAt"),
        }


@dataclass(frozen=True, kw_only=True)
class CustomerUser(OroRecord):
    """A Commerce customer user (a person buying for a customer)."""

    RESOURCE: ClassVar[str] = "customerusers"

    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    enabled: bool | None = None
    confirmed: bool | None = None
    customer_id: str | None = None
    created_at: datetime | None = None

    @property
    def title(self) -> str:
        return _person_title(self.first_name, self.last_name, self.email, self.id)

    @classmethod
    def _values(cls, res: _Resource, included: Included, backoffice_url: str) -> dict[str, Any]:
        return {
            "email": res.text("email"), "first_name": res.text("firstName"),
            "last_name": res.text("lastName"), "enabled": res.flag("enabled"),
            "confirmed": res.flag("confirmed"),
            "customer_id": res.rel_id("customer"), "created_at": res.moment("createdAt"),
        }


@dataclass(frozen=True, kw_only=True)
class Lead(OroRecord):
    RESOURCE: ClassVar[str] = "leads"

    name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    company_name: str | None = None
    job_title: str | None = None
    primary_email: str | None = None
    emails: tuple[str, ...] = ()
    primary_phone: str | None = None
    status: str | None = None
    account_id: str | None = None
    customer_id: str | None = None
    contact_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def title(self) -> str:
        return self.name or _person_title(self.first_name, self.last_name, self.primary_email, self.id)

    @classmethod
    def _values(cls, res: _Resource, included: Included, backoffice_url: str) -> dict[str, Any]:
        return {
            "name": res.text("name"), "first_name": res.text("firstName"), "last_name": res.text("lastName"),
            "company_name": res.text("companyName"), "job_title": res.text("jobTitle"),
            "primary_email": res.text("primaryEmail"), "emails": res.strings("emails", "email"),
            "primary_phone": res.text("primaryPhone"), "status": res.rel_id("status"),
            "account_id": res.rel_id("account"), "customer_id": res.rel_id("customer"),
            "contact_id": res.rel_id("contact"), "created_at": res.moment("createdAt"),
            "updated_at": res.moment("updatedAt"),
        }


CLOSED_OPPORTUNITY_STATUSES = frozenset({"won", "lost"})


@dataclass(frozen=True, kw_only=True)
class Opportunity(OroRecord):
    RESOURCE: ClassVar[str] = "opportunities"

    name: str | None = None
    status: str | None = None
    probability: float | None = None
    close_date: date | None = None
    budget: Money | None = None
    close_revenue: Money | None = None
    contact_id: str | None = None
    account_id: str | None = None
    customer_id: str | None = None
    lead_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def title(self) -> str:
        return self.name or f"#{self.id}"

    @property
    def is_open(self) -> bool:
        return self.status not in CLOSED_OPPORTUNITY_STATUSES

    @classmethod
    def _values(cls, res: _Resource, included: Included, backoffice_url: str) -> dict[str, Any]:
        return {
            "name": res.text("name"), "status": res.rel_id("status"),
            "probability": res.number("probability"), "close_date": res.day("closeDate"),
            "budget": _money(res, "budgetAmountValue", "budgetAmountCurrency"),
            "close_revenue": _money(res, "closeRevenueValue", "closeRevenueCurrency"),
            "contact_id": res.rel_id("contact"), "account_id": res.rel_id("account"),
            "customer_id": res.rel_id("customer"), "lead_id": res.rel_id("lead"),
            "created_at": res.moment("createdAt"), "updated_at": res.moment("updatedAt"),
        }


def _money(res: _Resource, value: str, currency: str) -> Money | None:
    amount = res.decimal(value)
    return None if amount is None else Money(amount, res.text(currency))


@dataclass(frozen=True, kw_only=True)
class Order(OroRecord):
    RESOURCE: ClassVar[str] = "orders"

    identifier: str | None = None
    po_number: str | None = None
    total_value: Decimal | None = None
    subtotal_value: Decimal | None = None
    currency: str | None = None
    internal_status: str | None = None
    status: str | None = None
    shipping_status: str | None = None
    customer_id: str | None = None
    customer_user_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def title(self) -> str:
        return self.identifier or f"#{self.id}"

    @property
    def total(self) -> Money | None:
        return None if self.total_value is None else Money(self.total_value, self.currency)

    @classmethod
    def _values(cls, res: _Resource, included: Included, backoffice_url: str) -> dict[str, Any]:
        return {
            "identifier": res.text("identifier"), "po_number": res.text("poNumber"),
            "total_value": res.decimal("totalValue"), "subtotal_value": res.decimal("subtotalValue"),
            "currency": res.text("currency"), "internal_status": res.rel_id("internalStatus"),
            "status": res.rel_id("status"), "shipping_status": res.rel_id("shippingStatus"),
            "customer_id": res.rel_id("customer"), "customer_user_id": res.rel_id("customerUser"),
            "created_at": res.moment("createdAt"), "updated_at": res.moment("updatedAt"),
        }


CLOSED_CASE_STATUSES = ("resolved", "closed")


@dataclass(frozen=True, kw_only=True)
class Case(OroRecord):
    RESOURCE: ClassVar[str] = "cases"

    subject: str | None = None
    description: str | None = None
    status: str | None = None
    priority: str | None = None
    source: str | None = None
    related_contact_id: str | None = None
    related_account_id: str | None = None
    assigned_to_id: str | None = None
    reported_at: datetime | None = None
    closed_at: datetime | None = None
    created_at: datetime | None = None

    @property
    def title(self) -> str:
        return self.subject or f"#{self.id}"

    @property
    def is_open(self) -> bool:
        return self.status not in CLOSED_CASE_STATUSES

    @classmethod
    def _values(cls, res: _Resource, included: Included, backoffice_url: str) -> dict[str, Any]:
        return {
            "subject": res.text("subject"), "description": res.text("description"),
            "status": res.rel_id("status"), "priority": res.rel_id("priority"),
            "source": res.rel_id("source"), "related_contact_id": res.rel_id("relatedContact"),
            "related_account_id": res.rel_id("relatedAccount"),
            "assigned_to_id": res.rel_id("assignedTo"), "reported_at": res.moment("reportedAt"),
            "closed_at": res.moment("closedAt"), "created_at": res.moment("createdAt"),
        }


@dataclass(frozen=True, kw_only=True)
class Rfq(OroRecord):
    """A Commerce request for quote (``rfqs``)."""

    RESOURCE: ClassVar[str] = "rfqs"

    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    company: str | None = None
    po_number: str | None = None
    internal_status: str | None = None
    customer_status: str | None = None
    customer_id: str | None = None
    customer_user_id: str | None = None
    created_at: datetime | None = None

    @property
    def title(self) -> str:
        return f"RFQ #{self.id}"

    @classmethod
    def _values(cls, res: _Resource, included: Included, backoffice_url: str) -> dict[str, Any]:
        return {
            "first_name": res.text("firstName"), "last_name": res.text("lastName"),
            "email": res.text("email"), "company": res.text("company"), "po_number": res.text("poNumber"),
            "internal_status": res.rel_id("internal_status"),
            "customer_status": res.rel_id("customer_status"),
            "customer_id": res.rel_id("customer"), "customer_user_id": res.rel_id("customerUser"),
            "created_at": res.moment("createdAt"),
        }


@dataclass(frozen=True, kw_only=True)
class Task(OroRecord):
    RESOURCE: ClassVar[str] = "tasks"

    subject: str | None = None
    description: str | None = None
    due_date: datetime | None = None
    status: str | None = None
    priority: str | None = None
    targets: tuple[ActivityTarget, ...] = ()
    created_at: datetime | None = None

    @property
    def title(self) -> str:
        return self.subject or f"#{self.id}"

    @classmethod
    def _values(cls, res: _Resource, included: Included, backoffice_url: str) -> dict[str, Any]:
        return {
            "subject": res.text("subject"), "description": res.text("description"),
            "due_date": res.moment("dueDate"), "status": res.rel_id("status"),
            "priority": res.rel_id("taskPriority"), "targets": res.targets(),
            "created_at": res.moment("createdAt"),
        }


@dataclass(frozen=True, kw_only=True)
class Email(OroRecord):
    """An email stored in Oro. ``message_id`` is RFC 5322's, with angle brackets as Oro stores it."""

    RESOURCE: ClassVar[str] = "emails"

    subject: str | None = None
    message_id: str | None = None
    sender: EmailAddress | None = None
    to: tuple[EmailAddress, ...] = ()
    cc: tuple[EmailAddress, ...] = ()
    bcc: tuple[EmailAddress, ...] = ()
    sent_at: datetime | None = None
    internal_date: datetime | None = None
    head: bool | None = None
    references: tuple[str, ...] = ()
    x_thread_id: str | None = None
    short_text_body: str | None = None
    targets: tuple[ActivityTarget, ...] = ()
    created_at: datetime | None = None

    @property
    def title(self) -> str:
        return self.subject or f"#{self.id}"

    @classmethod
    def _values(cls, res: _Resource, included: Included, backoffice_url: str) -> dict[str, Any]:
        references = res.attributes.get("references")
        return {
            "subject": res.text("subject"), "message_id": res.text("messageId"),
            "sender": res.address("from"),
            "to": res.addresses("toRecipients"), "cc": res.addresses("ccRecipients"),
            "bcc": res.addresses("bccRecipients"), "sent_at": res.moment("sentAt"),
            "internal_date": res.moment("internalDate"), "head": res.flag("head"),
            "references": tuple(str(r) for r in references) if isinstance(references, list) else (),
            "x_thread_id": res.text("xThreadId"), "short_text_body": res.text("shortTextBody"),
            "targets": res.targets(), "created_at": res.moment("createdAt"),
        }


@dataclass(frozen=True, kw_only=True)
class Note(OroRecord):
    """A note (``message`` is HTML, as Oro stores it) and the records it is attached to."""

    RESOURCE: ClassVar[str] = "notes"

    message: str | None = None
    owner_id: str | None = None
    targets: tuple[ActivityTarget, ...] = ()
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def title(self) -> str:
        return f"Note #{self.id}"

    @classmethod
    def _values(cls, res: _Resource, included: Included, backoffice_url: str) -> dict[str, Any]:
        return {
            "message": res.text("message"), "owner_id": res.rel_id("owner"), "targets": res.targets(),
            "created_at": res.moment("createdAt"), "updated_at": res.moment("updatedAt"),
        }


RECORD_CLASSES: tuple[type[OroRecord], ...] = (
    User, Contact, Account, B2bCustomer, Customer, CustomerUser, Lead, Opportunity, Order, Case, Rfq, Task,
    Email, Note,
)
RECORD_TYPES: dict[str, type[OroRecord]] = {cls.RESOURCE: cls for cls in RECORD_CLASSES}


def decode_record(
    resource: Mapping[str, Any],
    included: Included | None = None,
    *,
    backoffice_url: str = "",
    url: str | None = None,
) -> OroRecord | None:
    """The typed record for any resource type the client knows; None for other types."""
    cls = RECORD_TYPES.get(str(resource.get("type")))
    if cls is None:
        return None
    return cls.from_jsonapi(resource, included, backoffice_url=backoffice_url, url=url)


@dataclass(frozen=True, kw_only=True)
class EmailContextItem(OroRecord):
    """A record that is (``is_context``) or could be in the context of an email or its thread.

    ``record`` is the full record when Oro included it (``include=entity``) and the client knows its type.
    """

    RESOURCE: ClassVar[str] = ""
    ACCEPTS: ClassVar[frozenset[str]] = frozenset(
        {"emailcontext", "emailthreadcontext", "emailcontextsearch"}
    )

    entity: RecordRef
    entity_name: str | None = None
    is_context: bool | None = None
    record: OroRecord | None = None
    related: tuple[OroRecord, ...] = ()  # included records the entity points to (its customer, accounts)

    @property
    def title(self) -> str:
        if self.entity_name:
            return self.entity_name
        return self.record.title if self.record else f"{self.entity.type} #{self.entity.id}"

    @classmethod
    def from_jsonapi(
        cls,
        resource: Mapping[str, Any],
        included: Included | None = None,
        *,
        backoffice_url: str = "",
        url: str | None = None,
    ) -> Self:
        res = _Resource(resource)
        if res.type not in cls.ACCEPTS:
            raise ValueError(f"{cls.__name__} does not read {res.type!r} resources")
        return cls(id=res.id, type=res.type, **_entity_values(res, included or {}, backoffice_url))


@dataclass(frozen=True, kw_only=True)
class SearchHit(OroRecord):
    """One result of Oro's search API: which record, its name, and its page."""

    RESOURCE: ClassVar[str] = "search"

    entity: RecordRef
    entity_name: str | None = None
    record: OroRecord | None = None

    @property
    def title(self) -> str:
        if self.entity_name:
            return self.entity_name
        return self.record.title if self.record else f"{self.entity.type} #{self.entity.id}"

    @classmethod
    def from_jsonapi(
        cls,
        resource: Mapping[str, Any],
        included: Included | None = None,
        *,
        backoffice_url: str = "",
        url: str | None = None,
    ) -> Self:
        res = _Resource(resource)
        if res.type != cls.RESOURCE:
            raise ValueError(f"{cls.__name__} does not read {res.type!r} resources")
        values = _entity_values(res, included or {}, backoffice_url)
        values.pop("is_context")
        values.pop("related")
        return cls(id=res.id, type=res.type, **values)


def _entity_values(res: _Resource, included: Included, backoffice_url: str) -> dict[str, Any]:
    """Shared by search and email-context items: ``entity`` relationship, name, page, included record."""
    entity = res.rel_ref("entity")
    if entity is None:  # ids look like "contacts-12" when the relationship was left out
        kind, _, ident = res.id.rpartition("-")
        entity = RecordRef(kind.split("-")[0], ident) if kind else RecordRef("", res.id)
    page = res.entity_url or view_url(backoffice_url, entity.type, entity.id)
    raw = included.get((entity.type, entity.id))
    record = decode_record(raw, included, backoffice_url=backoffice_url, url=page) if raw else None
    related: list[OroRecord] = []
    if raw:
        for relationship in (raw.get("relationships") or {}).values():
            data = relationship.get("data") if isinstance(relationship, Mapping) else None
            for ref in data if isinstance(data, list) else [data]:
                key = (str(ref.get("type")), str(ref.get("id"))) if isinstance(ref, Mapping) else None
                if key is not None and (target := included.get(key)):
                    found = decode_record(target, included, backoffice_url=backoffice_url)
                    if found is not None:
                        related.append(found)
    return {
        "entity": entity, "entity_name": res.text("entityName"), "is_context": res.flag("isContext"),
        "url": page, "record": record, "related": tuple(related),
    }


# --- legacy REST values ----------------------------------------------------------------------------


@dataclass(frozen=True)
class EmailTemplate:
    """An email template as the legacy REST API lists it (reference §4.7)."""

    id: str
    name: str
    subject: str | None
    content: str | None
    type: str | None
    entity_class: str | None
    is_system: bool
    is_editable: bool
    parent_id: str | None = None

    @classmethod
    def from_legacy(cls, item: Mapping[str, Any]) -> EmailTemplate:
        parent = item.get("parent")
        return cls(
            id=str(item["id"]),
            name=str(item.get("name") or ""),
            subject=_optional_str(item.get("subject")),
            content=_optional_str(item.get("content")),
            type=_optional_str(item.get("type")),
            entity_class=_optional_str(item.get("entity_name") or item.get("entityName")),
            is_system=bool(item.get("is_system", item.get("isSystem", False))),
            is_editable=bool(item.get("is_editable", item.get("isEditable", True))),
            parent_id=None if parent in (None, "", 0) else str(parent),
        )


@dataclass(frozen=True)
class CompiledTemplate:
    """A template rendered by Oro for one record."""

    subject: str
    body: str
    type: str

    @classmethod
    def from_legacy(cls, item: Mapping[str, Any]) -> CompiledTemplate:
        return cls(
            subject=str(item.get("subject") or ""),
            body=str(item.get("body") or ""),
            type=str(item.get("type") or "html"),
        )


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


# --- pages -------------------------------------------------------------------------------------------

R = TypeVar("R", bound=OroRecord)


@dataclass(frozen=True)
class PageCursor(Generic[R]):
    """Where the next page is: the resource path and the query of Oro's ``links.next``."""

    path: str
    params: tuple[tuple[str, str], ...]
    record_type: type[R] = field(repr=False)


@dataclass(frozen=True)
class Page(Generic[R]):
    """One page of records; ``total_count`` when it was asked for; ``next`` is None on the last page."""

    items: tuple[R, ...]
    total_count: int | None = None
    next: PageCursor[R] | None = None

    def __iter__(self) -> Iterator[R]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


@dataclass(frozen=True)
class NewEmail:
    """An email to log into Oro (reference §4.1). ``references`` holds the Message-IDs of the message's
    ``References`` and ``In-Reply-To`` headers so that Oro threads it. ``targets=None`` lets Oro link
    the email to the known owners of its addresses; ``()`` links nothing; a list links exactly those."""

    message_id: str
    subject: str
    sender: EmailAddress
    to: tuple[EmailAddress, ...]
    sent_at: datetime
    cc: tuple[EmailAddress, ...] = ()
    bcc: tuple[EmailAddress, ...] = ()
    internal_date: datetime | None = None
    references: tuple[str, ...] = ()
    body: EmailBody | None = None
    importance: Literal["low", "normal", "high"] = "normal"
    x_thread_id: str | None = None
    x_message_id: str | None = None
    targets: tuple[RecordRef, ...] | None = None

    def to_jsonapi(self) -> JsonObject:
        message_id = angle_bracketed(self.message_id)
        if len(message_id) > 512:
            raise ValueError("Oro keeps Message-IDs of at most 512 characters")
        attributes: JsonObject = {
            "subject": self.subject[:998],  # Oro's limit, and RFC 5322's line length
            "from": self.sender.to_jsonapi(),
            "toRecipients": [a.to_jsonapi() for a in self.to],
            "messageId": message_id,
            "sentAt": format_datetime(self.sent_at),
            "internalDate": format_datetime(self.internal_date or self.sent_at),
            "importance": self.importance,
        }
        if self.cc:
            attributes["ccRecipients"] = [a.to_jsonapi() for a in self.cc]
        if self.bcc:
            attributes["bccRecipients"] = [a.to_jsonapi() for a in self.bcc]
        if self.references:
            attributes["references"] = [angle_bracketed(r) for r in self.references]
        if self.body is not None:
            attributes["body"] = {"content": self.body.content, "type": self.body.type}
        if self.x_thread_id:
            attributes["xThreadId"] = self.x_thread_id
        if self.x_message_id:
            attributes["xMessageId"] = self.x_message_id
        resource: JsonObject = {"type": "emails", "attributes": attributes}
        if self.targets is not None:
            resource["relationships"] = {"activityTargets": {"data": [t.to_jsonapi() for t in self.targets]}}
        return {"data": resource}


def angle_bracketed(message_id: str) -> str:
    """A Message-ID in the form Oro stores it: ``<local@domain>``."""
    value = message_id.strip()
    if not value:
        raise ValueError("a Message-ID cannot be empty")
    return value if value.startswith("<") and value.endswith(">") else f"<{value.strip('<>')}>"


def format_datetime(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError(f"datetimes sent to Oro must be timezone-aware, got {value!r}")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
