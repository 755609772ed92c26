"""The Oro side of a sidebar: at most two dependent rounds of parallel requests within a time budget.

Round 1 asks who the people are: one ``emailcontext`` call where the instance has it, else one
request per record type with every address in a comma list. Round 2 asks, for everyone found at
once, for the open orders, recent RFQs, open opportunities and cases, the companies behind them, and
for the domains of people nobody knows. A request still out when the budget runs out is dropped and
its section marked as not loaded; the rest is shown.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any, TypeVar

from connector.mail.addresses import EmailAddress
from connector.oro import (
    Account,
    B2bCustomer,
    Capabilities,
    Case,
    Contact,
    Customer,
    CustomerUser,
    EmailContextItem,
    Lead,
    Opportunity,
    Order,
    OroAccessDenied,
    OroAuthExpired,
    OroBadRequest,
    OroClient,
    OroError,
    OroNotFound,
    OroRecord,
    Query,
    RecordRef,
    Rfq,
    SearchHit,
    User,
)
from connector.oro.records import CLOSED_CASE_STATUSES, CLOSED_OPPORTUNITY_STATUSES

logger = logging.getLogger(__name__)

T = TypeVar("T")

CLOSED_ORDER_STATUSES = ("closed", "cancelled")
_NESTED_INCLUDE_REFUSED = threading.Event()
PEOPLE_TYPES: tuple[type[OroRecord], ...] = (Contact, Lead, CustomerUser, B2bCustomer)
EMAIL_FILTER = {Contact: "emails", Lead: "emails", B2bCustomer: "emails", CustomerUser: "email"}


@dataclass
class Findings:
    """Everything Oro said about the email's participants (our own records, never raw dicts)."""

    people: list[OroRecord] = field(default_factory=list)
    in_context: set[RecordRef] = field(default_factory=set)
    orders: list[Order] = field(default_factory=list)
    rfqs: list[Rfq] = field(default_factory=list)
    opportunities: list[Opportunity] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    companies: dict[RecordRef, OroRecord] = field(default_factory=dict)
    domain_hits: dict[str, list[OroRecord]] = field(default_factory=dict)
    unavailable: list[str] = field(default_factory=list)
    denied: set[str] = field(default_factory=set)  # record types this user may not read
    requests: int = 0


def address_variants(addresses: Iterable[EmailAddress]) -> list[str]:
    """Each address as written, lowercased, and without its +tag: Oro's filters compare exactly."""
    values: list[str] = []
    for a in addresses:
        values += [a.address, a.key, a.base_key]
    return list(dict.fromkeys(values))


