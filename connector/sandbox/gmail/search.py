"""The part of Gmail's search language (``q`` of ``users.messages.list``) the sandbox understands.

Terms are ANDed, as in the Gmail search box; a leading ``-`` negates one. Operators:

- ``rfc822msgid:<id@host>`` the Message-ID header, with or without the angle brackets
- ``in:inbox|sent|draft|trash|spam|anywhere`` and ``label:NAME`` (system labels by name)
- ``subject:word``, ``subject:"a phrase"``, ``subject:(all these words)``
- ``from:``, ``to:``, ``cc:`` a part of the header (address or name)
- any other word or ``"phrase"``: in the subject, the body or the From/To/Cc headers

As in Gmail, text matches ignore case, and an operator Gmail does not know is searched as text (so it
finds nothing rather than everything). ``OR``, ``{}`` groups and date operators are not understood:
the sandbox does not pretend to; they are searched as words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

_TERM = re.compile(r'(-?)(?:([A-Za-z0-9_]+):)?("[^"]*"|\([^)]*\)|\S+)')
_OPERATORS = frozenset({"rfc822msgid", "in", "label", "subject", "from", "to", "cc"})
_IN_LABELS = {
    "inbox": "INBOX",
    "sent": "SENT",
    "draft": "DRAFT",
    "drafts": "DRAFT",
    "trash": "TRASH",
    "spam": "SPAM",
    "starred": "STARRED",
    "important": "IMPORTANT",
    "unread": "UNREAD",
}
HIDDEN_LABELS = frozenset({"SPAM", "TRASH"})
"""Left out of a search unless it names them or asks for ``includeSpamTrash``."""


class Searchable(Protocol):
    @property
    def label_ids(self) -> tuple[str, ...]: ...

    @property
    def body_text(self) -> str: ...

    def header(self, name: str) -> str | None: ...


@dataclass(frozen=True)
class Term:
    operator: str  # one of _OPERATORS, or "text"
    value: str
    negated: bool = False

    def matches(self, message: Searchable) -> bool:
        return self._matches(message) != self.negated

    def _matches(self, message: Searchable) -> bool:
        value = self.value.casefold()
        if self.operator == "rfc822msgid":
            return _bare_id(message.header("Message-ID") or "") == _bare_id(value)
        if self.operator in ("in", "label"):
            if value == "anywhere" and self.operator == "in":
                return True
            wanted = _IN_LABELS.get(value, value.upper())
            return wanted in message.label_ids
        if self.operator == "subject":
            subject = (message.header("Subject") or "").casefold()
            return all(word in subject for word in value.split())
        if self.operator in ("from", "to", "cc"):
            return value in (message.header(self.operator) or "").casefold()
        haystack = " ".join(
            [message.header("Subject") or "", message.body_text]
            + [message.header(h) or "" for h in ("From", "To", "Cc")]
        ).casefold()
        return " ".join(value.split()) in " ".join(haystack.split())

    @property
    def reveals_hidden(self) -> bool:
        """``in:trash``, ``in:spam``, ``in:anywhere`` (and the labels) search where Gmail hides by default."""
        return (
            not self.negated
            and self.operator in ("in", "label")
            and self.value.casefold() in ("trash", "spam", "anywhere")
        )


def _bare_id(value: str) -> str:
    return value.strip().strip("<>").strip().casefold()


def parse_query(query: str) -> list[Term]:
    """The terms of a ``q`` string."""
    terms: list[Term] = []
    for match in _TERM.finditer(query):
        minus, operator, value = match.group(1), (match.group(2) or "").lower(), match.group(3)
        if len(value) >= 2 and (value[0], value[-1]) in (('"', '"'), ("(", ")")):
            value = value[1:-1]
        if operator and operator not in _OPERATORS:
            value, operator = f"{match.group(2)}:{value}", ""
        if not value.strip() or (not operator and value == "AND"):
            continue
        terms.append(Term(operator or "text", value.strip(), negated=bool(minus)))
    return terms


M = TypeVar("M", bound=Searchable)


def search(
    messages: Sequence[M],
    *,
    query: str = "",
    label_ids: Sequence[str] = (),
    include_spam_trash: bool = False,
) -> list[M]:
    """The ``messages`` a ``users.messages.list`` call would return, in the order given."""
    terms = parse_query(query)
    show_hidden = include_spam_trash or any(t.reveals_hidden for t in terms)
    return [
        m
        for m in messages
        if (show_hidden or not HIDDEN_LABELS & set(m.label_ids))
        and all(label in m.label_ids for label in label_ids)
        and all(t.matches(m) for t in terms)
    ]
