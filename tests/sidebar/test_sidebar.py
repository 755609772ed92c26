"""Who is on this email: the sidebar against the sandbox's Oro."""

from __future__ import annotations

from typing import Any

from connector.sandbox import examples as ex
from connector.sidebar.view import Participant, SidebarView
from tests.sidebar.conftest import SidebarWorld


def participant(view: SidebarView, address: str) -> Participant:
    return next(p for p in view.participants if p.address.lower() == address.lower())


def matched(p: Participant) -> dict[str, list[str]]:
    return {g.type: [c.title for c in g.records] for g in p.matches}


def test_one_person_as_customer_user_contact_and_lead(sidebar: SidebarWorld) -> None:
    view = sidebar.service.view(
        sidebar.session,
        user=sidebar.user(),
        oro=sidebar.oro_as("alice"),
        message=sidebar.message(ex.THREAD_TRIPLE_PERSON),
    )
    ines = participant(view, ex.TRIPLE_PERSON_EMAIL)
    assert set(matched(ines)) == {"customerusers", "contacts", "leads"}
    for group in ines.matches:
        (card,) = group.records
        if group.type == "leads":  # a lead is titled by its topic, like in Oro
            assert {f.label: f.value for f in card.facts}["Email"] == ex.TRIPLE_PERSON_EMAIL
        else:
            assert card.title == ex.TRIPLE_PERSON_NAME
        assert card.why is not None and card.why.kind == "exact"
        assert card.url and card.url.startswith(sidebar.oro_url)
    customer_user = next(g for g in ines.matches if g.type == "customerusers").records[0]
    assert customer_user.subtitle, "a customer user shows the customer it buys for"
    assert view.participants[0].role == "from"


def test_commerce_context_lists_open_orders_only(sidebar: SidebarWorld) -> None:
    view = sidebar.service.view(
        sidebar.session,
        user=sidebar.user(),
        oro=sidebar.oro_as("alice"),
        message=sidebar.message(ex.THREAD_TRIPLE_PERSON),
    )
    orders = view.commerce.open_orders
    assert orders, "Inès's customer has open orders in the sample data"
    for order in orders:
        facts = {f.label: f.value for f in order.facts}
        assert facts["Status"].lower() not in {"closed", "cancelled"}
        assert facts["Total"] and facts["Date"]


def test_two_contacts_on_one_address_are_a_choice_that_is_remembered_and_changeable(
    sidebar: SidebarWorld,
) -> None:
    user, oro, message = sidebar.user(), sidebar.oro_as("alice"), sidebar.message(ex.THREAD_SHARED_ADDRESS)
    view = sidebar.service.view(sidebar.session, user=user, oro=oro, message=message)
    shared = participant(view, ex.SHARED_ADDRESS)
    (choice,) = shared.choices
    assert choice.type == "contacts" and choice.chosen is None
    assert sorted(o.title for o in choice.options) == sorted(ex.SHARED_ADDRESS_NAMES)
    assert "contacts" not in matched(shared), "nothing is picked for the user"

    first, second = choice.options
    sidebar.service.choose(
        sidebar.session, user=user, address_key=ex.SHARED_ADDRESS, record_type="contacts", record_id=first.id
    )
    calls = oro.calls
    again = participant(
        sidebar.service.view(sidebar.session, user=user, oro=oro, message=message), ex.SHARED_ADDRESS
    )
    assert oro.calls > calls, "a choice invalidates the cached view"
    assert matched(again)["contacts"] == [first.title]
    (card,) = again.matches[0].records
    assert card.why is not None and card.why.kind == "choice" and "You chose" in card.why.text
    assert again.choices[0].chosen == first.id and again.choices[0].chosen_at is not None

    sidebar.service.choose(
        sidebar.session, user=user, address_key=ex.SHARED_ADDRESS, record_type="contacts", record_id=second.id
    )
    changed = participant(
        sidebar.service.view(sidebar.session, user=user, oro=oro, message=message), ex.SHARED_ADDRESS
    )
    assert matched(changed)["contacts"] == [second.title]


