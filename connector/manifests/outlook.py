"""The Outlook add-in's manifests for one deployment: the add-in only XML and the unified JSON.

Two formats describe the same add-in (reference/addon-protocols.md, B1): the add-in only XML manifest
(``OfficeApp xsi:type="MailApp"``), which every Outlook client and the Microsoft 365 admin center accept,
and the unified JSON manifest for Microsoft 365 (the Teams app schema with ``extensions``). Both open
the task pane at ``<base_url>/addons/outlook/taskpane.html`` from a button on the message-read surface,
let it be pinned, and name our Entra app for single sign-on.

``oro-connector manifest outlook --base-url URL --format xml|json`` prints them.
``manifest/outlook/manifest.xml`` and ``manifest.json`` are the same documents with ``$BASE_URL``,
``$PUBLIC_HOST``, ``$MICROSOFT_CLIENT_ID`` and ``$ADDIN_ID`` placeholders; a test keeps them in step.
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from string import Template
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from connector.security.microsoft import application_id_uri

TASKPANE_PATH = "/addons/outlook/taskpane.html"
ICON_PATH = "/addons/outlook/assets/icon-{size}.png"
"""Icons the pane's static files must provide, at 16, 32, 64, 80 and 128 pixels square."""
ICON_SIZES = (16, 32, 64, 80, 128)

DISPLAY_NAME = "Oro Connector"
SHORT_DESCRIPTION = "Oro records behind the open email; link threads, reply with templates."
DESCRIPTION = (
    "Shows the Oro contacts, accounts, leads and opportunities behind the open email, "
    "links the conversation to them and replies with Oro email templates."
)
SSO_SCOPES = ("openid", "profile", "Mail.ReadWrite", "Mail.Send")
"""Scopes named in WebApplicationInfo (legacy Office SSO): sign-in plus the Graph permissions we use."""
MAILBOX_PERMISSION = "ReadWriteItem"
"""Read the open item and open a reply form (``displayReplyForm``); no mailbox-wide access."""
UNIFIED_PERMISSION = "MailboxItem.ReadWrite.User"
"""The unified manifest's name for the same permission (understanding-outlook-add-in-permissions.md)."""
GROUP_LABEL = "Oro"
BUTTON_LABEL = "Show Oro"
BUTTON_DESCRIPTION = "Opens the Oro sidebar for this email."

_VERSION = re.compile(r"^\d{1,5}\.\d{1,5}\.\d{1,5}$")
_XML_ATTRIBUTE = {'"': "&quot;", "'": "&apos;"}

