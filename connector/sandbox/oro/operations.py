"""State changes of the sandbox's Oro: create, update and delete records from JSON:API documents.

Validation follows Oro's wording where the reference quotes it (``not blank constraint``,
``choice constraint``, ``request data constraint``, the 409 type/id mismatch messages). Emails get
Oro's special behaviour: required fields, Message-ID uniqueness, server-side threading, ``head``,
an ``emailusers`` record for the creator, and ``activityTargets`` filled from the addresses when the
request leaves them out. Callers hold the world's lock.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from connector.sandbox.oro import errors
from connector.sandbox.oro.errors import ApiError, ErrorObject
from connector.sandbox.oro.query import parse_datetime
from connector.sandbox.oro.schema import (
    ACTIVITY_TARGET_TYPES,
    ACTIVITY_TYPES,
    RESOURCES,
    Record,
    Ref,
    ResourceSpec,
)
from connector.sandbox.oro.store import AUTO_TARGET_TYPES, OroState

_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_ADDRESS_IN_BRACKETS = re.compile(r"<([^<>]+)>\s*$")
FOLDER_TYPES = ("inbox", "sent", "trash", "drafts", "spam", "other")

REQUIRED: dict[str, tuple[str, ...]] = {
    "accounts": ("name",),
    "b2bcustomers": ("name",),
    "leads": ("name",),
    "opportunities": ("name",),
    "customers": ("name",),
    "customerusers": ("email", "firstName", "lastName"),
    "cases": ("subject", "source", "status", "priority"),
    "tasks": ("subject", "status", "taskPriority"),
    "notes": ("message", "activityTargets"),
    "rfqs": ("firstName", "lastName", "email", "company"),
    "orders": ("currency", "customer"),
}


def pure_address(value: str | None) -> str:
    """``"Name <a@b.example>"`` -> ``a@b.example``; a bare address unchanged."""
    if not value:
        return ""
    match = _ADDRESS_IN_BRACKETS.search(value)
    return (match.group(1) if match else value).strip()


def primary_data(body: Any, type_: str, id_: str | None = None) -> dict[str, Any]:
    """``body["data"]`` checked as Oro's TypedRequestDataValidator checks it."""
    if not isinstance(body, dict) or not body.get("data"):
        raise errors.request_data("The primary data object should not be empty", "/data")
    data = body["data"]
    if not isinstance(data, dict):
        raise errors.request_data("The primary data object should be an object", "/data")
    if data.get("type") != type_:
        raise errors.conflict(
            "The 'type' property of the primary data object should match the requested resource", "/data/type"
        )
    if id_ is not None:
        if "id" not in data:
            raise errors.request_data("The 'id' property is required", "/data/id")
        if str(data["id"]) != id_:
            raise errors.conflict(
                "The 'id' property of the primary data object should match 'id' parameter of the query "
                "string",
                "/data/id",
            )
    for member in ("attributes", "relationships"):
        if member in data and not isinstance(data[member], dict):
            raise errors.request_data(f"The '{member}' property should be an object", f"/data/{member}")
    return data


# --- values ------------------------------------------------------------------------------------------


def _coerce(kind: str, value: Any, pointer: str) -> Any:
    if value is None:
        return None
    invalid = ApiError(ErrorObject(400, "form constraint", "This value is not valid.", pointer=pointer))
    if kind == "string":
        if not isinstance(value, str):
            raise invalid
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise invalid
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise invalid
        return value
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise invalid
        return float(value)
    if kind == "money":
        try:
            return Decimal(str(value))
        except InvalidOperation:
            raise invalid from None
    if kind == "datetime":
        parsed = parse_datetime(str(value))
        if parsed is None:
            raise invalid
        return parsed
    if kind == "date":
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise invalid from None
    return value


