"""Errors of the connect flow, each with a stable code the hosts show."""

from __future__ import annotations


class ConnectError(Exception):
    code = "connect_failed"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConnectLinkInvalid(ConnectError):
    code = "connect_link_invalid"


class ConnectStateInvalid(ConnectError):
    code = "connect_state_invalid"


class ConnectRefused(ConnectError):
    code = "connect_refused"
