"""Contract tests: the Oro client against a whole Oro.

By default every test runs against the sandbox's Oro (``connector.sandbox``), served on a loopback
port by the ``sandbox_server`` fixture, as an OroCommerce back office (prefix ``admin``).

The same tests also run against a real Oro when these variables are set:

``ORO_CONNECTOR_TEST_ORO_URL``
    The Oro's base URL, e.g. ``https://oro.example.com``.
``ORO_CONNECTOR_TEST_ORO_PREFIX``
    Its back-office prefix: ``admin`` (OroCommerce, the default when unset) or empty (OroCRM, OroPlatform).
``ORO_CONNECTOR_TEST_ORO_CLIENT_ID``, ``ORO_CONNECTOR_TEST_ORO_CLIENT_SECRET``
    An OAuth application of that Oro with the client-credentials grant (System > User Management >
    OAuth Applications); the tests act as its user.
``ORO_CONNECTOR_TEST_ORO_ALLOW_WRITES=1``
    Only then do the tests that create records (emails, notes, leads, contacts, cases, tasks) run
    against the real Oro. What they create is named "Oro Connector contract test" and is not deleted
    (Oro's API cannot delete emails).

The suite blocks non-loopback network like every test here, so allow the Oro's host explicitly::

    ORO_CONNECTOR_TEST_ORO_URL=https://oro.example.com ... \\
        .venv/bin/pytest tests/oro/test_contract.py -m oro_live --allow-hosts=127.0.0.1,oro.example.com

Against a real Oro the tests find their own data (a contact, an order, ...) and skip when it has none;
the tests that need the sandbox's named sample people, its fault injection, or a scripted user login
run against the sandbox only.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from connector.oro import (
    ENTITY_CLASSES,
    Account,
    B2bCustomer,
    Case,
    Contact,
    CustomerUser,
    EmailAddress,
    EmailBody,
    HttpOroClient,
    InMemoryTokenStore,
    Lead,
    NewEmail,
    Opportunity,
    Order,
    OroAccessDenied,
    OroAuthExpired,
    OroBadRequest,
    OroConfig,
    OroConnection,
    OroNotFound,
    OroUnavailable,
    Query,
    RecordRef,
    User,
)

LIVE_URL = "ORO_CONNECTOR_TEST_ORO_URL"
TEST_LABEL = "Oro Connector contract test"


@dataclass
class OroUnderTest:
    """One Oro the contract runs against, and what may be done there."""

    kind: str  # "sandbox" or "live"
    connection: OroConnection
    writes_allowed: bool
    world: Any = None  # the SandboxWorld, for the sandbox

    @property
    def client(self) -> HttpOroClient:
        """The integration client (client credentials)."""
        return self.connection.for_integration()

    def sandbox_only(self, why: str) -> Any:
        if self.world is None:
            pytest.skip(f"sandbox only: {why}")
        return self.world

    def require_writes(self) -> None:
        if not self.writes_allowed:
            pytest.skip("writes to this Oro are not allowed (set ORO_CONNECTOR_TEST_ORO_ALLOW_WRITES=1)")


def sandbox_config(oro_url: str, **overrides: Any) -> OroConfig:
    from connector.sandbox import examples as ex

    values: dict[str, Any] = {
        "oro_url": oro_url, "backoffice_prefix": "admin",
        "client_id": ex.CONNECTOR_CLIENT_ID, "client_secret": ex.CONNECTOR_CLIENT_SECRET,
        "integration_client_id": ex.INTEGRATION_CLIENT_ID,
        "integration_client_secret": ex.INTEGRATION_CLIENT_SECRET,
        "connect_timeout": 2.0, "read_timeout": 10.0,
    }
    values.update(overrides)
    return OroConfig(**values)


# The live Oro joins only when configured, so an ordinary run shows no skipped twin of every test.
TARGETS: list[Any] = ["sandbox"]
if os.environ.get(LIVE_URL):
    TARGETS.append(pytest.param("live", marks=pytest.mark.oro_live))


@pytest.fixture(params=TARGETS)
def oro(request: pytest.FixtureRequest) -> Iterator[OroUnderTest]:
    if request.param == "sandbox":
        server = request.getfixturevalue("sandbox_server")
        connection = OroConnection(sandbox_config(f"{server.url}/sandbox/oro"))
        yield OroUnderTest("sandbox", connection, writes_allowed=True, world=server.world)
    else:
        url = os.environ.get(LIVE_URL, "")
        if not url:
            pytest.skip(f"no real Oro: set {LIVE_URL} and its credentials to run the contract against one")
        config = OroConfig(
            oro_url=url,
            backoffice_prefix=os.environ.get("ORO_CONNECTOR_TEST_ORO_PREFIX", "admin"),
            integration_client_id=os.environ.get("ORO_CONNECTOR_TEST_ORO_CLIENT_ID", ""),
            integration_client_secret=os.environ.get("ORO_CONNECTOR_TEST_ORO_CLIENT_SECRET", ""),
        )
        connection = OroConnection(config)
        allowed = os.environ.get("ORO_CONNECTOR_TEST_ORO_ALLOW_WRITES") == "1"
        yield OroUnderTest("live", connection, writes_allowed=allowed)
    connection.close()


def first(oro: OroUnderTest, record_type: type, query: Query | None = None) -> Any:
    """Some record of ``record_type`` that the Oro under test has (skip when it has none)."""
    if not oro.client.capabilities().has(record_type.RESOURCE):
        pytest.skip(f"this Oro has no {record_type.RESOURCE}")
    page = oro.client.list_records(record_type, query=(query or Query()).page(size=1))
    if not page.items:
        pytest.skip(f"this Oro has no {record_type.RESOURCE} to test with")
    return page.items[0]


def sign_in(oro: OroUnderTest, username: str, store: InMemoryTokenStore) -> HttpOroClient:
    """The whole authorization-code + PKCE dance through the sandbox's login page."""
    from connector.sandbox import examples as ex

    start = oro.connection.oauth.start_authorization(redirect_uri="http://127.0.0.1:9/oro/callback")
    answer = requests.post(
        start.url, data={"username": username, "password": ex.SANDBOX_PASSWORD, "decision": "allow"},
        allow_redirects=False, timeout=5,
    )
    assert answer.status_code == 302, answer.text[:200]
    redirect = urlsplit(answer.headers["Location"])
    returned = {k: v[0] for k, v in parse_qs(redirect.query).items()}
    assert f"{redirect.scheme}://{redirect.netloc}{redirect.path}" == start.redirect_uri
    assert returned["state"] == start.state
    tokens = oro.connection.oauth.exchange_code(
        code=returned["code"], code_verifier=start.code_verifier, redirect_uri=start.redirect_uri
    )
    store.save(username, tokens)
    return oro.connection.for_user(store=store, key=username)