def _refs(value: Any, many: bool, pointer: str) -> Any:
    def one(item: Any, at: str) -> Ref:
        if not isinstance(item, dict) or "type" not in item or "id" not in item:
            raise errors.request_data("The 'type' and 'id' properties are required", at)
        return (str(item["type"]), str(item["id"]))

    if many:
        if not isinstance(value, list):
            raise errors.request_data("The 'data' property should be an array", pointer)
        return [one(item, f"{pointer}/{i}") for i, item in enumerate(value)]
    return None if value is None else one(value, pointer)


def _check_targets(state: OroState, refs: Iterable[Ref], pointer: str, *, activity: bool = False) -> None:
    for i, ref in enumerate(refs):
        if activity and ref[0] not in ACTIVITY_TARGET_TYPES:
            raise ApiError(
                ErrorObject(
                    400,
                    "form constraint",
                    f'The "{ref[0]}" entity cannot be an activity target.',
                    pointer=f"{pointer}/{i}" if pointer.endswith("/data") else pointer,
                )
            )
        if state.get(ref) is None:
            raise ApiError(ErrorObject(400, "form constraint", "The entity does not exist.", pointer=pointer))


# --- generic create / update ---------------------------------------------------------------------------


def apply_document(state: OroState, record: Record, data: dict[str, Any], *, creating: bool) -> None:
    spec = RESOURCES[record.type]
    problems: list[ErrorObject] = []
    for name, value in (data.get("attributes") or {}).items():
        attr = spec.attr(name)
        if attr is None:
            if spec.rel(name) is None:
                problems.append(
                    ErrorObject(
                        400,
                        "extra fields constraint",
                        f'This form should not contain extra fields: "{name}".',
                        pointer="/data/attributes",
                    )
                )
            continue
        if name in spec.readonly:
            continue
        record.attributes[name] = _coerce(attr.kind, value, f"/data/attributes/{name}")
    if problems:
        raise ApiError(*problems)
    for name, member in (data.get("relationships") or {}).items():
        rel = spec.rel(name)
        pointer = f"/data/relationships/{name}/data"
        if rel is None:
            raise ApiError(
                ErrorObject(
                    400,
                    "extra fields constraint",
                    f'This form should not contain extra fields: "{name}".',
                    pointer="/data/relationships",
                )
            )
        if name in spec.readonly or name in ACTIVITY_TYPES.values():
            continue
        if not isinstance(member, dict) or "data" not in member:
            raise errors.request_data("The 'data' property is required", f"/data/relationships/{name}")
        value = _refs(member["data"], rel.many, pointer)
        refs = value if isinstance(value, list) else ([value] if value else [])
        _check_targets(state, refs, pointer, activity=name == "activityTargets")
        if creating:
            record.relationships[name] = value
        else:
            state.set_relationship(record, name, value)


def _normalise_channels(record: Record) -> None:
    """Contacts, leads, b2b customers: keep ``emails``/``phones`` and their primary values in step."""
    for collection, key, primary in (
        ("emails", "email", "primaryEmail"),
        ("phones", "phone", "primaryPhone"),
    ):
        if RESOURCES[record.type].attr(primary) is None:
            continue
        items = [dict(item) for item in record.attributes.get(collection) or []]
        values = [item.get(key) for item in items]
        chosen = record.attributes.get(primary)
        if chosen and chosen not in values:
            items.append({key: chosen})
        elif not chosen and items:
            record.attributes[primary] = items[0][key]
        record.attributes[collection] = items


def create_record(state: OroState, type_: str, body: Any, user_id: str) -> Record:
    if type_ == "emails":
        return create_email(state, body, user_id)
    spec = RESOURCES[type_]
    data = primary_data(body, type_)
    record = Record(
        type_,
        "",
        {a.name: None for a in spec.attributes},
        {r.name: ([] if r.many else None) for r in spec.relationships},
    )
    _defaults(state, spec, record, user_id)
    apply_document(state, record, data, creating=True)
    _normalise_channels(record)
    _validate_required(record, data)
    state.add(record)
    if record.type == "orders" and not record.attributes.get("identifier"):
        record.attributes["identifier"] = record.id
    return record