def test_unknown_sender_gets_domain_companies_and_suggestions_and_nothing_is_created(
    sidebar: SidebarWorld,
) -> None:
    before = {t: len(list(sidebar.world.oro.all(t))) for t in ("contacts", "leads", "accounts")}
    view = sidebar.service.view(
        sidebar.session,
        user=sidebar.user(),
        oro=sidebar.oro_as("alice"),
        message=sidebar.message(ex.THREAD_UNKNOWN_SENDER),
    )
    unknown = participant(view, ex.UNKNOWN_SENDER)
    assert not unknown.matches and not unknown.choices
    assert ex.UNKNOWN_SENDER_COMPANY in [c.title for c in unknown.domain_matches]
    assert all(c.why is not None and c.why.kind == "domain" for c in unknown.domain_matches)
    assert {s.action for s in unknown.suggestions} == {"create_lead", "create_contact"}
    prefill = {f.label: f.value for f in unknown.suggestions[0].prefill}
    assert prefill["Email"] == ex.UNKNOWN_SENDER and prefill["Company"] == ex.UNKNOWN_SENDER_COMPANY
    after = {t: len(list(sidebar.world.oro.all(t))) for t in ("contacts", "leads", "accounts")}
    assert after == before


def test_matches_explain_plus_secondary_and_letter_case(sidebar: SidebarWorld) -> None:
    user, oro = sidebar.user(), sidebar.oro_as("alice")
    plus = sidebar.service.view(
        sidebar.session, user=user, oro=oro, message=sidebar.message(ex.THREAD_PLUS_ADDRESS)
    )
    kinds = {c.why.kind for g in participant(plus, ex.PLUS_ADDRESS).matches for c in g.records if c.why}
    assert "plus" in kinds
    secondary = sidebar.service.view(
        sidebar.session, user=user, oro=oro, message=sidebar.message(ex.THREAD_SECONDARY_ADDRESS)
    )
    kinds = {
        c.why.kind for g in participant(secondary, ex.SECONDARY_ADDRESS).matches for c in g.records if c.why
    }
    assert kinds == {"secondary"}
    mixed = sidebar.service.view(
        sidebar.session, user=user, oro=oro, message=sidebar.message(ex.THREAD_MIXED_CASE)
    )
    kinds = {
        c.why.kind for g in participant(mixed, ex.MIXED_CASE_SENT_EMAIL).matches for c in g.records if c.why
    }
    assert kinds == {"normalized"}


def test_a_user_does_not_see_another_business_units_records(sidebar: SidebarWorld) -> None:
    message = sidebar.message(ex.THREAD_HIDDEN_FROM_ALICE)
    as_alice = sidebar.service.view(
        sidebar.session, user=sidebar.user(), oro=sidebar.oro_as("alice"), message=message
    )
    as_bob = sidebar.service.view(
        sidebar.session, user=sidebar.user(ex.BOB_MAILBOX), oro=sidebar.oro_as("bob"), message=message
    )
    assert "contacts" not in matched(participant(as_alice, ex.HIDDEN_FROM_ALICE_EMAIL))
    assert "contacts" in matched(participant(as_bob, ex.HIDDEN_FROM_ALICE_EMAIL))


def test_without_emailcontext_the_per_type_lookups_give_the_same_people(sidebar: SidebarWorld) -> None:
    message = sidebar.message(ex.THREAD_TRIPLE_PERSON)
    with_context = sidebar.service.view(
        sidebar.session, user=sidebar.user(), oro=sidebar.oro_as("alice"), message=message
    )
    sidebar.world.oro.configure(
        disabled_resources=["emailcontext", "emailthreadcontext", "emailcontextsearch"]
    )
    sidebar.service.cache.bump("oro")  # nothing else cached the capabilities under this name
    sidebar.service.cache.delete(f"oro-capabilities:{sidebar.oro_url}")
    without = sidebar.service.view(
        sidebar.session, user=sidebar.user(ex.ADMIN_EMAIL), oro=sidebar.oro_as("alice"), message=message
    )

    def people(view: SidebarView) -> set[tuple[str, str, str]]:
        return {(p.address, c.type, c.id) for p in view.participants for g in p.matches for c in g.records}

    assert people(without) == people(with_context)
    assert without.commerce.open_orders == with_context.commerce.open_orders


