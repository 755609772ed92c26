"""The Outlook manifests: the XML has what Outlook requires, in the order of Microsoft's schema.

Expected child orders below come from Microsoft's schema documentation:

- [ORDER] office-js-docs-pr ``docs/develop/manifest-element-ordering.md`` ("Basic mail add-in element
  ordering", "Mail add-in element ordering within VersionOverrides Ver. 1.1"), which transcribes the XSDs.
- [OWEMXML] MS-OWEMXML (learn.microsoft.com/openspecs/office_file_formats/ms-owemxml): ``MailApp``
  extends ``OfficeApp`` with Requirements, FormSettings, Permissions, Rule, DisableEntityHighlighting,
  VersionOverrides; ``VersionOverridesV1_1`` is Description, Requirements, Hosts, Resources,
  WebApplicationInfo, EquivalentAddins...; ``FormFactor`` is FunctionFile, ExtensionPoint;
  ``ShowTaskpane`` (1.1) is SourceLocation, SupportsPinning, SupportsNoItemContext, SupportsMultiSelect;
  ``Supertip`` is Title, Description; ``Button`` is Label, Supertip, Icon, Action.

Run this module as a script to rewrite ``manifest/outlook/`` from the renderers.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from connector.manifests.outlook import (
    ManifestInputError,
    render_outlook_json,
    render_outlook_xml,
)

BASE = "https://connector.example.com"
CLIENT_ID = "2b8f6c1d-9e4a-4f7b-8c3d-1a2b3c4d5e6f"
APP_ID = "6b0e5e3a-1d2c-4b7a-9f8e-0c1d2e3f4a5b"
TEMPLATES = Path(__file__).resolve().parents[2] / "manifest" / "outlook"

OFFICE = "http://schemas.microsoft.com/office/appforoffice/1.1"
VO10 = "http://schemas.microsoft.com/office/mailappversionoverrides"
VO11 = "http://schemas.microsoft.com/office/mailappversionoverrides/1.1"
BT = "http://schemas.microsoft.com/office/officeappbasictypes/1.0"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"

# [ORDER] "Basic mail add-in element ordering"; [OWEMXML] OfficeApp + MailApp extension.
OFFICEAPP_ORDER = [
    "Id",
    "AlternateId",
    "Version",
    "ProviderName",
    "DefaultLocale",
    "DisplayName",
    "Description",
    "IconUrl",
    "HighResolutionIconUrl",
    "SupportUrl",
    "AppDomains",
    "Hosts",
    "Requirements",
    "FormSettings",
    "Permissions",
    "Rule",
    "DisableEntityHighlighting",
    "VersionOverrides",
]
# What Outlook needs of a MailApp to accept it at all ([OWEMXML] minOccurs=1, plus what the issue asks).
OFFICEAPP_REQUIRED = [
    "Id",
    "Version",
    "ProviderName",
    "DefaultLocale",
    "DisplayName",
    "Description",
    "IconUrl",
    "HighResolutionIconUrl",
    "SupportUrl",
    "AppDomains",
    "Hosts",
    "Requirements",
    "FormSettings",
    "Permissions",
    "Rule",
    "VersionOverrides",
]
# [ORDER] "Mail add-in element ordering within VersionOverrides Ver. 1.1"; [OWEMXML] VersionOverridesV1_1.
VO11_ORDER = [
    "Description",
    "Requirements",
    "Hosts",
    "Resources",
    "WebApplicationInfo",
    "EquivalentAddins",
    "ConnectedServiceControls",
    "ExtendedPermissions",
]
FORM_FACTOR_ORDER = ["FunctionFile", "ExtensionPoint"]  # [OWEMXML] FormFactor
GROUP_ORDER = ["Label", "Control"]  # [ORDER] Group
BUTTON_ORDER = ["Label", "Supertip", "Icon", "Action"]  # [OWEMXML] UIControl -> UIControlWithIcon -> Button
SUPERTIP_ORDER = ["Title", "Description"]  # [OWEMXML] Supertip
SHOW_TASKPANE_ORDER = ["SourceLocation", "SupportsPinning", "SupportsNoItemContext", "SupportsMultiSelect"]
RESOURCES_ORDER = ["Images", "Urls", "ShortStrings", "LongStrings"]  # [ORDER] Resources
WEB_APPLICATION_INFO_ORDER = ["Id", "MsaId", "Resource", "Scopes", "Authorizations"]  # [OWEMXML]
FORM_SETTINGS_DESKTOP_ORDER = ["SourceLocation", "RequestedHeight"]  # [ORDER] FormSettings/DesktopSettings


def parse(text: str) -> ET.Element:
    return ET.fromstring(text.encode())


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def assert_in_schema_order(element: ET.Element, order: list[str]) -> None:
    names = [local(child.tag) for child in element]
    unknown = [n for n in names if n not in order]
    assert not unknown, f"{local(element.tag)} has children the schema does not list here: {unknown}"
    positions = [order.index(n) for n in names]
    assert positions == sorted(positions), f"{local(element.tag)} children out of schema order: {names}"


def only(element: ET.Element, path: str) -> ET.Element:
    found = element.findall(path, NS)
    assert len(found) == 1, f"expected exactly one {path}, found {len(found)}"
    return found[0]


NS = {"o": OFFICE, "v10": VO10, "v11": VO11, "bt": BT}


@pytest.fixture
def manifest() -> ET.Element:
    text = render_outlook_xml(BASE + "/", client_id=CLIENT_ID, app_id=APP_ID)
    return parse(text)


def test_officeapp_is_a_mail_app_with_every_required_element_in_schema_order(manifest: ET.Element) -> None:
    assert manifest.tag == f"{{{OFFICE}}}OfficeApp"
    assert manifest.get(XSI_TYPE) == "MailApp"
    names = [local(child.tag) for child in manifest]
    for required in OFFICEAPP_REQUIRED:
        assert required in names, f"OfficeApp lacks {required}"
    assert_in_schema_order(manifest, OFFICEAPP_ORDER)

    assert only(manifest, "o:Id").text == APP_ID
    assert only(manifest, "o:Version").text == "1.0.0.0"
    assert only(manifest, "o:Hosts/o:Host").get("Name") == "Mailbox"
    assert only(manifest, "o:Requirements/o:Sets/o:Set").attrib == {"Name": "Mailbox", "MinVersion": "1.1"}
    assert only(manifest, "o:Permissions").text == "ReadWriteItem"
    rule = only(manifest, "o:Rule")
    assert rule.get(XSI_TYPE) == "RuleCollection"
    inner = only(rule, "o:Rule")
    assert inner.attrib == {XSI_TYPE: "ItemIs", "ItemType": "Message", "FormType": "Read"}
    desktop = only(manifest, "o:FormSettings/o:Form/o:DesktopSettings")
    assert_in_schema_order(desktop, FORM_SETTINGS_DESKTOP_ORDER)


def test_version_overrides_nest_1_1_inside_1_0_with_a_pinnable_read_button(manifest: ET.Element) -> None:
    outer = only(manifest, "v10:VersionOverrides")
    assert outer.get(XSI_TYPE) == "VersionOverridesV1_0"
    overrides = only(outer, "v11:VersionOverrides")
    assert overrides.get(XSI_TYPE) == "VersionOverridesV1_1"
    assert_in_schema_order(overrides, VO11_ORDER)
    for required in ("Hosts", "Resources", "WebApplicationInfo"):
        assert overrides.find(f"v11:{required}", NS) is not None, f"VersionOverrides 1.1 lacks {required}"

    host = only(overrides, "v11:Hosts/v11:Host")
    assert host.get(XSI_TYPE) == "MailHost"
    desktop = only(host, "v11:DesktopFormFactor")
    assert_in_schema_order(desktop, FORM_FACTOR_ORDER)
    extension = only(desktop, "v11:ExtensionPoint")
    assert extension.get(XSI_TYPE) == "MessageReadCommandSurface"
    group = only(extension, "v11:OfficeTab/v11:Group")
    assert_in_schema_order(group, GROUP_ORDER)
    button = only(group, "v11:Control")
    assert button.get(XSI_TYPE) == "Button"
    assert_in_schema_order(button, BUTTON_ORDER)
    assert_in_schema_order(only(button, "v11:Supertip"), SUPERTIP_ORDER)
    action = only(button, "v11:Action")
    assert action.get(XSI_TYPE) == "ShowTaskpane"
    assert_in_schema_order(action, SHOW_TASKPANE_ORDER)
    assert only(action, "v11:SupportsPinning").text == "true"
    assert_in_schema_order(only(overrides, "v11:Resources"), RESOURCES_ORDER)


def resource_urls(manifest: ET.Element) -> dict[str, str]:
    resources = only(manifest, "v10:VersionOverrides/v11:VersionOverrides/v11:Resources")
    return {
        str(item.get("id")): str(item.get("DefaultValue"))
        for item in [*resources.findall("bt:Images/bt:Image", NS), *resources.findall("bt:Urls/bt:Url", NS)]
    }


def test_every_resid_is_defined_and_the_button_opens_our_task_pane(manifest: ET.Element) -> None:
    overrides = only(manifest, "v10:VersionOverrides/v11:VersionOverrides")
    defined = {str(e.get("id")) for e in overrides.iter() if local(e.tag) in {"Image", "Url", "String"}}
    used = {str(e.get("resid")) for e in overrides.iter() if e.get("resid")}
    assert used <= defined, f"resids without a resource: {used - defined}"
    assert all(len(resid) <= 32 for resid in used)  # the schema caps resource ids at 32 characters

    action = only(overrides, ".//v11:Action")
    resid = only(action, "v11:SourceLocation").get("resid")
    assert resource_urls(manifest)[str(resid)] == f"{BASE}/addons/outlook/taskpane.html"


def test_every_url_sits_under_the_base_url_and_inside_app_domains(manifest: ET.Element) -> None:
    domains = [e.text for e in manifest.findall("o:AppDomains/o:AppDomain", NS)]
    assert domains == [BASE]
    urls = [
        *(str(e.get("DefaultValue")) for e in manifest if local(e.tag).endswith(("IconUrl", "SupportUrl"))),
        str(only(manifest, "o:FormSettings/o:Form/o:DesktopSettings/o:SourceLocation").get("DefaultValue")),
        *resource_urls(manifest).values(),
    ]
    assert len(urls) == 8  # two icons, support, form source, three command icons, the pane
    for url in urls:
        assert url.startswith(BASE + "/"), url
        assert any(url.startswith(domain + "/") for domain in domains if domain), url


def test_web_application_info_names_our_entra_app(manifest: ET.Element) -> None:
    info = only(manifest, "v10:VersionOverrides/v11:VersionOverrides/v11:WebApplicationInfo")
    assert_in_schema_order(info, WEB_APPLICATION_INFO_ORDER)
    assert only(info, "v11:Id").text == CLIENT_ID
    assert only(info, "v11:Resource").text == f"api://connector.example.com/{CLIENT_ID}"
    scopes = [e.text for e in info.findall("v11:Scopes/v11:Scope", NS)]
    assert "openid" in scopes and "Mail.ReadWrite" in scopes and "Mail.Send" in scopes


def test_text_is_escaped_not_injected() -> None:
    text = render_outlook_xml(
        BASE, client_id=CLIENT_ID, app_id=APP_ID, display_name='Oro & Co "<Sales>"', provider_name="A<B"
    )
    root = parse(text)
    assert only(root, "o:DisplayName").get("DefaultValue") == 'Oro & Co "<Sales>"'
    assert only(root, "o:ProviderName").text == "A<B"


@pytest.mark.parametrize(
    "base_url",
    [
        "http://connector.example.com",
        "connector.example.com",
        "https://",
        "https://h.example/?x=1",
        "https://user:pw@h.example",
    ],
)
def test_base_url_must_be_plain_https(base_url: str) -> None:
    with pytest.raises(ManifestInputError):
        render_outlook_xml(base_url, client_id=CLIENT_ID, app_id=APP_ID)
    with pytest.raises(ManifestInputError):
        render_outlook_json(base_url, client_id=CLIENT_ID, app_id=APP_ID)


def test_ids_must_be_guids() -> None:
    with pytest.raises(ManifestInputError, match="client id"):
        render_outlook_xml(BASE, client_id="not-a-guid", app_id=APP_ID)
    with pytest.raises(ManifestInputError, match="add-in id"):
        render_outlook_json(BASE, client_id=CLIENT_ID, app_id="")


def test_base_url_with_a_path_keeps_the_origin_as_app_domain() -> None:
    root = parse(render_outlook_xml("https://h.example/oro/", client_id=CLIENT_ID, app_id=APP_ID))
    assert [e.text for e in root.findall("o:AppDomains/o:AppDomain", NS)] == ["https://h.example"]
    assert resource_urls(root)["taskpaneUrl"] == "https://h.example/oro/addons/outlook/taskpane.html"


# --- unified JSON manifest -----------------------------------------------------------------------------


def test_json_manifest_has_the_required_keys_and_opens_a_pinnable_pane() -> None:
    document = render_outlook_json(BASE, client_id=CLIENT_ID, app_id=APP_ID)
    json.dumps(document)  # serialisable as is
    for key in (
        "$schema",
        "manifestVersion",
        "version",
        "id",
        "localizationInfo",
        "developer",
        "name",
        "description",
        "icons",
        "accentColor",
        "validDomains",
        "authorization",
        "extensions",
    ):
        assert key in document, key
    assert document["id"] == APP_ID
    assert document["version"] == "1.0.0"
    assert len(document["name"]["short"]) <= 30 and len(document["description"]["short"]) <= 80
    assert document["validDomains"] == [BASE]
    assert document["webApplicationInfo"] == {
        "id": CLIENT_ID,
        "resource": f"api://connector.example.com/{CLIENT_ID}",
    }
    assert document["authorization"]["permissions"]["resourceSpecific"] == [
        {"name": "MailboxItem.ReadWrite.User", "type": "Delegated"}
    ]
    (extension,) = document["extensions"]
    assert extension["requirements"]["scopes"] == ["mail"]
    (runtime,) = extension["runtimes"]
    assert runtime["code"]["page"] == f"{BASE}/addons/outlook/taskpane.html"
    (action,) = runtime["actions"]
    assert action["type"] == "openPage" and action["pinnable"] is True
    (ribbon,) = extension["ribbons"]
    assert ribbon["contexts"] == ["mailRead"]
    (control,) = ribbon["tabs"][0]["groups"][0]["controls"]
    assert control["actionId"] == action["id"]
    assert {icon["size"] for icon in control["icons"]} == {16, 32, 80}
    assert all(icon["url"].startswith(BASE + "/") for icon in control["icons"])
    for value in (document["developer"]["websiteUrl"], document["developer"]["privacyUrl"]):
        assert value.startswith("https://")


def test_json_manifest_refuses_a_too_long_short_name() -> None:
    with pytest.raises(ManifestInputError, match="30"):
        render_outlook_json(BASE, client_id=CLIENT_ID, app_id=APP_ID, short_name="x" * 31)


# --- the placeholder documents in manifest/outlook/ --------------------------------------------------


def placeholder_documents() -> dict[str, str]:
    """The renderers' output with the deployment's values replaced by named placeholders."""

    def placeholders(text: str) -> str:
        return (
            text.replace(BASE, "$BASE_URL")
            .replace("connector.example.com", "$PUBLIC_HOST")
            .replace(CLIENT_ID, "$MICROSOFT_CLIENT_ID")
            .replace(APP_ID, "$ADDIN_ID")
        )

    document: Any = render_outlook_json(BASE, client_id=CLIENT_ID, app_id=APP_ID)
    return {
        "manifest.xml": placeholders(render_outlook_xml(BASE, client_id=CLIENT_ID, app_id=APP_ID)),
        "manifest.json": placeholders(json.dumps(document, indent=2) + "\n"),
    }


def test_manifest_templates_match_the_renderers() -> None:
    for name, text in placeholder_documents().items():
        assert (TEMPLATES / name).read_text(encoding="utf-8") == text, (
            f"manifest/outlook/{name} is out of date: run python -m tests.manifests.test_outlook_manifest"
        )


if __name__ == "__main__":
    for name, text in placeholder_documents().items():
        (TEMPLATES / name).write_text(text, encoding="utf-8")
        print(f"wrote manifest/outlook/{name}")