def _defaults(state: OroState, spec: ResourceSpec, record: Record, user_id: str) -> None:
    now = state.now()
    for name in ("createdAt", "updatedAt"):
        if spec.attr(name) is not None:
            record.attributes[name] = now
    if _targets_users(spec, "owner"):
        record.relationships["owner"] = ("users", user_id)
    if spec.rel("organization") is not None:
        record.relationships["organization"] = ("organizations", "1")
    for name in ("createdBy", "updatedBy"):
        if _targets_users(spec, name):
            record.relationships[name] = ("users", user_id)
    defaults: dict[str, dict[str, Any]] = {
        "cases": {"reportedAt": now},
        "orders": {"external": False, "totalValue": Decimal(0), "subtotalValue": Decimal(0)},
        "customerusers": {"confirmed": True, "enabled": True, "isGuest": False, "loginCount": 0},
    }
    record.attributes.update(defaults.get(spec.type, {}))
    if spec.type == "orders":
        record.relationships["internalStatus"] = ("orderinternalstatuses", "open")
    if spec.type == "leads":
        record.relationships["status"] = ("leadstatuses", "new")  # the enum's default option
    if spec.type == "opportunities":
        record.relationships["status"] = ("opportunitystatuses", "in_progress")
    if spec.type == "rfqs":
        record.relationships["internal_status"] = ("rfqinternalstatuses", "open")
        record.relationships["customer_status"] = ("rfqcustomerstatuses", "submitted")


def _targets_users(spec: ResourceSpec, name: str) -> bool:
    rel = spec.rel(name)
    return rel is not None and rel.target == "users"


def _validate_required(record: Record, data: dict[str, Any]) -> None:
    spec = RESOURCES[record.type]
    missing = []
    for name in REQUIRED.get(record.type, ()):
        if spec.attr(name) is not None:
            if record.attributes.get(name) in (None, ""):
                missing.append(errors.not_blank(f"/data/attributes/{name}"))
        elif not record.relationships.get(name):
            missing.append(errors.not_blank(f"/data/relationships/{name}/data"))
    if record.type == "contacts" and not any(
        record.attributes.get(n) for n in ("firstName", "lastName", "emails", "phones")
    ):
        missing.append(
            ErrorObject(
                400,
                "not blank constraint",
                "At least one of the fields First name, Last name, Emails or Phones must be defined.",
                pointer="/data",
            )
        )
    if record.type == "opportunities" and not (
        record.relationships.get("account") or record.relationships.get("customer")
    ):
        missing.append(errors.not_blank("/data/relationships/customer/data"))
    if missing:
        raise ApiError(*missing)


def update_record(state: OroState, record: Record, body: Any) -> Record:
    if record.type == "emails":
        return update_email(state, record, body)
    data = primary_data(body, record.type, record.id)
    before_attrs = dict(record.attributes)
    before_rels = dict(record.relationships)
    try:
        apply_document(state, record, data, creating=False)
        _normalise_channels(record)
        _validate_required(record, data)
    except ApiError:
        record.attributes = before_attrs
        for name, value in before_rels.items():
            if record.relationships.get(name) != value:
                state.set_relationship(record, name, value)
        raise
    if "updatedAt" in record.attributes:
        record.attributes["updatedAt"] = state.now()
    state.touch(record)
    return record


# --- emails ---------------------------------------------------------------------------------------------


def _address_object(value: Any, pointer: str, problems: list[ErrorObject]) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        problems.append(errors.not_blank(pointer))
        return None
    address = value.get("email")
    if address in (None, ""):
        problems.append(errors.not_blank(f"{pointer}/email"))
    elif not isinstance(address, str) or not _EMAIL.match(address):
        problems.append(
            ErrorObject(
                400,
                "email constraint",
                "This value contains not valid email address.",
                pointer=f"{pointer}/email",
            )
        )
    return {"name": value.get("name"), "email": address}


def short_text(content: str, content_type: str) -> str:
    text = content
    if content_type == "html":
        text = html.unescape(re.sub(r"<[^>]+>", "", content))
    text = re.sub(r"\s+", " ", text).strip()
    return text[:255]


