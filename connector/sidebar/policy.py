"""How the sidebar looks people up, and how long it may wait for Oro.

Who is not looked up at all (never-logged addresses, colleagues at internal domains) is the privacy
policy's call, :mod:`connector.linking.policy`, the same one linking follows.
"""

from __future__ import annotations

from dataclasses import dataclass

from connector.mail.addresses import EmailAddress

# Mail providers whose domain says nothing about a company: no domain fallback for these.
FREEMAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "yahoo.com",
        "icloud.com",
        "me.com",
        "aol.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "posteo.de",
        "proton.me",
        "protonmail.com",
        "mail.ru",
        "yandex.ru",
        "qq.com",
        "163.com",
        "orange.fr",
        "free.fr",
    }
)


@dataclass(frozen=True)
class SidebarPolicy:
    time_budget: float = 2.0
    cache_seconds: float = 300.0
    stale_seconds: float = 7 * 24 * 3600.0
    max_orders: int = 10

    def domain_fallback(self, address: EmailAddress) -> bool:
        return address.domain not in FREEMAIL_DOMAINS