# Children in the order of Microsoft's XSD (office-js-docs-pr docs/develop/manifest-element-ordering.md;
# MS-OWEMXML for ShowTaskpane, FormFactor and VersionOverridesV1_1). No FunctionFile: the add-in has
# no function commands. Every ${...} value is XML-escaped before substitution.
_XML_TEMPLATE = Template(
    """<?xml version="1.0" encoding="UTF-8"?>
<OfficeApp xmlns="http://schemas.microsoft.com/office/appforoffice/1.1"
           xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
           xmlns:bt="http://schemas.microsoft.com/office/officeappbasictypes/1.0"
           xmlns:mailappor="http://schemas.microsoft.com/office/mailappversionoverrides/1.0"
           xsi:type="MailApp">
  <Id>${app_id}</Id>
  <Version>${version}</Version>
  <ProviderName>${provider_name}</ProviderName>
  <DefaultLocale>en-US</DefaultLocale>
  <DisplayName DefaultValue="${display_name}"/>
  <Description DefaultValue="${description}"/>
  <IconUrl DefaultValue="${icon_64_url}"/>
  <HighResolutionIconUrl DefaultValue="${icon_128_url}"/>
  <SupportUrl DefaultValue="${support_url}"/>
  <AppDomains>
${app_domains}
  </AppDomains>
  <Hosts>
    <Host Name="Mailbox"/>
  </Hosts>
  <Requirements>
    <Sets>
      <Set Name="Mailbox" MinVersion="1.1"/>
    </Sets>
  </Requirements>
  <!-- Required by the schema; clients that understand VersionOverrides ignore it. -->
  <FormSettings>
    <Form xsi:type="ItemRead">
      <DesktopSettings>
        <SourceLocation DefaultValue="${taskpane_url}"/>
        <RequestedHeight>250</RequestedHeight>
      </DesktopSettings>
    </Form>
  </FormSettings>
  <Permissions>${permissions}</Permissions>
  <Rule xsi:type="RuleCollection" Mode="Or">
    <Rule xsi:type="ItemIs" ItemType="Message" FormType="Read"/>
  </Rule>
  <VersionOverrides xmlns="http://schemas.microsoft.com/office/mailappversionoverrides"
                    xsi:type="VersionOverridesV1_0">
    <!-- 1.1 for SupportsPinning (the pane follows the selected message) and WebApplicationInfo. -->
    <VersionOverrides xmlns="http://schemas.microsoft.com/office/mailappversionoverrides/1.1"
                      xsi:type="VersionOverridesV1_1">
      <Requirements>
        <bt:Sets DefaultMinVersion="1.5">
          <bt:Set Name="Mailbox"/>
        </bt:Sets>
      </Requirements>
      <Hosts>
        <Host xsi:type="MailHost">
          <DesktopFormFactor>
            <ExtensionPoint xsi:type="MessageReadCommandSurface">
              <OfficeTab id="TabDefault">
                <Group id="oroConnectorGroup">
                  <Label resid="groupLabel"/>
                  <Control xsi:type="Button" id="oroConnectorOpenPane">
                    <Label resid="paneButtonLabel"/>
                    <Supertip>
                      <Title resid="paneButtonLabel"/>
                      <Description resid="paneButtonDescription"/>
                    </Supertip>
                    <Icon>
                      <bt:Image size="16" resid="icon16"/>
                      <bt:Image size="32" resid="icon32"/>
                      <bt:Image size="80" resid="icon80"/>
                    </Icon>
                    <Action xsi:type="ShowTaskpane">
                      <SourceLocation resid="taskpaneUrl"/>
                      <SupportsPinning>true</SupportsPinning>
                    </Action>
                  </Control>
                </Group>
              </OfficeTab>
            </ExtensionPoint>
          </DesktopFormFactor>
        </Host>
      </Hosts>
      <Resources>
        <bt:Images>
          <bt:Image id="icon16" DefaultValue="${icon_16_url}"/>
          <bt:Image id="icon32" DefaultValue="${icon_32_url}"/>
          <bt:Image id="icon80" DefaultValue="${icon_80_url}"/>
        </bt:Images>
        <bt:Urls>
          <bt:Url id="taskpaneUrl" DefaultValue="${taskpane_url}"/>
        </bt:Urls>
        <bt:ShortStrings>
          <bt:String id="groupLabel" DefaultValue="${group_label}"/>
          <bt:String id="paneButtonLabel" DefaultValue="${button_label}"/>
        </bt:ShortStrings>
        <bt:LongStrings>
          <bt:String id="paneButtonDescription" DefaultValue="${button_description}"/>
        </bt:LongStrings>
      </Resources>
      <!-- Single sign-on: our Entra app and its Application ID URI. -->
      <WebApplicationInfo>
        <Id>${client_id}</Id>
        <Resource>${resource}</Resource>
        <Scopes>
${scopes}
        </Scopes>
      </WebApplicationInfo>
    </VersionOverrides>
  </VersionOverrides>
</OfficeApp>
"""
)


class ManifestInputError(ValueError):
    """An argument of the Outlook manifest renderers is unusable; the message says which and why."""