def create_email(state: OroState, body: Any, user_id: str) -> Record:
    data = primary_data(body, "emails")
    attrs = data.get("attributes") or {}
    rels = data.get("relationships") or {}
    problems: list[ErrorObject] = []
    sender = attrs.get("from")
    if sender is None:
        problems.append(errors.not_blank("/data/attributes/from"))
    for name in ("subject", "sentAt", "internalDate", "messageId"):
        if attrs.get(name) in (None, ""):
            problems.append(errors.not_blank(f"/data/attributes/{name}"))
    from_object = (
        _address_object(sender or {}, "/data/attributes/from", problems) if sender is not None else None
    )
    if sender is None:
        problems.append(errors.not_blank("/data/attributes/from/email"))
    recipients: dict[str, list[dict[str, Any]]] = {}
    for name in ("toRecipients", "ccRecipients", "bccRecipients"):
        items = attrs.get(name) or []
        if not isinstance(items, list):
            problems.append(errors.not_blank(f"/data/attributes/{name}"))
            items = []
        parsed = [
            _address_object(item, f"/data/attributes/{name}/{i}", problems) for i, item in enumerate(items)
        ]
        recipients[name] = [p for p in parsed if p is not None]
    importance = attrs.get("importance", "normal")
    if importance not in ("low", "normal", "high"):
        problems.append(errors.choice("/data/attributes/importance"))
    email_body = attrs.get("body")
    if email_body is not None:
        if not isinstance(email_body, dict) or email_body.get("type") in (None, ""):
            problems.append(errors.not_blank("/data/attributes/body/type"))
        elif email_body.get("type") not in ("text", "html"):
            problems.append(errors.choice("/data/attributes/body/type"))
    sent_at = internal_date = None
    for name in ("sentAt", "internalDate"):
        if attrs.get(name) not in (None, ""):
            parsed_date = parse_datetime(str(attrs[name]))
            if parsed_date is None:
                problems.append(
                    ErrorObject(
                        400, "form constraint", "This value is not valid.", pointer=f"/data/attributes/{name}"
                    )
                )
            elif name == "sentAt":
                sent_at = parsed_date
            else:
                internal_date = parsed_date
    if problems:
        raise ApiError(*problems)
    message_id = str(attrs["messageId"])
    if any(e.attributes["messageId"] == message_id for e in state.all("emails")):
        raise ApiError(
            ErrorObject(409, "conflict constraint", "The email with this Message-ID already exists.")
        )
    references = [str(r) for r in attrs.get("references") or []]
    targets: list[Ref] | None = None
    if "activityTargets" in rels:
        member = rels["activityTargets"]
        if not isinstance(member, dict) or "data" not in member:
            raise errors.request_data(
                "The 'data' property is required", "/data/relationships/activityTargets"
            )
        targets = _refs(member["data"], True, "/data/relationships/activityTargets/data")
        _check_targets(state, targets, "/data/relationships/activityTargets/data", activity=True)
    now = state.now()
    content_type = (email_body or {}).get("type", "text")
    content = (email_body or {}).get("content") or ""
    email = Record(
        "emails",
        "",
        {
            "createdAt": now,
            "subject": str(attrs["subject"]),
            "sentAt": sent_at,
            "importance": importance,
            "internalDate": internal_date,
            "head": True,
            "messageId": message_id,
            "messageIds": attrs.get("messageIds"),
            "xMessageId": attrs.get("xMessageId"),
            "xThreadId": attrs.get("xThreadId"),
            "references": references,
            "acceptLanguage": attrs.get("acceptLanguage"),
            "bodySynced": email_body is not None,
            "from": from_object,
            "toRecipients": recipients["toRecipients"],
            "ccRecipients": recipients["ccRecipients"],
            "bccRecipients": recipients["bccRecipients"],
            "shortTextBody": short_text(content, content_type) if email_body is not None else None,
            "hasEmailAttachments": False if email_body is not None else None,
            "body": {"content": content, "type": content_type} if email_body is not None else None,
        },
        {"emailUsers": [], "activityTargets": [], "emailAttachments": []},
    )
    state.add(email)
    folders = _folders_from_included(body, rels)
    add_email_user(state, email, user_id, folders=folders, received_at=internal_date or now)
    thread_email(state, email)
    if targets is None:
        targets = auto_targets(state, email)
    state.set_relationship(email, "activityTargets", targets)
    return email


