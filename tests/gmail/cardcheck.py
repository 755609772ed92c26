"""Checks an add-on response the way Google would: the envelope, then every card in it against Google's
own card messages (``google.apps.card_v1``, strict: an unknown field fails), Google's limits, and the
deployment's ``openLinkUrlPrefixes``."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from google.apps import card_v1

MAX_SECTIONS = 100
MAX_WIDGETS = 100

NAVIGATION_KEYS = {"pushCard", "updateCard", "popCard", "pop", "popToRoot", "popToNamed"}
ACTION_KEYS = {"navigations", "notification", "link"}
RENDER_KEYS = {"action", "hostAppAction"}


def cards_of(response: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Unwrap the envelope (``action.navigations`` of a trigger, ``renderActions`` of a click) and return
    its cards; an envelope field Google does not know fails."""
    if set(response) == {"action"}:
        action = response["action"]
    else:
        assert set(response) == {"renderActions"}, f"unknown envelope {sorted(response)}"
        render = response["renderActions"]
        assert set(render) <= RENDER_KEYS and render, f"unknown renderActions fields {sorted(render)}"
        action = render.get("action", {})
        if "hostAppAction" in render:
            draft = render["hostAppAction"]["gmailAction"]["updateDraftActionMarkup"]
            assert set(draft) <= {"updateBody", "updateSubject", "updateToRecipients", "updateCcRecipients"}
    assert set(action) <= ACTION_KEYS, f"unknown action fields {sorted(action)}"
    if "notification" in action:
        assert set(action["notification"]) == {"text"} and action["notification"]["text"]
    found = []
    for navigation in action.get("navigations", []):
        assert len(navigation) == 1 and set(navigation) <= NAVIGATION_KEYS, navigation
        for key in ("pushCard", "updateCard"):
            if key in navigation:
                found.append(navigation[key])
    return found


def _on_clicks(value: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(value, Mapping):
        if "onClick" in value:
            yield value["onClick"]
        for item in value.values():
            yield from _on_clicks(item)
    elif isinstance(value, list):
        for item in value:
            yield from _on_clicks(item)


def check_card(card: Mapping[str, Any], *, link_prefixes: Sequence[str], action_url: str) -> None:
    """Parse ``card`` with Google's card messages and check the limits and every click's target."""
    card_v1.Card.from_json(json.dumps(card))  # raises ParseError on anything Google does not know
    sections = card.get("sections", [])
    assert 0 < len(sections) <= MAX_SECTIONS
    for section in sections:
        assert 0 < len(section["widgets"]) <= MAX_WIDGETS
    for on_click in _on_clicks(card):
        if "openLink" in on_click:
            url = on_click["openLink"]["url"]
            assert url.startswith(("mailto:", "tel:")) or url.startswith(tuple(link_prefixes)), (
                f"{url} is outside openLinkUrlPrefixes {list(link_prefixes)}"
            )
        if "action" in on_click:
            assert on_click["action"]["function"] == action_url
            keys = [p["key"] for p in on_click["action"].get("parameters", [])]
            assert keys == ["state"], "a button carries its signed state and nothing else"


def check_response(
    response: Mapping[str, Any], *, link_prefixes: Sequence[str], action_url: str
) -> list[dict[str, Any]]:
    found = cards_of(response)
    for card in found:
        check_card(card, link_prefixes=link_prefixes, action_url=action_url)
    return found
