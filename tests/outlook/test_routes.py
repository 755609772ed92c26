"""What Outlook loads from the connector: the pane, its scripts and the icons the manifests name."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from connector.manifests.outlook import ICON_PATH, ICON_SIZES, TASKPANE_PATH

PRODUCTION_LIKE = {
    "public_url": "https://connector.example.com",
    "microsoft_client_id": "2b8f6c1d-9e4a-4f7b-8c3d-1a2b3c4d5e6f",
    "microsoft_tenants": ("7d1b9c4e-2f6a-4c8e-9b3d-5a0e1f2c3d4e",),
}


def test_the_pane_loads_office_js_from_microsoft_and_msal_from_the_connector(app_factory: Any) -> None:
    client = app_factory(**PRODUCTION_LIKE).test_client()
    page = client.get(TASKPANE_PATH)
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert '<script src="https://appsforoffice.microsoft.com/lib/1/hosted/office.js"></script>' in html
    assert "office-shim.js" not in html, "the sandbox's stand-in never reaches a real deployment"
    msal = re.search(r'<script src="(/addons/outlook/vendor/msal-browser\.min\.js)">', html)
    assert msal is not None
    with client.get(msal.group(1)) as script:
        assert script.status_code == 200 and b"createNestablePublicClientApplication" in script.data
    config = json.loads(
        re.search(r'<script id="pane-config" type="application/json">(.*?)</script>', html).group(1)
    )
    assert config["clientId"] == PRODUCTION_LIKE["microsoft_client_id"]
    assert (
        config["apiScope"]
        == f"api://connector.example.com/{PRODUCTION_LIKE['microsoft_client_id']}/access_as_user"
    )
    assert "secret" not in html.lower()


def test_the_pane_forbids_inline_scripts(app_factory: Any) -> None:
    page = app_factory(**PRODUCTION_LIKE).test_client().get(TASKPANE_PATH)
    policy = page.headers["Content-Security-Policy"]
    script_src = next(p for p in policy.split("; ") if p.startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert "object-src 'none'" in policy
    scripts = re.findall(
        r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", page.get_data(as_text=True)
    )
    assert scripts == [], "every script of the pane is a file"


@pytest.mark.parametrize("size", ICON_SIZES)
def test_every_icon_the_manifests_name_is_served(app_factory: Any, size: int) -> None:
    with app_factory().test_client().get(ICON_PATH.format(size=size)) as icon:
        assert icon.status_code == 200 and icon.mimetype == "image/png"
        data = icon.data
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (size, size)


def test_the_pane_modules_are_javascript(app_factory: Any) -> None:
    client = app_factory().test_client()
    for name in ("pane", "api", "auth", "dom", "item", "render", "config", "auth-dialog"):
        with client.get(f"/addons/outlook/js/{name}.js") as module:
            assert module.status_code == 200 and "javascript" in module.mimetype, name
            for sink in (b"innerHTML", b"outerHTML", b"insertAdjacentHTML", b"document.write"):
                assert sink not in module.data, f"{name}.js builds no HTML from strings"
