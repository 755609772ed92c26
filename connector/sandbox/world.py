"""The sandbox world: one seeded, self-consistent "outside world" for the demo and the tests.

``SandboxWorld.generate(seed)`` builds the sandbox's Oro (records, users, OAuth clients, faults) and
the sample conversations of the sandbox users' mailboxes, all deterministic from the seed. The world
is shared by the threads of a running server: everything that changes takes :attr:`lock`.
"""

from __future__ import annotations

import threading
import time
from functools import cached_property

from connector.sandbox import examples as ex
from connector.sandbox.conversations import Address, SampleMessage, SampleThread, build_threads
from connector.sandbox.entra import EntraIssuer
from connector.sandbox.gmail import SandboxGmail
from connector.sandbox.google import GoogleTokenIssuer
from connector.sandbox.graph.store import GraphMailboxes
from connector.sandbox.oro.operations import create_email
from connector.sandbox.oro.seed import populate
from connector.sandbox.oro.store import OroState

__all__ = ["Address", "SampleMessage", "SampleThread", "SandboxWorld"]


class SandboxWorld:
    """The whole sandbox: ``oro`` (data, permissions, OAuth, fault controls) and the mailboxes' threads."""

    def __init__(
        self,
        *,
        seed: int,
        oro: OroState,
        threads: list[SampleThread],
        mailboxes: tuple[str, ...],
        named_threads: dict[str, SampleThread],
        lock: threading.RLock,
    ) -> None:
        self.seed = seed
        self.oro = oro
        self.threads = threads
        self.mailboxes = mailboxes
        self.named_threads = named_threads
        self.lock = lock

    def __repr__(self) -> str:
        return f"<SandboxWorld seed={self.seed} threads={len(self.threads)}>"

    @classmethod
    def generate(cls, seed: int = 42) -> SandboxWorld:
        lock = threading.RLock()
        # Records made while generating are stamped at the fixed ANCHOR, never at the wall clock.
        oro = OroState(lock=lock, fault_seed=seed, clock=ex.ANCHOR.timestamp)
        with lock:
            populate(oro, seed)
            threads, named = build_threads(seed)
            world = cls(
                seed=seed,
                oro=oro,
                threads=threads,
                mailboxes=(ex.ALICE_MAILBOX, ex.BOB_MAILBOX),
                named_threads=named,
                lock=lock,
            )
            world._store_linked_thread()
            oro.clock = time.time
        return world

    @cached_property
    def google(self) -> GoogleTokenIssuer:
        """Google's token issuer (keys made on first use: most tests never need them)."""
        return GoogleTokenIssuer()

    @cached_property
    def gmail(self) -> SandboxGmail:
        """The Gmail API's view of the mailboxes: the sample threads, plus what is sent or drafted."""
        return SandboxGmail(self.threads, self.lock)

    @cached_property
    def entra(self) -> EntraIssuer:
        """Microsoft Entra's token issuer, discovery and on-behalf-of endpoint."""
        return EntraIssuer()

    @cached_property
    def graph(self) -> GraphMailboxes:
        """Microsoft Graph's drafts and Sent Items (the sample threads are read as they are)."""
        return GraphMailboxes(self.lock)

    def threads_of(self, mailbox: str) -> list[SampleThread]:
        """The threads in ``mailbox``, newest activity first."""
        return [t for t in self.threads if t.mailbox == mailbox]

    def message(self, mailbox: str, message_id: str) -> SampleMessage | None:
        """The message with RFC 5322 ``message_id`` as ``mailbox`` holds it."""
        for thread in self.threads_of(mailbox):
            for message in thread.messages:
                if message.message_id == message_id:
                    return message
        return None

    def _store_linked_thread(self) -> None:
        """Store the thread named THREAD_LINKED_IN_ORO in Oro, linked to Sophie and her account."""
        thread = self.named_threads[ex.THREAD_LINKED_IN_ORO]
        sophie = self.oro.owners_of_address("sophie.wagner@nordlicht-logistik.example")[0]
        account = next(
            a for a in self.oro.all("accounts") if a.attributes["name"] == ex.UNKNOWN_SENDER_COMPANY
        )
        alice = self.oro.user_by_username("alice")
        assert alice is not None
        for message in thread.messages:
            document = {
                "data": {
                    "type": "emails",
                    "attributes": {
                        "subject": message.subject,
                        "from": {"name": message.sender.name, "email": message.sender.email},
                        "toRecipients": [{"name": a.name, "email": a.email} for a in message.to],
                        "ccRecipients": [{"name": a.name, "email": a.email} for a in message.cc],
                        "messageId": message.message_id,
                        "references": list(message.references),
                        "sentAt": message.date.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "internalDate": message.date.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "body": {"type": "text", "content": message.body_text},
                    },
                    "relationships": {
                        "activityTargets": {
                            "data": [
                                {"type": sophie[0], "id": sophie[1]},
                                {"type": "accounts", "id": account.id},
                            ]
                        }
                    },
                }
            }
            create_email(self.oro, document, alice.id)