class SidebarLookup:
    """One sidebar's requests to Oro, on a shared thread pool, against one deadline."""

    def __init__(
        self,
        oro: OroClient,
        *,
        pool: ThreadPoolExecutor,
        budget: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.oro = oro
        self._pool = pool
        self._clock = clock
        self._deadline = clock() + budget
        self.findings = Findings()

    def run(
        self, participants: list[EmailAddress], *, message_id: str, capabilities: Capabilities
    ) -> Findings:
        self._who(participants, message_id=message_id, capabilities=capabilities)
        self._related(participants, capabilities=capabilities)
        return self.findings

    # --- plumbing -------------------------------------------------------------------------------

    def _submit(self, section: str, call: Callable[[], T]) -> tuple[str, Future[T]]:
        self.findings.requests += 1
        return section, self._pool.submit(call)

    def _collect(self, jobs: list[tuple[str, Future[Any]]]) -> dict[str, Any]:
        """Results by section; sections that failed or missed the deadline are recorded, not raised."""
        results: dict[str, Any] = {}
        for section, future in jobs:
            try:
                results[section] = future.result(timeout=max(0.0, self._deadline - self._clock()))
            except FutureTimeout:
                future.cancel()
                self._unavailable(section, "did not answer in time")
            except OroAuthExpired:
                raise
            except OroAccessDenied:
                self.findings.denied.add(section)
            except OroNotFound as exc:
                if not exc.resource_missing:
                    self._unavailable(section, str(exc))
            except OroError as exc:
                self._unavailable(section, str(exc))
        return results

    def _unavailable(self, section: str, reason: str) -> None:
        logger.info("sidebar section %s not loaded: %s", section, reason)
        if section not in self.findings.unavailable:
            self.findings.unavailable.append(section)

    # --- round 1: who are these people ----------------------------------------------------------

    def _who(self, participants: list[EmailAddress], *, message_id: str, capabilities: Capabilities) -> None:
        if not participants:
            return
        if capabilities.email_context and message_id:
            sender, others = participants[0], participants[1:]
            # Every spelling of every address goes in ``to``: Oro matches each as given.
            recipients = address_variants(others) + address_variants([sender])[1:]
            jobs: list[tuple[str, Future[Any]]] = [
                self._submit("people", lambda: self._email_context(message_id, sender.address, recipients))
            ]
            for item in self._collect(jobs).get("people", []):
                if item.record is not None:
                    self.findings.people.append(item.record)
                    if item.is_context:
                        self.findings.in_context.add(item.entity)
                for company in item.related:
                    if isinstance(company, Customer | Account):
                        self.findings.companies[company.ref] = company
            return
        variants = address_variants(participants)
        lookups: list[tuple[str, Future[Any]]] = [
            self._submit(
                record_type.RESOURCE,
                _lister(self.oro, record_type, Query().where(EMAIL_FILTER[record_type], variants)),
            )
            for record_type in PEOPLE_TYPES
            if capabilities.has(record_type.RESOURCE)
        ]
        for records in self._collect(lookups).values():
            self.findings.people.extend(records)

    def _email_context(self, message_id: str, sender: str, recipients: list[str]) -> list[EmailContextItem]:
        """Ask for the people with their customers and accounts included (saving round 2 a request);
        an Oro that refuses nested includes on the polymorphic ``entity`` is asked again without them,
        and not asked that way again by this process."""
        related = () if _NESTED_INCLUDE_REFUSED.is_set() else ("customer", "accounts")
        try:
            return self.oro.email_context(
                message_id=message_id, sender=sender, to=recipients, limit=100, include_related=related
            )
        except OroBadRequest:
            if not related:
                raise
            logger.info("Oro refused nested includes on emailcontext; asking without them from now on")
            _NESTED_INCLUDE_REFUSED.set()
            self.findings.requests += 1
            return self.oro.email_context(message_id=message_id, sender=sender, to=recipients, limit=100)

    # --- round 2: what they are up to -----------------------------------------------------------

    def _related(self, participants: list[EmailAddress], *, capabilities: Capabilities) -> None:
        people = self.findings.people
        customer_users = [p for p in people if isinstance(p, CustomerUser)]
        contacts = [p for p in people if isinstance(p, Contact)]
        customer_ids = _ids(p.customer_id for p in customer_users)
        contact_ids = _ids(p.id for p in contacts)
        account_ids = _ids(a for p in contacts for a in p.account_ids)
        account_ids += _ids(p.account_id for p in people if isinstance(p, B2bCustomer) and p.account_id)

        known = {a for p in people for a in _addresses_of(p)}
        unknown_domains = sorted(
            {a.domain for a in participants if a.key not in known and a.base_key not in known}
        )
        jobs: list[tuple[str, Future[Any]]] = []
        if customer_ids and capabilities.has("orders"):
            query = (
                Query()
                .where("customer", customer_ids)
                .where("internalStatus", list(CLOSED_ORDER_STATUSES), op="neq")
                .sorted_by("-createdAt")
                .page(size=10)
            )
            jobs.append(self._submit("orders", _lister(self.oro, Order, query)))
        if customer_ids and capabilities.has("rfqs"):
            query = Query().where("customer", customer_ids).sorted_by("-id").page(size=5)
            jobs.append(self._submit("rfqs", _lister(self.oro, Rfq, query)))
        if contact_ids and capabilities.has("opportunities"):
            query = (
                Query()
                .where("contact", contact_ids)
                .where("status", sorted(CLOSED_OPPORTUNITY_STATUSES), op="neq")
                .sorted_by("-id")
                .page(size=10)
            )
            jobs.append(self._submit("opportunities", _lister(self.oro, Opportunity, query)))
        if contact_ids and capabilities.has("cases"):
            query = (
                Query()
                .where("relatedContact", contact_ids)
                .where("status", list(CLOSED_CASE_STATUSES), op="neq")
                .sorted_by("-id")
                .page(size=10)
            )
            jobs.append(self._submit("cases", _lister(self.oro, Case, query)))
        fetched = self.findings.companies
        missing_customers = [i for i in customer_ids if RecordRef("customers", i) not in fetched]
        missing_accounts = [i for i in account_ids if RecordRef("accounts", i) not in fetched]
        if missing_customers and capabilities.has("customers"):
            query = Query().where("id", missing_customers)
            jobs.append(self._submit("customers", _lister(self.oro, Customer, query)))
        if missing_accounts and capabilities.has("accounts"):
            query = Query().where("id", missing_accounts)
            jobs.append(self._submit("accounts", _lister(self.oro, Account, query)))
        for domain in unknown_domains:
            entities = [t for t in ("accounts", "customers") if capabilities.has(t)]
            if entities:
                jobs.append(self._submit(f"domain:{domain}", _searcher(self.oro, domain, entities)))

        results = self._collect(jobs)
        self.findings.orders = results.get("orders", [])
        self.findings.rfqs = results.get("rfqs", [])
        self.findings.opportunities = results.get("opportunities", [])
        self.findings.cases = results.get("cases", [])
        for company in [*results.get("customers", []), *results.get("accounts", [])]:
            self.findings.companies[company.ref] = company
        for section, hits in results.items():
            if section.startswith("domain:"):
                records = [h.record for h in hits if h.record is not None]
                self.findings.domain_hits[section.removeprefix("domain:")] = records


def _ids(values: Iterable[str | None]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def _lister(oro: OroClient, record_type: type[T], query: Query) -> Callable[[], list[T]]:
    def call() -> list[T]:
        return list(oro.list_records(record_type, query=query).items)  # type: ignore[type-var]

    return call


_SECOND_LEVEL = {"co", "com", "org", "net", "ac", "gov", "edu", "ltd", "plc"}


def company_words(domain: str) -> str:
    """The words a company's name likely shares with its domain: ``nordlicht-logistik.de`` ->
    ``nordlicht logistik`` (Oro's search indexes names, not web sites)."""
    labels = domain.lower().split(".")
    if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2:
        labels = labels[:-1]
    name = labels[-2] if len(labels) >= 2 else labels[0]
    return " ".join(part for part in name.replace("_", "-").split("-") if part)


def _searcher(oro: OroClient, domain: str, entities: list[str]) -> Callable[[], list[SearchHit]]:
    def call() -> list[SearchHit]:
        return oro.search(text=company_words(domain), entities=entities, limit=5)

    return call


def _addresses_of(record: OroRecord) -> set[str]:
    """Comparison keys of every address a record holds."""
    raw: list[str | None] = []
    if isinstance(record, Contact | Lead | B2bCustomer):
        raw = [record.primary_email, *record.emails]
    elif isinstance(record, CustomerUser | User):
        raw = [record.email]
    keys = set()
    for value in raw:
        parsed = EmailAddress.parse(value) if value else None
        if parsed:
            keys |= {parsed.key, parsed.base_key}
    return keys
