"""POST /api/v1/records: a record made from a participant of the open email, duplicates offered first."""

from __future__ import annotations

from typing import Any

import requests

from connector.sandbox import examples as ex
from tests.api.support import LiveConnector


def message_body(connector: LiveConnector, thread_name: str) -> dict[str, Any]:
    """The first message of a sample thread as the pane sends it."""
    message = connector.world.named_threads[thread_name].messages[0]

    def address(a: Any) -> dict[str, str]:
        return {"name": a.name, "email": a.email}

    return {
        "internet_message_id": message.message_id,
        "conversation_id": message.thread_id,
        "subject": message.subject,
        "from": address(message.sender),
        "to": [address(a) for a in message.to],
        "cc": [address(a) for a in message.cc],
        "date": message.date.isoformat(),
        "body_text": message.body_text,
    }


def leads_with(connector: LiveConnector, email: str) -> list[Any]:
    return [
        lead
        for lead in connector.world.oro.all("leads")
        if any(e.get("email", "").lower() == email.lower() for e in lead.attributes.get("emails") or [])
        or (lead.attributes.get("primaryEmail") or "").lower() == email.lower()
    ]


def test_creating_for_a_known_address_offers_the_existing_record_and_writes_nothing(
    connector: LiveConnector,
) -> None:
    connector.connect_to_oro("alice")
    before = len(list(connector.world.oro.all("leads")))
    body = {
        "message": message_body(connector, ex.THREAD_TRIPLE_PERSON),
        "participant": ex.TRIPLE_PERSON_EMAIL,
        "kind": "lead",
    }
    answer = connector.api("POST", "/records", json=body)
    assert answer.status_code == 200, answer.text
    outcome = answer.json()
    assert outcome["created"] is None and outcome["link"] is None
    assert outcome["duplicates"], "the existing records of the address are offered"
    assert all(d["why"] for d in outcome["duplicates"])
    assert outcome["prefill"]["email"].lower() == ex.TRIPLE_PERSON_EMAIL.lower()
    assert len(list(connector.world.oro.all("leads"))) == before


def test_confirm_creates_the_record_and_links_the_thread(connector: LiveConnector) -> None:
    connector.connect_to_oro("alice")
    body = {
        "message": message_body(connector, ex.THREAD_TRIPLE_PERSON),
        "participant": ex.TRIPLE_PERSON_EMAIL,
        "kind": "lead",
        "confirm": True,
    }
    answer = connector.api("POST", "/records", json=body)
    assert answer.status_code == 201, answer.text
    outcome = answer.json()
    created = outcome["created"]
    assert outcome["duplicates"] == []
    assert {(r["type"], r["id"]) for r in outcome["link"]["added"]} >= {(created["type"], created["id"])}

    # The sidebar shows the thread linked to the new record.
    sidebar = connector.api("POST", "/sidebar", json={"message": body["message"]}).json()
    linked = {(item["record"]["type"], item["record"]["id"]) for item in sidebar["thread"]["linked"]}
    assert (created["type"], created["id"]) in linked

    # A retry of the same request finds the record it made: no second one.
    again = connector.api("POST", "/records", json=body)
    assert again.status_code == 200 and again.json()["reused"] is True
    assert again.json()["created"]["id"] == created["id"]


def test_an_unknown_sender_becomes_a_lead_in_oro(connector: LiveConnector) -> None:
    connector.connect_to_oro("alice")
    assert leads_with(connector, ex.UNKNOWN_SENDER) == []
    body = {
        "message": message_body(connector, ex.THREAD_UNKNOWN_SENDER),
        "participant": ex.UNKNOWN_SENDER,
        "kind": "lead",
        "fields": {"first_name": "Greta", "last_name": "Nordlicht", "company": ex.UNKNOWN_SENDER_COMPANY},
    }
    headers = {**connector.headers("alice"), "Idempotency-Key": "create-1"}
    answer = requests.post(f"{connector.url}/api/v1/records", json=body, headers=headers, timeout=30)
    assert answer.status_code == 201, answer.text
    outcome = answer.json()
    assert outcome["duplicates"] == [] and outcome["created"]["id"]
    (lead,) = leads_with(connector, ex.UNKNOWN_SENDER)
    assert lead.id == outcome["created"]["id"]
    assert lead.attributes["firstName"] == "Greta" and lead.attributes["lastName"] == "Nordlicht"


def test_the_participant_must_be_on_the_email(connector: LiveConnector) -> None:
    connector.connect_to_oro("alice")
    body = {
        "message": message_body(connector, ex.THREAD_UNKNOWN_SENDER),
        "participant": "somebody.else@elsewhere.example",
        "kind": "lead",
    }
    answer = connector.api("POST", "/records", json=body)
    assert answer.status_code == 400
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    (error,) = answer.json()["errors"]
    assert error == {"field": "participant", "message": "is not on this email (other than you)"}