def unique_message_id() -> str:
    return f"<contract-{uuid.uuid4().hex}@oro-connector.test>"


# --- the instance ------------------------------------------------------------------------------------


def test_the_capability_report_lists_what_the_instance_offers(oro: OroUnderTest) -> None:
    capabilities = oro.client.capabilities()

    assert capabilities.api_enabled
    report = capabilities.report()
    assert report[0] == f"Oro API at {oro.connection.config.api_base}"
    if oro.world is not None:  # the sandbox is a 6.x Commerce + CRM back office with every resource
        assert all(status == "available" for status in capabilities.resources.values())
        assert capabilities.legacy_templates == "available"
        assert capabilities.lacks() == []


def test_the_sandbox_without_emails_is_reported_as_an_oro_before_6(oro: OroUnderTest) -> None:
    world = oro.sandbox_only("switches resources off")
    world.oro.settings.disabled_resources = frozenset({"emails", "emailcontext", "emailthreadcontext"})

    capabilities = oro.client.capabilities()

    assert not capabilities.emails_api and not capabilities.email_context and capabilities.crm
    assert any("Oro before 6.0" in line for line in capabilities.report())


# --- reading -------------------------------------------------------------------------------------------


def test_a_paged_read_returns_every_record_once_in_id_order(oro: OroUnderTest) -> None:
    first(oro, Contact)
    page = oro.client.list_records(Contact, query=Query().page(size=7).counted())
    assert page.total_count is not None and len(page.items) == min(7, page.total_count)
    if page.total_count > 400:
        pytest.skip("too many contacts to read them all in a test")

    everyone = oro.client.read_all(Contact, query=Query().page(size=7))

    ids = [int(c.id) for c in everyone]
    assert len(ids) == page.total_count == len(set(ids))
    assert ids == sorted(ids)  # Oro's default order is id ascending


