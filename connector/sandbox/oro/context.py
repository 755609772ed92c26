"""Computed resources: ``search``, ``emailcontext``, ``emailthreadcontext``, ``emailcontextsearch``,
``emailcontextentities``; and deleting an entity from a thread's context.

Email context follows Oro's ``AbstractLoadEmailContextItems``: records already in the context of the
stored email(s) with the given Message-ID(s) come first (``isContext: true``), then suggestions: the
records whose addresses match the stored emails' from/to/cc or the ``from``/``to``/``cc`` filters
(Oro looks them up in its search index, so the match ignores case). A Message-ID Oro does not have
still yields suggestions. ``excludeCurrentUser`` defaults to false. Thread context item ids are
``{type}-{id}-{emailId}`` with the thread's smallest email id, or ``-0`` for a mere suggestion.
The sandbox also hides records the user may not view, as Oro's ACL-aware search does.
"""

from __future__ import annotations

from dataclasses import dataclass

from connector.sandbox.oro import errors
from connector.sandbox.oro.errors import filter_error
from connector.sandbox.oro.operations import pure_address
from connector.sandbox.oro.query import FilterValue, parse_bool
from connector.sandbox.oro.schema import ACTIVITY_TARGET_TYPES, RESOURCES, SEARCHABLE_TYPES, Record, Ref
from connector.sandbox.oro.store import OroState

CONTEXT_FILTERS = frozenset(
    {"messageId", "from", "to", "cc", "isContext", "excludeCurrentUser", "entities", "searchText"}
)
CONTEXT_TYPES = tuple(t for t in ACTIVITY_TARGET_TYPES)
ENTITY_LABELS = {
    "users": "User",
    "contacts": "Contact",
    "accounts": "Account",
    "leads": "Lead",
    "opportunities": "Opportunity",
    "b2bcustomers": "Business Customer",
    "customers": "Customer",
    "customerusers": "Customer User",
    "orders": "Order",
    "cases": "Case",
    "rfqs": "Request For Quote",
    "tasks": "Task",
    "businessunits": "Business Unit",
}


@dataclass
class Found:
    ref: Ref
    assigned: bool


def _values(filters: list[FilterValue], name: str) -> list[FilterValue]:
    return [f for f in filters if f.name == name]


def _one(filters: list[FilterValue], name: str) -> FilterValue | None:
    found = _values(filters, name)
    return found[-1] if found else None


def _list(value: FilterValue | None) -> list[str]:
    if value is None:
        return []
    return [item for item in (part.strip() for part in value.raw.split(",")) if item]


def _bool(value: FilterValue | None) -> bool | None:
    if value is None:
        return None
    flag = parse_bool(value.raw)
    if flag is None:
        raise errors.unexpected_value(f'Expected boolean value. Given "{value.raw}".', value.key)
    return flag


def _entities(state: OroState, value: FilterValue | None, allowed: tuple[str, ...]) -> list[str]:
    if value is None:
        return [t for t in allowed if t not in state.settings.disabled_resources]
    requested = _list(value)
    for type_ in requested:
        if type_ not in allowed:
            raise filter_error(f'The "{type_}" entity is not supported.', value.key)
    return requested


def _check_supported(filters: list[FilterValue], supported: frozenset[str]) -> None:
    for value in filters:
        if value.name not in supported or value.op != "eq":
            raise filter_error(f'Filter "{value.key}" is not supported.', value.key)


