"""What exactly-once costs: recording replies, and the bookkeeping of each send (claim, heartbeat,
outcome) around a provider that answers at once, on SQLite (and PostgreSQL when
``ORO_CONNECTOR_TEST_DATABASE_URL`` is set; its ``public`` schema is dropped and made again).

Run from the repository root: ``python benchmarks/outbox.py``. Prints plain numbers; asserts nothing.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from typing import Any

from cryptography.fernet import Fernet

from connector.accounts.operations import user_for_identity
from connector.app import create_app
from connector.db import db
from connector.db.migrate import upgrade
from connector.mail.addresses import EmailAddress
from connector.outbox.delivery import DeliveryPolicy, Found, deliver
from connector.outbox.models import OutboxMessage
from connector.outbox.operations import Reply, enqueue_reply

REPLIES = 300


class InstantProvider:
    """A provider that takes every message at once: what is left is the outbox's own cost."""

    def find(self, row: OutboxMessage) -> Found | None:
        return None

    def send(self, row: OutboxMessage) -> str:
        return f"sent-{row.id}"

    def send_draft(self, row: OutboxMessage, draft_id: str) -> str:
        return draft_id


def _reply(number: int) -> Reply:
    customer = EmailAddress.parse(f"buyer{number}@customer.example", "Buyer")
    assert customer is not None
    return Reply(
        provider="graph",
        mailbox="alice@acme.example",
        reply_to=f"AAMk{number}",
        thread_id=f"conv-{number % 20}",
        subject="Re: Your order",
        to=(customer,),
        text="Your order ships tomorrow.",
        html="<p>Your order ships tomorrow.</p>",
        account="oid.tid",
    )


def run(label: str, url: str, var_dir: str) -> None:
    upgrade(url)
    app = create_app(
        {
            "mode": "test",
            "database_url": url,
            "var_dir": var_dir,
            "secret_key": "bench-secret-key-bench-secret-key",
            "encryption_keys": (Fernet.generate_key().decode(),),
            "log_level": "WARNING",
        },
        env_file=None,
    )
    sessions: Any = lambda: db.session_scope(app)  # noqa: E731
    with sessions() as session:
        user = user_for_identity(session, provider="microsoft", subject="oid.tid", email="alice@acme.example")
        session.flush()
        user_id = user.id
    started = time.perf_counter()
    ids = []
    for number in range(REPLIES):
        with sessions() as session:
            row = enqueue_reply(
                session,
                user=session.get(type(user), user_id),
                key=f"k{number}",
                reply=_reply(number),
                domain="bench.example",
            )
            session.flush()
            ids.append(row.id)
    recorded = time.perf_counter() - started
    policy = DeliveryPolicy(lease_seconds=30)
    provider = InstantProvider()
    times = []
    for row_id in ids:
        begin = time.perf_counter()
        deliver(sessions, row_id, provider, worker="bench", policy=policy)
        times.append((time.perf_counter() - begin) * 1000)
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    print(
        f"{label:<11} record {REPLIES / recorded:8.0f} replies/s   "
        f"send bookkeeping p50 {statistics.median(times):6.2f} ms  p95 {p95:6.2f} ms  "
        f"=> {1000 / statistics.mean(times):6.0f} sends/s per sender"
    )
    db.dispose(app)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        run("sqlite", f"sqlite:///{tmp}/bench.db", tmp)
        url = os.environ.get("ORO_CONNECTOR_TEST_DATABASE_URL", "")
        if url:
            from sqlalchemy import create_engine, text

            engine = create_engine(url)
            with engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            engine.dispose()
            run("postgresql", url, tmp)
        else:
            print("postgresql  (set ORO_CONNECTOR_TEST_DATABASE_URL to measure it too)")


if __name__ == "__main__":
    main()