def test_a_record_reads_back_the_same_by_id(oro: OroUnderTest) -> None:
    listed = first(oro, Contact)

    fetched = oro.client.get_record(Contact, id=listed.id)

    assert fetched == listed
    assert fetched.url and fetched.url.startswith(oro.connection.config.backoffice_url)


def test_an_unknown_id_is_not_found(oro: OroUnderTest) -> None:
    first(oro, Contact)
    with pytest.raises(OroNotFound) as caught:
        oro.client.get_record(Contact, id="987654321")
    assert not caught.value.resource_missing


def test_a_contact_is_found_by_its_address(oro: OroUnderTest) -> None:
    known = first(oro, Contact, Query().where("primaryEmail", True, op="exists"))
    assert known.primary_email

    found = oro.client.find_contacts(email=known.primary_email)

    assert known.id in [c.id for c in found]


def test_customer_users_and_leads_are_found_by_address(oro: OroUnderTest) -> None:
    customer_user = first(oro, CustomerUser)
    lead = first(oro, Lead, Query().where("primaryEmail", True, op="exists"))

    assert customer_user.email and customer_user.id in [
        u.id for u in oro.client.find_customer_users(email=customer_user.email)]
    assert lead.primary_email and lead.id in [x.id for x in oro.client.find_leads(email=lead.primary_email)]


def test_the_person_in_three_roles_is_found_in_each(oro: OroUnderTest) -> None:
    oro.sandbox_only("uses the sandbox's named people")
    from connector.sandbox import examples as ex

    found = oro.client.lookup_by_email(email=ex.TRIPLE_PERSON_EMAIL)

    assert {r.type for r in found} >= {"contacts", "customerusers", "leads"}
    assert all(ex.TRIPLE_PERSON_NAME.split()[0] in r.title for r in found if r.type != "leads")


def test_two_contacts_sharing_an_address_are_both_found(oro: OroUnderTest) -> None:
    oro.sandbox_only("uses the sandbox's named people")
    from connector.sandbox import examples as ex

    found = oro.client.find_contacts(email=ex.SHARED_ADDRESS)

    assert sorted(c.title for c in found) == sorted(ex.SHARED_ADDRESS_NAMES)


def test_a_secondary_address_finds_its_contact(oro: OroUnderTest) -> None:
    oro.sandbox_only("uses the sandbox's named people")
    from connector.sandbox import examples as ex

    [found] = oro.client.find_contacts(email=ex.SECONDARY_ADDRESS)

    assert found.primary_email == ex.SECONDARY_PRIMARY_ADDRESS
    assert ex.SECONDARY_ADDRESS in found.emails


def test_search_finds_a_contact_by_name(oro: OroUnderTest) -> None:
    known = first(oro, Contact, Query().where("lastName", True, op="exists"))
    if not oro.client.capabilities().has("search"):
        pytest.skip("this Oro has no search API")

    name = f"{known.first_name or ''} {known.last_name}".strip()
    hits = oro.client.search(text=name, entities=["contacts"])

    match = next(h for h in hits if h.entity == known.ref)
    assert match.url and match.title
    assert match.record is not None and match.record.id == known.id


# --- related records -----------------------------------------------------------------------------------


def test_recent_orders_of_a_customer_user_are_theirs_and_newest_first(oro: OroUnderTest) -> None:
    order = first(oro, Order, Query().where("customerUser", True, op="exists"))
    assert order.customer_user_id

    recent = oro.client.recent_orders(customer_user_id=order.customer_user_id, limit=5)

    assert recent and all(o.customer_user_id == order.customer_user_id for o in recent)
    stamps = [o.created_at for o in recent]
    assert all(s is not None for s in stamps) and stamps == sorted(stamps, reverse=True)  # type: ignore[type-var]
    assert all(isinstance(o.total_value, Decimal) and o.currency for o in recent)
    assert all(o.internal_status for o in recent)


def test_opportunities_of_an_account_include_its_customers_deals(oro: OroUnderTest) -> None:
    # Oro filters opportunities by neither account nor customer (customerAssociation, reference §3.3):
    # find a deal from the B2B customer's side.
    customer = first(oro, B2bCustomer, Query().where("opportunities", True, op="exists"))
    deal = oro.client.get_record(Opportunity, id=customer.opportunity_ids[0])
    if deal.account_id is None:
        pytest.skip("the opportunity found has no account")

    of_account = oro.client.opportunities_of(account_id=deal.account_id, limit=100)
    of_customer = oro.client.opportunities_of(b2b_customer_id=customer.id, limit=100)

    assert deal.id in [o.id for o in of_account]
    assert sorted(o.id for o in of_customer) == sorted(customer.opportunity_ids)
    assert all(o.account_id == deal.account_id for o in of_account)


