"""`oro-connector worker` as a process of its own for the crash test (tests/outbox/test_crashes.py).

This machine cannot resolve Microsoft's authority, so its requests are forwarded over loopback to the
sandbox's Entra served by the test (``argv[1]``, the ``/sandbox/entra`` URL), the same sandbox the
test's connector used for the on-behalf-of exchange; everything else is the worker as shipped.
"""

from __future__ import annotations

import sys
from typing import Any

import requests
from requests.adapters import HTTPAdapter

import connector.app_services as app_services
from connector.security.microsoft import DEFAULT_AUTHORITY


class _Forward(HTTPAdapter):
    def __init__(self, target: str) -> None:
        super().__init__()
        self._target = target.rstrip("/")

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        assert request.url is not None
        request.url = self._target + request.url[len(DEFAULT_AUTHORITY.rstrip("/")) :]
        return super().send(request, *args, **kwargs)


def main() -> None:
    target = sys.argv[1]
    shipped = app_services.create_identity_session

    def routed() -> requests.Session:
        session = shipped()
        session.mount(DEFAULT_AUTHORITY.rstrip("/") + "/", _Forward(target))
        return session

    app_services.create_identity_session = routed
    from connector.cli import main as cli

    sys.argv = ["oro-connector", "worker"]
    cli()


if __name__ == "__main__":
    main()
