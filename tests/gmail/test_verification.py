"""Only Google may call the add-on: each forged request is refused with 401 and no card, at the HTTP
level, with tokens forged through the sandbox issuer's own overrides."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import pytest
from google.auth import jwt as google_jwt
from sqlalchemy import MetaData, func, select

from addons.gmail.context import ActionSigner
from connector.db import db
from connector.db.models import Identity
from connector.manifests.gmail import ACTION_PATH, DISCONNECT_PATH, HOMEPAGE_PATH, MESSAGE_PATH
from connector.sandbox import examples as ex
from connector.sandbox.google import (
    SANDBOX_CLIENT_ID,
    SANDBOX_SERVICE_ACCOUNT,
    SigningKey,
    authorization_header,
    build_event,
)
from tests.conftest import TEST_SECRET_KEY
from tests.gmail.conftest import Gmail, buttons, free_port, top_card

Forgery = Callable[[Gmail, dict[str, Any], str], str | None]
"""(harness, event, endpoint URL) -> the Authorization header to send (the event may be changed)."""


def _system(gmail: Gmail, url: str, **options: Any) -> str:
    return "Bearer " + gmail.world.google.mint_system_id_token(url, SANDBOX_SERVICE_ACCOUNT, **options)


def wrong_issuer(gmail: Gmail, event: dict[str, Any], url: str) -> str:
    return _system(gmail, url, claims={"iss": "https://accounts.evil.example"})


def wrong_audience(gmail: Gmail, event: dict[str, Any], url: str) -> str:
    return _system(gmail, url.replace(MESSAGE_PATH, ACTION_PATH))


def other_service_account(gmail: Gmail, event: dict[str, Any], url: str) -> str:
    return "Bearer " + gmail.world.google.mint_system_id_token(
        url, "service-999999999999@gcp-sa-gsuiteaddons.iam.gserviceaccount.com"
    )


def expired(gmail: Gmail, event: dict[str, Any], url: str) -> str:
    return _system(gmail, url, issued_at=time.time() - 7200, lifetime=3600)


def bad_signature(gmail: Gmail, event: dict[str, Any], url: str) -> str:
    return _system(gmail, url, key=SigningKey.generate(), headers={"kid": gmail.world.google.signing_key.kid})


def alg_none(gmail: Gmail, event: dict[str, Any], url: str) -> str:
    return _system(gmail, url, headers={"alg": "none"})


def no_header(gmail: Gmail, event: dict[str, Any], url: str) -> None:
    return None


def user_token_for_another_client(gmail: Gmail, event: dict[str, Any], url: str) -> str:
    event["authorizationEventObject"]["userIdToken"] = gmail.world.google.mint_user_id_token(
        "999-other-addon.apps.googleusercontent.com", ex.ALICE_MAILBOX, "1234567890"
    )
    return _system(gmail, url)


FORGERIES: dict[str, Forgery] = {
    "wrong issuer": wrong_issuer,
    "wrong audience": wrong_audience,
    "other service account": other_service_account,
    "expired": expired,
    "bad signature": bad_signature,
    "alg none": alg_none,
    "no header": no_header,
    "user token for another client": user_token_for_another_client,
}


@pytest.mark.parametrize("forgery", list(FORGERIES), ids=list(FORGERIES))
def test_a_forged_request_is_refused_with_401_and_no_card(gmail: Gmail, forgery: str) -> None:
    message = gmail.world.named_threads[ex.THREAD_TRIPLE_PERSON].messages[-1]
    event = gmail.event(MESSAGE_PATH, message=message)
    header = FORGERIES[forgery](gmail, event, gmail.base + MESSAGE_PATH)

    response = gmail.post(MESSAGE_PATH, event, authorization=header)

    assert response.status_code == 401
    body = response.json()
    assert "action" not in body and "renderActions" not in body, "a refused request gets no card"
    assert body["error"].startswith("google_token")
    with db.session_scope(gmail.app) as session:
        assert session.scalar(select(func.count()).select_from(Identity)) == 0, "nobody was let in"


def test_the_genuine_request_gets_its_card(gmail: Gmail) -> None:
    message = gmail.world.named_threads[ex.THREAD_TRIPLE_PERSON].messages[-1]
    card = top_card(gmail.open(message))
    assert card is not None and card["name"] == "connect"


@pytest.mark.parametrize("path", [HOMEPAGE_PATH, ACTION_PATH, DISCONNECT_PATH])
def test_every_endpoint_checks_the_audience_it_was_called_at(gmail: Gmail, path: str) -> None:
    event = gmail.event(MESSAGE_PATH)  # a token Google made for another endpoint
    response = gmail.post(path, event)
    assert response.status_code == 401
    assert "renderActions" not in response.json()


def test_a_button_made_for_another_user_does_nothing(connected: Gmail) -> None:
    home = top_card(connected.home())
    assert home is not None
    search = next(
        b
        for s in home["sections"]
        for w in s["widgets"]
        if "buttonList" in w
        for b in w["buttonList"]["buttons"]
        if b["text"] == "Search"
    )
    answer = connected.click(search, mailbox=ex.BOB_MAILBOX, form={"query": ["Moreau"]})
    assert top_card(answer) is None, "bob's click on alice's button shows no card"
    text = answer["renderActions"]["action"]["notification"]["text"]
    assert "not valid" in text and "action_state_invalid" in text


def test_tokens_never_reach_the_logs(gmail: Gmail, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    message = gmail.world.named_threads[ex.THREAD_TRIPLE_PERSON].messages[-1]
    good = gmail.event(MESSAGE_PATH, message=message)
    assert gmail.post(MESSAGE_PATH, good).status_code == 200
    forged = gmail.event(MESSAGE_PATH, message=message)
    assert (
        gmail.post(
            MESSAGE_PATH, forged, authorization=expired(gmail, forged, gmail.base + MESSAGE_PATH)
        ).status_code
        == 401
    )
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "refused a Gmail add-on request" in logged
    for event in (good, forged):
        authorization = event["authorizationEventObject"]
        for token in (
            authorization["userOAuthToken"],
            authorization["userIdToken"],
            authorization["systemIdToken"],
            event["gmail"]["accessToken"],
        ):
            assert token not in logged


def test_an_old_cards_button_shows_the_card_again_and_says_so(
    connected: Gmail, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = connected.world.named_threads[ex.THREAD_TRIPLE_PERSON].messages[-1]
    card = top_card(connected.open(message))
    assert card is not None
    search = next(b for b in buttons(card) if b["text"] == "Search")
    action = search["onClick"]["action"]
    signer = ActionSigner(TEST_SECRET_KEY)
    sub = connected.event(MESSAGE_PATH)["authorizationEventObject"]["userIdToken"]
    sub = google_jwt.decode(sub, verify=False)["sub"]
    state = signer.verify(action["parameters"][0]["value"], user_sub=sub)
    now = time.time()
    with monkeypatch.context() as past:
        past.setattr("itsdangerous.timed.time.time", lambda: now - 13 * 3600)  # drawn 13 hours ago
        old = signer.sign(state.handler, state.params, root=state.root, user_sub=sub)
    action["parameters"][0]["value"] = old

    answer = connected.click(search, message=message, form={"query": ["Moreau"]})

    assert "out of date" in answer["renderActions"]["action"]["notification"]["text"]
    assert top_card(answer)["name"] == "message"  # type: ignore[index]


def test_the_events_tokens_are_not_stored(connected: Gmail) -> None:
    message = connected.world.named_threads[ex.THREAD_TRIPLE_PERSON].messages[-1]
    event = connected.event(MESSAGE_PATH, message=message)
    assert connected.post(MESSAGE_PATH, event).status_code == 200
    authorization = event["authorizationEventObject"]
    tokens = [authorization["userOAuthToken"], authorization["userIdToken"], event["gmail"]["accessToken"]]
    engine = db.engine(connected.app)
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        stored = " ".join(
            str(value)
            for table in metadata.sorted_tables
            for row in connection.execute(table.select())
            for value in row
        )
    assert stored, "the connector did store something (the user, their encrypted Oro tokens)"
    assert not [token for token in tokens if token in stored]


def test_the_preview_signs_nothing_without_the_sandbox(client: Any) -> None:
    answer = client.post("/preview/gmail/event", json={"url": MESSAGE_PATH, "mailbox": ex.ALICE_MAILBOX})
    assert answer.status_code == 404


def test_without_googles_certificates_nothing_is_answered_but_503(app_factory: Any) -> None:
    app = app_factory(
        sandbox=True,
        google_service_account=SANDBOX_SERVICE_ACCOUNT,
        google_client_id=SANDBOX_CLIENT_ID,
        google_certs_url=f"http://127.0.0.1:{free_port()}/oauth2/v1/certs",
    )
    world = app.extensions["sandbox_world"]
    event = build_event(
        world.google, endpoint_url="http://connector.test" + MESSAGE_PATH, user_email=ex.ALICE_MAILBOX
    )
    answer = app.test_client().post(
        MESSAGE_PATH, json=event, headers={"Authorization": authorization_header(event)}
    )
    assert answer.status_code == 503
    assert answer.get_json() == {"error": "google_certs_unavailable"}