def test_open_opportunities_of_a_contact_leave_out_won_and_lost(oro: OroUnderTest) -> None:
    deal = first(oro, Opportunity, Query().where("contact", True, op="exists"))
    assert deal.contact_id

    everything = oro.client.opportunities_of(contact_id=deal.contact_id, limit=100)
    still_open = oro.client.opportunities_of(contact_id=deal.contact_id, open_only=True, limit=100)

    assert deal.id in [o.id for o in everything]
    assert [o.id for o in still_open] == [o.id for o in everything if o.is_open]


def test_open_cases_of_a_contact_are_neither_resolved_nor_closed(oro: OroUnderTest) -> None:
    case = first(oro, Case, Query().where("relatedContact", True, op="exists"))
    assert case.related_contact_id

    open_cases = oro.client.open_cases(contact_id=case.related_contact_id)
    every_case = oro.client.read_all(Case, query=Query().where("relatedContact", case.related_contact_id))

    assert [c.id for c in open_cases] == sorted(
        (c.id for c in every_case if c.status not in ("resolved", "closed")), key=int, reverse=True)


# --- permissions and OAuth (sandbox users) ---------------------------------------------------------------


def test_a_signed_in_user_sees_only_what_oro_lets_them_see(oro: OroUnderTest) -> None:
    oro.sandbox_only("signs users in through the sandbox's login page")
    from connector.sandbox import examples as ex

    store = InMemoryTokenStore()
    alice = sign_in(oro, "alice", store)
    admin = sign_in(oro, "admin", store)
    [hidden] = admin.find_contacts(email=ex.HIDDEN_FROM_ALICE_EMAIL)

    assert alice.find_contacts(email=ex.HIDDEN_FROM_ALICE_EMAIL) == []
    with pytest.raises(OroAccessDenied):
        alice.get_record(Contact, id=hidden.id)
    assert alice.find_contacts(email=ex.TRIPLE_PERSON_EMAIL)  # her own business unit's contact


def test_an_expired_token_is_refreshed_and_the_old_refresh_token_is_spent(oro: OroUnderTest) -> None:
    oro.sandbox_only("signs users in through the sandbox's login page")
    store = InMemoryTokenStore()
    bob = sign_in(oro, "bob", store)
    before = store.load("bob")
    assert before is not None and before.refresh_token
    store.save("bob", replace(before, expires_at=datetime.now(UTC) - timedelta(minutes=1)))

    bob.list_records(Contact, query=Query().page(size=1))

    after = store.load("bob")
    assert after is not None and after.access_token != before.access_token
    assert after.refresh_token != before.refresh_token  # rotated
    with pytest.raises(OroAuthExpired):
        oro.connection.oauth.refresh(refresh_token=before.refresh_token)


def test_a_revoked_connection_asks_the_user_to_connect_again(oro: OroUnderTest) -> None:
    oro.sandbox_only("signs users in through the sandbox's login page")
    store = InMemoryTokenStore()
    bob = sign_in(oro, "bob", store)
    tokens = store.load("bob")
    assert tokens is not None and tokens.refresh_token
    oro.connection.oauth.refresh(refresh_token=tokens.refresh_token)  # someone else spent it
    store.save("bob", replace(tokens, access_token="revoked-access-token"))

    with pytest.raises(OroAuthExpired):
        bob.list_records(Contact, query=Query().page(size=1))


# --- emails and their context ----------------------------------------------------------------------------


def test_email_context_finds_the_sender_of_a_message_oro_does_not_have(oro: OroUnderTest) -> None:
    if not oro.client.capabilities().email_context:
        pytest.skip("this Oro has no email context API (before 6.0)")
    known = first(oro, Contact, Query().where("primaryEmail", True, op="exists"))

    items = oro.client.email_context(message_id=unique_message_id(), sender=known.primary_email)

    mine = next(i for i in items if i.entity == known.ref)
    assert mine.is_context is False and mine.title and mine.url
    assert mine.record is not None and mine.record.id == known.id


