"""Fault injection of the sandbox's Oro, seen by a real HTTP client over loopback."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from connector.sandbox.world import SandboxWorld
from tests.conftest import SandboxServer
from tests.sandbox.conftest import JSON_API, OroApi


@pytest.fixture
def live(sandbox_server: SandboxServer) -> Iterator[SandboxServer]:
    yield sandbox_server
    # release held requests before the server shuts down
    sandbox_server.world.oro.configure(down=False, latency_ms=0, jitter_ms=0, error_rate=0.0)


def get_contacts(live: SandboxServer, timeout: float = 5.0) -> requests.Response:
    token = live.world.oro.oauth.issue_for_user("2")
    return requests.get(
        f"{live.oro_url}/admin/api/contacts",
        timeout=timeout,
        headers={"Accept": JSON_API, "Authorization": f"Bearer {token}"},
    )


def put_faults(live: SandboxServer, **settings: Any) -> requests.Response:
    return requests.put(f"{live.oro_url}/_sandbox/faults", json=settings, timeout=5)


def test_control_endpoint_reads_and_changes_faults(live: SandboxServer) -> None:
    current = requests.get(f"{live.oro_url}/_sandbox/faults", timeout=5).json()
    assert current["error_rate"] == 0.0 and current["down"] is False
    changed = put_faults(live, error_rate=0.2, error_statuses=[503, 429], retry_after_seconds=2)
    assert changed.status_code == 200
    assert changed.json()["error_statuses"] == [503, 429]
    assert live.world.oro.faults.settings.error_rate == 0.2


def test_control_endpoint_refuses_bad_values(live: SandboxServer) -> None:
    assert put_faults(live, error_rate=2).status_code == 400
    assert put_faults(live, error_statuses=[404]).status_code == 400
    assert put_faults(live, wobble=True).status_code == 400


def test_injected_503_and_429_carry_retry_after(live: SandboxServer) -> None:
    put_faults(live, error_rate=1.0, error_statuses=[503], retry_after_seconds=3)
    response = get_contacts(live)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "3"
    put_faults(live, error_statuses=[429])
    assert get_contacts(live).status_code == 429


def test_injected_500_is_an_oro_error_document(live: SandboxServer) -> None:
    put_faults(live, error_rate=1.0, error_statuses=[500])
    response = get_contacts(live)
    assert response.status_code == 500
    assert response.json()["errors"][0]["status"] == "500"


def test_error_rate_hits_about_that_share_of_requests(world: SandboxWorld, oro: OroApi) -> None:
    world.oro.configure(error_rate=0.2, error_statuses=[503, 429], seed=7)
    statuses = [oro.get("contacts/1").status_code for _ in range(200)]
    failures = sum(1 for s in statuses if s in (503, 429))
    assert 20 <= failures <= 60
    assert set(statuses) <= {200, 503, 429}


def test_same_seed_same_faults(world: SandboxWorld, oro: OroApi) -> None:
    world.oro.configure(error_rate=0.5, seed=11)
    first = [oro.get("contacts/1").status_code for _ in range(30)]
    world.oro.configure(seed=11)
    assert [oro.get("contacts/1").status_code for _ in range(30)] == first


def test_latency_makes_a_short_read_timeout_fail(live: SandboxServer) -> None:
    put_faults(live, latency_ms=800)
    with pytest.raises(requests.ReadTimeout):
        get_contacts(live, timeout=0.2)
    put_faults(live, latency_ms=0)
    assert get_contacts(live).status_code == 200


def test_down_holds_requests_until_a_client_times_out(live: SandboxServer) -> None:
    put_faults(live, down=True, down_hold_seconds=10)
    with pytest.raises(requests.ReadTimeout):
        get_contacts(live, timeout=0.3)
    assert put_faults(live, down=False).status_code == 200
    assert get_contacts(live).status_code == 200


def test_a_held_request_is_answered_once_oro_is_back(live: SandboxServer) -> None:
    put_faults(live, down=True, down_hold_seconds=10)
    results: list[int] = []
    waiting = threading.Thread(target=lambda: results.append(get_contacts(live, timeout=8).status_code))
    waiting.start()
    time.sleep(0.3)
    assert results == []
    put_faults(live, down=False)
    waiting.join(timeout=8)
    assert results == [200]


def test_down_past_the_hold_cap_answers_503(live: SandboxServer) -> None:
    put_faults(live, down=True, down_hold_seconds=0.2)
    response = get_contacts(live)
    assert response.status_code == 503
    assert "Retry-After" in response.headers


def test_faults_also_hit_the_token_endpoint(live: SandboxServer) -> None:
    put_faults(live, error_rate=1.0, error_statuses=[503])
    response = requests.post(
        f"{live.oro_url}/oauth2-token",
        timeout=5,
        data={
            "grant_type": "client_credentials",
            "client_id": "demo-integration",
            "client_secret": "demo-secret",
        },
    )
    assert response.status_code == 503


def test_configure_at_start_like_the_cli(world: SandboxWorld, oro: OroApi) -> None:
    world.oro.configure(latency_ms=0, jitter_ms=5, error_rate=1.0, error_statuses=[429])
    assert oro.get("contacts/1").status_code == 429
    world.oro.configure(error_rate=0.0)
    assert oro.get("contacts/1").status_code == 200
