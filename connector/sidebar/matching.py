"""Participants to records: which Oro records belong to each address, and why.

Nothing here talks to Oro; it explains what the look-up found. A record matches an address exactly,
as one of its secondary addresses, with different letter case, or without a ``+tag``. Several records
of one type for one address are a choice for the user, never silently resolved; a remembered answer
is applied and shown as such. Unknown people get companies of their domain and suggestions, and
nothing is created.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from connector.mail.addresses import EmailAddress
from connector.oro import B2bCustomer, Contact, CustomerUser, Lead, OroRecord, User
from connector.sidebar.cards import card_for, type_label
from connector.sidebar.lookup import Findings
from connector.sidebar.policy import SidebarPolicy
from connector.sidebar.view import Choice, Fact, Participant, RecordCard, RecordGroup, Role, Suggestion, Why

# The order record types are listed in for each person.
TYPE_ORDER = ("customerusers", "contacts", "leads", "b2bcustomers")


@dataclass(frozen=True)
class RememberedChoice:
    record_id: str
    chosen_at: datetime


def record_addresses(record: OroRecord) -> list[tuple[str, bool]]:
    """(address, is primary) for every address a record holds, primary first."""
    if isinstance(record, Contact | Lead | B2bCustomer):
        primary = record.primary_email
        others = [e for e in record.emails if e != primary]
        return ([(primary, True)] if primary else []) + [(e, False) for e in others]
    if isinstance(record, CustomerUser | User):
        return [(record.email, True)] if record.email else []
    return []


def explain(address: EmailAddress, record: OroRecord) -> Why | None:
    """Why ``record`` belongs to ``address``, or None when it does not."""
    parsed = [(p, primary) for raw, primary in record_addresses(record) if (p := EmailAddress.parse(raw))]
    label = type_label(record.type).lower()
    for candidate, primary in parsed:
        if candidate.address == address.address:
            if primary:
                return Why("exact", f"Exact address of this {label}")
            return Why("secondary", f"A secondary address of this {label}")
    for candidate, _primary in parsed:
        if candidate.key == address.key:
            return Why("normalized", f"Same address as {candidate.address}, in other letter case")
    for candidate, _primary in parsed:
        if candidate.base_key == address.base_key:
            return Why("plus", f"{candidate.address} is the same mailbox without the +tag")
    return None


def build_participants(
    participants: list[tuple[EmailAddress, Role]],
    findings: Findings,
    *,
    policy: SidebarPolicy,
    excluded: Callable[[EmailAddress], str | None],
    remembered: Mapping[tuple[str, str], RememberedChoice],
) -> tuple[Participant, ...]:
    """``excluded`` says why an address is kept out of Oro (privacy lists, internal domains), or None."""
    return tuple(
        _participant(address, role, findings, policy=policy, reason=excluded(address), remembered=remembered)
        for address, role in participants
    )


def _participant(
    address: EmailAddress,
    role: Role,
    findings: Findings,
    *,
    policy: SidebarPolicy,
    reason: str | None,
    remembered: Mapping[tuple[str, str], RememberedChoice],
) -> Participant:
    name = address.name
    if reason:
        return Participant(address=address.address, name=name, role=role, excluded=reason)

    by_type: dict[str, list[tuple[OroRecord, Why]]] = {}
    colleague = False
    for record in findings.people:
        why = explain(address, record)
        if why is None:
            continue
        if isinstance(record, User):
            colleague = True
            continue
        by_type.setdefault(record.type, []).append((record, why))

    def card(record: OroRecord, why: Why | None) -> RecordCard:
        return card_for(
            record, companies=findings.companies, in_context=record.ref in findings.in_context, why=why
        )

    groups: list[RecordGroup] = []
    choices: list[Choice] = []
    for record_type in sorted(by_type, key=lambda t: TYPE_ORDER.index(t) if t in TYPE_ORDER else 99):
        found = by_type[record_type]
        label = type_label(record_type)
        if len(found) == 1:
            record, why = found[0]
            groups.append(RecordGroup(record_type, label, (card(record, why),)))
            continue
        options = tuple(card(record, why) for record, why in found)
        memory = remembered.get((address.key, record_type))
        chosen = next((r for r, _ in found if memory and r.id == memory.record_id), None)
        choices.append(
            Choice(
                type=record_type,
                label=label,
                address=address.address,
                options=options,
                chosen=chosen.id if chosen else None,
                chosen_at=memory.chosen_at if chosen and memory else None,
            )
        )
        if chosen is not None and memory is not None:
            why = Why("choice", f"You chose this {label.lower()} on {memory.chosen_at.date().isoformat()}")
            groups.append(RecordGroup(record_type, label, (card(chosen, why),)))

    if groups or choices:
        return Participant(
            address=address.address, name=name, role=role, matches=tuple(groups), choices=tuple(choices)
        )
    if colleague:
        return Participant(
            address=address.address,
            name=name,
            role=role,
            excluded="A colleague (an Oro user): not looked up.",
        )
    domain_cards: tuple[RecordCard, ...] = ()
    if policy.domain_fallback(address):
        domain_cards = tuple(
            card(company, Why("domain", f"{company.title} is named like the domain {address.display_domain}"))
            for company in findings.domain_hits.get(address.domain, [])
        )
    return Participant(
        address=address.address,
        name=name,
        role=role,
        domain_matches=domain_cards,
        suggestions=_suggestions(address, domain_cards),
    )


def _suggestions(address: EmailAddress, companies: tuple[RecordCard, ...]) -> tuple[Suggestion, ...]:
    first, _, last = address.name.partition(" ") if address.name else ("", "", "")
    company = companies[0].title if companies else address.display_domain.split(".")[0].capitalize()
    prefill = tuple(
        Fact(label, value)
        for label, value in (
            ("First name", first),
            ("Last name", last),
            ("Email", address.address),
            ("Company", company),
        )
        if value
    )
    return (
        Suggestion("create_lead", "Create a lead", prefill),
        Suggestion("create_contact", "Create a contact", prefill),
    )