def test_email_context_recognises_an_address_in_another_case(oro: OroUnderTest) -> None:
    oro.sandbox_only("uses the sandbox's named people")
    from connector.sandbox import examples as ex

    assert oro.client.find_contacts(email=ex.MIXED_CASE_SENT_EMAIL) == []  # Oro's filters are case-sensitive
    items = oro.client.email_context(message_id=unique_message_id(), sender=ex.MIXED_CASE_SENT_EMAIL)

    assert any(i.entity.type == "contacts" and "Lefèvre" in i.title for i in items)


def test_a_thread_stored_in_oro_shows_its_linked_records(oro: OroUnderTest) -> None:
    oro.sandbox_only("uses the sandbox's stored thread")
    from connector.sandbox import examples as ex

    stored = oro.client.find_email(message_id=ex.LINKED_THREAD_MESSAGE_IDS[0])
    assert stored is not None and stored.message_id == ex.LINKED_THREAD_MESSAGE_IDS[0]
    context = oro.client.email_context(message_id=ex.LINKED_THREAD_MESSAGE_IDS[-1], thread=True)

    linked = {(i.entity.type, i.title) for i in context if i.is_context}
    assert ("accounts", ex.UNKNOWN_SENDER_COMPANY) in linked
    assert {t.type for t in stored.targets} >= {"contacts", "accounts"}


def test_an_email_is_logged_threaded_and_linked(oro: OroUnderTest) -> None:
    oro.require_writes()
    if not oro.client.capabilities().emails_api:
        pytest.skip("this Oro has no emails API (before 6.0)")
    person = first(oro, Contact, Query().where("primaryEmail", True, op="exists"))
    account = first(oro, Account)
    client = oro.client
    sent = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    original = NewEmail(
        message_id=unique_message_id(), subject=f"{TEST_LABEL}: quote",
        sender=EmailAddress(person.primary_email),
        to=(EmailAddress("sales@oro-connector.test", "Sales"),), sent_at=sent,
        body=EmailBody("Could you send a quote?"),
    )

    assert client.find_email(message_id=original.message_id) is None
    logged = client.create_email(email=original)
    reply = client.create_email(email=replace(
        original, message_id=unique_message_id(), subject=f"Re: {original.subject}",
        sender=EmailAddress("sales@oro-connector.test"), to=(EmailAddress(person.primary_email),),
        sent_at=sent + timedelta(minutes=1), references=(original.message_id,), targets=(),
    ))

    assert logged.message_id == original.message_id and logged.sent_at == sent
    assert person.ref in [t.ref for t in logged.targets]  # Oro linked the sender's contact by itself
    assert reply.targets == ()
    found = client.find_email(message_id=original.message_id)
    assert found is not None and (found.id, found.subject) == (logged.id, original.subject)
    assert found.head is False  # the reply is now the newest of the thread

    after_add = client.add_email_targets(email_id=logged.id, targets=[account.ref])
    assert account.ref in [t.ref for t in after_add]
    assert all(t.context_item_id for t in after_add)
    assert account.ref in [t.ref for t in client.email_targets(email_id=logged.id)]
    thread = client.email_context(message_id=reply.message_id or "", thread=True)
    assert account.ref in [i.entity for i in thread if i.is_context]  # the reply shares the thread

    after_remove = client.remove_email_targets(email_id=logged.id, targets=[account.ref])
    assert account.ref not in [t.ref for t in after_remove]

    client.add_email_targets(email_id=reply.id, targets=[account.ref])
    client.remove_from_thread_context(email_id=reply.id, target=account.ref)
    assert account.ref not in [t.ref for t in client.email_targets(email_id=reply.id)]


def test_a_note_is_attached_to_a_record_and_listed_with_it(oro: OroUnderTest) -> None:
    oro.require_writes()
    person = first(oro, Contact)
    text = f"<p>{TEST_LABEL}: called back {uuid.uuid4().hex[:8]}</p>"

    note = oro.client.create_note(message=text, targets=[person.ref])
    notes = oro.client.notes_of(target=person.ref, limit=50)

    assert note.message == text and person.ref in [t.ref for t in note.targets]
    assert notes[0].id == note.id  # newest first


