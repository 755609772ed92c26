"""A new Oro record's fields taken from an email: the person's name from the display name (or the
address), the company from the domain, the subject without its Re:/Fwd: prefixes."""

from __future__ import annotations

import re

from connector.linking.schemas import CreateKind, Prefill
from connector.mail.addresses import EmailAddress
from connector.mail.message import MailMessage
from connector.sidebar.policy import FREEMAIL_DOMAINS  # one list of freemail domains, the sidebar's

# Second-level labels under which companies register (example.co.uk, example.com.au).
_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "ac", "gov", "edu", "ltd", "plc", "ne", "or"})
_PARTICLES = frozenset(
    {"van", "von", "der", "den", "de", "del", "della", "di", "da", "dos", "du", "la", "le", "ter"}
)
_REPLY_PREFIX = re.compile(r"^\s*((re|fwd?|aw|wg|tr|sv|vs|antw|rif|r)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)


def clean_subject(subject: str) -> str:
    """``Re: AW: Fwd: Quote`` -> ``Quote``."""
    return _REPLY_PREFIX.sub("", subject or "").strip()


def same_subject(a: str | None, b: str | None) -> bool:
    """Equal once reply prefixes, case and spacing are set aside."""
    def norm(text: str | None) -> str:
        return " ".join(clean_subject(text or "").lower().split())

    return bool(norm(a)) and norm(a) == norm(b)


def split_name(display_name: str, local_part: str = "") -> tuple[str, str]:
    """(first, last) from ``Inès Moreau``, ``Moreau, Inès`` or, without a name, ``ines.moreau``."""
    name = " ".join(display_name.replace('"', " ").split())
    if "@" in name:  # a display name that is just the address again
        name = ""
    if not name and local_part:
        words = [w for w in re.split(r"[._\-]+", local_part.split("+", 1)[0]) if w and not w.isdigit()]
        name = " ".join(w.capitalize() for w in words)
    if not name:
        return "", ""
    if "," in name:
        last, _, first = name.partition(",")
        return first.strip(), last.strip()
    parts = name.split(" ")
    if len(parts) == 1:
        return "", parts[0]
    # "Mary Ann van der Berg": the family name starts at its lowercase particle.
    start = next((i for i, part in enumerate(parts[1:-1], 1) if part in _PARTICLES), len(parts) - 1)
    return " ".join(parts[:start]), " ".join(parts[start:])


def company_from_domain(address: EmailAddress) -> str:
    """``einkauf@nordlicht-logistik.example`` -> ``Nordlicht Logistik``; "" for freemail domains."""
    domain = address.display_domain.lower()
    if address.domain in FREEMAIL_DOMAINS or domain in FREEMAIL_DOMAINS:
        return ""
    labels = domain.split(".")[:-1]
    if len(labels) >= 2 and labels[-1] in _SECOND_LEVEL:
        labels = labels[:-1]
    if not labels:
        return ""
    words = re.split(r"[-_]+", labels[-1])
    return " ".join(w[:1].upper() + w[1:] for w in words if w)


def prefill_for(kind: CreateKind, *, message: MailMessage, participant: EmailAddress) -> Prefill:
    """The fields a create form starts with for ``participant`` of ``message``."""
    first, last = split_name(participant.name, participant.local)
    return Prefill(
        kind=kind,
        email=participant.address,
        first_name=first,
        last_name=last,
        company=company_from_domain(participant),
        subject=clean_subject(message.subject),
    )
