"""The Gmail deployment we print must be one Google's add-ons API accepts, with the right URLs.

The schema below is the documented ``projects.deployments`` resource (reference A1, the REST reference
page): every field name it lists for the parts we use, which are required, and each enum's values. The
checker refuses any other field, so a misspelt or invented field fails here rather than at
``gcloud workspace-add-ons deployments create``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connector.manifests.gmail import (
    COMPOSE_PATH,
    DISCONNECT_PATH,
    HOMEPAGE_PATH,
    MESSAGE_PATH,
    REFRESH_PATH,
    ManifestInputError,
    render_gmail_deployment,
)

TEMPLATE = Path(__file__).resolve().parents[2] / "manifest" / "gmail" / "deployment.json"
BASE = "https://connector.example.com"
ORO = "https://oro.example.com"

# A type is {"fields": {name: spec}, "required": [...], "one_of": [[names, exactly one required]]}.
# A spec is "string", "boolean", "empty" (an object without fields), ("enum", values), ("list", spec)
# or the name of another type.
SCHEMA: dict[str, dict[str, Any]] = {
    "Deployment": {
        "fields": {"name": "string", "oauthScopes": ("list", "string"), "addOns": "AddOns", "etag": "string"},
    },
    "AddOns": {
        "fields": {
            "common": "CommonAddOnManifest",
            "gmail": "GmailAddOnManifest",
            "drive": "object",
            "calendar": "object",
            "docs": "object",
            "meet": "object",
            "sheets": "object",
            "slides": "object",
            "httpOptions": "HttpOptions",
        },
    },
    "CommonAddOnManifest": {
        "fields": {
            "name": "string",
            "logoUrl": "string",
            "layoutProperties": "LayoutProperties",
            "addOnWidgetSet": "AddOnWidgetSet",
            "useLocaleFromApp": "boolean",
            "homepageTrigger": "HomepageExtensionPoint",
            "universalActions": ("list", "UniversalActionExtensionPoint"),
            "openLinkUrlPrefixes": ("list", "string"),
        },
        "required": ["name", "logoUrl"],
    },
    "LayoutProperties": {
        "fields": {"primaryColor": "string", "secondaryColor": "string", "useNewMaterialDesign": "boolean"},
    },
    "AddOnWidgetSet": {
        "fields": {
            "usedWidgets": (
                "list",
                (
                    "enum",
                    {
                        "WIDGET_TYPE_UNSPECIFIED", "DATE_PICKER", "STYLED_BUTTONS", "PERSISTENT_FORMS",
                        "UPDATE_SUBJECT_AND_RECIPIENTS", "GRID_WIDGET", "ADDON_COMPOSE_UI_ACTION",
                    },
                ),
            )
        },
    },
    "HomepageExtensionPoint": {
        "fields": {"runFunction": "string", "enabled": "boolean"},
        "required": ["runFunction"],
    },
    "UniversalActionExtensionPoint": {
        "fields": {"label": "string", "openLink": "string", "runFunction": "string"},
        "required": ["label"],
        "one_of": [["openLink", "runFunction"]],
    },
    "GmailAddOnManifest": {
        "fields": {
            "homepageTrigger": "HomepageExtensionPoint",
            "contextualTriggers": ("list", "ContextualTrigger"),
            "universalActions": ("list", "UniversalAction"),
            "composeTrigger": "ComposeTrigger",
            "authorizationCheckFunction": "string",
        },
    },
    "ContextualTrigger": {
        "fields": {"onTriggerFunction": "string", "unconditional": "empty"},
        "required": ["onTriggerFunction"],
        "one_of": [["unconditional"]],
    },
    "UniversalAction": {
        "fields": {"text": "string", "openLink": "string", "runFunction": "string"},
        "required": ["text"],
        "one_of": [["openLink", "runFunction"]],
    },
    "ComposeTrigger": {
        "fields": {
            "actions": ("list", "MenuItemExtensionPoint"),
            "draftAccess": ("enum", {"UNSPECIFIED", "NONE", "METADATA"}),
        },
    },
    "MenuItemExtensionPoint": {
        "fields": {"runFunction": "string", "label": "string", "logoUrl": "string"},
        "required": ["runFunction", "label"],
    },
    "HttpOptions": {
        "fields": {
            "authorizationHeader": (
                "enum",
                {"HTTP_AUTHORIZATION_HEADER_UNSPECIFIED", "SYSTEM_ID_TOKEN", "USER_ID_TOKEN", "NONE"},
            ),
            "granularOauthPermissionSupport": (
                "enum",
                {"GRANULAR_OAUTH_PERMISSION_SUPPORT_UNSPECIFIED", "OPT_IN", "OPT_OUT"},
            ),
        },
    },
}


def schema_problems(value: Any, spec: Any, where: str = "$") -> list[str]:
    """Every way ``value`` departs from ``spec`` (empty when it conforms)."""
    if spec == "string":
        return [] if isinstance(value, str) and value else [f"{where}: expected a non-empty string"]
    if spec == "boolean":
        return [] if isinstance(value, bool) else [f"{where}: expected a boolean"]
    if spec in ("empty", "object"):
        if not isinstance(value, dict) or (spec == "empty" and value):
            return [f"{where}: expected {'an empty' if spec == 'empty' else 'an'} object"]
        return []
    if isinstance(spec, tuple) and spec[0] == "enum":
        return [] if value in spec[1] else [f"{where}: {value!r} is not one of {sorted(spec[1])}"]
    if isinstance(spec, tuple) and spec[0] == "list":
        if not isinstance(value, list):
            return [f"{where}: expected a list"]
        return [p for i, item in enumerate(value) for p in schema_problems(item, spec[1], f"{where}[{i}]")]
    kind = SCHEMA[spec]
    if not isinstance(value, dict):
        return [f"{where}: expected a {spec} object"]
    problems = [f"{where}.{name}: not a field of {spec}" for name in value if name not in kind["fields"]]
    missing = [name for name in kind.get("required", []) if name not in value]
    problems += [f"{where}.{name}: required by {spec}" for name in missing]
    for group in kind.get("one_of", []):
        present = [name for name in group if name in value]
        if len(present) != 1:
            problems.append(f"{where}: {spec} needs exactly one of {group}, has {present}")
    for name, item in value.items():
        if name in kind["fields"]:
            problems += schema_problems(item, kind["fields"][name], f"{where}.{name}")
    return problems


def all_strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for item in value.values() for s in all_strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in all_strings(item)]
    return [value] if isinstance(value, str) else []


# --- the checker is strict ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mutate", "problem"),
    [
        (lambda d: d["addOns"]["common"].update(colour="red"), "$.addOns.common.colour: not a field"),
        (lambda d: d["addOns"]["common"].pop("logoUrl"), "$.addOns.common.logoUrl: required"),
        (lambda d: d["addOns"]["httpOptions"].update(authorizationHeader="ID_TOKEN"), "not one of"),
        (lambda d: d["addOns"]["gmail"]["composeTrigger"].update(draftAccess="FULL"), "not one of"),
        (lambda d: d["addOns"]["common"]["universalActions"][0].update(openLink=BASE), "exactly one of"),
        (lambda d: d["addOns"]["gmail"]["contextualTriggers"][0].pop("unconditional"), "exactly one of"),
        (lambda d: d["addOns"]["common"]["universalActions"][0].update(text="Refresh"), "not a field"),
        (lambda d: d["addOns"]["gmail"]["composeTrigger"]["actions"][0].pop("label"), "required"),
    ],
)
def test_schema_checker_catches_what_google_would_refuse(mutate: Any, problem: str) -> None:
    deployment = render_gmail_deployment(BASE, oro_url=ORO)
    mutate(deployment)

    assert any(problem in p for p in schema_problems(deployment, "Deployment"))


# --- the rendered deployment -------------------------------------------------------------------------------


def test_rendered_deployment_matches_the_documented_schema() -> None:
    deployment = render_gmail_deployment(BASE, oro_url=ORO)

    assert schema_problems(deployment, "Deployment") == []


def test_rendered_deployment_calls_our_endpoints() -> None:
    addons = render_gmail_deployment(BASE, oro_url=ORO)["addOns"]

    assert addons["common"]["homepageTrigger"] == {"runFunction": BASE + HOMEPAGE_PATH}
    assert addons["gmail"]["contextualTriggers"] == [
        {"unconditional": {}, "onTriggerFunction": BASE + MESSAGE_PATH}
    ]
    compose = addons["gmail"]["composeTrigger"]
    assert [action["runFunction"] for action in compose["actions"]] == [BASE + COMPOSE_PATH]
    assert compose["draftAccess"] == "METADATA"
    assert addons["common"]["universalActions"] == [
        {"label": "Refresh", "runFunction": BASE + REFRESH_PATH},
        {"label": "Disconnect from Oro", "runFunction": BASE + DISCONNECT_PATH},
    ]
    assert addons["httpOptions"] == {
        "authorizationHeader": "SYSTEM_ID_TOKEN",
        "granularOauthPermissionSupport": "OPT_IN",
    }


def test_links_are_allowed_to_the_connector_and_oro_only() -> None:
    common = render_gmail_deployment(BASE + "/", oro_url=ORO + "/")["addOns"]["common"]

    assert common["openLinkUrlPrefixes"] == [BASE + "/", ORO + "/"]
    assert render_gmail_deployment(BASE)["addOns"]["common"]["openLinkUrlPrefixes"] == [BASE + "/"]


def test_every_url_is_https_under_the_base_url() -> None:
    deployment = render_gmail_deployment(BASE, oro_url=ORO)
    urls = [s for s in all_strings(deployment["addOns"]) if "://" in s]

    assert urls
    assert all(url.startswith((BASE + "/", ORO + "/")) for url in urls)


def test_scopes_are_the_add_ons_needs() -> None:
    auth = "https://www.googleapis.com/auth/"
    with_send = render_gmail_deployment(BASE)["oauthScopes"]
    without_send = render_gmail_deployment(BASE, send_mail=False)["oauthScopes"]

    assert with_send == [
        auth + "gmail.addons.execute",
        auth + "gmail.addons.current.message.readonly",
        auth + "gmail.addons.current.action.compose",
        auth + "userinfo.email",
        auth + "gmail.send",
    ]
    assert without_send == with_send[:-1]


def test_a_base_url_under_a_path_keeps_the_path() -> None:
    deployment = render_gmail_deployment("https://example.com/oro-connector/")

    assert deployment["addOns"]["common"]["homepageTrigger"]["runFunction"] == (
        "https://example.com/oro-connector" + HOMEPAGE_PATH
    )


def test_name_and_logo_can_be_chosen() -> None:
    common = render_gmail_deployment(BASE, name="Acme Oro", logo_url="https://cdn.example.com/logo.png")[
        "addOns"
    ]["common"]

    assert (common["name"], common["logoUrl"]) == ("Acme Oro", "https://cdn.example.com/logo.png")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"base_url": "http://connector.example.com"}, "The base URL must be an absolute https:// URL"),
        ({"base_url": "connector.example.com"}, "The base URL must be an absolute https:// URL"),
        ({"base_url": ""}, "The base URL must be an absolute https:// URL"),
        ({"base_url": BASE + "/?x=1"}, "must not carry a query"),
        ({"base_url": "https://user:pw@connector.example.com"}, "credentials"),
        ({"base_url": BASE, "oro_url": "http://oro.example.com"}, "The Oro URL must be an absolute https://"),
        ({"base_url": BASE, "logo_url": "http://cdn.example.com/l.png"}, "The logo URL must be"),
        ({"base_url": BASE, "name": "  "}, "name must not be empty"),
    ],
)
def test_unusable_input_is_refused_with_a_clear_message(arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(ManifestInputError, match=message.replace("?", r"\?")):
        render_gmail_deployment(**arguments)


def test_template_is_the_rendered_deployment_with_placeholders() -> None:
    text = TEMPLATE.read_text(encoding="utf-8")
    filled = json.loads(text.replace("$BASE_URL", BASE).replace("$ORO_URL", ORO))

    assert filled == render_gmail_deployment(BASE, oro_url=ORO)
    assert schema_problems(filled, "Deployment") == []