def test_oro_down_serves_the_last_view_marked_stale(sidebar: SidebarWorld) -> None:
    user, message = sidebar.user(), sidebar.message(ex.THREAD_TRIPLE_PERSON)
    first = sidebar.service.view(sidebar.session, user=user, oro=sidebar.oro_as("alice"), message=message)
    oro = sidebar.oro_as("alice", read_timeout=0.3)
    sidebar.world.oro.configure(down=True, down_hold_seconds=2)
    try:
        stale = sidebar.service.view(sidebar.session, user=user, oro=oro, message=message, fresh=True)
    finally:
        sidebar.world.oro.configure(down=False)
    assert stale.stale
    assert stale.banners[0].code == "oro_unreachable_stale"
    assert stale.participants == first.participants


def test_oro_down_without_a_previous_view_says_so(sidebar: SidebarWorld) -> None:
    oro = sidebar.oro_as("alice", read_timeout=0.3)
    sidebar.service.capabilities(oro)
    sidebar.world.oro.configure(down=True, down_hold_seconds=2)
    try:
        view = sidebar.service.view(
            sidebar.session, user=sidebar.user(), oro=oro, message=sidebar.message(ex.THREAD_TRIPLE_PERSON)
        )
    finally:
        sidebar.world.oro.configure(down=False)
    assert view.banners[0].code == "oro_unreachable"
    assert not any(p.matches for p in view.participants)


def test_a_slow_section_past_the_budget_gives_a_partial_view(sidebar: SidebarWorld, pool: Any) -> None:
    from connector.sidebar.operations import SidebarService
    from connector.sidebar.policy import SidebarPolicy

    service = SidebarService(
        cache=sidebar.service.cache, pool=pool, policy=SidebarPolicy(time_budget=1.0), oro_key=sidebar.oro_url
    )
    oro = sidebar.oro_as("alice", slow={"orders": 3.0})
    view = service.view(
        sidebar.session, user=sidebar.user(), oro=oro, message=sidebar.message(ex.THREAD_TRIPLE_PERSON)
    )
    assert "open orders" in view.unavailable
    assert view.banners[0].code == "partial"
    assert set(matched(participant(view, ex.TRIPLE_PERSON_EMAIL))) == {"customerusers", "contacts", "leads"}
    assert view.commerce.open_orders == ()


def test_a_warm_view_makes_no_oro_call_and_survives_the_cache_round_trip(sidebar: SidebarWorld) -> None:
    user, oro, message = sidebar.user(), sidebar.oro_as("alice"), sidebar.message(ex.THREAD_MULTI_PARTY)
    cold = sidebar.service.view(sidebar.session, user=user, oro=oro, message=message)
    calls = oro.calls
    warm = sidebar.service.view(sidebar.session, user=user, oro=oro, message=message)
    assert oro.calls == calls
    assert warm == cold
    assert len(cold.participants) >= 3, "every participant but the mailbox owner is shown"
    assert ex.ALICE_MAILBOX not in [p.address for p in cold.participants]


def test_search_pages_through_results(sidebar: SidebarWorld) -> None:
    oro = sidebar.oro_as("admin")
    first = sidebar.service.search(oro=oro, text="a", page_size=5)
    assert len(first.records) == 5 and first.has_more
    second = sidebar.service.search(oro=oro, text="a", page=2, page_size=5)
    assert {(c.type, c.id) for c in first.records}.isdisjoint({(c.type, c.id) for c in second.records})