def test_new_leads_contacts_cases_and_tasks_read_back_as_sent(oro: OroUnderTest) -> None:
    oro.require_writes()
    tag = uuid.uuid4().hex[:8]
    client = oro.client

    lead = client.create_lead(name=f"{TEST_LABEL} lead {tag}", first_name="Zoë", last_name="Ørsted",
                              email=f"zoe.{tag}@oro-connector.test", company_name="Ørsted Ltd")
    contact = client.create_contact(first_name="José", last_name=f"Nuñez {tag}",
                                    email=f"jose.{tag}@oro-connector.test")
    case = client.create_case(subject=f"{TEST_LABEL} case {tag}", description="Pallet arrived broken",
                              contact_id=contact.id)
    due = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    task = client.create_task(subject=f"{TEST_LABEL} task {tag}", due_date=due, targets=[contact.ref])

    assert client.get_record(Lead, id=lead.id).emails == (f"zoe.{tag}@oro-connector.test",)
    found = client.find_contacts(email=f"jose.{tag}@oro-connector.test")
    assert found == [client.get_record(Contact, id=contact.id)] and found[0].first_name == "José"
    assert (case.related_contact_id, case.status, case.is_open) == (contact.id, "open", True)
    assert case.id in [c.id for c in client.open_cases(contact_id=contact.id)]
    assert task.due_date == due and contact.ref in [t.ref for t in task.targets]
    assert task.id in [t.id for t in client.tasks_of(target=contact.ref)]


def test_a_new_opportunity_reads_back_with_its_account_and_contact(oro: OroUnderTest) -> None:
    oro.require_writes()
    tag = uuid.uuid4().hex[:8]
    account = first(oro, Account)
    contact = oro.client.create_contact(first_name="Ada", last_name=f"Opportunity {tag}")

    made = oro.client.create_opportunity(
        name=f"{TEST_LABEL} deal {tag}", account_id=account.id, contact_id=contact.id,
        close_date=date(2027, 6, 30), customer_need="Forty workbenches",
    )
    read = oro.client.get_record(Opportunity, id=made.id)

    assert (read.name, read.account_id, read.contact_id) == (made.name, account.id, contact.id)
    assert (read.status, read.is_open, read.close_date) == ("in_progress", True, date(2027, 6, 30))
    assert made.id in [o.id for o in oro.client.opportunities_of(contact_id=contact.id, open_only=True)]
    with pytest.raises(ValueError, match="account or a business customer"):
        oro.client.create_opportunity(name="Nowhere")


# --- templates (legacy REST) -------------------------------------------------------------------------------


def test_templates_are_listed_and_rendered_for_a_contact(oro: OroUnderTest) -> None:
    if oro.client.capabilities().legacy_templates != "available":
        pytest.skip("this Oro's legacy template API is not readable")
    person = first(oro, Contact)
    templates = oro.client.email_templates(entity_class=ENTITY_CLASSES["contacts"])
    for_contacts = [t for t in templates if t.entity_class == ENTITY_CLASSES["contacts"]]
    if not for_contacts:
        pytest.skip("this Oro has no email template for contacts")

    compiled = oro.client.compile_email_template(template_id=for_contacts[0].id, entity_id=person.id)

    assert compiled.subject and compiled.body and compiled.type in ("html", "txt")
    assert "{{" not in compiled.subject + compiled.body  # Oro rendered the variables
    with pytest.raises(OroNotFound):
        oro.client.compile_email_template(template_id=for_contacts[0].id, entity_id="987654321")


# --- a slow or failing Oro ---------------------------------------------------------------------------------


def test_a_200_record_read_survives_one_request_in_five_failing(oro: OroUnderTest) -> None:
    world = oro.sandbox_only("injects faults")
    waits: list[float] = []
    connection = OroConnection(
        sandbox_config(oro.connection.config.oro_url, max_retries=4), sleep=waits.append
    )
    world.oro.faults.configure(error_rate=0.2, error_statuses=(503, 429), retry_after_seconds=1, seed=7)
    try:
        everyone = connection.for_integration().read_all(CustomerUser, query=Query().page(size=20), limit=200)
    finally:
        world.oro.faults.configure(error_rate=0.0)
        connection.close()

    assert len({c.id for c in everyone}) == 200
    assert waits and all(w == 1.0 for w in waits)  # every retry waited as Oro's Retry-After said


