"""Exactly once, with the sender killed (SIGKILL) at random points and started again.

Graph: 50 replies recorded through /api/v1/replies are sent by `oro-connector worker` processes
that are killed at random moments, while the sandbox's Graph takes each message and then waits
before answering (so kills land between "Graph has it" and "we recorded it").
Gmail: 50 replies sent from the add-on by a connector process that is killed at random moments
during the Send click; the person presses Send again (the same button) after each failure, and
opens the thread at the end.

Each mailbox must hold each reply exactly once.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import requests

from connector.cli import sandbox_identity_settings
from connector.db import db
from connector.db.models import User
from connector.sandbox import examples as ex
from connector.templates.operations import create_template
from tests.api.support import start_connector
from tests.conftest import TEST_ENCRYPTION_KEY, TEST_SECRET_KEY
from tests.gmail.conftest import Gmail, addon_settings, free_port, notification
from tests.outbox.support import incoming, outbox_rows

ROOT = Path(__file__).resolve().parents[2]
REPLIES = 50  # per provider: 100 in all
KILLS_AT_MOST = 40


def _env(settings: Mapping[str, Any]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORO_CONNECTOR_")}
    for name, value in settings.items():
        if isinstance(value, tuple | list):
            value = ",".join(value)
        env[f"ORO_CONNECTOR_{name.upper()}"] = str(value)
    env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.fixture
def sqlite_only(database_url: str) -> str:
    # Processes share the test database; the file SQLite of the test is what they can all open.
    return database_url


def test_graph_replies_survive_killed_workers(app_factory: Any, sqlite_only: str, tmp_path: Path) -> None:
    live = start_connector(app_factory, job_runner="worker", outbox_lease_seconds=1.0)
    try:
        world = live.world
        world.graph.configure(answer_delay=0.2)
        live.connect_to_oro("alice")
        messages = incoming(world)
        for number in range(REPLIES):
            message = messages[number % len(messages)]
            answer = live.api(
                "POST",
                "/replies",
                json={
                    "key": f"click-{number}",
                    "message": {
                        "internet_message_id": message.message_id,
                        "conversation_id": message.thread_id,
                        "item_id": message.id,
                        "subject": message.subject,
                        "from": {"email": message.sender.email, "name": message.sender.name},
                    },
                    "text": f"Reply number {number}.",
                },
            )
            assert answer.status_code == 202, answer.text
        assert [r.state for r in outbox_rows(live.app)] == ["pending"] * REPLIES

        settings = {
            "mode": "test",
            "database_url": sqlite_only,
            "var_dir": str(tmp_path / "var"),
            "secret_key": TEST_SECRET_KEY,
            "encryption_keys": (TEST_ENCRYPTION_KEY,),
            "public_url": live.url,
            "log_format": "json",
            "job_runner": "worker",
            "outbox_lease_seconds": 1.0,
            "outbox_poll_seconds": 0.1,
            "outbox_retry_seconds": 0.2,
            **sandbox_identity_settings(live.url),
        }
        env = _env(settings)
        rng = random.Random(8)
        kills = 0
        deadline = time.monotonic() + 240
        log = (tmp_path / "worker.log").open("wb")
        while any(r.state != "sent" for r in outbox_rows(live.app)) and time.monotonic() < deadline:
            worker = subprocess.Popen(
                [sys.executable, "-m", "tests.outbox.crash_worker", f"{live.url}/sandbox/entra"],
                env=env,
                cwd=ROOT,
                stdout=log,
                stderr=log,
            )
            if kills < KILLS_AT_MOST:
                time.sleep(rng.uniform(0.8, 2.5))  # long enough to start, short enough to die mid-send
                worker.send_signal(signal.SIGKILL)
                kills += 1
                worker.wait(timeout=10)
            else:
                time.sleep(3)
                worker.terminate()
                worker.wait(timeout=20)
        log.close()

        rows = outbox_rows(live.app)
        assert [r.state for r in rows] == ["sent"] * REPLIES, (tmp_path / "worker.log").read_text()[-3000:]
        sent = Counter(m.internet_message_id for m in world.graph.sent(ex.ALICE_MAILBOX))
        assert {r.message_id: sent[r.message_id] for r in rows} == {r.message_id: 1 for r in rows}
        assert sum(sent.values()) == REPLIES
        print(
            f"graph: {REPLIES} replies, {kills} workers killed, "
            f"{sum(r.attempts > 1 for r in rows)} taken over"
        )
        assert kills >= 5
        assert any(r.attempts > 1 for r in rows)  # some attempts were cut short and taken over
    finally:
        live.server.stop()


class _Connector:
    """The connector as a process of its own, to be killed and started again on the same port."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.env, self.port, self.log = env, port, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        code = (
            "from connector.app import create_app; from werkzeug.serving import run_simple; "
            f"run_simple('127.0.0.1', {self.port}, create_app(), threaded=True)"
        )
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-c", code], env=self.env, cwd=ROOT, stdout=out, stderr=out
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.05)
        raise AssertionError("the connector process did not start:\n" + self.log.read_text()[-3000:])

    def kill_after(self, seconds: float) -> threading.Timer:
        process = self.process
        assert process is not None

        def kill() -> None:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)

        timer = threading.Timer(seconds, kill)
        timer.start()
        return timer

    def ensure_running(self) -> bool:
        """Start it again if it died; True when it had died."""
        assert self.process is not None
        if self.process.poll() is None:
            return False
        self.start()
        return True

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.fixture
def gmail_process(app_factory: Any, sqlite_only: str, tmp_path: Path) -> Iterator[tuple[Gmail, _Connector]]:
    world_host = start_connector(app_factory)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = {
        **addon_settings(world_host.url),
        "sandbox": False,
        "public_url": base,
        "mode": "test",
        "database_url": sqlite_only,
        "var_dir": str(tmp_path / "var"),
        "secret_key": TEST_SECRET_KEY,
        "encryption_keys": (TEST_ENCRYPTION_KEY,),
        "log_format": "json",
        "outbox_lease_seconds": 1.0,
        "outbox_retry_seconds": 0.2,
    }
    connector = _Connector(_env(settings), port, tmp_path / "connector.log")
    connector.start()
    world_host.connect_to_oro("alice")
    try:
        yield Gmail(world_host.app, base, world_host.world, world_host.server, []), connector
    finally:
        connector.stop()
        world_host.server.stop()