def test_an_oro_refusing_nested_includes_is_asked_again_without_them(
    sidebar: SidebarWorld, monkeypatch: Any
) -> None:
    from connector.oro import OroBadRequest
    from connector.sidebar import lookup

    monkeypatch.setattr(lookup, "_NESTED_INCLUDE_REFUSED", lookup.threading.Event())
    oro = sidebar.oro_as("alice")
    real = oro._client.email_context
    refused: list[tuple[str, ...]] = []

    def strict_email_context(**kwargs: Any) -> Any:
        if kwargs.get("include_related"):
            refused.append(tuple(kwargs["include_related"]))
            raise OroBadRequest(method="GET", url=sidebar.oro_url, status=400, errors=())
        return real(**kwargs)

    oro._client.email_context = strict_email_context
    message = sidebar.message(ex.THREAD_TRIPLE_PERSON)
    view = sidebar.service.view(sidebar.session, user=sidebar.user(), oro=oro, message=message)
    ines = participant(view, ex.TRIPLE_PERSON_EMAIL)
    assert refused == [("customer", "accounts")]
    assert set(matched(ines)) == {"customerusers", "contacts", "leads"}
    customer_user = next(g for g in ines.matches if g.type == "customerusers").records[0]
    assert customer_user.subtitle, "the customer's name is then fetched in the second round"
    sidebar.service.view(sidebar.session, user=sidebar.user(ex.BOB_MAILBOX), oro=oro, message=message)
    assert len(refused) == 1, "Oro is not asked the refused way twice"


def test_links_show_at_once_with_who_and_when_even_on_a_cached_view(sidebar: SidebarWorld) -> None:
    from connector.linking.operations import link_thread
    from connector.linking.schemas import LinkTarget
    from connector.mail.message import MailMessage

    user, oro, message = sidebar.user(), sidebar.oro_as("alice"), sidebar.message(ex.THREAD_TRIPLE_PERSON)
    before = sidebar.service.view(sidebar.session, user=user, oro=oro, message=message)
    contact = next(
        g for g in participant(before, ex.TRIPLE_PERSON_EMAIL).matches if g.type == "contacts"
    ).records[0]
    assert "link" in contact.actions and not before.thread.linked

    link_thread(
        sidebar.session,
        oro,
        user=user,
        message=MailMessage.from_context(message, body_text="Hello"),
        records=[LinkTarget(contact.type, contact.id, contact.title)],
    )
    calls = oro.calls
    after = sidebar.service.view(sidebar.session, user=user, oro=oro, message=message)
    assert oro.calls == calls, "served from the cache, with the link state read locally"
    (linked,) = after.thread.linked
    assert (linked.record.type, linked.record.id) == (contact.type, contact.id)
    assert linked.linked_by == user.email and linked.linked_at is not None
    shown = next(
        g for g in participant(after, ex.TRIPLE_PERSON_EMAIL).matches if g.type == "contacts"
    ).records[0]
    assert shown.in_context and "unlink" in shown.actions and "link" not in shown.actions


def test_an_action_oro_refused_is_no_longer_offered_but_the_record_stays(sidebar: SidebarWorld) -> None:
    user, oro, message = sidebar.user(), sidebar.oro_as("alice"), sidebar.message(ex.THREAD_TRIPLE_PERSON)
    sidebar.service.note_refusal(user, action="link", record_type="leads")
    view = sidebar.service.view(sidebar.session, user=user, oro=oro, message=message)
    groups = {g.type: g.records[0] for g in participant(view, ex.TRIPLE_PERSON_EMAIL).matches}
    assert "link" not in groups["leads"].actions and "open" in groups["leads"].actions
    assert "link" in groups["contacts"].actions
    other = sidebar.service.view(
        sidebar.session, user=sidebar.user(ex.BOB_MAILBOX), oro=sidebar.oro_as("admin"), message=message
    )
    leads = next(g for g in participant(other, ex.TRIPLE_PERSON_EMAIL).matches if g.type == "leads")
    assert "link" in leads.records[0].actions, "a refusal is remembered for its user only"
