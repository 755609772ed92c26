"""The host-neutral sidebar: what both the Gmail card and the Outlook pane show for one email.

Plain frozen dataclasses; ``SidebarView.to_dict()`` is the JSON the Outlook pane and the demo read,
and the Gmail card builders walk the same objects. Schema, top down:

- ``SidebarView``: the message (``message_id``, ``thread_id``, ``subject``), ``participants``,
  ``commerce`` (open orders, RFQs, cases, opportunities of the matched people), ``thread`` (records
  already linked to the thread), ``banners`` (stale view, partial view, what the instance lacks) and
  ``generated_at``.
- ``Participant``: one address on the email (``role`` from/to/cc/bcc), its ``matches`` grouped by record
  type, ``choices`` where several records of one type share the address, ``domain_matches`` (companies
  whose domain matches when nothing matched the address), ``suggestions`` (records to create), and
  ``excluded`` when policy keeps it out of Oro, with the reason.
- ``RecordCard``: one Oro record: ``type``/``id``, ``title``, ``subtitle``, ``facts`` (label/value),
  ``url`` in Oro's back-office, ``in_context`` (already linked to this thread), ``why`` it matched, and
  ``actions`` the user may take on it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from connector.mail.addresses import Role

MatchKind = Literal["exact", "secondary", "normalized", "plus", "domain", "choice", "search"]
BannerLevel = Literal["info", "warning", "error"]


@dataclass(frozen=True)
class Fact:
    label: str
    value: str


@dataclass(frozen=True)
class Why:
    """Why a record is shown: the kind of match and a sentence a person can read."""

    kind: MatchKind
    text: str


@dataclass(frozen=True)
class RecordCard:
    type: str
    id: str
    title: str
    type_label: str
    subtitle: str = ""
    facts: tuple[Fact, ...] = ()
    url: str | None = None
    in_context: bool = False
    why: Why | None = None
    actions: tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        return f"{self.type}:{self.id}"


@dataclass(frozen=True)
class RecordGroup:
    type: str
    label: str
    records: tuple[RecordCard, ...]


@dataclass(frozen=True)
class Choice:
    """Several records of one type share the address: the user picks one, once."""

    type: str
    label: str
    address: str
    options: tuple[RecordCard, ...]
    chosen: str | None = None  # the chosen record's id
    chosen_at: datetime | None = None
    chosen_by: str | None = None


@dataclass(frozen=True)
class Suggestion:
    action: str  # "create_lead", "create_contact", ...
    label: str
    prefill: tuple[Fact, ...] = ()


@dataclass(frozen=True)
class Participant:
    address: str
    name: str
    role: Role
    matches: tuple[RecordGroup, ...] = ()
    choices: tuple[Choice, ...] = ()
    domain_matches: tuple[RecordCard, ...] = ()
    suggestions: tuple[Suggestion, ...] = ()
    excluded: str | None = None  # why this participant is kept out of Oro

    @property
    def is_known(self) -> bool:
        return bool(self.matches or self.choices)


@dataclass(frozen=True)
class CommerceContext:
    open_orders: tuple[RecordCard, ...] = ()
    recent_rfqs: tuple[RecordCard, ...] = ()
    open_cases: tuple[RecordCard, ...] = ()
    open_opportunities: tuple[RecordCard, ...] = ()


@dataclass(frozen=True)
class LinkedRecord:
    record: RecordCard
    linked_by: str
    linked_at: datetime


@dataclass(frozen=True)
class ThreadState:
    linked: tuple[LinkedRecord, ...] = ()
    note: str = ""  # e.g. "This message was linked because its thread is"


@dataclass(frozen=True)
class Banner:
    level: BannerLevel
    code: str
    text: str


@dataclass(frozen=True)
class SidebarView:
    message_id: str
    thread_id: str
    subject: str
    participants: tuple[Participant, ...]
    commerce: CommerceContext = field(default_factory=CommerceContext)
    thread: ThreadState = field(default_factory=ThreadState)
    banners: tuple[Banner, ...] = ()
    unavailable: tuple[str, ...] = ()  # sections that could not load in time
    stale: bool = False
    generated_at: datetime | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SidebarView:
        """The inverse of :meth:`to_dict` (the cache keeps views as JSON)."""
        view: SidebarView = _from_plain(cls, data)
        return view

    def to_dict(self) -> dict[str, Any]:
        plain: dict[str, Any] = _plain(self)
        return plain


def _from_plain(kind: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = get_origin(kind)
    if origin in (Union, UnionType):
        options = [a for a in get_args(kind) if a is not type(None)]
        return _from_plain(options[0], value)
    if origin is tuple:
        item = get_args(kind)[0]
        return tuple(_from_plain(item, v) for v in value)
    if kind is datetime:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        hints = get_type_hints(kind)
        return kind(
            **{
                f.name: _from_plain(hints[f.name], value[f.name])
                for f in dataclasses.fields(kind)
                if f.name in value
            }
        )
    return value


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return value
