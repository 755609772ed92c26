"""The sandbox's Oro data store: records, permissions, indexes, OAuth, faults and settings.

Everything that changes while the sandbox runs sits behind the world's one lock (``state.lock``); the
routes take it for each read or write. Permissions work like Oro's ACL with the access levels the
sandbox gives its users: ``admin`` has the organization ("global") level, everyone else the business
unit level, so alice sees records owned by users of her business unit and nothing else. Users,
business units, dictionaries and emails are visible to every signed-in user.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from connector.sandbox.oro.faults import OroFaults
from connector.sandbox.oro.oauth import OAuthClient, OAuthServer
from connector.sandbox.oro.schema import ACTIVITY_TYPES, RESOURCES, Record, Ref

SANDBOX_PASSWORD = "demo"
INTEGRATION_CLIENT_ID = "demo-integration"
INTEGRATION_CLIENT_SECRET = "demo-secret"
CONNECTOR_CLIENT_ID = "demo-connector"
CONNECTOR_CLIENT_SECRET = "demo-connector-secret"
PASSWORD_CLIENT_ID = "demo-password"
PASSWORD_CLIENT_SECRET = "demo-password-secret"

AUTO_TARGET_TYPES = ("users", "contacts", "leads", "customerusers")
"""Types whose addresses make Oro link a new email to them when ``activityTargets`` is omitted."""

# Both sides of the bidirectional associations the sandbox keeps in step.
INVERSES: dict[tuple[str, str], tuple[str, str]] = {
    ("contacts", "accounts"): ("accounts", "contacts"),
    ("customerusers", "customer"): ("customers", "users"),
    ("customers", "parent"): ("customers", "children"),
    ("leads", "customer"): ("b2bcustomers", "leads"),
    ("opportunities", "customer"): ("b2bcustomers", "opportunities"),
    ("opportunities", "lead"): ("leads", "opportunities"),
}


@dataclass(frozen=True)
class EmailTemplate:
    """An email template as the legacy REST API serialises it."""

    id: int
    name: str
    entity_name: str | None  # entity class (backslashes) or None for a non-entity template
    subject: str
    content: str
    type: str = "html"  # "html" or "txt"
    is_system: bool = False
    is_editable: bool = True
    parent: int | None = None


@dataclass
class OroSettings:
    """Settings of the sandbox's Oro that are not faults."""

    backoffice_prefix: str = "admin"  # "admin" like OroCommerce; "" like OroCRM / OroPlatform
    disabled_resources: frozenset[str] = frozenset()  # e.g. {"emails", "emailcontext"} like Oro 5.x
    integration_user: str = "admin"