def _folders_from_included(body: dict[str, Any], rels: dict[str, Any]) -> list[dict[str, str]]:
    wanted = {
        str(item.get("id"))
        for item in (rels.get("emailUsers") or {}).get("data") or []
        if isinstance(item, dict)
    }
    for i, item in enumerate(body.get("included") or []):
        if (
            not isinstance(item, dict)
            or item.get("type") != "emailusers"
            or str(item.get("id")) not in wanted
        ):
            continue
        folders = (item.get("attributes") or {}).get("folders")
        if not folders:
            raise ApiError(
                ErrorObject(
                    400,
                    "count constraint",
                    "This collection should contain 1 element or more.",
                    pointer=f"/included/{i}/attributes/folders",
                )
            )
        problems = []
        for j, folder in enumerate(folders):
            at = f"/included/{i}/attributes/folders/{j}"
            if not folder.get("type"):
                problems.append(errors.not_blank(f"{at}/type"))
            if folder.get("type") not in FOLDER_TYPES:
                problems.append(errors.choice(f"{at}/type"))
            for name in ("name", "path"):
                if not folder.get(name):
                    problems.append(errors.not_blank(f"{at}/{name}"))
        if problems:
            raise ApiError(*problems)
        return [{"type": f["type"], "name": f["name"], "path": f["path"]} for f in folders]
    return [{"type": "other", "name": "Other", "path": "Other"}]


def add_email_user(
    state: OroState,
    email: Record,
    owner_id: str,
    *,
    folders: list[dict[str, str]],
    received_at: datetime,
    seen: bool = False,
) -> Record:
    email_user = state.add(
        Record(
            "emailusers",
            "",
            {
                "createdAt": state.now(),
                "receivedAt": received_at,
                "seen": seen,
                "private": True,
                "folders": folders,
            },
            {"organization": ("organizations", "1"), "owner": ("users", owner_id), "email": email.ref},
        )
    )
    email.relationships["emailUsers"] = [*email.relationships.get("emailUsers", []), email_user.ref]
    return email_user


def thread_email(state: OroState, email: Record) -> None:
    """Oro's EmailThreadManager: join the thread of the emails this one refers to, or that refer to it."""
    references = email.attributes.get("references") or []
    others = [e for e in state.all("emails") if e.id != email.id]
    related = [e for e in others if e.attributes["messageId"] in references] if references else []
    if not related:
        related = [
            e for e in others if email.attributes["messageId"] in (e.attributes.get("references") or [])
        ]
    threads = {state.email_threads[e.id] for e in related if e.id in state.email_threads}
    if threads:
        thread = min(threads)
        for e in related:
            old = state.email_threads.get(e.id)
            if old is not None and old != thread:
                for email_id, t in list(state.email_threads.items()):
                    if t == old:
                        state.email_threads[email_id] = thread
            state.email_threads[e.id] = thread
    elif related:
        thread = state.new_thread()
        for e in related:
            state.email_threads[e.id] = thread
    else:
        thread = state.new_thread()
    state.email_threads[email.id] = thread
    update_heads(state, email.id)


def update_heads(state: OroState, email_id: str) -> None:
    members = state.thread_emails(email_id)
    if not members:
        return
    oldest = datetime.min.replace(tzinfo=UTC)
    newest = max(members, key=lambda e: (e.attributes.get("sentAt") or oldest, int(e.id)))
    for member in members:
        member.attributes["head"] = member is newest


def auto_targets(state: OroState, email: Record) -> list[Ref]:
    """The records Oro links a new email to when the request names none: the owners of its addresses."""
    attrs = email.attributes
    addresses = [(attrs.get("from") or {}).get("email")]
    for name in ("toRecipients", "ccRecipients", "bccRecipients"):
        addresses += [item.get("email") for item in attrs.get(name) or []]
    found: list[Ref] = []
    for address in addresses:
        if not address:
            continue
        for ref in state.owners_of_address(address):
            if ref[0] in AUTO_TARGET_TYPES and ref not in found:
                found.append(ref)
    return found


