"""Named examples of the sandbox world: the tricky people and threads tests and the demo rely on.

They exist in every generated world whatever the seed (the seed varies the bulk sample data around
them). Sandbox credentials (sandbox only): users ``admin``, ``alice``, ``bob`` with password ``demo``;
the integration client ``demo-integration`` / ``demo-secret`` (client credentials, acts as ``admin``);
the user OAuth application ``demo-connector`` / ``demo-connector-secret`` (authorization code + PKCE,
redirect URIs on http://127.0.0.1 or http://localhost, plus any configured).
"""

from __future__ import annotations

from datetime import UTC, datetime

from connector.sandbox.oro.store import (
    CONNECTOR_CLIENT_ID,
    CONNECTOR_CLIENT_SECRET,
    INTEGRATION_CLIENT_ID,
    INTEGRATION_CLIENT_SECRET,
    PASSWORD_CLIENT_ID,
    PASSWORD_CLIENT_SECRET,
    SANDBOX_PASSWORD,
)

__all__ = [
    "ADMIN_EMAIL",
    "ALICE_MAILBOX",
    "ANCHOR",
    "BOB_MAILBOX",
    "BU_AMERICAS",
    "BU_HEAD_OFFICE",
    "BU_INTERNATIONAL",
    "CONNECTOR_CLIENT_ID",
    "CONNECTOR_CLIENT_SECRET",
    "CUSTOMER_USER_ONLY_EMAIL",
    "HIDDEN_FROM_ALICE_EMAIL",
    "INTEGRATION_CLIENT_ID",
    "INTEGRATION_CLIENT_SECRET",
    "JAPANESE_CONTACT_EMAIL",
    "LEAD_ONLY_EMAIL",
    "LINKED_THREAD_MESSAGE_IDS",
    "MIXED_CASE_SENT_EMAIL",
    "MIXED_CASE_STORED_EMAIL",
    "NO_MATCH_SENDER",
    "PASSWORD_CLIENT_ID",
    "PASSWORD_CLIENT_SECRET",
    "PLUS_ADDRESS",
    "PLUS_BASE_ADDRESS",
    "SANDBOX_PASSWORD",
    "SANDBOX_USERS",
    "SECONDARY_ADDRESS",
    "SECONDARY_PRIMARY_ADDRESS",
    "SHARED_ADDRESS",
    "SHARED_ADDRESS_NAMES",
    "THREAD_HANDOVER",
    "THREAD_HIDDEN_FROM_ALICE",
    "THREAD_LINKED_IN_ORO",
    "THREAD_MIXED_CASE",
    "THREAD_MULTI_PARTY",
    "THREAD_PLUS_ADDRESS",
    "THREAD_SECONDARY_ADDRESS",
    "THREAD_SHARED_ADDRESS",
    "THREAD_TRIPLE_PERSON",
    "THREAD_UNKNOWN_SENDER",
    "TRIPLE_PERSON_EMAIL",
    "TRIPLE_PERSON_NAME",
    "UNKNOWN_SENDER",
    "UNKNOWN_SENDER_COMPANY",
]

ANCHOR = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
"""The sandbox's "today": sample dates lie before it, so the data does not age."""

SANDBOX_USERS = ("admin", "alice", "bob")
ADMIN_EMAIL = "admin@acme.example"
ALICE_MAILBOX = "alice@acme.example"
BOB_MAILBOX = "bob@acme.example"

BU_HEAD_OFFICE = "Head Office"  # admin
BU_INTERNATIONAL = "Sales International"  # alice, claire
BU_AMERICAS = "Sales Americas"  # bob, kenji

TRIPLE_PERSON_EMAIL = "ines.moreau@lumiere-optique.example"
"""Inès Moreau: a contact, a customer user and a lead at once, all with this address (alice's unit)."""
TRIPLE_PERSON_NAME = "Inès Moreau"

SHARED_ADDRESS = "bureau@haraldsen-bygg.example"
"""Two contacts (Ørjan and Sølvi Haraldsen) share this address."""
SHARED_ADDRESS_NAMES = ("Ørjan Haraldsen", "Sølvi Haraldsen")

MIXED_CASE_STORED_EMAIL = "JB.Lefevre@Atelier-Lefevre.example"
"""How Jean-Baptiste Lefèvre's contact stores his address (Oro's email filters are case-sensitive)."""
MIXED_CASE_SENT_EMAIL = "jb.lefevre@atelier-lefevre.example"
"""How the same address arrives in mail."""

PLUS_ADDRESS = "kenta.sato+orders@sakura-seiki.example"
"""Kenta Satō's customer-user login, plus-addressed; he writes from it."""
PLUS_BASE_ADDRESS = "kenta.sato@sakura-seiki.example"
"""Kenta Satō's contact address, without the +tag."""

SECONDARY_ADDRESS = "lukas.mueller.privat@posteo.example"
"""Lukas Müller's second address (his contact's ``emails`` has both; the primary is the other)."""
SECONDARY_PRIMARY_ADDRESS = "lukas.mueller@nordlicht-logistik.example"

UNKNOWN_SENDER = "einkauf@nordlicht-logistik.example"
"""In no record; its domain is that of the account and customer below."""
UNKNOWN_SENDER_COMPANY = "Nordlicht Logistik GmbH"

HIDDEN_FROM_ALICE_EMAIL = "maria.gonzalez@andes-textiles.example"
"""María González: a contact owned in bob's business unit; alice gets 403 / sees nothing."""

JAPANESE_CONTACT_EMAIL = "hanako.yamada@sakura-seiki.example"
"""山田 花子 (Hanako Yamada)."""

LEAD_ONLY_EMAIL = "priya.raman@bluecanyon-outdoor.example"
"""Priya Raman: only a lead (bob's business unit)."""

CUSTOMER_USER_ONLY_EMAIL = "lucas.pereira@copperline.example"
"""Lucas Pereira: only a customer user (bob's business unit)."""

NO_MATCH_SENDER = "news@industry-weekly.example"
"""A sender that matches nothing at all, not even by domain."""

# Keys of :attr:`SandboxWorld.named_threads`.
THREAD_TRIPLE_PERSON = "triple-person"
THREAD_SHARED_ADDRESS = "shared-address"
THREAD_MIXED_CASE = "mixed-case"
THREAD_PLUS_ADDRESS = "plus-address"
THREAD_SECONDARY_ADDRESS = "secondary-address"
THREAD_UNKNOWN_SENDER = "unknown-sender"
THREAD_MULTI_PARTY = "multi-party"
THREAD_HIDDEN_FROM_ALICE = "hidden-from-alice"
THREAD_LINKED_IN_ORO = "linked-in-oro"
THREAD_HANDOVER = "handover"

LINKED_THREAD_MESSAGE_IDS = (
    "<contract-renewal-1@nordlicht-logistik.example>",
    "<contract-renewal-2@acme.example>",
    "<contract-renewal-3@nordlicht-logistik.example>",
)
"""The messages of :data:`THREAD_LINKED_IN_ORO`, already stored in Oro as emails linked to Sophie Wagner
(contact) and Nordlicht Logistik GmbH (account)."""
