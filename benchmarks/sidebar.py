"""Sidebar speed: cold and warm server time, Oro requests per sidebar, memory after 1,000 warm views.

The sandbox's Oro runs in its own process with an injected latency L per request (``--latency-ms``,
default 50), so that its own work and memory do not count as ours. For every sample message of the
sandbox mailboxes the benchmark builds the sidebar cold (nothing cached but the instance's
capabilities), then warm, and compares with a naive look-up that asks Oro one question at a time
(each participant, each record type, then each person's orders, opportunities and cases).

    python benchmarks/sidebar.py [--latency-ms 50] [--warm-rounds 1000]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from connector.cache import MemoryCache  # noqa: E402
from connector.db import models as _models  # noqa: E402, F401
from connector.db.models import User  # noqa: E402
from connector.db.session import Base  # noqa: E402
from connector.mail.addresses import EmailAddress  # noqa: E402
from connector.oro import Contact, CustomerUser, OroConfig, OroConnection  # noqa: E402
from connector.sandbox.world import SandboxWorld  # noqa: E402
from connector.sidebar import models as _sidebar_models  # noqa: E402, F401
from connector.sidebar.context import MessageContext  # noqa: E402
from connector.sidebar.operations import SidebarService  # noqa: E402
from connector.sidebar.policy import SidebarPolicy  # noqa: E402


class CountingAdapter(HTTPAdapter):
    def __init__(self) -> None:
        super().__init__(pool_maxsize=32)
        self.count = 0
        self._lock = threading.Lock()

    def send(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            self.count += 1
        return super().send(*args, **kwargs)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_sandbox(port: int, latency_ms: float) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORO_CONNECTOR_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "connector", "sandbox", "--port", str(port), "--latency-ms", str(latency_ms)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/sandbox/", timeout=2)
            return process
        except requests.ConnectionError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the sandbox did not start")


def user_token(oro_url: str) -> str:
    answer = requests.post(
        f"{oro_url}/oauth2-token",
        data={
            "grant_type": "password",
            "client_id": "demo-password",
            "client_secret": "demo-password-secret",
            "username": "alice",
            "password": "demo",
        },
        timeout=10,
    )
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def contexts(world: SandboxWorld, mailbox: str) -> list[MessageContext]:
    found = []
    for thread in world.threads_of(mailbox):
        for sample in thread.messages:

            def parse(a: Any) -> EmailAddress:
                parsed = EmailAddress.parse(a.email, a.name)
                assert parsed is not None
                return parsed

            found.append(
                MessageContext(
                    message_id=sample.message_id,
                    thread_id=sample.thread_id,
                    mailbox=sample.mailbox,
                    subject=sample.subject,
                    sender=parse(sample.sender),
                    to=tuple(parse(a) for a in sample.to),
                    cc=tuple(parse(a) for a in sample.cc),
                    date=sample.date,
                )
            )
    return found


def naive(oro: Any, message: MessageContext) -> None:
    """One question at a time, as a first implementation would ask them."""
    for address, _role in message.participants():
        people: list[Any] = []
        people += oro.find_contacts(email=address.address)
        people += oro.find_leads(email=address.address)
        people += oro.find_customer_users(email=address.address)
        people += oro.find_b2b_customers(email=address.address)
        for person in people:
            if isinstance(person, CustomerUser):
                oro.recent_orders(customer_user_id=person.id)
            if isinstance(person, Contact):
                oro.opportunities_of(contact_id=person.id)
                oro.open_cases(contact_id=person.id)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--warm-rounds", type=int, default=1000)
    args = parser.parse_args()
    latency = args.latency_ms

    port = free_port()
    print(f"Starting the sandbox's Oro with {latency:g} ms per request ...", flush=True)
    sandbox = start_sandbox(port, latency)
    try:
        oro_url = f"http://127.0.0.1:{port}/sandbox/oro"
        session_http = requests.Session()
        adapter = CountingAdapter()
        session_http.mount("http://", adapter)
        connection = OroConnection(OroConfig(oro_url=oro_url, read_timeout=10), session=session_http)
        oro = connection.with_token(user_token(oro_url))
        world = SandboxWorld.generate(seed=42)  # the same seed as the sandbox: same sample messages
        messages = contexts(world, "alice@acme.example")

        engine = create_engine("sqlite://")
        Base.metadata.create_all(engine)
        db = Session(engine)
        user = User(email="alice@acme.example")
        db.add(user)
        db.flush()
        pool = ThreadPoolExecutor(max_workers=16)
        service = SidebarService(
            cache=MemoryCache(), pool=pool, policy=SidebarPolicy(time_budget=5.0), oro_key=oro_url
        )
        service.capabilities(oro)  # probed once an hour in the product; not part of a sidebar

        cold_ms, cold_calls = [], []
        for message in messages:
            before = adapter.count
            started = time.perf_counter()
            view = service.view(db, user=user, oro=oro, message=message, fresh=True)
            cold_ms.append((time.perf_counter() - started) * 1000)
            cold_calls.append(adapter.count - before)
            assert not view.unavailable, view.unavailable

        warm_ms, warm_calls = [], []
        before_all = adapter.count
        for i in range(args.warm_rounds):
            message = messages[i % len(messages)]
            started = time.perf_counter()
            service.view(db, user=user, oro=oro, message=message)
            warm_ms.append((time.perf_counter() - started) * 1000)
        warm_calls.append(adapter.count - before_all)
        memory = rss_mb()

        naive_ms, naive_calls = [], []
        for message in messages:
            before = adapter.count
            started = time.perf_counter()
            naive(oro, message)
            naive_ms.append((time.perf_counter() - started) * 1000)
            naive_calls.append(adapter.count - before)
        pool.shutdown()
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)

    rows = [
        ("cold sidebar", cold_ms, max(cold_calls), statistics.mean(cold_calls)),
        ("warm sidebar", warm_ms, warm_calls[0], warm_calls[0] / len(warm_ms)),
        ("naive sequential", naive_ms, max(naive_calls), statistics.mean(naive_calls)),
    ]
    print(f"\nSidebar benchmark: {len(messages)} sample messages, Oro latency L = {latency:g} ms\n")
    print(f"{'':<18} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9} {'Oro calls max':>14} {'mean':>7}")
    for name, values, most, mean in rows:
        print(
            f"{name:<18} {percentile(values, 0.5):>9.1f} {percentile(values, 0.95):>9.1f} "
            f"{max(values):>9.1f} {most:>14} {mean:>7.2f}"
        )
    print(f"\nresident memory after {args.warm_rounds} warm sidebars: {memory:.0f} MB")
    print(
        f"goals: cold p95 <= 2.5 L = {2.5 * latency:.0f} ms, <= 6 Oro calls cold, 0 warm, warm p95 <= 15 ms, "
        "memory <= 150 MB"
    )


if __name__ == "__main__":
    main()
