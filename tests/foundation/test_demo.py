"""The app as `oro-connector demo` builds it: its settings must make the sandbox world work end to end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask

from connector.app_services import services
from connector.cli import demo_overrides
from connector.mail.graph import GraphClient
from connector.sandbox import examples as ex
from tests.conftest import LiveServer, serve_wsgi


class _Deferred:
    """A WSGI app given its application once the server knows its port (the demo's URLs name the port)."""

    def __init__(self) -> None:
        self.app: Any = None

    def __call__(self, environ: Any, start_response: Any) -> Any:
        return self.app(environ, start_response)


@pytest.fixture
def demo(app_factory: Any, tmp_path: Path) -> Iterator[tuple[Flask, str]]:
    deferred = _Deferred()
    live: LiveServer = serve_wsgi(deferred)
    port = int(live.url.rsplit(":", 1)[1])
    app: Flask = app_factory(**demo_overrides(host="127.0.0.1", port=port, var_dir=tmp_path / "demo"))
    deferred.app = app
    yield app, live.url
    live.stop()


def test_the_demo_pane_token_is_exchanged_for_a_graph_token_that_reads_the_sandbox_mailbox(
    demo: tuple[Flask, str],
) -> None:
    app, url = demo
    # The Office.js host shim asks the sandbox's Entra for the pane's token, as NAA would.
    answer = requests.post(f"{url}/sandbox/entra/users/alice/access-token", timeout=10)
    answer.raise_for_status()
    pane_token = answer.json()["access_token"]
    # The pane's first call to our API makes the connector user the Graph token cache belongs to.
    me = requests.get(f"{url}/api/v1/me", headers={"Authorization": f"Bearer {pane_token}"}, timeout=10)
    assert me.status_code == 200, me.text

    with app.app_context():
        user = services(app).entra_verifier.verify(pane_token)
        graph_token = services(app).graph_broker.token_for(user, assertion=pane_token)
        graph_url = services(app).settings.graph_api_url

    assert graph_url.startswith(url)  # the calls go to the sandbox's Graph ...
    sample = app.extensions["sandbox_world"].named_threads[ex.THREAD_TRIPLE_PERSON].messages[2]
    message = GraphClient(token=graph_token.value, base_url=graph_url).get_message(sample.id)
    assert message.internet_message_id == sample.message_id  # ... and it accepts the token
    assert message.subject == sample.subject
