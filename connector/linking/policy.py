"""The privacy policy: what of an email may go to Oro, and why something did not.

One place decides, on the server, for every write (link, stickiness, create from email):

- **Never-log** addresses and domains, the admin's (for everyone) and each user's own. An email with a
  never-logged address anywhere on it (from, to, cc, bcc) is not written to Oro at all: not logged, not
  linked, no record created from it. A domain entry covers its subdomains; an address entry also
  covers the address with a ``+tag``.
- **Internal domains**: colleagues are never linked, looked up or created as records, and an email between
  colleagues only stays out of Oro (no over-tracking of internal forwards). They are the admin page's
  entries and ``ORO_CONNECTOR_INTERNAL_DOMAINS`` together: the sidebar and linking both read them here.
- **Body**: ``none`` (headers only), ``text`` (plain text, the quoted earlier messages cut off: they are
  in Oro as messages of their own) or ``full`` (the HTML body as sent).
- **Attachments**: ``none``, ``names`` (listed at the end of the body, when there is one) or ``content``
  up to a size.
  Uploading content needs ``emailAttachments`` in the Oro client's ``NewEmail``, which it does not have
  yet: until then ``content`` logs the names, and :meth:`PrivacyPolicy.attachments_for` already says
  which files would be uploaded.

:meth:`PrivacyPolicy.participants` gives, per participant, the reason it is not linked, in words the
sidebar can show as they are.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Literal, cast, get_args

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from connector.db.models import User
from connector.linking.errors import PolicyRefused
from connector.linking.models import PrivacyRule, PrivacySettings
from connector.mail.addresses import EmailAddress, Role
from connector.mail.message import Attachment, MailMessage, html_to_text, strip_quoted_history
from connector.oro.records import EmailBody

BodyMode = Literal["none", "text", "full"]
AttachmentMode = Literal["none", "names", "content"]
RuleKind = Literal["address", "domain", "internal_domain"]
ExclusionCode = Literal[
    "never_log_address", "never_log_domain", "own_never_log_address", "own_never_log_domain", "internal"
]

BODY_MODES: tuple[str, ...] = get_args(BodyMode)
ATTACHMENT_MODES: tuple[str, ...] = get_args(AttachmentMode)
RULE_KINDS: tuple[str, ...] = get_args(RuleKind)

DEFAULT_BODY_MODE: BodyMode = "text"
DEFAULT_ATTACHMENT_MODE: AttachmentMode = "names"
DEFAULT_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
SETTINGS_ROW_ID = 1
ORG_SCOPE = "org"


def user_scope(user: User) -> str:
    return f"user:{user.id}"


@dataclass(frozen=True)
class Exclusion:
    """Why one address is kept out of Oro. ``blocks_email``: the whole email stays out (never-log);
    otherwise only this participant is not linked (a colleague)."""

    code: ExclusionCode
    reason: str
    blocks_email: bool


@dataclass(frozen=True)
class ParticipantPrivacy:
    address: str
    name: str
    role: Role
    exclusion: Exclusion | None = None

    @property
    def reason(self) -> str | None:
        return self.exclusion.reason if self.exclusion else None


@dataclass(frozen=True)
class AttachmentPlan:
    """What of the attachments goes to Oro: ``listed`` names, ``uploads`` (content mode, within the size
    limit, once the client can send them), ``too_large`` names left out of the upload."""

    listed: tuple[str, ...] = ()
    uploads: tuple[Attachment, ...] = ()
    too_large: tuple[str, ...] = ()


def normalise_domain(value: str) -> str:
    """``@Sub.Example.COM`` / ``*.example.com`` -> ``sub.example.com`` (lowercase IDNA)."""
    domain = value.strip().lower().lstrip("@").removeprefix("*.").rstrip(".")
    if not domain or "." not in domain or any(c.isspace() or c in "@<>/" for c in domain):
        raise ValueError(f"not a domain: {value!r}")
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return domain


def normalise_address(value: str) -> str:
    parsed = EmailAddress.parse(value)
    if parsed is None:
        raise ValueError(f"not an email address: {value!r}")
    return parsed.key


def _in_domains(domain: str, domains: frozenset[str]) -> str | None:
    """The entry of ``domains`` that is ``domain`` or one of its parents."""
    parts = domain.split(".")
    for i in range(len(parts) - 1):
        candidate = ".".join(parts[i:])
        if candidate in domains:
            return candidate
    return None


@dataclass(frozen=True)
class PrivacyPolicy:
    body_mode: BodyMode = DEFAULT_BODY_MODE
    attachment_mode: AttachmentMode = DEFAULT_ATTACHMENT_MODE
    attachment_max_bytes: int = DEFAULT_ATTACHMENT_MAX_BYTES
    never_log_addresses: frozenset[str] = frozenset()
    never_log_domains: frozenset[str] = frozenset()
    internal_domains: frozenset[str] = frozenset()
    own_never_log_addresses: frozenset[str] = frozenset()
    own_never_log_domains: frozenset[str] = frozenset()

    # --- who ----------------------------------------------------------------------------------------

    def exclusion(self, address: EmailAddress) -> Exclusion | None:
        """Why ``address`` stays out of Oro, or None. The never-log lists win over "internal"."""
        keys = {address.key, address.base_key}
        shown = address.address
        if keys & self.own_never_log_addresses:
            return Exclusion("own_never_log_address", f"{shown} is on your never-log list.", True)
        if keys & self.never_log_addresses:
            return Exclusion(
                "never_log_address", f"{shown} is on your organisation's never-log list.", True
            )
        own = _in_domains(address.domain, self.own_never_log_domains)
        if own:
            return Exclusion(
                "own_never_log_domain", f"{shown}: the domain {own} is on your never-log list.", True
            )
        org = _in_domains(address.domain, self.never_log_domains)
        if org:
            reason = f"{shown}: the domain {org} is on your organisation's never-log list."
            return Exclusion("never_log_domain", reason, True)
        internal = _in_domains(address.domain, self.internal_domains)
        if internal:
            reason = f"{shown} is a colleague ({internal} is internal): colleagues are not linked."
            return Exclusion("internal", reason, False)
        return None

    def participants(self, message: MailMessage) -> tuple[ParticipantPrivacy, ...]:
        """Each participant (not the mailbox owner) and, when it is kept out, why."""
        return tuple(
            ParticipantPrivacy(address.address, address.name, role, self.exclusion(address))
            for address, role in message.participants()
        )

    def refusal(self, message: MailMessage) -> PolicyRefused | None:
        """Why this email must not be written to Oro at all, or None when it may be."""
        exclusions = [(a, self.exclusion(a)) for a, _ in message.addresses()]
        blocking = [e.reason for _, e in exclusions if e is not None and e.blocks_email]
        if blocking:
            return PolicyRefused(
                "This email is not saved to Oro: an address on it is never logged.", reasons=blocking
            )
        if self.internal_domains and exclusions and all(e is not None for _, e in exclusions):
            return PolicyRefused(
                "This email is between colleagues only: internal mail is not saved to Oro.",
                reasons=[e.reason for _, e in exclusions if e is not None],
            )
        return None

    def check(self, message: MailMessage) -> None:
        """Raise :class:`PolicyRefused` when the email must stay out of Oro."""
        refusal = self.refusal(message)
        if refusal is not None:
            raise refusal

    def check_participant(self, address: EmailAddress) -> None:
        """Raise :class:`PolicyRefused` when no record may be made from this participant."""
        exclusion = self.exclusion(address)
        if exclusion is not None:
            verb = "is never logged" if exclusion.blocks_email else "is a colleague"
            raise PolicyRefused(
                f"No Oro record is created for {address.address}: it {verb}.", reasons=[exclusion.reason]
            )

    # --- what ---------------------------------------------------------------------------------------

    def attachments_for(self, message: MailMessage) -> AttachmentPlan:
        if self.attachment_mode == "none" or not message.attachments:
            return AttachmentPlan()
        listed = tuple(a.filename for a in message.attachments)
        if self.attachment_mode == "names":
            return AttachmentPlan(listed=listed)
        fits = tuple(a for a in message.attachments if a.size <= self.attachment_max_bytes)
        too_large = tuple(a.filename for a in message.attachments if a.size > self.attachment_max_bytes)
        return AttachmentPlan(listed=listed, uploads=fits, too_large=too_large)

    def body_for(self, message: MailMessage) -> EmailBody | None:
        """The body to log, as the policy allows: None, stripped text, or the body as sent. Attachment
        names are listed at its end (with no body, there is nowhere to list them)."""
        if self.body_mode == "none":
            return None
        names = self.attachments_for(message).listed
        listing = f"Attachments: {', '.join(names)}" if names else ""
        if self.body_mode == "full" and message.body_html:
            extra = f"<p>{html.escape(listing, quote=False)}</p>" if listing else ""
            return EmailBody(message.body_html + extra, "html")
        text = ""
        if self.body_mode == "full":
            text = (message.body_text or "").strip()
        elif message.body_text is not None:
            text = strip_quoted_history(message.body_text)
        elif message.body_html:
            text = strip_quoted_history(html_to_text(message.body_html, drop_quotes=True))
        text = "\n\n".join(part for part in (text, listing) if part)
        return EmailBody(text, "text") if text else None


def configured_internal_domains() -> frozenset[str]:
    """``ORO_CONNECTOR_INTERNAL_DOMAINS`` of the running app, normalised like the admin page's entries
    (settings validation has refused any that is not a domain). The connector always runs in its app's
    context (requests, the worker); code that drives the operations without an app (the benchmarks)
    has no settings, so no configured domains."""
    from flask import has_app_context

    from connector.app_services import settings  # late: app_services builds the sidebar, which needs us

    if not has_app_context():
        return frozenset()
    return frozenset(normalise_domain(value) for value in settings().internal_domains)


def load_policy(session: Session, *, user: User | None) -> PrivacyPolicy:
    """The admin's settings and lists, plus ``user``'s own never-log list. The internal domains are the
    admin page's and ``ORO_CONNECTOR_INTERNAL_DOMAINS`` together (the latter read from the app's context)."""
    settings = session.get(PrivacySettings, SETTINGS_ROW_ID)
    scopes = [ORG_SCOPE] + ([user_scope(user)] if user is not None else [])
    rules = session.scalars(select(PrivacyRule).where(or_(*(PrivacyRule.scope == s for s in scopes))))
    lists: dict[tuple[bool, str], set[str]] = {}
    for rule in rules:
        lists.setdefault((rule.scope == ORG_SCOPE, rule.kind), set()).add(rule.value)

    def values(org: bool, kind: str) -> frozenset[str]:
        return frozenset(lists.get((org, kind), ()))

    return PrivacyPolicy(
        body_mode=parse_body_mode(settings.body_mode if settings else None),
        attachment_mode=parse_attachment_mode(settings.attachment_mode if settings else None),
        attachment_max_bytes=settings.attachment_max_bytes if settings else DEFAULT_ATTACHMENT_MAX_BYTES,
        never_log_addresses=values(True, "address"),
        never_log_domains=values(True, "domain"),
        internal_domains=values(True, "internal_domain") | configured_internal_domains(),
        own_never_log_addresses=values(False, "address"),
        own_never_log_domains=values(False, "domain"),
    )


def parse_body_mode(value: str | None) -> BodyMode:
    """A stored or submitted body mode; anything unknown falls back to the default."""
    return cast(BodyMode, value) if value in BODY_MODES else DEFAULT_BODY_MODE


def parse_attachment_mode(value: str | None) -> AttachmentMode:
    return cast(AttachmentMode, value) if value in ATTACHMENT_MODES else DEFAULT_ATTACHMENT_MODE


def privacy_reasons(
    session: Session, *, user: User | None, message: MailMessage
) -> tuple[ParticipantPrivacy, ...]:
    """Per participant of ``message`` (the mailbox owner left out): why it is not linked, or None. What
    the sidebar shows next to each person, under the policy that applies to ``user``."""
    return load_policy(session, user=user).participants(message)
