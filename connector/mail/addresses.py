"""Email addresses from headers: display names decoded, domains in IDNA, forms for comparison.

Two addresses are the same mailbox when their ``key`` matches: the local part compared
case-insensitively (what every mail system in practice does) and the domain in lowercase IDNA.
``base_key`` also drops a ``+tag`` from the local part, which many providers ignore when delivering.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from email.header import decode_header, make_header
from email.utils import getaddresses
from typing import Literal

_MAX_HEADER = 32 * 1024

Role = Literal["from", "to", "cc", "bcc"]


def _ascii_domain(domain: str) -> str:
    domain = domain.strip().rstrip(".").lower()
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return domain


def _unicode_domain(domain: str) -> str:
    try:
        return domain.encode("ascii").decode("idna")
    except UnicodeError:
        return domain


def _decode_words(text: str) -> str:
    if "=?" not in text:
        return text
    try:
        return str(make_header(decode_header(text)))
    except (UnicodeError, LookupError, ValueError):
        return text


@dataclass(frozen=True)
class EmailAddress:
    name: str
    local: str
    domain: str  # lowercase IDNA (ASCII)

    @classmethod
    def parse(cls, text: str, name: str = "") -> EmailAddress | None:
        """One bare address (``a@b.example``); None when it is not an address."""
        text = text.strip().strip("<>").strip()
        local, at, domain = text.rpartition("@")
        if not at or not local or not domain or " " in text or "." not in domain:
            return None
        return cls(name=_decode_words(name).strip().strip('"'), local=local, domain=_ascii_domain(domain))

    @property
    def address(self) -> str:
        return f"{self.local}@{self.domain}"

    @property
    def display_domain(self) -> str:
        return _unicode_domain(self.domain)

    @property
    def key(self) -> str:
        """The comparison form: case-insensitive local part, lowercase IDNA domain."""
        return f"{self.local.lower()}@{self.domain}"

    @property
    def base_key(self) -> str:
        """``key`` without a ``+tag`` (``jane+orders@x.example`` -> ``jane@x.example``)."""
        local = self.local.lower().split("+", 1)[0] or self.local.lower()
        return f"{local}@{self.domain}"

    @property
    def is_plus_addressed(self) -> bool:
        return self.base_key != self.key

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>" if self.name else self.address


def parse_address_list(*header_values: str | None) -> list[EmailAddress]:
    """Every address in the given header values (To, Cc, ...), in order, without repeats."""
    values = [v[:_MAX_HEADER] for v in header_values if v]
    seen: set[str] = set()
    result: list[EmailAddress] = []
    for name, raw in getaddresses(values):
        parsed = EmailAddress.parse(raw, name)
        if parsed is None or parsed.key in seen:
            continue
        seen.add(parsed.key)
        result.append(parsed)
    return result


def by_role(
    sender: EmailAddress | None,
    to: Iterable[EmailAddress],
    cc: Iterable[EmailAddress],
    bcc: Iterable[EmailAddress],
    *,
    leave_out: str = "",
) -> list[tuple[EmailAddress, Role]]:
    """Every address of a message once, in header order with its first role; ``leave_out`` (an address,
    e.g. the mailbox owner's) is skipped."""
    left_out = EmailAddress.parse(leave_out) if leave_out else None
    seen = {left_out.key} if left_out else set()
    found: list[tuple[EmailAddress, Role]] = []
    groups: list[tuple[Role, Iterable[EmailAddress]]] = [
        ("from", (sender,) if sender else ()),
        ("to", to),
        ("cc", cc),
        ("bcc", bcc),
    ]
    for role, addresses in groups:
        for address in addresses:
            if address.key not in seen:
                seen.add(address.key)
                found.append((address, role))
    return found
