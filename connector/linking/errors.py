"""What can stop a link, unlink, note or create, as typed errors with stable codes.

The hosts turn these into a card notification or a JSON error in one handler: ``code`` is stable
(clients and tests match on it), ``str(error)`` is a sentence for the person, ``retryable`` says
whether trying again later can succeed, ``http_status`` is what a JSON API should answer.

::

    LinkingError
     +-- OroTooOld             oro_too_old            Oro before 6.0: no emails API to log into
     +-- PolicyRefused         policy_refused         the privacy policy keeps this email out of Oro
     +-- MessageUnusable       message_unusable       no Message-ID, no sender: nothing Oro can store
     +-- InvalidRequest        invalid_request        the caller asked for something impossible
     +-- LinkInProgress        link_in_progress       another request is writing the same thing now
     +-- OroWriteUncertain     oro_write_uncertain    Oro did not confirm a write; it is re-checked
     +-- OroUnreachable        oro_unavailable        Oro did not answer; nothing was written
     +-- OroRefusedWrite       oro_refused            Oro answered with an error (its text is kept)

An expired Oro authorisation is not wrapped: :class:`connector.oro.OroAuthExpired` passes through
unchanged, because every feature answers it the same way (ask the user to connect again).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar


class LinkingError(Exception):
    code: ClassVar[str] = "linking_error"
    http_status: ClassVar[int] = 400
    retryable: ClassVar[bool] = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message, "retryable": self.retryable}


class OroTooOld(LinkingError):
    """The Oro instance has no ``emails`` JSON:API (it arrived with Oro 6.0)."""

    code = "oro_too_old"
    http_status = 409

    def __init__(self, message: str = "") -> None:
        super().__init__(
            message
            or "Linking emails needs Oro 6.0 or later: this Oro has no emails API. "
            "Notes on records still work."
        )


class PolicyRefused(LinkingError):
    """The privacy policy keeps this email (or participant) out of Oro. Nothing was sent to Oro.

    ``reasons`` are sentences a person can read, one per address that caused the refusal.
    """

    code = "policy_refused"
    http_status = 403

    def __init__(self, message: str, *, reasons: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.reasons = tuple(reasons)

    def to_dict(self) -> dict[str, object]:
        return {**super().to_dict(), "reasons": list(self.reasons)}


class MessageUnusable(LinkingError):
    code = "message_unusable"
    http_status = 422


class InvalidRequest(LinkingError):
    code = "invalid_request"
    http_status = 400


class LinkInProgress(LinkingError):
    """Another request holds the claim on the same write (a double click, a colleague, a retry that came
    too soon after a timeout). Trying again in ``retry_after`` seconds finds its result."""

    code = "link_in_progress"
    http_status = 409
    retryable = True

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def to_dict(self) -> dict[str, object]:
        return {**super().to_dict(), "retry_after": round(self.retry_after, 1)}


class OroWriteUncertain(LinkingError):
    """Oro did not answer a write in time: it may or may not have stored it. The claim is kept for a
    while, so no one writes again before Oro could have finished; the next attempt looks first."""

    code = "oro_write_uncertain"
    http_status = 503
    retryable = True

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def to_dict(self) -> dict[str, object]:
        return {**super().to_dict(), "retry_after": round(self.retry_after, 1)}


class OroUnreachable(LinkingError):
    """Oro did not answer a read, or refused a write before doing it: nothing was written."""

    code = "oro_unavailable"
    http_status = 503
    retryable = True


class OroRefusedWrite(LinkingError):
    """Oro answered with an error document (a 400 constraint, a 403 of its ACL); ``detail`` is its text."""

    code = "oro_refused"
    http_status = 502

    def __init__(self, message: str, *, status: int, detail: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail
