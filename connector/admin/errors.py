"""What can go wrong on the admin page, each with a stable code and a message for the admin."""

from __future__ import annotations

from collections.abc import Sequence


class AdminError(Exception):
    code = "admin_error"
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SettingsInvalid(AdminError):
    """Submitted settings would not work; ``problems`` names each one."""

    code = "settings_invalid"

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("The settings were not saved: " + " ".join(problems))
        self.problems = list(problems)


class SignInFailed(AdminError):
    """The sign-in through Oro did not complete (state, consent, Oro's answer)."""

    code = "signin_failed"


class NotAnAdmin(AdminError):
    """The person signed in at Oro, but is not one of the connector's administrators."""

    code = "not_an_admin"
    status = 403


class TooManyAttempts(AdminError):
    """Sign-in attempts from one address went past the limit; ``retry_after`` seconds to wait."""

    code = "too_many_attempts"
    status = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UnknownUser(AdminError):
    code = "unknown_user"
    status = 404


class UnknownSend(AdminError):
    code = "unknown_send"
    status = 404