def test_a_down_oro_is_reported_within_the_read_timeout(oro: OroUnderTest) -> None:
    world = oro.sandbox_only("injects faults")
    connection = OroConnection(sandbox_config(oro.connection.config.oro_url, read_timeout=0.5))
    client = connection.for_integration()
    client.list_records(User, query=Query().page(size=1))  # the token is in hand before Oro goes down
    world.oro.faults.configure(down=True, down_hold_seconds=10)
    started = time.monotonic()
    try:
        with pytest.raises(OroUnavailable) as caught:
            client.list_records(B2bCustomer, query=Query().page(size=1))
        elapsed = time.monotonic() - started
    finally:
        world.oro.faults.configure(down=False)
        connection.close()

    assert elapsed < 5  # the read timeout, not the ten seconds Oro holds the request
    assert f"{oro.connection.config.api_base}/b2bcustomers" in str(caught.value)


def test_the_same_calls_from_many_threads_give_the_same_answers(oro: OroUnderTest) -> None:
    from concurrent.futures import ThreadPoolExecutor

    known = first(oro, Contact)
    client = oro.client

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: client.get_record(Contact, id=known.id), range(24)))

    assert answers == [known] * 24


def test_a_write_refused_by_oro_names_the_field(oro: OroUnderTest) -> None:
    oro.require_writes()
    if not oro.client.capabilities().emails_api:
        pytest.skip("this Oro has no emails API (before 6.0)")
    incomplete = NewEmail(message_id=unique_message_id(), subject="",
                          sender=EmailAddress("a@oro-connector.test"),
                          to=(EmailAddress("b@oro-connector.test"),), sent_at=datetime.now(UTC))

    with pytest.raises(OroBadRequest) as caught:
        oro.client.create_email(email=incomplete)

    assert caught.value.status == 400
    assert "/data/attributes/subject" in [e.pointer for e in caught.value.errors]


def test_records_in_the_context_are_people_of_both_sides(oro: OroUnderTest) -> None:
    oro.sandbox_only("uses the sandbox's named people")
    from connector.sandbox import examples as ex

    items = oro.client.email_context(
        message_id=unique_message_id(), sender=ex.TRIPLE_PERSON_EMAIL, to=[ex.ALICE_MAILBOX],
        exclude_current_user=True,
    )

    types = [i.entity.type for i in items]
    assert "users" in types  # alice is a user of Oro; the integration client acts as admin
    assert {"contacts", "customerusers", "leads"} <= set(types)
    assert all(i.is_context is False for i in items)


def test_a_customer_with_many_users_is_one_record(oro: OroUnderTest) -> None:
    user = first(oro, CustomerUser, Query().where("customer", True, op="exists"))
    assert user.customer_id

    from connector.oro import Customer

    customer = oro.client.get_record(Customer, id=user.customer_id)
    members = oro.client.read_all(CustomerUser, query=Query().where("customer", customer.id))

    assert customer.title and user.id in [m.id for m in members]
    assert RecordRef("customers", customer.id) == customer.ref


def test_an_orocrm_without_a_back_office_prefix_works_the_same(oro: OroUnderTest) -> None:
    world = oro.sandbox_only("switches the sandbox to OroCRM paths")
    world.oro.settings.backoffice_prefix = ""
    crm = OroUnderTest("sandbox", OroConnection(sandbox_config(oro.connection.config.oro_url,
                                                               backoffice_prefix="")),
                       writes_allowed=True, world=world)
    try:
        store = InMemoryTokenStore()
        alice = sign_in(crm, "alice", store)  # the authorize endpoint without /admin
        known = alice.list_records(Contact, query=Query().page(size=1)).items[0]
    finally:
        crm.connection.close()

    assert crm.connection.config.api_base == f"{oro.connection.config.oro_url}/api"
    assert known.url == f"{oro.connection.config.oro_url}/contact/view/{known.id}"


def test_the_check_command_reports_the_sandbox_and_a_dead_oro(oro: OroUnderTest) -> None:
    oro.sandbox_only("configures the connector for the sandbox")
    from connector.oro import oro_check
    from connector.settings import load_settings
    from tests.oro.conftest import closed_port

    base = {"mode": "test", "oro_integration_client_id": "demo-integration",
            "oro_integration_client_secret": "demo-secret"}
    sandbox_url = oro.connection.config.oro_url
    good = oro_check(load_settings({**base, "oro_url": sandbox_url}, environ={}, env_file=None))
    dead_url = f"http://127.0.0.1:{closed_port()}"
    bad = oro_check(load_settings({**base, "oro_url": dead_url}, environ={}, env_file=None))

    assert all(ok for _, ok, _ in good) and ("Oro API", True, oro.connection.config.api_base) in good
    assert [ok for _, ok, _ in bad] == [False] and dead_url in bad[0][2]