def test_gmail_replies_survive_a_killed_connector(gmail_process: tuple[Gmail, _Connector]) -> None:
    from tests.gmail.conftest import buttons, top_card

    gmail, connector = gmail_process
    gmail.world.gmail.configure(answer_delay=0.05)
    with db.session_scope(gmail.app) as session:
        owner = session.query(User).filter_by(email=ex.ALICE_MAILBOX).one()
        create_template(
            session, owner=owner, name="Ack", record_type=None, subject="-", body="<p>Got it.</p>"
        )
    messages = incoming(gmail.world)
    rng = random.Random(5)
    kills = 0

    def press(button: dict[str, Any], message: Any) -> str:
        """Press until the connector answers, starting it again after each death: what a person does."""
        nonlocal kills
        while True:
            timer = connector.kill_after(rng.uniform(0.0, 0.25)) if kills < KILLS_AT_MOST else None
            try:
                return notification(gmail.click(button, message=message))
            except (requests.RequestException, AssertionError):
                pass
            finally:
                if timer is not None:
                    timer.cancel()
                if connector.ensure_running():
                    kills += 1

    def card_for(message: Any, *path: str) -> dict[str, Any]:
        while True:
            try:
                card = top_card(gmail.open(message))
                for text in path:
                    assert card is not None
                    (button,) = [b for b in buttons(card) if b["text"] == text]
                    card = top_card(gmail.click(button, message=message))
                assert card is not None
                return card
            except (requests.RequestException, AssertionError):
                connector.ensure_running()

    for number in range(REPLIES):
        message = messages[number % len(messages)]
        preview = card_for(message, "Reply with a template", "Preview")
        (send,) = [b for b in buttons(preview) if b["text"] == "Send reply"]
        press(send, message)

    time.sleep(1.5)  # leases of killed attempts run out
    for message in {m.thread_id: m for m in messages}.values():
        card_for(message)  # opening each thread finishes what is left there

    rows = outbox_rows(gmail.app)
    assert len(rows) == REPLIES
    assert [r.state for r in rows] == ["sent"] * REPLIES, gmail_process[1].log.read_text()[-3000:]
    sent = Counter(m.header("Message-ID") for m in gmail.world.gmail.sent)
    assert {r.message_id: sent[r.message_id] for r in rows} == {r.message_id: 1 for r in rows}
    assert sum(sent.values()) == REPLIES
    print(
        f"gmail: {REPLIES} replies, {kills} connector kills, "
        f"{sum(r.attempts > 1 for r in rows)} finished later"
    )
    assert kills >= 5