class OroState:
    """All of the sandbox's Oro. Build it with :func:`connector.sandbox.oro.seed.populate`."""

    def __init__(self, *, lock: threading.RLock, fault_seed: int = 0, clock: Callable[[], float] = time.time):
        self.lock = lock
        self.clock = clock
        self.settings = OroSettings()
        self.faults = OroFaults()
        self.faults.configure(seed=fault_seed)
        self.records: dict[str, dict[str, Record]] = {t: {} for t in RESOURCES}
        self.next_id: dict[str, int] = {t: 1 for t in RESOURCES}
        self.passwords: dict[str, str] = {}
        self.global_users: set[str] = set()
        self.templates: list[EmailTemplate] = []
        self.email_threads: dict[str, int] = {}  # email id -> thread number
        self._next_thread = 1
        self._activity_index: dict[Ref, set[Ref]] = {}
        self._address_index: dict[str, list[Ref]] | None = None
        self._search_text: dict[Ref, str] = {}
        self.oauth = OAuthServer(
            clients={
                INTEGRATION_CLIENT_ID: OAuthClient(
                    INTEGRATION_CLIENT_ID,
                    INTEGRATION_CLIENT_SECRET,
                    frozenset({"client_credentials"}),
                    acts_as=self.settings.integration_user,
                ),
                CONNECTOR_CLIENT_ID: OAuthClient(
                    CONNECTOR_CLIENT_ID,
                    CONNECTOR_CLIENT_SECRET,
                    frozenset({"authorization_code"}),
                    allow_loopback_redirects=True,
                ),
                PASSWORD_CLIENT_ID: OAuthClient(
                    PASSWORD_CLIENT_ID,
                    PASSWORD_CLIENT_SECRET,
                    frozenset({"password"}),
                ),
            },
            authenticate=self._authenticate,
            user_id_for=self._user_id_for,
            clock=lambda: self.clock(),
        )

    # --- settings ----------------------------------------------------------------------------------

    def configure(self, **changes: Any) -> None:
        """Change settings at start (CLI) or while running.

        Fault names (``latency_ms``, ``jitter_ms``, ``error_rate``, ``error_statuses``,
        ``retry_after_seconds``, ``down``, ``down_hold_seconds``, ``seed``) go to :attr:`faults`.
        Others: ``access_token_lifetime``, ``refresh_token_lifetime``, ``auth_code_lifetime`` (seconds),
        ``backoffice_prefix``, ``disabled_resources``, ``redirect_uris`` (extra redirect URIs accepted
        for the ``demo-connector`` client), ``integration_user``.
        """
        fault_names = {
            "latency_ms",
            "jitter_ms",
            "error_rate",
            "error_statuses",
            "retry_after_seconds",
            "down",
            "down_hold_seconds",
            "seed",
        }
        fault_changes = {k: v for k, v in changes.items() if k in fault_names}
        if fault_changes:
            self.faults.configure(**fault_changes)
        with self.lock:
            for name, value in changes.items():
                if name in fault_names:
                    continue
                if name in ("access_token_lifetime", "refresh_token_lifetime", "auth_code_lifetime"):
                    setattr(self.oauth, name, int(value))
                elif name == "backoffice_prefix":
                    self.settings.backoffice_prefix = str(value).strip("/")
                elif name == "disabled_resources":
                    self.settings.disabled_resources = frozenset(value)
                elif name == "redirect_uris":
                    client = self.oauth.clients[CONNECTOR_CLIENT_ID]
                    self.oauth.clients[CONNECTOR_CLIENT_ID] = OAuthClient(
                        client.client_id,
                        client.secret,
                        client.grants,
                        tuple(value),
                        client.allow_loopback_redirects,
                    )
                elif name == "integration_user":
                    self.settings.integration_user = str(value)
                    client = self.oauth.clients[INTEGRATION_CLIENT_ID]
                    self.oauth.clients[INTEGRATION_CLIENT_ID] = OAuthClient(
                        client.client_id, client.secret, client.grants, acts_as=str(value)
                    )
                else:
                    raise ValueError(f"unknown sandbox Oro setting: {name}")

    def now(self) -> datetime:
        return datetime.fromtimestamp(int(self.clock()), UTC)

    # --- users and permissions -----------------------------------------------------------------------

    def user_by_username(self, username: str) -> Record | None:
        return next((u for u in self.records["users"].values() if u.attributes["username"] == username), None)

    def _user_id_for(self, username: str) -> str | None:
        user = self.user_by_username(username)
        return user.id if user is not None and user.attributes.get("enabled") else None

    def _authenticate(self, username: str, password: str) -> str | None:
        user_id = self._user_id_for(username)
        if user_id is None or self.passwords.get(username) != password:
            return None
        return user_id

    def business_units_of(self, user_id: str) -> set[str]:
        user = self.records["users"].get(user_id)
        if user is None:
            return set()
        return {ref[1] for ref in user.relationships.get("businessUnits") or []}

    def owner_business_units(self, record: Record) -> set[str]:
        owner = record.relationships.get("owner")
        if owner is None or owner[0] != "users":
            return set()
        return self.business_units_of(owner[1])

    def visibility(self, user_id: str) -> Callable[[Record], bool]:
        """A fast ``can_view`` for many records seen by one user."""
        if user_id in self.global_users:
            return lambda record: True
        mine = self.business_units_of(user_id)
        owners: dict[str, bool] = {}

        def visible(record: Record) -> bool:
            if RESOURCES[record.type].acl == "public":
                return True
            owner = record.relationships.get("owner")
            if owner is None or owner[0] != "users":
                return False
            if owner[1] not in owners:
                owners[owner[1]] = bool(mine & self.business_units_of(owner[1]))
            return owners[owner[1]]

        return visible

    def can_view(self, user_id: str, record: Record) -> bool:
        if RESOURCES[record.type].acl == "public" or user_id in self.global_users:
            return True
        return bool(self.business_units_of(user_id) & self.owner_business_units(record))

    # --- records -------------------------------------------------------------------------------------

    def get(self, ref: Ref) -> Record | None:
        return self.records.get(ref[0], {}).get(ref[1])

    def all(self, type_: str) -> Iterable[Record]:
        return self.records[type_].values()

    def add(self, record: Record) -> Record:
        """Store ``record``; a record without an id gets the next one."""
        if not record.id:
            record.id = str(self.next_id[record.type])
        numeric = int(record.id) if record.id.isdigit() else 0
        self.next_id[record.type] = max(self.next_id[record.type], numeric + 1)
        self.records[record.type][record.id] = record
        for name, value in record.relationships.items():
            self._link_inverse(record, name, value, add=True)
        if record.type in ACTIVITY_TYPES:
            self._index_activity(record, record.relationships.get("activityTargets") or [])
        self.touch(record)
        return record

    def set_relationship(self, record: Record, name: str, value: Any) -> None:
        old = record.relationships.get(name)
        self._link_inverse(record, name, old, add=False)
        record.relationships[name] = value
        self._link_inverse(record, name, value, add=True)
        if name == "activityTargets":
            self._unindex_activity(record, old or [])
            self._index_activity(record, value or [])
        self.touch(record)

    def delete(self, record: Record) -> None:
        for name, value in record.relationships.items():
            self._link_inverse(record, name, value, add=False)
        if record.type in ACTIVITY_TYPES:
            self._unindex_activity(record, record.relationships.get("activityTargets") or [])
        for activity in list(self._activity_index.pop(record.ref, set())):
            holder = self.get(activity)
            if holder is not None:
                targets = [t for t in holder.relationships.get("activityTargets") or [] if t != record.ref]
                holder.relationships["activityTargets"] = targets
        del self.records[record.type][record.id]
        self.touch(record)

    def touch(self, record: Record) -> None:
        """Forget cached search text and addresses after ``record`` changed."""
        self._search_text.pop(record.ref, None)
        if RESOURCES[record.type].email_owner:
            self._address_index = None

    def _link_inverse(self, record: Record, name: str, value: Any, *, add: bool) -> None:
        inverse = INVERSES.get((record.type, name))
        if inverse is None or value is None:
            return
        targets = value if isinstance(value, list) else [value]
        for target_ref in targets:
            target = self.get(target_ref)
            if target is None:
                continue
            current: list[Ref] = list(target.relationships.get(inverse[1]) or [])
            if add and record.ref not in current:
                current.append(record.ref)
            elif not add and record.ref in current:
                current.remove(record.ref)
            target.relationships[inverse[1]] = current

    # --- activities (emails, notes, tasks) and their targets ------------------------------------------

    def _index_activity(self, activity: Record, targets: Iterable[Ref]) -> None:
        for target in targets:
            self._activity_index.setdefault(target, set()).add(activity.ref)

    def _unindex_activity(self, activity: Record, targets: Iterable[Ref]) -> None:
        for target in targets:
            self._activity_index.get(target, set()).discard(activity.ref)

    def activities_of(self, target: Ref, activity_type: str) -> list[Ref]:
        refs = [ref for ref in self._activity_index.get(target, ()) if ref[0] == activity_type]
        return sorted(refs, key=lambda ref: int(ref[1]))

    # --- addresses and search ----------------------------------------------------------------------------

    def addresses_of(self, record: Record) -> list[str]:
        attrs = record.attributes
        found = [attrs.get("email"), attrs.get("primaryEmail")]
        found += [item.get("email") for item in attrs.get("emails") or []]
        seen: list[str] = []
        for address in found:
            if address and address not in seen:
                seen.append(address)
        return seen

    def owners_of_address(self, address: str) -> list[Ref]:
        """Records with ``address`` among theirs, ignoring case as Oro's search index does."""
        if self._address_index is None:
            index: dict[str, list[Ref]] = {}
            for spec in RESOURCES.values():
                if not spec.email_owner:
                    continue
                for record in self.records[spec.type].values():
                    for item in self.addresses_of(record):
                        refs = index.setdefault(item.lower(), [])
                        if record.ref not in refs:
                            refs.append(record.ref)
            self._address_index = index
        return list(self._address_index.get(address.strip().lower(), []))

    def search_text(self, record: Record) -> str:
        text = self._search_text.get(record.ref)
        if text is None:
            spec = RESOURCES[record.type]
            parts = [spec.entity_name(record), *self.addresses_of(record)]
            for name in (
                "companyName",
                "company",
                "identifier",
                "poNumber",
                "subject",
                "name",
                "jobTitle",
                "primaryPhone",
                "phone",
                "username",
            ):
                value = record.attributes.get(name)
                if value:
                    parts.append(str(value))
            parts += [item.get("phone", "") for item in record.attributes.get("phones") or []]
            text = " ".join(parts).lower()
            self._search_text[record.ref] = text
        return text

    def matches_search(self, record: Record, search_text: str) -> bool:
        """Oro's simple search: every word of the text occurs in the record's indexed text."""
        words = [w for w in re.split(r"\s+", search_text.strip().lower()) if w]
        haystack = self.search_text(record)
        return bool(words) and all(word in haystack for word in words)

    # --- emails' threads -------------------------------------------------------------------------------

    def new_thread(self) -> int:
        number = self._next_thread
        self._next_thread += 1
        return number

    def thread_emails(self, email_id: str) -> list[Record]:
        """The emails sharing ``email_id``'s thread (itself included), by id."""
        thread = self.email_threads.get(email_id)
        if thread is None:
            record = self.records["emails"].get(email_id)
            return [record] if record else []
        ids = sorted((i for i, t in self.email_threads.items() if t == thread), key=int)
        return [self.records["emails"][i] for i in ids if i in self.records["emails"]]

    def iter_visible(self, user_id: str, type_: str) -> Iterator[Record]:
        visible = self.visibility(user_id)
        for record in self.records[type_].values():
            if visible(record):
                yield record

