"""The operations the connector needs from Oro: :class:`OroClient` and its HTTP implementation.

An :class:`OroConnection` holds what every caller of one Oro shares (configuration, one HTTP session,
the OAuth endpoints, what the client learnt about the instance). It hands out an
:class:`HttpOroClient` per identity: ``for_user`` (a connected mailbox user, so Oro's permissions
decide what they see), ``for_integration`` (background work) or ``with_token``. Clients are cheap,
immutable and safe to call from several threads at once.

Every method returns our records (``connector.oro.records``); no Oro dict leaves this package.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from typing import Any, Protocol, TypeVar
from urllib.parse import parse_qsl, quote, urlsplit

import requests

from connector.oro.auth import (
    ClientCredentialsAuth,
    InMemoryTokenStore,
    OroOAuth,
    StaticTokenAuth,
    TokenStore,
    UserTokenAuth,
)
from connector.oro.capabilities import PROBED_TYPES, Capabilities, ResourceStatus
from connector.oro.config import OroConfig
from connector.oro.errors import (
    OroAccessDenied,
    OroBadRequest,
    OroError,
    OroNotFound,
    OroRejected,
    OroUnexpectedResponse,
)
from connector.oro.query import Query
from connector.oro.records import (
    CLOSED_CASE_STATUSES,
    CLOSED_OPPORTUNITY_STATUSES,
    ENTITY_CLASSES,
    ActivityTarget,
    B2bCustomer,
    Case,
    CompiledTemplate,
    Contact,
    CustomerUser,
    Email,
    EmailContextItem,
    EmailTemplate,
    Included,
    JsonObject,
    Lead,
    NewEmail,
    Note,
    Opportunity,
    Order,
    OroRecord,
    Page,
    PageCursor,
    RecordRef,
    Rfq,
    SearchHit,
    Task,
    User,
    activity_targets,
    angle_bracketed,
    format_datetime,
)
from connector.oro.transport import Authenticator, Document, HttpTransport, OroApi
from connector.settings import Settings

logger = logging.getLogger(__name__)

R = TypeVar("R", bound=OroRecord)

READ_ALL_PAGE_SIZE = 100
"""Page size when reading everything: Oro's own advice for bulk reads is at most 100 (reference §5.2)."""

EMAIL_OWNER_TYPES: tuple[type[OroRecord], ...] = (Contact, Lead, B2bCustomer, CustomerUser, User)