@dataclass(frozen=True)
class OutlookAddinUrls:
    """Every URL a manifest points at, all under the deployment's base URL."""

    base_url: str
    origin: str
    taskpane: str
    support: str

    def icon(self, size: int) -> str:
        return self.base_url + ICON_PATH.format(size=size)

    @classmethod
    def for_base_url(cls, base_url: str) -> OutlookAddinUrls:
        """Validate ``base_url`` (Outlook loads add-ins over HTTPS only) and derive the URLs."""
        parts = urlsplit(base_url.strip())
        if parts.scheme != "https" or not parts.hostname:
            raise ManifestInputError(
                f"The base URL must be an absolute https:// URL (Outlook loads add-ins over HTTPS only), "
                f"got {base_url!r}"
            )
        if parts.query or parts.fragment or parts.username or parts.password:
            raise ManifestInputError(
                f"The base URL must not carry a query, a fragment or credentials, got {base_url!r}"
            )
        origin = f"https://{parts.netloc.lower()}"
        base = origin + parts.path.rstrip("/")
        return cls(base_url=base, origin=origin, taskpane=base + TASKPANE_PATH, support=base + "/")


def render_outlook_xml(
    base_url: str,
    *,
    client_id: str,
    app_id: str,
    version: str = "1.0.0",
    provider_name: str = DISPLAY_NAME,
    display_name: str = DISPLAY_NAME,
    description: str = DESCRIPTION,
    scopes: Sequence[str] = SSO_SCOPES,
    support_url: str | None = None,
) -> str:
    """The add-in only XML manifest. ``app_id`` is the add-in's own GUID, ``client_id`` the Entra app's.

    ``version`` is ``major.minor.patch``; the XML gets the four-part form Office wants (``1.0.0.0``).
    """
    urls = OutlookAddinUrls.for_base_url(base_url)
    values = _common_values(urls, client_id=client_id, app_id=app_id, version=version)
    values.update(
        version=version + ".0",
        provider_name=_required(provider_name, "The provider name"),
        display_name=_required(display_name, "The display name"),
        description=_required(description, "The description"),
        support_url=support_url or urls.support,
        icon_64_url=urls.icon(64),
        icon_128_url=urls.icon(128),
        permissions=MAILBOX_PERMISSION,
    )
    escaped = {name: escape(value, _XML_ATTRIBUTE) for name, value in values.items()}
    # The only repeated elements, built from escaped values like everything else.
    escaped["app_domains"] = f"    <AppDomain>{escape(urls.origin)}</AppDomain>"
    escaped["scopes"] = "\n".join(f"          <Scope>{escape(scope)}</Scope>" for scope in scopes)
    text = _XML_TEMPLATE.substitute(escaped)
    ET.fromstring(text.encode("utf-8"))  # noqa: S314 - our own output: fail here rather than in Outlook
    return text


