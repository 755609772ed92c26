"""OAuth 2 with Oro: where the endpoints are, PKCE, client credentials, silent refresh with rotation,
and when the user has to connect again."""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from connector.oro import (
    Contact,
    InMemoryTokenStore,
    OroAuthExpired,
    OroAuthRejected,
    OroConfig,
    OroTokens,
)
from tests.oro.conftest import FakeOro, Reply, Seen, contact, token_reply

API = "/admin/api"
NOW = 1_800_000_000.0


def tokens(access: str, refresh: str | None = "refresh-0", *, expires_at: float = NOW + 3600) -> OroTokens:
    return OroTokens(access_token=access, refresh_token=refresh,
                     expires_at=datetime.fromtimestamp(expires_at, tz=UTC))


def accept_only(*good: str):
    """An API answer that accepts the given bearer tokens and answers Oro's empty 401 otherwise."""

    def answer(request: Seen) -> Reply:
        if request.headers.get("Authorization", "").removeprefix("Bearer ") in good:
            return Reply(200, {"data": contact(1)})
        return Reply(401, raw=b"")

    return answer


@pytest.mark.parametrize(
    ("prefix", "authorize_path"),
    [("admin", "/admin/oauth2-token/authorize"), ("", "/oauth2-token/authorize")],
)
def test_the_authorize_url_carries_state_and_an_s256_challenge(prefix: str, authorize_path: str) -> None:
    from connector.oro import OroConnection

    connection = OroConnection(OroConfig(oro_url="https://oro.example.com/", backoffice_prefix=prefix,
                                         client_id="app", client_secret="s3cret"))
    start = connection.oauth.start_authorization(redirect_uri="https://connector.example.com/oro/callback")
    connection.close()

    parts = urlsplit(start.url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"https://oro.example.com{authorize_path}"
    assert query["response_type"] == "code" and query["client_id"] == "app"
    assert query["redirect_uri"] == "https://connector.example.com/oro/callback"
    assert query["state"] == start.state and len(start.state) >= 20
    digest = hashlib.sha256(start.code_verifier.encode()).digest()
    assert query["code_challenge"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert query["code_challenge_method"] == "S256"
    assert 43 <= len(start.code_verifier) <= 128
    assert "s3cret" not in start.url  # the secret never goes to a browser


def test_the_code_is_exchanged_at_the_site_root_with_secret_and_verifier(fake_oro: FakeOro, connect) -> None:
    fake_oro.reply("POST", "/oauth2-token", token_reply("user-access", "user-refresh"))
    connection = connect(clock=lambda: NOW)

    issued = connection.oauth.exchange_code(code="the-code", code_verifier="v" * 50,
                                            redirect_uri="https://connector.example.com/cb")

    assert issued.access_token == "user-access" and issued.refresh_token == "user-refresh"
    assert issued.expires_at == datetime.fromtimestamp(NOW + 3600, tz=UTC)
    request = fake_oro.seen("POST", "/oauth2-token")[0]  # no /admin: the token route is a frontend route
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.form == {
        "grant_type": "authorization_code", "client_id": "connector-app",
        "client_secret": "connector-app-secret",
        "redirect_uri": "https://connector.example.com/cb", "code": "the-code", "code_verifier": "v" * 50,
    }


def test_a_refused_code_says_which_oauth_error(fake_oro: FakeOro, connect) -> None:
    fake_oro.reply("POST", "/oauth2-token", Reply(400, {"error": "invalid_grant", "error_description":
                                                         "Authorization code has expired"}))

    with pytest.raises(OroAuthRejected) as caught:
        connect().oauth.exchange_code(code="old", code_verifier="v" * 50, redirect_uri="https://c/cb")

    assert caught.value.error == "invalid_grant" and "expired" in str(caught.value)


def test_the_integration_client_gets_one_token_and_reuses_it(fake_oro: FakeOro, connect) -> None:
    fake_oro.reply("POST", "/oauth2-token", token_reply("integration-token", refresh=None))
    fake_oro.handle("GET", f"{API}/contacts/1", accept_only("integration-token"))
    client = connect(clock=lambda: NOW).for_integration()

    client.get_record(Contact, id="1")
    client.get_record(Contact, id="1")

    token_requests = fake_oro.seen("POST", "/oauth2-token")
    assert len(token_requests) == 1
    assert token_requests[0].form == {"grant_type": "client_credentials", "client_id": "integration-app",
                                      "client_secret": "integration-app-secret"}


def test_an_unconfigured_integration_client_is_named(connect) -> None:
    client = connect(integration_client_id="", integration_client_secret="").for_integration()

    with pytest.raises(OroAuthRejected) as caught:
        client.get_record(Contact, id="1")

    assert "ORO_CONNECTOR_ORO_INTEGRATION_CLIENT_ID" in str(caught.value)


def test_a_401_refreshes_once_retries_and_stores_the_rotated_tokens(fake_oro: FakeOro, connect) -> None:
    fake_oro.reply("POST", "/oauth2-token", token_reply("access-2", "refresh-2"))
    fake_oro.handle("GET", f"{API}/contacts/1", accept_only("access-2"))
    store = InMemoryTokenStore()
    store.save("alice", tokens("access-1", "refresh-1"))  # Oro revoked it early (e.g. password change)
    client = connect(clock=lambda: NOW).for_user(store=store, key="alice")

    found = client.get_record(Contact, id="1")

    assert found.id == "1"
    sent = [r.headers["Authorization"] for r in fake_oro.seen("GET")]
    assert sent == ["Bearer access-1", "Bearer access-2"]
    assert fake_oro.seen("POST", "/oauth2-token")[0].form["refresh_token"] == "refresh-1"
    kept = store.load("alice")
    assert kept is not None and (kept.access_token, kept.refresh_token) == ("access-2", "refresh-2")


def test_an_expired_token_is_refreshed_before_the_call(fake_oro: FakeOro, connect) -> None:
    fake_oro.reply("POST", "/oauth2-token", token_reply("access-2", "refresh-2"))
    fake_oro.handle("GET", f"{API}/contacts/1", accept_only("access-2"))
    store = InMemoryTokenStore()
    store.save("alice", tokens("access-1", "refresh-1", expires_at=NOW - 1))

    connect(clock=lambda: NOW).for_user(store=store, key="alice").get_record(Contact, id="1")

    assert [r.headers["Authorization"] for r in fake_oro.seen("GET")] == ["Bearer access-2"]


def test_a_refused_refresh_asks_the_user_to_connect_again(fake_oro: FakeOro, connect) -> None:
    refused = {"error": "invalid_grant", "error_description": "The refresh token is invalid."}
    fake_oro.reply("POST", "/oauth2-token", Reply(400, refused))
    fake_oro.handle("GET", f"{API}/contacts/1", accept_only())
    store = InMemoryTokenStore()
    store.save("alice", tokens("access-1", "refresh-1"))

    with pytest.raises(OroAuthExpired) as caught:
        connect(clock=lambda: NOW).for_user(store=store, key="alice").get_record(Contact, id="1")

    assert caught.value.key == "alice" and "connect to Oro again" in str(caught.value)
    assert len(fake_oro.seen("GET")) == 1  # no retry without a token


def test_a_second_401_after_a_refresh_asks_the_user_to_connect_again(fake_oro: FakeOro, connect) -> None:
    fake_oro.reply("POST", "/oauth2-token", token_reply("access-2", "refresh-2"))
    fake_oro.handle("GET", f"{API}/contacts/1", accept_only())
    store = InMemoryTokenStore()
    store.save("alice", tokens("access-1"))

    with pytest.raises(OroAuthExpired):
        connect(clock=lambda: NOW).for_user(store=store, key="alice").get_record(Contact, id="1")

    assert len(fake_oro.seen("GET")) == 2 and len(fake_oro.seen("POST", "/oauth2-token")) == 1


def test_a_user_who_never_connected_is_told_so_without_calling_oro(fake_oro: FakeOro, connect) -> None:
    with pytest.raises(OroAuthExpired) as caught:
        connect().for_user(store=InMemoryTokenStore(), key="bob").get_record(Contact, id="1")

    assert "connect to Oro" in str(caught.value)
    assert fake_oro.requests == []


def test_concurrent_calls_with_an_expired_token_refresh_only_once(fake_oro: FakeOro, connect) -> None:
    """A rotated refresh token works once: a second refresh would log the user out."""
    used: list[str] = []
    lock = threading.Lock()

    def rotate(request: Seen) -> Reply:
        with lock:
            used.append(request.form["refresh_token"])
            first = len(used) == 1
        if not first:
            return Reply(400, {"error": "invalid_grant", "error_description": "Token has been revoked"})
        return token_reply("access-2", "refresh-2")

    fake_oro.handle("POST", "/oauth2-token", rotate)
    fake_oro.handle("GET", f"{API}/contacts/1", accept_only("access-2"))
    store = InMemoryTokenStore()
    store.save("alice", tokens("access-1", "refresh-1", expires_at=NOW - 10))
    client = connect(clock=lambda: NOW).for_user(store=store, key="alice")

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: client.get_record(Contact, id="1").id, range(16)))

    assert results == ["1"] * 16
    assert used == ["refresh-1"]


def test_tokens_and_secrets_stay_out_of_logs_and_reprs(fake_oro: FakeOro, connect, caplog) -> None:
    fake_oro.reply("POST", "/oauth2-token", token_reply("access-SECRET-2", "refresh-SECRET-2"))
    fake_oro.handle("GET", f"{API}/contacts/1", accept_only("access-SECRET-2"))
    store = InMemoryTokenStore()
    store.save("alice", tokens("access-SECRET-1", "refresh-SECRET-1"))
    caplog.set_level(logging.DEBUG)

    connection = connect(clock=lambda: NOW)
    connection.for_user(store=store, key="alice").get_record(Contact, id="1")

    shown = caplog.text + repr(store.load("alice")) + repr(connection.config)
    assert "SECRET" not in shown and "connector-app-secret" not in shown
    assert "Refreshed the Oro tokens of alice" in caplog.text


def test_tokens_survive_a_round_trip_through_their_stored_form() -> None:
    original = tokens("a", "r", expires_at=NOW)

    assert OroTokens.from_json(original.to_json()) == original
