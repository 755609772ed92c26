"""Driving the task pane inside the preview page, where the Office.js shim hosts it."""

from __future__ import annotations

from typing import Any

from tests.api.support import LiveConnector
from tests.conftest import ARTIFACTS


def open_thread(page: Any, connector: LiveConnector, thread: Any) -> Any:
    """Open ``thread`` in the preview; the frame locator of the Outlook pane."""
    page.goto(f"{connector.url}/?mailbox={thread.mailbox}&thread={thread.id}")
    return page.frame_locator("#outlook-frame")


def wait_for_sidebar(pane: Any) -> None:
    pane.get_by_role("heading", name="People on this email").wait_for(timeout=15_000)


def pane_screenshot(page: Any, name: str, *, width: int = 360) -> None:
    """The pane alone, ``width`` pixels wide and as tall as its content, saved under test-artifacts/.

    The frame is laid over the preview at the top left and the viewport fitted to it; the capture is of
    the viewport, not the full page, because the preview's three columns are wider than a pane.
    """
    original = page.viewport_size
    fit = """(width) => {
        const frame = document.getElementById("outlook-frame");
        frame.style.cssText =
            `position:fixed;top:0;left:0;width:${width}px;height:400px;z-index:9999;border:0`;
        const height = Math.max(frame.contentDocument.documentElement.scrollHeight, 400);
        frame.style.height = `${height}px`;
        return height;
    }"""
    height = page.evaluate(fit, width)
    page.set_viewport_size({"width": width, "height": height})
    height = page.evaluate(fit, width)  # text wraps differently once the viewport changed
    page.set_viewport_size({"width": width, "height": height})
    try:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    finally:
        page.evaluate("() => { document.getElementById('outlook-frame').style.cssText = ''; }")
        page.set_viewport_size(original)


def reply_forms(page: Any) -> list[dict[str, str]]:
    """The reply forms the pane asked Outlook (the shim's host) to open."""
    forms: list[dict[str, str]] = page.evaluate("() => window.oroOutlookHost.replyForms")
    return forms