def render_outlook_json(
    base_url: str,
    *,
    client_id: str,
    app_id: str,
    version: str = "1.0.0",
    provider_name: str = DISPLAY_NAME,
    short_name: str = DISPLAY_NAME,
    display_name: str = DISPLAY_NAME,
    short_description: str = SHORT_DESCRIPTION,
    description: str = DESCRIPTION,
    support_url: str | None = None,
    privacy_url: str | None = None,
    terms_url: str | None = None,
) -> dict[str, Any]:
    """The unified JSON manifest for Microsoft 365 (``json.dumps`` it into ``manifest.json``).

    The app package admins upload is a zip of that file with ``color.png`` (192x192) and
    ``outline.png`` (32x32, white on transparent), the two ``icons`` it names.
    """
    if not 0 < len(short_name.strip()) <= 30:
        raise ManifestInputError("The short name must have 1 to 30 characters.")
    if not 0 < len(short_description.strip()) <= 80:
        raise ManifestInputError("The short description must have 1 to 80 characters.")
    urls = OutlookAddinUrls.for_base_url(base_url)
    values = _common_values(urls, client_id=client_id, app_id=app_id, version=version)
    return {
        "$schema": "https://developer.microsoft.com/json-schemas/teams/v1.22/MicrosoftTeams.schema.json",
        "manifestVersion": "1.22",
        "version": version,
        "id": values["app_id"],
        "localizationInfo": {"defaultLanguageTag": "en-us"},
        "developer": {
            "name": _required(provider_name, "The provider name"),
            "websiteUrl": support_url or urls.support,
            "privacyUrl": privacy_url or urls.support,
            "termsOfUseUrl": terms_url or urls.support,
        },
        "name": {"short": short_name.strip(), "full": _required(display_name, "The display name")},
        "description": {
            "short": short_description.strip(),
            "full": _required(description, "The description"),
        },
        "icons": {"outline": "outline.png", "color": "color.png"},
        "accentColor": "#1F5E8C",
        "validDomains": [urls.origin],
        "webApplicationInfo": {"id": values["client_id"], "resource": values["resource"]},
        "authorization": {
            "permissions": {"resourceSpecific": [{"name": UNIFIED_PERMISSION, "type": "Delegated"}]}
        },
        "extensions": [
            {
                "requirements": {
                    "scopes": ["mail"],
                    "capabilities": [{"name": "Mailbox", "minVersion": "1.1"}],
                },
                "runtimes": [
                    {
                        # Mailbox 1.5: pinning and ItemChanged, which the pane relies on.
                        "requirements": {"capabilities": [{"name": "Mailbox", "minVersion": "1.5"}]},
                        "id": "oroConnectorPaneRuntime",
                        "type": "general",
                        "code": {"page": urls.taskpane},
                        "lifetime": "short",
                        "actions": [
                            {
                                "id": "oroConnectorOpenPane",
                                "type": "openPage",
                                "view": "oroConnectorPane",
                                "pinnable": True,
                                "multiselect": False,
                                "supportsNoItemContext": False,
                            }
                        ],
                    }
                ],
                "ribbons": [
                    {
                        "contexts": ["mailRead"],
                        "tabs": [
                            {
                                "builtInTabId": "TabDefault",
                                "groups": [
                                    {
                                        "id": "oroConnectorGroup",
                                        "label": GROUP_LABEL,
                                        "controls": [
                                            {
                                                "id": "oroConnectorOpenPaneButton",
                                                "type": "button",
                                                "label": BUTTON_LABEL,
                                                "icons": [
                                                    {"size": size, "url": urls.icon(size)}
                                                    for size in (16, 32, 80)
                                                ],
                                                "supertip": {
                                                    "title": BUTTON_LABEL,
                                                    "description": BUTTON_DESCRIPTION,
                                                },
                                                "actionId": "oroConnectorOpenPane",
                                            }
                                        ],
                                    }
                                ],
                            }
                        ],
                    }
                ],
            }
        ],
    }


def _required(value: str, what: str) -> str:
    if not value.strip():
        raise ManifestInputError(f"{what} must not be empty.")
    return value.strip()


def _common_values(urls: OutlookAddinUrls, *, client_id: str, app_id: str, version: str) -> dict[str, str]:
    for what, value in (("The Entra client id", client_id), ("The add-in id", app_id)):
        try:
            uuid.UUID(value)
        except (ValueError, AttributeError, TypeError):
            raise ManifestInputError(f"{what} must be a GUID, got {value!r}") from None
    if not _VERSION.match(version):
        raise ManifestInputError(f"The version must look like 1.0.0, got {version!r}")
    return {
        "app_id": app_id.lower(),
        "client_id": client_id.lower(),
        "version": version,
        "resource": application_id_uri(urls.base_url, client_id.lower()),
        "taskpane_url": urls.taskpane,
        "icon_16_url": urls.icon(16),
        "icon_32_url": urls.icon(32),
        "icon_80_url": urls.icon(80),
        "group_label": GROUP_LABEL,
        "button_label": BUTTON_LABEL,
        "button_description": BUTTON_DESCRIPTION,
    }