def update_email(state: OroState, email: Record, body: Any) -> Record:
    data = primary_data(body, "emails", email.id)
    attrs = data.get("attributes") or {}
    if "body" in attrs:
        new_body = attrs["body"]
        current = email.attributes.get("body")
        if current is not None:
            detail = (
                "It is not allowed to remove the body."
                if new_body is None
                else "It is not allowed to change the body."
            )
            raise ApiError(ErrorObject(400, "value constraint", detail, pointer="/data/attributes/body"))
        if new_body is not None:
            if not isinstance(new_body, dict) or new_body.get("type") in (None, ""):
                raise ApiError(errors.not_blank("/data/attributes/body/type"))
            if new_body.get("type") not in ("text", "html"):
                raise ApiError(errors.choice("/data/attributes/body/type"))
            content = new_body.get("content") or ""
            email.attributes.update(
                {
                    "body": {"content": content, "type": new_body["type"]},
                    "bodySynced": True,
                    "shortTextBody": short_text(content, new_body["type"]),
                    "hasEmailAttachments": False,
                }
            )
    member = (data.get("relationships") or {}).get("activityTargets")
    if member is not None:
        if not isinstance(member, dict) or "data" not in member:
            raise errors.request_data(
                "The 'data' property is required", "/data/relationships/activityTargets"
            )
        targets = _refs(member["data"], True, "/data/relationships/activityTargets/data")
        _check_targets(state, targets, "/data/relationships/activityTargets/data", activity=True)
        state.set_relationship(email, "activityTargets", targets)
    state.touch(email)
    return email


# --- relationships --------------------------------------------------------------------------------------


def change_relationship(state: OroState, record: Record, name: str, method: str, body: Any) -> None:
    """PATCH (replace), POST (add) or DELETE (remove) on ``/{type}/{id}/relationships/{name}``."""
    spec = RESOURCES[record.type]
    rel = spec.rel(name)
    assert rel is not None
    if not isinstance(body, dict) or "data" not in body:
        raise errors.request_data("The primary data object should not be empty", "/data")
    if method != "PATCH" and not rel.many:
        raise errors.method_not_allowed("OPTIONS, GET, PATCH")
    value = _refs(body["data"], rel.many, "/data")
    refs = value if isinstance(value, list) else ([value] if value else [])
    _check_targets(state, refs, "/data", activity=name == "activityTargets")
    if name in ACTIVITY_TYPES.values():
        _change_from_target_side(state, record, name, method, refs)
        return
    if not rel.many:
        state.set_relationship(record, name, value)
        return
    current: list[Ref] = list(record.relationships.get(name) or [])
    if method == "PATCH":
        current = list(refs)
    elif method == "POST":
        current += [ref for ref in refs if ref not in current]
    else:
        current = [ref for ref in current if ref not in refs]
    state.set_relationship(record, name, current)


def _change_from_target_side(
    state: OroState, target: Record, name: str, method: str, refs: list[Ref]
) -> None:
    activity_type = next(t for t, assoc in ACTIVITY_TYPES.items() if assoc == name)
    wanted = [ref for ref in refs if ref[0] == activity_type]
    current = state.activities_of(target.ref, activity_type)
    if method == "PATCH":
        add, remove = [r for r in wanted if r not in current], [r for r in current if r not in wanted]
    elif method == "POST":
        add, remove = wanted, []
    else:
        add, remove = [], wanted
    for ref in add + remove:
        activity = state.get(ref)
        if activity is None:
            continue
        targets = list(activity.relationships.get("activityTargets") or [])
        if ref in add and target.ref not in targets:
            targets.append(target.ref)
        if ref in remove and target.ref in targets:
            targets.remove(target.ref)
        state.set_relationship(activity, "activityTargets", targets)
