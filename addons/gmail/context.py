"""One verified add-on request: the event, who sent it, and the signed action state of its buttons.

:class:`AddonRequest` is what screens and handlers work with. It holds the event's tokens for this
request only (for the Gmail API); nothing here stores them, and its ``repr`` shows none.

Every button of a card carries one parameter, ``state``: an itsdangerous token signed with
``SECRET_KEY`` that names the handler, its parameters, the card's root screen and the Google user it
was made for. It holds no token, expires after :data:`STATE_LIFETIME`, and is refused for another user,
so there is no server session between clicks and a forged or replayed click does nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, timedelta, tzinfo
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from addons.gmail.cards import Action, Branding
from connector.db.models import User
from connector.manifests.gmail import ACTION_PATH, LOGO_PATH
from connector.security.google import GoogleUser
from connector.settings import Settings

Root = Literal["home", "message", "compose"]
ROOTS: tuple[Root, ...] = ("home", "message", "compose")

STATE_PARAMETER = "state"
STATE_LIFETIME = timedelta(hours=12)
"""Long enough for a card left open over a working day; an older click re-renders the card."""
_SALT = "gmail-action-state"


class ActionStateInvalid(Exception):
    """A click's state is missing, forged, made for another user or names no handler."""

    code = "action_state_invalid"


class ActionStateExpired(ActionStateInvalid):
    code = "action_state_expired"


@dataclass(frozen=True)
class ActionState:
    handler: str
    params: Mapping[str, str]
    root: Root


class ActionSigner:
    """Signs and checks the state of card buttons (token-free, expiring, bound to one Google user)."""

    def __init__(self, secret_key: str, *, lifetime: timedelta = STATE_LIFETIME) -> None:
        if not secret_key:
            raise ValueError("a secret key is required to sign action states")
        self._serializer = URLSafeTimedSerializer(secret_key, salt=_SALT)
        self.lifetime = lifetime

    def __repr__(self) -> str:
        return f"ActionSigner(lifetime={self.lifetime})"

    def sign(self, handler: str, params: Mapping[str, str], *, root: Root, user_sub: str) -> str:
        return self._serializer.dumps({"h": handler, "p": dict(params), "r": root, "u": user_sub})

    def verify(self, token: str, *, user_sub: str) -> ActionState:
        try:
            data = self._serializer.loads(token, max_age=int(self.lifetime.total_seconds()))
        except SignatureExpired:
            raise ActionStateExpired("this card is out of date") from None
        except BadSignature:
            raise ActionStateInvalid("this button's state is not one the add-on made") from None
        if not isinstance(data, dict) or data.get("u") != user_sub:
            raise ActionStateInvalid("this button was made for another user")
        params = data.get("p")
        handler, root = data.get("h"), data.get("r")
        if not isinstance(handler, str) or not isinstance(params, dict) or root not in ROOTS:
            raise ActionStateInvalid("this button's state is malformed")
        return ActionState(handler=handler, params={str(k): str(v) for k, v in params.items()}, root=root)


@dataclass
class AddonRequest:
    """A verified Gmail add-on request and the helpers its screens and handlers need."""

    event: Mapping[str, Any] = field(repr=False)
    google_user: GoogleUser
    user: User
    settings: Settings = field(repr=False)
    signer: ActionSigner = field(repr=False)
    session: Session = field(repr=False)
    root: Root = "home"

    # --- the event ----------------------------------------------------------------------------------

    @property
    def mailbox(self) -> str:
        """The address of the mailbox the add-on runs in (the user's verified Google address)."""
        return self.google_user.email

    @property
    def _gmail(self) -> Mapping[str, Any]:
        gmail = self.event.get("gmail")
        return gmail if isinstance(gmail, Mapping) else {}

    @property
    def message_id(self) -> str:
        value = self._gmail.get("messageId")
        return value if isinstance(value, str) else ""

    @property
    def thread_id(self) -> str:
        value = self._gmail.get("threadId")
        return value if isinstance(value, str) else self.message_id

    def recipients(self) -> dict[str, list[str]]:
        """The draft's recipients by field (``toRecipients``...) of a compose event."""
        found: dict[str, list[str]] = {}
        for name in ("toRecipients", "ccRecipients", "bccRecipients"):
            values = self._gmail.get(name)
            if isinstance(values, list):
                found[name] = [str(v) for v in values]
        return found

    def event_root(self) -> Root:
        """The screen the event itself points at: the open message's, a draft's, or home (for clicks
        whose state cannot be read, and for the menu's universal actions, which carry no state)."""
        if self.message_id:
            return "message"
        if self.recipients():
            return "compose"
        return "home"

    @property
    def _common(self) -> Mapping[str, Any]:
        common = self.event.get("commonEventObject")
        return common if isinstance(common, Mapping) else {}

    @property
    def locale(self) -> str | None:
        """The user's Gmail locale (``en``, ``de-AT``...), when Google sent it."""
        value = self._common.get("userLocale")
        return value if isinstance(value, str) and value else None

    @property
    def time_zone(self) -> tzinfo:
        """The user's time zone (``commonEventObject.timeZone.id``); UTC when absent or unknown."""
        zone = self._common.get("timeZone")
        name = zone.get("id") if isinstance(zone, Mapping) else None
        if isinstance(name, str) and name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                pass
        return UTC

    @property
    def parameters(self) -> Mapping[str, str]:
        values = self._common.get("parameters")
        return {str(k): str(v) for k, v in values.items()} if isinstance(values, Mapping) else {}

    def form_value(self, name: str) -> str:
        """The first value the user entered in the input ``name`` ('' when empty or absent)."""
        inputs = self._common.get("formInputs")
        entry = inputs.get(name) if isinstance(inputs, Mapping) else None
        strings = entry.get("stringInputs") if isinstance(entry, Mapping) else None
        values = strings.get("value") if isinstance(strings, Mapping) else None
        return str(values[0]).strip() if isinstance(values, list) and values else ""

    # --- what cards need ----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self.settings.public_url.rstrip("/")

    @property
    def branding(self) -> Branding:
        return Branding(logo_url=self.base_url + LOGO_PATH)

    def action(self, handler: str, **params: str) -> Action:
        """The signed action of a button that runs ``handler`` with ``params`` (see the module doc)."""
        state = self.signer.sign(handler, params, root=self.root, user_sub=self.google_user.sub)
        return Action(function=self.base_url + ACTION_PATH, parameters=((STATE_PARAMETER, state),))

    def commit(self) -> None:
        """Make this request's changes durable before Oro is asked again.

        SQLite has one writer at a time, and Oro token refreshes write in their own transaction: a
        render after a change would wait on this request's own open write. Handlers therefore commit
        a finished change before rendering; on failure the request's commit point rolls back the rest.
        """
        self.session.commit()
