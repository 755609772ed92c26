"""Entra token verification and the on-behalf-of exchange, against the sandbox Entra in process.

The verifier and the broker run their production code with the production authority URL; the
session they are given hands ``https://login.microsoftonline.com/...`` to the sandbox issuer.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from connector.sandbox.entra import (
    OTHER_TENANT_ID,
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    SANDBOX_TENANT_ID,
    EntraIssuer,
    create_entra_app,
    route_to_sandbox,
)
from connector.security.microsoft import (
    EntraTokenInvalid,
    EntraTokenVerifier,
    EntraUnavailable,
    EntraUser,
    GraphTokenBroker,
    GraphTokenRefused,
    InMemoryTokenCacheStore,
    application_id_uri,
)
from connector.settings import load_settings

AUTHORITY = "https://login.microsoftonline.com"
API_URI = f"api://connector.example.com/{SANDBOX_CLIENT_ID}"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RecordingSession(requests.Session):
    """Records the timeout of every request it sends."""

    def __init__(self) -> None:
        super().__init__()
        self.timeouts: list[Any] = []

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        self.timeouts.append(kwargs.get("timeout"))
        return super().request(method, url, *args, **kwargs)


@pytest.fixture
def issuer() -> EntraIssuer:
    return EntraIssuer(api_uri=API_URI)


@pytest.fixture
def session(issuer: EntraIssuer) -> RecordingSession:
    recording = RecordingSession()
    route_to_sandbox(recording, base_url=AUTHORITY, app=create_entra_app(issuer), path_prefix="/entra")
    return recording


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def verifier(session: requests.Session, clock: FakeClock) -> EntraTokenVerifier:
    return EntraTokenVerifier(
        client_id=SANDBOX_CLIENT_ID,
        tenants=[SANDBOX_TENANT_ID],
        authority=AUTHORITY,
        api_uri=API_URI,
        session=session,
        clock=clock,
    )


def refused(verifier: EntraTokenVerifier, token: str) -> EntraTokenInvalid:
    with pytest.raises(EntraTokenInvalid) as caught:
        verifier.verify(token)
    error = caught.value
    # The token, or any part of it, never shows in what the error says.
    for text in (str(error), repr(error), error.detail):
        for part in token.split("."):
            assert len(part) < 8 or part not in text
    return error


# --- the verifier --------------------------------------------------------------------------------------


def test_a_valid_token_is_accepted_as_its_user(issuer: EntraIssuer, verifier: EntraTokenVerifier) -> None:
    user = verifier.verify(issuer.mint_access_token("alice"))

    alice = issuer.user("alice")
    assert user == EntraUser(
        oid=alice.oid,
        tid=SANDBOX_TENANT_ID,
        name="Alice Martin",
        preferred_username=alice.email,
        scopes=("access_as_user",),
    )
    assert user.key == f"{alice.oid}.{SANDBOX_TENANT_ID}"


def test_the_application_id_uri_is_an_accepted_audience(
    issuer: EntraIssuer, verifier: EntraTokenVerifier
) -> None:
    assert verifier.verify(issuer.mint_access_token(audience=API_URI)).oid == issuer.user("alice").oid


def test_a_token_of_another_tenant_is_refused(issuer: EntraIssuer, verifier: EntraTokenVerifier) -> None:
    # Genuinely signed, issuer consistent with its tenant: only the allow-list stands in the way.
    token = issuer.mint_access_token("mallory", tenant_id=OTHER_TENANT_ID)
    assert refused(verifier, token).reason == "tenant_not_allowed"


def test_an_issuer_that_does_not_match_the_tenant_is_refused(
    issuer: EntraIssuer, verifier: EntraTokenVerifier
) -> None:
    token = issuer.mint_access_token(claims={"iss": issuer.issuer_for(OTHER_TENANT_ID)})
    assert refused(verifier, token).reason == "wrong_issuer"


def test_a_token_for_another_audience_is_refused(issuer: EntraIssuer, verifier: EntraTokenVerifier) -> None:
    token = issuer.mint_access_token(audience="00000003-0000-0000-c000-000000000000")
    assert refused(verifier, token).reason == "wrong_audience"


def test_an_expired_token_is_refused(issuer: EntraIssuer, verifier: EntraTokenVerifier) -> None:
    now = int(time.time())
    token = issuer.mint_access_token(claims={"iat": now - 7200, "nbf": now - 7200, "exp": now - 600})
    assert refused(verifier, token).reason == "expired"


def test_a_token_not_valid_yet_is_refused(issuer: EntraIssuer, verifier: EntraTokenVerifier) -> None:
    token = issuer.mint_access_token(claims={"nbf": int(time.time()) + 600})  # iat is now
    assert refused(verifier, token).reason == "not_yet_valid"


def test_a_small_clock_skew_is_tolerated(issuer: EntraIssuer, verifier: EntraTokenVerifier) -> None:
    now = int(time.time())
    verifier.verify(issuer.mint_access_token(claims={"nbf": now + 20, "iat": now + 20}))
    verifier.verify(issuer.mint_access_token(claims={"iat": now - 3620, "nbf": now - 3620, "exp": now - 20}))


def test_a_bad_signature_is_refused(issuer: EntraIssuer, verifier: EntraTokenVerifier) -> None:
    # Signed with a key nobody published, but naming the published key.
    token = issuer.mint_access_token(key="foreign", kid=issuer.active_kid)
    assert refused(verifier, token).reason == "bad_signature"


def test_alg_none_is_refused_before_any_key_lookup(issuer: EntraIssuer, verifier: EntraTokenVerifier) -> None:
    token = issuer.mint_access_token(algorithm="none", kid="whatever")
    assert token.endswith(".")
    assert refused(verifier, token).reason == "algorithm_not_allowed"
    assert issuer.hits["jwks"] == 0  # an unsigned token costs no fetch of the keys


def test_hs256_keyed_with_the_public_key_is_refused(
    issuer: EntraIssuer, verifier: EntraTokenVerifier
) -> None:
    token = issuer.mint_access_token(algorithm="HS256")
    assert refused(verifier, token).reason == "algorithm_not_allowed"


def test_a_token_without_our_scope_is_refused(issuer: EntraIssuer, verifier: EntraTokenVerifier) -> None:
    token = issuer.mint_access_token(scopes=("User.Read", "Mail.Read"))
    assert refused(verifier, token).reason == "missing_scope"


def test_an_app_only_token_without_scp_is_refused(issuer: EntraIssuer, verifier: EntraTokenVerifier) -> None:
    token = issuer.mint_access_token(claims={"scp": None, "roles": ["access_as_user"]})
    assert refused(verifier, token).reason == "missing_scope"


def test_a_token_without_an_object_id_is_refused(issuer: EntraIssuer, verifier: EntraTokenVerifier) -> None:
    assert refused(verifier, issuer.mint_access_token(claims={"oid": None})).reason == "missing_claim"


def test_an_unknown_kid_is_refused_after_one_refresh_of_the_keys(
    issuer: EntraIssuer, verifier: EntraTokenVerifier, clock: FakeClock
) -> None:
    verifier.verify(issuer.mint_access_token())
    assert issuer.hits["jwks"] == 1
    clock.advance(61)

    token = issuer.mint_access_token(key="foreign", kid="kid-nobody-published")
    assert refused(verifier, token).reason == "unknown_key"
    assert issuer.hits["jwks"] == 2  # exactly one refresh


def test_a_flood_of_unknown_kids_fetches_the_keys_at_most_once_a_minute(
    issuer: EntraIssuer, verifier: EntraTokenVerifier, clock: FakeClock
) -> None:
    verifier.verify(issuer.mint_access_token())
    clock.advance(61)
    for number in range(50):
        token = issuer.mint_access_token(key="foreign", kid=f"forged-{number}")
        assert refused(verifier, token).reason == "unknown_key"
    assert issuer.hits["jwks"] == 2
    verifier.verify(issuer.mint_access_token())  # known keys keep working meanwhile

    clock.advance(61)
    refused(verifier, issuer.mint_access_token(key="foreign", kid="forged-later"))
    assert issuer.hits["jwks"] == 3


def test_a_rotated_signing_key_is_picked_up(
    issuer: EntraIssuer, verifier: EntraTokenVerifier, clock: FakeClock
) -> None:
    verifier.verify(issuer.mint_access_token())
    issuer.rotate_signing_key()
    clock.advance(61)

    assert verifier.verify(issuer.mint_access_token()).preferred_username == "alice@acme.example"
    assert issuer.hits["jwks"] == 2
    assert issuer.hits["openid_configuration"] == 1  # the jwks_uri is remembered


def test_keys_are_refetched_when_a_day_old(
    issuer: EntraIssuer, verifier: EntraTokenVerifier, clock: FakeClock
) -> None:
    verifier.verify(issuer.mint_access_token())
    clock.advance(3600)
    verifier.verify(issuer.mint_access_token())
    assert issuer.hits["jwks"] == 1
    clock.advance(24 * 3600)
    verifier.verify(issuer.mint_access_token())
    assert issuer.hits["jwks"] == 2


def test_every_request_has_a_timeout(
    issuer: EntraIssuer, verifier: EntraTokenVerifier, session: RecordingSession
) -> None:
    verifier.verify(issuer.mint_access_token())
    assert session.timeouts and all(timeout is not None for timeout in session.timeouts)


def test_an_unreachable_authority_is_unavailable_not_a_bad_token(
    issuer: EntraIssuer, clock: FakeClock
) -> None:
    calls: list[str] = []

    def down(environ: Any, start_response: Any) -> list[bytes]:
        calls.append(environ["PATH_INFO"])
        start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
        return [b"down"]

    session = route_to_sandbox(requests.Session(), base_url=AUTHORITY, app=down)
    verifier = EntraTokenVerifier(
        client_id=SANDBOX_CLIENT_ID, tenants=[SANDBOX_TENANT_ID], session=session, clock=clock
    )
    token = issuer.mint_access_token()
    with pytest.raises(EntraUnavailable):
        verifier.verify(token)
    with pytest.raises(EntraUnavailable):
        verifier.verify(token)
    assert len(calls) == 1  # backed off: no second fetch within seconds
    clock.advance(6)
    with pytest.raises(EntraUnavailable):
        verifier.verify(token)
    assert len(calls) == 2


def test_an_empty_tenant_list_refuses_everyone(issuer: EntraIssuer, session: requests.Session) -> None:
    verifier = EntraTokenVerifier(client_id=SANDBOX_CLIENT_ID, tenants=[], session=session)
    assert refused(verifier, issuer.mint_access_token()).reason == "tenant_not_allowed"


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer", "Bearer   "])
def test_the_authorization_header_must_carry_a_bearer_token(
    verifier: EntraTokenVerifier, header: str | None
) -> None:
    with pytest.raises(EntraTokenInvalid) as caught:
        verifier.verify_authorization(header)
    assert caught.value.reason == "missing"


def test_the_authorization_header_is_verified(issuer: EntraIssuer, verifier: EntraTokenVerifier) -> None:
    user = verifier.verify_authorization("bearer " + issuer.mint_access_token("bob"))
    assert user.preferred_username == "bob@acme.example"


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "x" * 20000])
def test_garbage_is_malformed(verifier: EntraTokenVerifier, token: str) -> None:
    assert refused(verifier, token).reason == "malformed"


def test_built_from_settings() -> None:
    settings = load_settings(
        {
            "mode": "test",
            "public_url": "https://connector.example.com",
            "microsoft_client_id": SANDBOX_CLIENT_ID,
            "microsoft_tenants": f"{SANDBOX_TENANT_ID},{OTHER_TENANT_ID}",
        },
        environ={},
        env_file=None,
    )
    verifier = EntraTokenVerifier.from_settings(settings, session=requests.Session())
    assert verifier.audiences == (SANDBOX_CLIENT_ID, API_URI)
    assert verifier.issuer_for(SANDBOX_TENANT_ID) == f"{AUTHORITY}/{SANDBOX_TENANT_ID}/v2.0"
    assert application_id_uri("https://connector.example.com/x/", SANDBOX_CLIENT_ID) == API_URI


# --- the on-behalf-of exchange -------------------------------------------------------------------------


@pytest.fixture
def store() -> InMemoryTokenCacheStore:
    return InMemoryTokenCacheStore()


@pytest.fixture
def broker(session: requests.Session, store: InMemoryTokenCacheStore) -> GraphTokenBroker:
    return GraphTokenBroker(
        client_id=SANDBOX_CLIENT_ID,
        client_secret=SANDBOX_CLIENT_SECRET,
        store=store,
        authority=AUTHORITY,
        session=session,
    )


OBO_GRANT = "grant:urn:ietf:params:oauth:grant-type:jwt-bearer"


def test_on_behalf_of_gives_a_graph_token_for_the_same_user(
    issuer: EntraIssuer,
    verifier: EntraTokenVerifier,
    broker: GraphTokenBroker,
    store: InMemoryTokenCacheStore,
) -> None:
    assertion = issuer.mint_access_token("alice")
    user = verifier.verify(assertion)

    token = broker.token_for(user, assertion=assertion)

    claims = issuer.verify_graph_token(token.value)
    assert (claims["oid"], claims["tid"]) == (user.oid, user.tid)
    assert claims["aud"] == "https://graph.microsoft.com"
    assert claims["scp"].split() == ["Mail.ReadWrite", "Mail.Send"]
    assert token.from_cache is False and token.expires_in > 3000
    assert token.value not in repr(token)
    blob = store.load(user.key)
    assert blob and assertion not in blob  # the user's cache is kept; the pane's token is not
    assert issuer.hits[OBO_GRANT] == 1


def test_the_second_exchange_is_served_silently_from_the_users_cache(
    issuer: EntraIssuer,
    verifier: EntraTokenVerifier,
    session: requests.Session,
    store: InMemoryTokenCacheStore,
    broker: GraphTokenBroker,
) -> None:
    assertion = issuer.mint_access_token("alice")
    user = verifier.verify(assertion)
    first = broker.token_for(user, assertion=assertion)

    # Another worker process: a new broker, the same store.
    other = GraphTokenBroker(
        client_id=SANDBOX_CLIENT_ID, client_secret=SANDBOX_CLIENT_SECRET, store=store, session=session
    )
    second = other.token_for(user, assertion=issuer.mint_access_token("alice"))

    assert second.from_cache is True and second.value == first.value
    assert issuer.hits["token"] == 1


def test_an_expiring_graph_token_is_refreshed_without_a_new_on_behalf_of(
    session: requests.Session, store: InMemoryTokenCacheStore
) -> None:
    issuer = EntraIssuer(api_uri=API_URI, token_lifetime=120)  # MSAL refreshes tokens with < 5 min left
    route_to_sandbox(session, base_url=AUTHORITY, app=create_entra_app(issuer), path_prefix="/entra")
    broker = GraphTokenBroker(
        client_id=SANDBOX_CLIENT_ID, client_secret=SANDBOX_CLIENT_SECRET, store=store, session=session
    )
    alice = issuer.user("alice")
    user = EntraUser(alice.oid, alice.tid, alice.name, alice.email, ("access_as_user",))

    first = broker.token_for(user, assertion=issuer.mint_access_token("alice"))
    second = broker.token_for(user, assertion=issuer.mint_access_token("alice"))

    assert second.from_cache is False and second.value != first.value
    assert issuer.hits[OBO_GRANT] == 1
    assert issuer.hits["grant:refresh_token"] == 1


def test_users_do_not_share_cached_graph_tokens(
    issuer: EntraIssuer, verifier: EntraTokenVerifier, broker: GraphTokenBroker
) -> None:
    alice_assertion = issuer.mint_access_token("alice")
    bob_assertion = issuer.mint_access_token("bob")
    broker.token_for(verifier.verify(alice_assertion), assertion=alice_assertion)

    bob_token = broker.token_for(verifier.verify(bob_assertion), assertion=bob_assertion)

    assert bob_token.from_cache is False
    assert issuer.verify_graph_token(bob_token.value)["oid"] == issuer.user("bob").oid


def test_missing_consent_is_a_refusal_that_needs_the_user(
    issuer: EntraIssuer,
    verifier: EntraTokenVerifier,
    broker: GraphTokenBroker,
    store: InMemoryTokenCacheStore,
) -> None:
    issuer.withhold_consent("Mail.Send")
    assertion = issuer.mint_access_token("alice")
    user = verifier.verify(assertion)

    with pytest.raises(GraphTokenRefused) as caught:
        broker.token_for(user, assertion=assertion)

    error = caught.value
    assert error.error == "invalid_grant" and error.needs_user_interaction
    assert error.description.startswith("AADSTS65001")
    assert assertion not in str(error)
    assert store.load(user.key) is None


@pytest.mark.parametrize("failing", ["/.well-known/openid-configuration", "/oauth2/v2.0/token"])
def test_an_identity_platform_in_trouble_is_unavailable(
    issuer: EntraIssuer, verifier: EntraTokenVerifier, failing: str
) -> None:
    entra = create_entra_app(issuer)

    def busy(environ: Any, start_response: Any) -> Any:
        if environ["PATH_INFO"].endswith(failing):
            start_response("503 Service Unavailable", [("Content-Type", "text/html")])
            return [b"<html>busy</html>"]
        return entra(environ, start_response)

    broker = GraphTokenBroker(
        client_id=SANDBOX_CLIENT_ID,
        client_secret=SANDBOX_CLIENT_SECRET,
        store=InMemoryTokenCacheStore(),
        session=route_to_sandbox(requests.Session(), base_url=AUTHORITY, app=busy, path_prefix="/entra"),
    )
    assertion = issuer.mint_access_token()
    with pytest.raises(EntraUnavailable):
        broker.token_for(verifier.verify(assertion), assertion=assertion)


def test_graph_scopes_are_named_after_the_configured_graph_resource(session: requests.Session) -> None:
    settings = load_settings(
        {
            "mode": "test",
            "microsoft_client_id": SANDBOX_CLIENT_ID,
            "microsoft_client_secret": SANDBOX_CLIENT_SECRET,
            "graph_resource": "https://graph.microsoft.us",
            "graph_api_url": "https://graph-proxy.example.com/v1.0",  # where Graph is called: no bearing
        },
        environ={},
        env_file=None,
    )
    broker = GraphTokenBroker.from_settings(settings, store=InMemoryTokenCacheStore(), session=session)
    assert broker.graph_scopes() == [
        "https://graph.microsoft.us/Mail.ReadWrite",
        "https://graph.microsoft.us/Mail.Send",
    ]
    assert broker.graph_scopes(["Mail.ReadWrite"]) == ["https://graph.microsoft.us/Mail.ReadWrite"]
    assert SANDBOX_CLIENT_SECRET not in repr(broker)


def test_graph_scopes_keep_graphs_name_when_graph_is_called_elsewhere(session: requests.Session) -> None:
    settings = load_settings(
        {
            "mode": "test",
            "microsoft_client_id": SANDBOX_CLIENT_ID,
            "microsoft_client_secret": SANDBOX_CLIENT_SECRET,
            "graph_api_url": "http://127.0.0.1:8000/sandbox/graph/v1.0",  # the demo's
        },
        environ={},
        env_file=None,
    )
    broker = GraphTokenBroker.from_settings(settings, store=InMemoryTokenCacheStore(), session=session)
    assert broker.graph_scopes() == [
        "https://graph.microsoft.com/Mail.ReadWrite",
        "https://graph.microsoft.com/Mail.Send",
    ]


def test_the_exchange_uses_timeouts_too(
    issuer: EntraIssuer, verifier: EntraTokenVerifier, broker: GraphTokenBroker, session: RecordingSession
) -> None:
    assertion = issuer.mint_access_token("alice")
    broker.token_for(verifier.verify(assertion), assertion=assertion)
    assert len(session.timeouts) >= 4  # discovery, keys, tenant discovery, token
    assert all(timeout is not None for timeout in session.timeouts)
