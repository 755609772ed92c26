"""The generated world: deterministic, big and realistic enough, with the named examples in place."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, timedelta

from connector.sandbox import examples as ex
from connector.sandbox.app import create_sandbox_app
from connector.sandbox.world import SandboxWorld


def snapshot(world: SandboxWorld) -> dict[str, list[tuple[str, str]]]:
    return {
        type_: [(r.id, repr(sorted(r.attributes.items(), key=lambda kv: kv[0]))) for r in records.values()]
        for type_, records in world.oro.records.items()
    }


def test_same_seed_same_world() -> None:
    first, second = SandboxWorld.generate(7), SandboxWorld.generate(7)
    assert snapshot(first) == snapshot(second)
    assert [m.id for t in first.threads for m in t.messages] == [
        m.id for t in second.threads for m in t.messages
    ]


def test_another_seed_varies_the_bulk_but_keeps_the_named_examples() -> None:
    first, other = SandboxWorld.generate(1), SandboxWorld.generate(2)
    assert snapshot(first)["orders"] != snapshot(other)["orders"]
    for world in (first, other):
        assert world.oro.owners_of_address(ex.TRIPLE_PERSON_EMAIL)
        assert ex.THREAD_MULTI_PARTY in world.named_threads
    assert first.threads[0].messages[0].message_id == other.threads[0].messages[0].message_id
    assert first.threads[0].id != other.threads[0].id


def test_nothing_generated_depends_on_the_wall_clock(world: SandboxWorld) -> None:
    stamps = [r.attributes["createdAt"] for t in ("emails", "emailusers") for r in world.oro.all(t)]
    assert stamps and set(stamps) == {ex.ANCHOR}
    everything = [
        v
        for records in world.oro.records.values()
        for r in records.values()
        for v in r.attributes.values()
        if hasattr(v, "tzinfo") and v.tzinfo
    ]
    assert max(everything) <= ex.ANCHOR + timedelta(days=400)


def test_sizes(world: SandboxWorld) -> None:
    counts = {t: len(r) for t, r in world.oro.records.items()}
    assert counts["customers"] >= 50
    assert counts["customerusers"] == 300
    assert counts["contacts"] == 200
    assert counts["accounts"] == 60
    assert counts["leads"] == 100
    assert counts["opportunities"] == 80
    assert counts["orders"] == 500
    assert min(counts["rfqs"], counts["cases"], counts["tasks"]) > 0
    assert len(world.oro.records["businessunits"]) >= 2


def test_contacts_spread_over_every_account(world: SandboxWorld) -> None:
    linked = {ref[1] for c in world.oro.all("contacts") for ref in c.relationships["accounts"]}
    assert len(linked) == 60


def test_orders_cover_every_internal_status(world: SandboxWorld) -> None:
    statuses = Counter(o.relationships["internalStatus"][1] for o in world.oro.all("orders"))
    assert set(statuses) == {"open", "pending", "processing", "closed", "cancelled"}


def test_names_go_beyond_ascii(world: SandboxWorld) -> None:
    names = " ".join(
        f"{c.attributes['firstName']} {c.attributes['lastName']}" for c in world.oro.all("contacts")
    )
    for needle in ("é", "ü", "ø", "山田"):
        assert needle in names
    assert any(ord(ch) > 0x3000 for a in world.oro.all("accounts") for ch in a.attributes["name"])


def test_the_triple_person_is_contact_customer_user_and_lead(world: SandboxWorld) -> None:
    owners = {ref[0] for ref in world.oro.owners_of_address(ex.TRIPLE_PERSON_EMAIL)}
    assert owners == {"contacts", "customerusers", "leads"}


def test_two_contacts_share_one_address(world: SandboxWorld) -> None:
    refs = world.oro.owners_of_address(ex.SHARED_ADDRESS)
    names = sorted(
        f"{world.oro.get(r).attributes['firstName']} {world.oro.get(r).attributes['lastName']}" for r in refs
    )
    assert names == sorted(ex.SHARED_ADDRESS_NAMES)


def test_addresses_come_mixed_case_plus_addressed_and_secondary(world: SandboxWorld) -> None:
    addresses = [e["email"] for c in world.oro.all("contacts") for e in c.attributes["emails"]]
    assert ex.MIXED_CASE_STORED_EMAIL in addresses
    assert ex.PLUS_BASE_ADDRESS in addresses
    assert any(u.attributes["email"] == ex.PLUS_ADDRESS for u in world.oro.all("customerusers"))
    multi = [c for c in world.oro.all("contacts") if len(c.attributes["emails"]) > 1]
    assert len(multi) >= 20
    assert any(a != a.lower() for a in addresses if a != ex.MIXED_CASE_STORED_EMAIL)


def test_unknown_sender_is_in_no_record_but_its_domain_is_known(world: SandboxWorld) -> None:
    assert world.oro.owners_of_address(ex.UNKNOWN_SENDER) == []
    domain = ex.UNKNOWN_SENDER.split("@")[1]
    assert any(
        e.endswith("@" + domain)
        for c in world.oro.all("contacts")
        for e in (x["email"] for x in c.attributes["emails"])
    )
    assert any(a.attributes["name"] == ex.UNKNOWN_SENDER_COMPANY for a in world.oro.all("accounts"))
    assert any(c.attributes["name"] == ex.UNKNOWN_SENDER_COMPANY for c in world.oro.all("customers"))


def test_threads_are_proper_reply_chains(world: SandboxWorld) -> None:
    assert 18 <= len(world.threads) <= 24
    for thread in world.threads:
        assert 1 <= len(thread.messages) <= 4
        assert thread.mailbox in world.mailboxes
        assert re.fullmatch(r"[0-9a-f]{16}", thread.id)
        assert thread.id == thread.messages[0].id
        previous: list[str] = []
        for message in thread.messages:
            assert re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", message.message_id)
            assert re.fullmatch(r"[0-9a-f]{16}", message.id)
            assert message.thread_id == thread.id and message.mailbox == thread.mailbox
            assert message.date.tzinfo is UTC
            assert message.in_reply_to == (previous[-1] if previous else None)
            assert list(message.references) == previous
            previous.append(message.message_id)
        dates = [m.date for m in thread.messages]
        assert dates == sorted(dates)


def test_mailbox_owners_take_part_in_their_threads(world: SandboxWorld) -> None:
    for thread in world.threads:
        for message in thread.messages:
            people = {message.sender.email, *(a.email for a in message.to + message.cc)}
            assert thread.mailbox in people


def test_named_threads(world: SandboxWorld) -> None:
    named = world.named_threads
    assert named[ex.THREAD_TRIPLE_PERSON].messages[0].sender.email == ex.TRIPLE_PERSON_EMAIL
    assert named[ex.THREAD_SHARED_ADDRESS].messages[0].sender.email == ex.SHARED_ADDRESS
    assert named[ex.THREAD_MIXED_CASE].messages[0].sender.email == ex.MIXED_CASE_SENT_EMAIL
    assert named[ex.THREAD_PLUS_ADDRESS].messages[0].sender.email == ex.PLUS_ADDRESS
    assert named[ex.THREAD_SECONDARY_ADDRESS].messages[0].sender.email == ex.SECONDARY_ADDRESS
    assert named[ex.THREAD_UNKNOWN_SENDER].messages[0].sender.email == ex.UNKNOWN_SENDER
    assert named[ex.THREAD_HIDDEN_FROM_ALICE].messages[0].sender.email == ex.HIDDEN_FROM_ALICE_EMAIL
    multi = named[ex.THREAD_MULTI_PARTY].messages[0]
    externals = [a for a in multi.to + multi.cc if not a.email.endswith("@acme.example")]
    assert len(externals) >= 3 and multi.cc
    linked = named[ex.THREAD_LINKED_IN_ORO]
    assert tuple(m.message_id for m in linked.messages) == ex.LINKED_THREAD_MESSAGE_IDS


def test_the_handover_sits_in_both_mailboxes_with_the_same_message_ids(world: SandboxWorld) -> None:
    copies = [t for t in world.threads if t.subject == world.named_threads[ex.THREAD_HANDOVER].subject]
    assert {t.mailbox for t in copies} == {ex.ALICE_MAILBOX, ex.BOB_MAILBOX}
    assert copies[0].messages[0].message_id == copies[1].messages[0].message_id
    assert copies[0].id != copies[1].id


def test_the_linked_thread_is_stored_in_oro_with_its_context(world: SandboxWorld) -> None:
    stored = [e for e in world.oro.all("emails") if e.attributes["messageId"] in ex.LINKED_THREAD_MESSAGE_IDS]
    assert len(stored) == 3
    assert [e.attributes["head"] for e in stored] == [False, False, True]
    assert {t[0] for t in stored[0].relationships["activityTargets"]} == {"contacts", "accounts"}


def test_snippet_is_one_short_line(world: SandboxWorld) -> None:
    message = world.named_threads[ex.THREAD_TRIPLE_PERSON].messages[0]
    assert "\n" not in message.snippet
    assert message.snippet.startswith("Bonjour Alice, Could you confirm")
    assert len(message.snippet) <= 100


def test_message_lookup_by_mailbox(world: SandboxWorld) -> None:
    message_id = ex.LINKED_THREAD_MESSAGE_IDS[0]
    found = world.message(ex.ALICE_MAILBOX, message_id)
    assert found is not None and found.sender.name == "Sophie Wagner"
    assert world.message(ex.BOB_MAILBOX, message_id) is None


def test_sandbox_root_names_its_parts(world: SandboxWorld) -> None:
    body = create_sandbox_app(world).test_client().get("/").json
    assert body["parts"] == {"oro": "oro/", "google": "google/", "entra": "entra/"}
    assert body["mailboxes"] == [ex.ALICE_MAILBOX, ex.BOB_MAILBOX]


def test_record_page_at_the_entity_url(world: SandboxWorld) -> None:
    page = create_sandbox_app(world).test_client().get("/oro/admin/contact/view/1")
    assert page.status_code == 200
    assert "Sophie Wagner" in page.get_data(as_text=True)