class OroClient(Protocol):
    """What the connector asks of Oro. Implemented over HTTP by :class:`HttpOroClient`."""

    # --- any resource ---
    def get_record(self, record_type: type[R], *, id: str, include: Sequence[str] = ()) -> R: ...

    def list_records(self, record_type: type[R], *, query: Query | None = None) -> Page[R]: ...

    def next_page(self, page: Page[R]) -> Page[R] | None: ...

    def read_all(
        self, record_type: type[R], *, query: Query | None = None, limit: int | None = None
    ) -> list[R]: ...

    # --- who is behind an email ---
    def email_context(
        self, *, message_id: str | Sequence[str], sender: str | None = None, to: Sequence[str] = (),
        cc: Sequence[str] = (), thread: bool = False, entities: Sequence[str] = (),
        exclude_current_user: bool = False, limit: int = 50, include_related: Sequence[str] = (),
    ) -> list[EmailContextItem]: ...

    def find_contacts(self, *, email: str) -> list[Contact]: ...

    def find_leads(self, *, email: str) -> list[Lead]: ...

    def find_b2b_customers(self, *, email: str) -> list[B2bCustomer]: ...

    def find_customer_users(self, *, email: str) -> list[CustomerUser]: ...

    def find_users(self, *, email: str) -> list[User]: ...

    def lookup_by_email(
        self, *, email: str, record_types: Sequence[type[OroRecord]] = EMAIL_OWNER_TYPES
    ) -> list[OroRecord]: ...

    def search(self, *, text: str, entities: Sequence[str] = (), limit: int = 20) -> list[SearchHit]: ...

    # --- related records ---
    def opportunities_of(
        self, *, contact_id: str | None = None, account_id: str | None = None,
        b2b_customer_id: str | None = None, open_only: bool = False, limit: int = 20,
    ) -> list[Opportunity]: ...

    def recent_orders(
        self, *, customer_user_id: str | None = None, customer_id: str | None = None, limit: int = 5
    ) -> list[Order]: ...

    def open_cases(
        self, *, contact_id: str | None = None, account_id: str | None = None, limit: int = 20
    ) -> list[Case]: ...

    def recent_rfqs(
        self, *, customer_user_id: str | None = None, customer_id: str | None = None, limit: int = 5
    ) -> list[Rfq]: ...

    # --- emails and their context ---
    def find_email(self, *, message_id: str) -> Email | None: ...

    def create_email(self, *, email: NewEmail) -> Email: ...

    def email_targets(self, *, email_id: str) -> list[ActivityTarget]: ...

    def add_email_targets(self, *, email_id: str, targets: Sequence[RecordRef]) -> list[ActivityTarget]: ...

    def remove_email_targets(
        self, *, email_id: str, targets: Sequence[RecordRef]
    ) -> list[ActivityTarget]: ...

    def remove_from_thread_context(self, *, email_id: str, target: RecordRef) -> None: ...

    # --- notes, tasks and new records ---
    def create_note(self, *, message: str, targets: Sequence[RecordRef]) -> Note: ...

    def notes_of(self, *, target: RecordRef, limit: int = 20) -> list[Note]: ...

    def tasks_of(self, *, target: RecordRef, limit: int = 20) -> list[Task]: ...

    def create_lead(
        self, *, name: str, first_name: str | None = None, last_name: str | None = None,
        email: str | None = None, phone: str | None = None, company_name: str | None = None,
        job_title: str | None = None,
    ) -> Lead: ...

    def create_contact(
        self, *, first_name: str | None = None, last_name: str | None = None, email: str | None = None,
        phone: str | None = None, job_title: str | None = None, account_id: str | None = None,
    ) -> Contact: ...

    def create_case(
        self, *, subject: str, description: str | None = None, contact_id: str | None = None,
        account_id: str | None = None, source: str = "email", status: str = "open", priority: str = "normal",
    ) -> Case: ...

    def create_opportunity(
        self, *, name: str, account_id: str | None = None, b2b_customer_id: str | None = None,
        contact_id: str | None = None, status: str = "in_progress", close_date: date | None = None,
        customer_need: str | None = None,
    ) -> Opportunity: ...

    def create_task(
        self, *, subject: str, description: str | None = None, due_date: datetime | None = None,
        targets: Sequence[RecordRef] = (), priority: str = "normal", status: str = "open",
    ) -> Task: ...

    # --- email templates (legacy REST) ---
    def email_templates(
        self, *, entity_class: str, include_non_entity: bool = True, include_system: bool = True
    ) -> list[EmailTemplate]: ...

    def compile_email_template(self, *, template_id: str, entity_id: str) -> CompiledTemplate: ...

    # --- the instance ---
    def capabilities(self) -> Capabilities: ...


class _LearnedFacts:
    """Filters this Oro turned down (400 filter constraint), so the fallback is taken at once next time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._unsupported: set[tuple[str, str]] = set()

    def supports(self, resource_type: str, filter_name: str) -> bool:
        with self._lock:
            return (resource_type, filter_name) not in self._unsupported

    def refuse(self, resource_type: str, filter_name: str) -> None:
        with self._lock:
            self._unsupported.add((resource_type, filter_name))


class OroConnection:
    """One Oro: its configuration, one HTTP session and OAuth endpoints, shared by every client."""

    def __init__(
        self,
        config: OroConfig,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.transport = HttpTransport(config, session=session, sleep=sleep, clock=clock)
        self.api = OroApi(self.transport)
        self.oauth = OroOAuth(config, self.transport, clock=clock)
        self._integration_tokens = InMemoryTokenStore()
        self._facts = _LearnedFacts()

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> OroConnection:
        return cls(OroConfig.from_settings(settings), **kwargs)

    def client(self, auth: Authenticator) -> HttpOroClient:
        return HttpOroClient(self.api, auth, facts=self._facts)

    def for_user(self, *, store: TokenStore, key: str) -> HttpOroClient:
        """Calls as the connected user whose tokens ``store`` keeps under ``key``."""
        return self.client(UserTokenAuth(self.oauth, store=store, key=key))

    def for_integration(self) -> HttpOroClient:
        """Calls as the integration client (client credentials), for background work."""
        return self.client(ClientCredentialsAuth(self.oauth, store=self._integration_tokens))

    def with_token(self, access_token: str) -> HttpOroClient:
        return self.client(StaticTokenAuth(access_token))

    def close(self) -> None:
        self.transport.close()


def _email_variants(email: str) -> list[str]:
    """The address as written, then lowercased: Oro's email filters are case-sensitive (reference §3.1)."""
    value = email.strip()
    if not value:
        raise ValueError("an email address is needed")
    return list(dict.fromkeys([value, value.lower()]))