def email_context(state: OroState, user_id: str, filters: list[FilterValue], *, thread: bool) -> list[Record]:
    _check_supported(filters, CONTEXT_FILTERS)
    message_filter = _one(filters, "messageId")
    message_ids = _list(message_filter)
    if not message_ids:
        raise filter_error(
            "The Message-ID is required.", message_filter.key if message_filter else "filter[messageId]"
        )
    entities = _entities(state, _one(filters, "entities"), CONTEXT_TYPES)
    requested: list[str] = []
    sender = _one(filters, "from")
    if sender is not None and pure_address(sender.raw):
        requested.append(pure_address(sender.raw))
    for name in ("to", "cc"):
        requested += [pure_address(v) for v in _list(_one(filters, name)) if pure_address(v)]
    exclude_current = _bool(_one(filters, "excludeCurrentUser"))
    is_context = _bool(_one(filters, "isContext"))
    search = _one(filters, "searchText")
    if (
        search is not None
        and search.raw
        and (requested or exclude_current is not None or is_context is not None)
    ):
        raise filter_error(
            'The search text cannot be specified together with "from", "to", "cc", "isContext" or '
            '"excludeCurrentUser" filters.',
            search.key,
        )

    emails = [e for e in state.all("emails") if e.attributes["messageId"] in message_ids]
    if thread:
        seen = {e.id for e in emails}
        for email in list(emails):
            for member in state.thread_emails(email.id):
                if member.id not in seen:
                    seen.add(member.id)
                    emails.append(member)
    email_ids = sorted(int(e.id) for e in emails)
    assigned: list[Ref] = []
    for email in sorted(emails, key=lambda e: int(e.id)):
        for ref in email.relationships.get("activityTargets") or []:
            if ref[0] in entities and ref not in assigned:
                assigned.append(ref)

    found: list[Found]
    if search is not None and search.raw:
        found = [
            Found(r.ref, r.ref in assigned)
            for type_ in entities
            for r in state.iter_visible(user_id, type_)
            if state.matches_search(r, search.raw)
        ]
    else:
        addresses = list(requested)
        for email in emails:
            attrs = email.attributes
            for item in [
                attrs.get("from") or {},
                *(attrs.get("toRecipients") or []),
                *(attrs.get("ccRecipients") or []),
            ]:
                if item.get("email") and item["email"] not in addresses:
                    addresses.append(item["email"])
        found = [Found(ref, True) for ref in assigned]
        if is_context is not True:
            suggested: list[Ref] = []
            for address in addresses:
                suggested += [
                    ref
                    for ref in state.owners_of_address(address)
                    if ref[0] in entities and ref not in suggested and ref not in assigned
                ]
            order = {t: i for i, t in enumerate(entities)}
            suggested.sort(key=lambda ref: (order[ref[0]], int(ref[1])))
            found += [Found(ref, False) for ref in suggested]
        if is_context is False:
            found = [f for f in found if not f.assigned]
        if exclude_current:
            found = [f for f in found if f.assigned or f.ref != ("users", user_id)]

    items = []
    first_email = str(email_ids[0]) if email_ids else None
    for item in found:
        target = state.get(item.ref)
        if target is None or not state.can_view(user_id, target):
            continue
        if thread:
            item_id = f"{item.ref[0]}-{item.ref[1]}-{first_email if item.assigned and first_email else 0}"
        else:
            item_id = f"{item.ref[0]}-{item.ref[1]}"
        items.append(
            _item(
                "emailthreadcontext" if thread else "emailcontext",
                item_id,
                target,
                {"isContext": item.assigned},
            )
        )
    return items


def _item(type_: str, item_id: str, target: Record, extra: dict[str, object] | None = None) -> Record:
    attributes: dict[str, object] = {"entityName": RESOURCES[target.type].entity_name(target)}
    attributes.update(extra or {})
    return Record(type_, item_id, attributes, {"entity": target.ref})


def search(
    state: OroState, user_id: str, filters: list[FilterValue], *, type_: str = "search"
) -> list[Record]:
    supported = frozenset({"searchText", "entities"})
    _check_supported(filters, supported)
    allowed = SEARCHABLE_TYPES if type_ == "search" else CONTEXT_TYPES
    entities = _entities(state, _one(filters, "entities"), allowed)
    text = _one(filters, "searchText")
    items = []
    for entity_type in entities:
        for record in state.iter_visible(user_id, entity_type):
            if text is not None and text.raw and not state.matches_search(record, text.raw):
                continue
            items.append(_item(type_, f"{record.type}-{record.id}", record))
    return items


def context_entities(state: OroState, filters: list[FilterValue]) -> list[Record]:
    _check_supported(filters, frozenset({"allowed"}))
    wanted = _bool(_one(filters, "allowed"))
    items = []
    for type_ in CONTEXT_TYPES:
        if type_ in state.settings.disabled_resources:
            continue
        if wanted is False:
            continue
        items.append(
            Record(
                "emailcontextentities",
                type_,
                {
                    "entityType": type_,
                    "entityName": ENTITY_LABELS.get(type_, type_),
                    "allowed": True,
                },
            )
        )
    return items


def delete_thread_context(state: OroState, user_id: str, item_id: str) -> None:
    """``DELETE /emailthreadcontext/{type}-{id}-{emailId}``: unlink the entity from the thread's emails."""
    parts = item_id.rsplit("-", 2)
    if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit() or int(parts[2]) == 0:
        raise errors.not_found()
    type_, entity_id, email_id = parts
    if type_ not in RESOURCES or state.get(("emails", email_id)) is None:
        raise errors.not_found()
    target = (type_, entity_id)
    changed = False
    for email in state.thread_emails(email_id):
        targets = list(email.relationships.get("activityTargets") or [])
        if target in targets:
            targets.remove(target)
            state.set_relationship(email, "activityTargets", targets)
            changed = True
    if not changed:
        raise errors.not_found()
