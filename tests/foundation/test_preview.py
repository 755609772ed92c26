from __future__ import annotations

from typing import Any

from markupsafe import escape

from tests.conftest import screenshot, serve_wsgi


def test_preview_without_sandbox_is_a_status_page(client: Any) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert b"/healthz" in response.data


def test_preview_shows_the_sample_inbox_and_opens_a_thread(app_factory: Any) -> None:
    app = app_factory(sandbox=True)
    world = app.extensions["sandbox_world"]
    client = app.test_client()
    page = client.get("/").get_data(as_text=True)
    mine = world.threads_of(world.mailboxes[0])
    assert mine, "the sandbox gives the first mailbox sample conversations"
    for thread in mine[:5]:
        assert f'data-thread="{thread.id}"' in page
    thread = mine[-1]
    opened = client.get(f"/?mailbox={thread.mailbox}&thread={thread.id}").get_data(as_text=True)
    for message in thread.messages:
        assert f'data-message-id="{escape(message.message_id)}"' in opened
    assert client.get("/?thread=does-not-exist").status_code == 404


def test_sandbox_is_mounted_under_sandbox(app_factory: Any) -> None:
    client = app_factory(sandbox=True).test_client()
    response = client.get("/sandbox/")
    assert response.status_code == 200
    assert response.get_json()["parts"]["oro"]


def test_preview_in_a_real_browser(app_factory: Any, page: Any) -> None:
    app = app_factory(sandbox=True)
    live = serve_wsgi(app)
    try:
        page.goto(live.url + "/")
        page.get_by_role("list", name="Conversations").get_by_role("link").nth(1).click()
        messages = page.locator("article.message")
        assert messages.count() >= 1
        assert page.locator("#gmail-card").is_visible() and page.locator("#outlook-pane").is_visible()
        screenshot(page, "preview-inbox")
    finally:
        live.stop()