def _one_of(**given: str | None) -> tuple[str, str]:
    chosen = [(name, value) for name, value in given.items() if value]
    if len(chosen) != 1:
        raise ValueError(f"give exactly one of {', '.join(given)}")
    return chosen[0]


def _ref(resource_type: str, record_id: str | None) -> JsonObject:
    return {"data": {"type": resource_type, "id": record_id} if record_id else None}


class HttpOroClient:
    """:class:`OroClient` over Oro's back-office JSON:API, acting as one identity."""

    def __init__(self, api: OroApi, auth: Authenticator, *, facts: _LearnedFacts | None = None) -> None:
        self._api = api
        self._auth = auth
        self._facts = facts or _LearnedFacts()
        self._backoffice_url = api.config.backoffice_url

    def __repr__(self) -> str:
        return f"HttpOroClient({self._api.config.api_base})"

    # --- plumbing -------------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, str]] = (),
        body: JsonObject | None = None,
        total_count: bool = False,
    ) -> Document:
        return self._api.jsonapi(
            method, path, auth=self._auth, params=params, body=body, total_count=total_count
        )

    def _decode(self, record_type: type[R], resource: JsonObject, included: Included) -> R:
        try:
            return record_type.from_jsonapi(resource, included, backoffice_url=self._backoffice_url)
        except (ValueError, KeyError, TypeError) as exc:
            raise OroUnexpectedResponse(
                f"Oro sent a resource the client cannot read as {record_type.__name__}: {exc}",
                url=self._api.config.api_base, status=200,
            ) from exc

    def _page(
        self, record_type: type[R], path: str, params: Sequence[tuple[str, str]], *, total_count: bool = False
    ) -> Page[R]:
        doc = self._call("GET", path, params=params, total_count=total_count)
        items = tuple(self._decode(record_type, r, doc.included) for r in doc.resources)
        cursor = None
        link = doc.next_link
        if link:
            # Follow Oro's next link by its query only: the request goes to our configured base URL
            # (Oro may build links with an internal host name) and tokens never go anywhere else.
            following = tuple(parse_qsl(urlsplit(link).query, keep_blank_values=True))
            cursor = PageCursor(path, following, record_type)
        return Page(items, doc.total_count, cursor)

    def _collect(
        self, record_type: type[R], path: str, params: Sequence[tuple[str, str]], *, limit: int | None
    ) -> list[R]:
        page: Page[R] | None = self._page(record_type, path, params)
        records: list[R] = []
        seen: set[tuple[tuple[str, str], ...]] = set()
        while page is not None:
            records.extend(page.items)
            if (limit is not None and len(records) >= limit) or page.next is None:
                break
            if page.next.params in seen:  # a next link that points back: stop rather than loop
                logger.warning("Oro's next link for %s repeats a page; stopping", path)
                break
            seen.add(page.next.params)
            page = self.next_page(page)
        return records[:limit] if limit is not None else records

    # --- any resource ---------------------------------------------------------------------------

    def get_record(self, record_type: type[R], *, id: str, include: Sequence[str] = ()) -> R:
        params = [("include", ",".join(include))] if include else []
        doc = self._call("GET", f"{record_type.RESOURCE}/{quote(id, safe='')}", params=params)
        resources = doc.resources
        if not resources:
            raise OroUnexpectedResponse(
                "Oro answered without the record", url=self._api.config.api_base, status=200
            )
        return self._decode(record_type, resources[0], doc.included)

    def list_records(self, record_type: type[R], *, query: Query | None = None) -> Page[R]:
        query = query or Query()
        return self._page(record_type, record_type.RESOURCE, query.params(), total_count=query.total_count)

    def next_page(self, page: Page[R]) -> Page[R] | None:
        if page.next is None:
            return None
        return self._page(page.next.record_type, page.next.path, page.next.params)

    def read_all(
        self, record_type: type[R], *, query: Query | None = None, limit: int | None = None
    ) -> list[R]:
        """Every record the query matches, following ``links.next`` (``limit`` stops early)."""
        query = query or Query()
        if query.page_size is None:
            query = query.page(size=READ_ALL_PAGE_SIZE if limit is None else min(limit, READ_ALL_PAGE_SIZE))
        return self._collect(record_type, record_type.RESOURCE, query.params(), limit=limit)

    # --- who is behind an email ---------------------------------------------------------------

    def email_context(
        self, *, message_id: str | Sequence[str], sender: str | None = None, to: Sequence[str] = (),
        cc: Sequence[str] = (), thread: bool = False, entities: Sequence[str] = (),
        exclude_current_user: bool = False, limit: int = 50, include_related: Sequence[str] = (),
    ) -> list[EmailContextItem]:
        """Records that are, or could be, in the context of the message (or its whole thread).

        Works for a message Oro has not stored yet: the addresses still find their owners. The
        Message-ID is sent as Oro stores it (angle brackets) and bare, since it is stored either way.
        ``include_related`` names relationships of the entities to include as well (``customer``,
        ``accounts``): they come back in each item's ``related``.
        """
        ids = [message_id] if isinstance(message_id, str) else list(message_id)
        variants: list[str] = []
        for value in ids:
            bracketed = angle_bracketed(value)
            variants += [bracketed, bracketed[1:-1]]
        query = Query().where("messageId", list(dict.fromkeys(variants)))
        if sender:
            query = query.where("from", sender)
        if to:
            query = query.where("to", list(to))
        if cc:
            query = query.where("cc", list(cc))
        if entities:
            query = query.where("entities", list(entities))
        if exclude_current_user:
            query = query.where("excludeCurrentUser", True)
        paths = ["entity", *(f"entity.{name}" for name in include_related)]
        query = query.including(*paths).page(size=min(limit, READ_ALL_PAGE_SIZE))
        path = "emailthreadcontext" if thread else "emailcontext"
        return self._collect(EmailContextItem, path, query.params(), limit=limit)

    def _find_by_email(self, record_type: type[R], filter_name: str, email: str) -> list[R]:
        query = Query().where(filter_name, _email_variants(email)).page(size=READ_ALL_PAGE_SIZE)
        return self._collect(record_type, record_type.RESOURCE, query.params(), limit=READ_ALL_PAGE_SIZE)

    def find_contacts(self, *, email: str) -> list[Contact]:
        """Contacts having the address among any of their emails."""
        return self._find_by_email(Contact, "emails", email)

    def find_leads(self, *, email: str) -> list[Lead]:
        return self._find_by_email(Lead, "emails", email)

    def find_b2b_customers(self, *, email: str) -> list[B2bCustomer]:
        return self._find_by_email(B2bCustomer, "emails", email)

    def find_customer_users(self, *, email: str) -> list[CustomerUser]:
        return self._find_by_email(CustomerUser, "email", email)

    def find_users(self, *, email: str) -> list[User]:
        return self._find_by_email(User, "email", email)

    def lookup_by_email(
        self, *, email: str, record_types: Sequence[type[OroRecord]] = EMAIL_OWNER_TYPES
    ) -> list[OroRecord]:
        """Every record of ``record_types`` owning the address; types the instance lacks (404) or this
        user may not read (403) are skipped. The fallback where ``emailcontext`` is missing."""
        filters = {
            Contact: "emails", Lead: "emails", B2bCustomer: "emails", CustomerUser: "email", User: "email",
        }
        found: list[OroRecord] = []
        for record_type in record_types:
            try:
                found.extend(self._find_by_email(record_type, filters.get(record_type, "email"), email))
            except OroNotFound as exc:
                if not exc.resource_missing:
                    raise
                logger.info("Oro has no %s resource; skipped in the address look-up", record_type.RESOURCE)
            except OroAccessDenied:
                logger.info("This Oro user may not read %s; skipping it", record_type.RESOURCE)
        return found

    def search(self, *, text: str, entities: Sequence[str] = (), limit: int = 20) -> list[SearchHit]:
        query = Query().where("searchText", text)
        if entities:
            query = query.where("entities", list(entities))
        query = query.including("entity").page(size=min(limit, READ_ALL_PAGE_SIZE))
        return self._collect(SearchHit, "search", query.params(), limit=limit)

    # --- related records ------------------------------------------------------------------------

    def opportunities_of(
        self, *, contact_id: str | None = None, account_id: str | None = None,
        b2b_customer_id: str | None = None, open_only: bool = False, limit: int = 20,
    ) -> list[Opportunity]:
        """Opportunities of a contact, an account or a B2B customer, newest first.

        ``account`` and ``customer`` reach opportunities through ``customerAssociation``, which Oro may
        not offer as a filter (reference §3.3). For an account the filter is tried once; on a 400
        filter constraint the client reads the account's B2B customers and their ``opportunities``
        relationships instead, and remembers to go that way directly next time.
        """
        name, value = _one_of(contact_id=contact_id, account_id=account_id, b2b_customer_id=b2b_customer_id)
        base = Query().sorted_by("-id")
        if open_only:
            base = base.where("status", list(CLOSED_OPPORTUNITY_STATUSES), op="neq")
        if name == "contact_id":
            return self.read_all(Opportunity, query=base.where("contact", value), limit=limit)
        if name == "account_id":
            if self._facts.supports("opportunities", "account"):
                try:
                    return self.read_all(Opportunity, query=base.where("account", value), limit=limit)
                except OroBadRequest as exc:
                    if exc.parameter != "filter[account]" and exc.title != "filter constraint":
                        raise
                    self._facts.refuse("opportunities", "account")
                    logger.info("Oro does not filter opportunities by account; using B2B customers instead")
            customers = self.read_all(B2bCustomer, query=Query().where("account", value))
            ids = [oid for customer in customers for oid in customer.opportunity_ids]
        else:
            ids = list(self.get_record(B2bCustomer, id=value).opportunity_ids)
        if not ids:
            return []
        return self.read_all(Opportunity, query=base.where("id", list(dict.fromkeys(ids))), limit=limit)

    def recent_orders(
        self, *, customer_user_id: str | None = None, customer_id: str | None = None, limit: int = 5
    ) -> list[Order]:
        """The newest orders of a customer user (a person) or a customer (a company)."""
        name, value = _one_of(customer_user_id=customer_user_id, customer_id=customer_id)
        field = "customerUser" if name == "customer_user_id" else "customer"
        query = Query().where(field, value).sorted_by("-createdAt").page(size=limit)
        return list(self.list_records(Order, query=query).items)

    def open_cases(
        self, *, contact_id: str | None = None, account_id: str | None = None, limit: int = 20
    ) -> list[Case]:
        """Cases of a contact or account that are neither resolved nor closed, newest first."""
        name, value = _one_of(contact_id=contact_id, account_id=account_id)
        field = "relatedContact" if name == "contact_id" else "relatedAccount"
        query = (
            Query().where(field, value).where("status", list(CLOSED_CASE_STATUSES), op="neq").sorted_by("-id")
        )
        return self.read_all(Case, query=query, limit=limit)

    def recent_rfqs(
        self, *, customer_user_id: str | None = None, customer_id: str | None = None, limit: int = 5
    ) -> list[Rfq]:
        name, value = _one_of(customer_user_id=customer_user_id, customer_id=customer_id)
        field = "customerUser" if name == "customer_user_id" else "customer"
        query = Query().where(field, value).sorted_by("-id").page(size=limit)
        return list(self.list_records(Rfq, query=query).items)

    # --- emails ---------------------------------------------------------------------------------

    def find_email(self, *, message_id: str) -> Email | None:
        """The email Oro stored with this Message-ID, if any (check before logging one)."""
        bracketed = angle_bracketed(message_id)
        query = Query().where("messageId", [bracketed, bracketed[1:-1]]).sorted_by("id").page(size=1)
        page = self.list_records(Email, query=query)
        return page.items[0] if page.items else None

    def create_email(self, *, email: NewEmail) -> Email:
        """Log an email into Oro (its ``references`` let Oro thread it). Oro has no duplicate check
        documented for ``messageId``: callers look it up with :meth:`find_email` first."""
        created = self._created(Email, self._call("POST", "emails", body=email.to_jsonapi()))
        logger.info("Logged an email into Oro as emails/%s", created.id)
        return created

    def _created(self, record_type: type[R], doc: Document) -> R:
        if not doc.resources:
            raise OroUnexpectedResponse(
                f"Oro created a {record_type.RESOURCE} record but sent none back",
                url=self._api.config.api_base, status=doc.status,
            )
        return self._decode(record_type, doc.resources[0], doc.included)

    def _targets_path(self, email_id: str) -> str:
        return f"emails/{quote(email_id, safe='')}/relationships/activityTargets"

    def email_targets(self, *, email_id: str) -> list[ActivityTarget]:
        path = self._targets_path(email_id)
        params: list[tuple[str, str]] = [("page[size]", str(READ_ALL_PAGE_SIZE))]
        targets: list[ActivityTarget] = []
        while True:
            doc = self._call("GET", path, params=params)
            targets.extend(activity_targets(doc.data))
            link = doc.next_link
            if not link:
                return targets
            following = parse_qsl(urlsplit(link).query, keep_blank_values=True)
            if following == params:
                return targets
            params = following

    def _change_targets(
        self, method: str, email_id: str, targets: Sequence[RecordRef]
    ) -> list[ActivityTarget]:
        body = {"data": [t.to_jsonapi() for t in targets]}
        doc = self._call(method, self._targets_path(email_id), body=body)
        if doc.status == 204:  # the generic answer; Oro answers 200 with the list for emails
            return self.email_targets(email_id=email_id)
        return list(activity_targets(doc.data))

    def add_email_targets(self, *, email_id: str, targets: Sequence[RecordRef]) -> list[ActivityTarget]:
        """Add records to the email's context; returns the whole resulting list."""
        return self._change_targets("POST", email_id, targets)

    def remove_email_targets(self, *, email_id: str, targets: Sequence[RecordRef]) -> list[ActivityTarget]:
        """Remove records from this one email's context; returns what remains."""
        return self._change_targets("DELETE", email_id, targets)

    def remove_from_thread_context(self, *, email_id: str, target: RecordRef) -> None:
        """Remove a record from the context of every email in the thread (``{type}-{id}-{emailId}``)."""
        self._call("DELETE", f"emailthreadcontext/{quote(f'{target.type}-{target.id}-{email_id}', safe='')}")

    # --- notes, tasks and new records -------------------------------------------------------------

    def create_note(self, *, message: str, targets: Sequence[RecordRef]) -> Note:
        """Attach a note to records. ``message`` is HTML: escape plain text before passing it."""
        if not targets:
            raise ValueError("a note needs at least one record to attach to")
        body = {"data": {
            "type": "notes", "attributes": {"message": message},
            "relationships": {"activityTargets": {"data": [t.to_jsonapi() for t in targets]}},
        }}
        return self._created(Note, self._call("POST", "notes", body=body))

    def _activities(self, record_type: type[R], association: str, target: RecordRef, limit: int) -> list[R]:
        path = f"{target.type}/{quote(target.id, safe='')}/{association}"
        query = Query().sorted_by("-id").page(size=min(limit, READ_ALL_PAGE_SIZE))
        return self._collect(record_type, path, query.params(), limit=limit)

    def notes_of(self, *, target: RecordRef, limit: int = 20) -> list[Note]:
        """Notes attached to a record, newest first (its ``activityNotes`` association)."""
        return self._activities(Note, "activityNotes", target, limit)

    def tasks_of(self, *, target: RecordRef, limit: int = 20) -> list[Task]:
        return self._activities(Task, "activityTasks", target, limit)

    def create_lead(
        self, *, name: str, first_name: str | None = None, last_name: str | None = None,
        email: str | None = None, phone: str | None = None, company_name: str | None = None,
        job_title: str | None = None,
    ) -> Lead:
        attributes: JsonObject = {"name": name}
        attributes.update(_person_attributes(first_name, last_name, email, phone, job_title))
        if company_name:
            attributes["companyName"] = company_name
        body = {"data": {"type": "leads", "attributes": attributes}}
        return self._created(Lead, self._call("POST", "leads", body=body))

    def create_contact(
        self, *, first_name: str | None = None, last_name: str | None = None, email: str | None = None,
        phone: str | None = None, job_title: str | None = None, account_id: str | None = None,
    ) -> Contact:
        if not (first_name or last_name or email or phone):
            raise ValueError("a contact needs a first name, a last name, an email or a phone")
        attributes = _person_attributes(first_name, last_name, email, phone, job_title)
        resource: JsonObject = {"type": "contacts", "attributes": attributes}
        if account_id:
            resource["relationships"] = {"accounts": {"data": [{"type": "accounts", "id": account_id}]}}
        return self._created(Contact, self._call("POST", "contacts", body={"data": resource}))

    def create_case(
        self, *, subject: str, description: str | None = None, contact_id: str | None = None,
        account_id: str | None = None, source: str = "email", status: str = "open", priority: str = "normal",
    ) -> Case:
        """Open a case; Oro requires its source, status and priority (``case_entity.md``)."""
        relationships: JsonObject = {
            "source": _ref("casesources", source), "status": _ref("casestatuses", status),
            "priority": _ref("casepriorities", priority),
        }
        if contact_id:
            relationships["relatedContact"] = _ref("contacts", contact_id)
        if account_id:
            relationships["relatedAccount"] = _ref("accounts", account_id)
        attributes: JsonObject = {"subject": subject}
        if description:
            attributes["description"] = description
        body = {"data": {"type": "cases", "attributes": attributes, "relationships": relationships}}
        return self._created(Case, self._call("POST", "cases", body=body))

    def create_opportunity(
        self, *, name: str, account_id: str | None = None, b2b_customer_id: str | None = None,
        contact_id: str | None = None, status: str = "in_progress", close_date: date | None = None,
        customer_need: str | None = None,
    ) -> Opportunity:
        """Open an opportunity. Oro requires a name and an account or a business customer; when both are
        given the customer must belong to the account (``opportunity.md``)."""
        if not (account_id or b2b_customer_id):
            raise ValueError("an opportunity needs an account or a business customer")
        attributes: JsonObject = {"name": name}
        if close_date:
            attributes["closeDate"] = close_date.isoformat()
        if customer_need:
            attributes["customerNeed"] = customer_need
        relationships: JsonObject = {"status": _ref("opportunitystatuses", status)}
        if account_id:
            relationships["account"] = _ref("accounts", account_id)
        if b2b_customer_id:
            relationships["customer"] = _ref("b2bcustomers", b2b_customer_id)
        if contact_id:
            relationships["contact"] = _ref("contacts", contact_id)
        body = {"data": {"type": "opportunities", "attributes": attributes, "relationships": relationships}}
        return self._created(Opportunity, self._call("POST", "opportunities", body=body))

    def create_task(
        self, *, subject: str, description: str | None = None, due_date: datetime | None = None,
        targets: Sequence[RecordRef] = (), priority: str = "normal", status: str = "open",
    ) -> Task:
        attributes: JsonObject = {"subject": subject}
        if description:
            attributes["description"] = description
        if due_date:
            attributes["dueDate"] = format_datetime(due_date)
        relationships: JsonObject = {
            "taskPriority": _ref("taskpriorities", priority), "status": _ref("taskstatuses", status),
        }
        if targets:
            relationships["activityTargets"] = {"data": [t.to_jsonapi() for t in targets]}
        body = {"data": {"type": "tasks", "attributes": attributes, "relationships": relationships}}
        return self._created(Task, self._call("POST", "tasks", body=body))

    # --- email templates (legacy REST) ------------------------------------------------------------

    def email_templates(
        self, *, entity_class: str, include_non_entity: bool = True, include_system: bool = True
    ) -> list[EmailTemplate]:
        """Oro's templates for an entity class (``records.ENTITY_CLASSES`` maps types to classes)."""
        entity = entity_class.replace("\\", "_")
        flags = f"{int(include_non_entity)}/{int(include_system)}"
        path = f"emailtemplates/list/{quote(entity, safe='')}/{flags}.json"
        body = self._api.legacy("GET", path, auth=self._auth)
        if not isinstance(body, list):
            raise OroUnexpectedResponse(
                "Oro's template list is not a list", url=self._api.config.legacy_rest_base, status=200
            )
        return [EmailTemplate.from_legacy(item) for item in body if isinstance(item, dict) and "id" in item]

    def compile_email_template(self, *, template_id: str, entity_id: str) -> CompiledTemplate:
        """The template rendered by Oro for one record."""
        path = f"emailtemplates/compiled/{quote(template_id, safe='')}/{quote(entity_id, safe='')}.json"
        body = self._api.legacy("GET", path, auth=self._auth)
        if not isinstance(body, dict):
            raise OroUnexpectedResponse(
                "Oro's compiled template is not an object", url=self._api.config.legacy_rest_base, status=200
            )
        return CompiledTemplate.from_legacy(body)

    # --- the instance ---------------------------------------------------------------------------

    def capabilities(self) -> Capabilities:
        """Probe which resource types this Oro offers (see ``connector.oro.capabilities``)."""
        with ThreadPoolExecutor(max_workers=6, thread_name_prefix="oro-probe") as pool:
            statuses = list(pool.map(self._probe, PROBED_TYPES))
        return Capabilities(
            api_base=self._api.config.api_base,
            resources=dict(zip(PROBED_TYPES, statuses, strict=True)),
            legacy_templates=self._probe_legacy(),
        )

    def _probe(self, resource_type: str) -> ResourceStatus:
        try:
            self._call("GET", resource_type, params=[("page[size]", "1")])
        except OroBadRequest:
            return "available"  # it exists, it just wants filters (emailcontext needs messageId)
        except OroAccessDenied:
            return "forbidden"
        except OroRejected as exc:
            if exc.status in (404, 405):
                return "missing"
            raise
        return "available"

    def _probe_legacy(self) -> ResourceStatus:
        try:
            # The operation itself, for an entity every Oro has.
            entity = ENTITY_CLASSES["users"].replace("\\", "_")
            self._api.legacy("GET", f"emailtemplates/list/{entity}/0/0.json", auth=self._auth)
        except OroAccessDenied:
            return "forbidden"
        except OroUnexpectedResponse:
            return "missing"  # e.g. an HTML page where the legacy API is not routed
        except OroRejected as exc:
            if exc.status in (404, 405):
                return "missing"
            raise
        return "available"


def _person_attributes(
    first_name: str | None, last_name: str | None, email: str | None, phone: str | None, job_title: str | None
) -> JsonObject:
    attributes: JsonObject = {}
    if first_name:
        attributes["firstName"] = first_name
    if last_name:
        attributes["lastName"] = last_name
    if job_title:
        attributes["jobTitle"] = job_title
    if email:
        # When ``emails`` is sent it must hold the full list, primary address included (reference §3.1).
        attributes["primaryEmail"] = email
        attributes["emails"] = [{"email": email}]
    if phone:
        attributes["primaryPhone"] = phone
        attributes["phones"] = [{"phone": phone}]
    return attributes


def oro_check(settings: Settings) -> list[tuple[str, bool, str]]:
    """Rows for ``oro-connector check``: reach Oro as the integration client and report its capabilities."""
    if not settings.oro_url:
        return [("Oro", False, "ORO_CONNECTOR_ORO_URL is not set")]
    connection = OroConnection.from_settings(settings)
    try:
        capabilities = connection.for_integration().capabilities()
    except OroError as exc:
        return [("Oro", False, str(exc))]
    finally:
        connection.close()
    return capabilities.check_lines()
