"""What the JSON API takes and gives: JSON Schemas (the OpenAPI document's components) and the parsing
of request bodies into domain objects.

Request bodies are checked against the same schemas the OpenAPI document publishes, by a small
validator for the subset of JSON Schema used here, so the document cannot drift from what the API
accepts. Response schemas are derived from the dataclasses the API serialises (``SidebarView`` and
friends), so they cannot drift either.
"""

from __future__ import annotations

import dataclasses
import re
import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from connector.db.models import User
from connector.linking.schemas import (
    CREATE_KINDS,
    CreateFields,
    CreateOutcome,
    LinkResult,
    LinkTarget,
    NoteResult,
    UnlinkResult,
)
from connector.mail.addresses import EmailAddress
from connector.mail.message import MailMessage
from connector.oro import RecordRef
from connector.sidebar.cards import LINKABLE
from connector.sidebar.context import MessageContext
from connector.sidebar.matching import TYPE_ORDER
from connector.sidebar.operations import SearchResults
from connector.sidebar.view import SidebarView
from connector.templates.models import FORMATS, VISIBILITIES, EmailTemplate
from connector.templates.operations import RecipientPreview
from connector.templates.variables import TEMPLATE_RECORD_TYPES, Variable, VariableCatalog, catalog

MAX_MESSAGE_ID = 998  # RFC 5322's line limit: no real Message-ID is longer
MAX_BODY_TEXT = 512 * 1024
MAX_RECIPIENTS = 500
RECORD_ID_PATTERN = "^[A-Za-z0-9_.:-]{1,64}$"
# local@domain.tld without spaces or control characters, written so that ECMA 262 (the document's
# readers) and Python's re (the server) agree on what it matches.
ADDRESS_PATTERN = "^[^\\x00-\\x20\\x7f@]+@[^\\x00-\\x20\\x7f@]+\\.[^\\x00-\\x20\\x7f@]+$"


class InvalidInput(Exception):
    """The request does not match its schema; ``errors`` name each field at fault."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))


# --- request schemas ---------------------------------------------------------------------------------

ADDRESS: dict[str, Any] = {
    "type": "object",
    "description": "A participant as Office.js gives it (`displayName`, `emailAddress`).",
    "required": ["email"],
    "properties": {
        "name": {"type": "string", "maxLength": 320},
        "email": {"type": "string", "minLength": 1, "maxLength": 320},
    },
    "additionalProperties": False,
}

MESSAGE: dict[str, Any] = {
    "type": "object",
    "description": "The open email as the pane reads it with Office.js. The mailbox is the caller's own "
    "address, taken from the verified token, never from the request.",
    "required": ["internet_message_id"],
    "properties": {
        "internet_message_id": {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_MESSAGE_ID,
            "description": "RFC 5322 Message-ID (`item.internetMessageId`), the key Oro knows the email by.",
        },
        "conversation_id": {
            "type": "string",
            "maxLength": 512,
            "description": "`item.conversationId` (Graph's `conversationId`); the thread.",
        },
        "item_id": {
            "type": "string",
            "maxLength": 512,
            "description": "The item's REST id (`convertToRestId(item.itemId, v2_0)`).",
        },
        "subject": {"type": "string", "maxLength": 2000},
        "from": {"anyOf": [{"$ref": "#/components/schemas/Address"}, {"type": "null"}]},
        "to": {
            "type": "array",
            "items": {"$ref": "#/components/schemas/Address"},
            "maxItems": MAX_RECIPIENTS,
        },
        "cc": {
            "type": "array",
            "items": {"$ref": "#/components/schemas/Address"},
            "maxItems": MAX_RECIPIENTS,
        },
        "date": {"type": "string", "format": "date-time", "maxLength": 64},
        "references": {
            "type": "array",
            "items": {"type": "string", "minLength": 1, "maxLength": MAX_MESSAGE_ID},
            "maxItems": 100,
            "description": "Message-IDs of the References and In-Reply-To headers, when the pane read them.",
        },
        "body_text": {
            "type": "string",
            "maxLength": MAX_BODY_TEXT,
            "description": "The body as text, when the pane read it; the privacy policy decides what of it "
            "reaches Oro.",
        },
    },
    "additionalProperties": False,
}

RECORD_REF: dict[str, Any] = {
    "type": "object",
    "required": ["type", "id"],
    "properties": {
        "type": {"type": "string", "enum": sorted(LINKABLE)},
        "id": {"type": "string", "pattern": RECORD_ID_PATTERN},
        "title": {"type": "string", "maxLength": 500},
    },
    "additionalProperties": False,
}

SIDEBAR_REQUEST: dict[str, Any] = {
    "type": "object",
    "required": ["message"],
    "properties": {
        "message": {"$ref": "#/components/schemas/Message"},
        "fresh": {"type": "boolean", "description": "Ask Oro again instead of answering from the cache."},
    },
    "additionalProperties": False,
}

LINK_REQUEST: dict[str, Any] = {
    "type": "object",
    "required": ["message", "record"],
    "properties": {
        "message": {"$ref": "#/components/schemas/Message"},
        "record": {"$ref": "#/components/schemas/RecordRef"},
    },
    "additionalProperties": False,
}

NOTE_REQUEST: dict[str, Any] = {
    "type": "object",
    "required": ["record", "text"],
    "properties": {
        "record": {"$ref": "#/components/schemas/RecordRef"},
        "text": {"type": "string", "minLength": 1, "maxLength": 20_000, "pattern": "\\S"},
    },
    "additionalProperties": False,
}

CREATE_FIELD_LIMITS = {
    "first_name": 100,
    "last_name": 100,
    "name": 255,
    "company": 255,
    "job_title": 255,
    "phone": 64,
    "description": 20_000,
}

CREATE_FIELDS: dict[str, Any] = {
    "type": "object",
    "description": "What the person changed in the create form; a field left out keeps the value taken "
    "from the email (the `prefill` of the answer).",
    "properties": {
        name: {"type": "string", "maxLength": limit} for name, limit in CREATE_FIELD_LIMITS.items()
    },
    "additionalProperties": False,
}

CREATE_REQUEST: dict[str, Any] = {
    "type": "object",
    "required": ["message", "participant", "kind"],
    "properties": {
        "message": {"$ref": "#/components/schemas/Message"},
        "participant": {
            "type": "string",
            "minLength": 3,
            "maxLength": 320,
            "pattern": ADDRESS_PATTERN,
            "description": "The address on the open email the record is made for.",
        },
        "kind": {"type": "string", "enum": list(CREATE_KINDS)},
        "fields": {"$ref": "#/components/schemas/CreateFields"},
        "confirm": {
            "type": "boolean",
            "description": "Create even when Oro has records that look like the one asked for.",
        },
    },
    "additionalProperties": False,
}

CHOICE_REQUEST: dict[str, Any] = {
    "type": "object",
    "required": ["address", "record_type", "record_id"],
    "properties": {
        "address": {"type": "string", "minLength": 3, "maxLength": 320, "pattern": ADDRESS_PATTERN},
        "record_type": {"type": "string", "enum": list(TYPE_ORDER)},
        "record_id": {"type": "string", "pattern": RECORD_ID_PATTERN},
    },
    "additionalProperties": False,
}

FORGET_CHOICE_QUERY: dict[str, Any] = {
    "type": "object",
    "required": ["address", "record_type"],
    "properties": {
        "address": CHOICE_REQUEST["properties"]["address"],
        "record_type": CHOICE_REQUEST["properties"]["record_type"],
    },
    "additionalProperties": False,
}

REQUEST_SCHEMAS: dict[str, dict[str, Any]] = {
    "Address": ADDRESS,
    "Message": MESSAGE,
    "RecordRef": RECORD_REF,
    "SidebarRequest": SIDEBAR_REQUEST,
    "LinkRequest": LINK_REQUEST,
    "NoteRequest": NOTE_REQUEST,
    "CreateFields": CREATE_FIELDS,
    "CreateRequest": CREATE_REQUEST,
    "ChoiceRequest": CHOICE_REQUEST,
    "ForgetChoiceQuery": FORGET_CHOICE_QUERY,
}


# --- replies sent by the connector (connector/api/replies.py) -----------------------------------------

MAX_REPLY_TEXT = 100_000
_NULL: dict[str, Any] = {"type": "null"}
_REPLY_ADDRESSES: dict[str, Any] = {
    "type": "array",
    "maxItems": 50,
    "items": {"type": "string", "minLength": 3, "maxLength": 320, "pattern": "^[^\\x00]*$"},
}
REQUEST_SCHEMAS["ReplyRecord"] = {
    "type": "object",
    "description": "The Oro record the template is about (read from Oro as the caller).",
    "required": ["type", "id"],
    "additionalProperties": False,
    "properties": {
        "type": {"type": "string", "minLength": 1, "maxLength": 40},
        "id": {"type": "string", "minLength": 1, "maxLength": 64},
    },
}
REQUEST_SCHEMAS["ReplyRequest"] = {
    "type": "object",
    "description": "A reply to the open message, sent by the connector through Graph exactly once per `key`.",
    "required": ["key", "message"],
    "additionalProperties": False,
    "properties": {
        "key": {
            "type": "string",
            "minLength": 1,
            "maxLength": 200,
            "pattern": "^[^\\x00]*$",
            "description": "Made by the pane per Send click: the same key again is the same reply.",
        },
        "message": {"$ref": "#/components/schemas/Message"},
        "template_id": {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 2**31 - 1}, _NULL]},
        "record": {"anyOf": [{"$ref": "#/components/schemas/ReplyRecord"}, _NULL]},
        "text": {"anyOf": [{"type": "string", "maxLength": MAX_REPLY_TEXT, "pattern": "^[^\\x00]*$"}, _NULL]},
        "to": _REPLY_ADDRESSES,
        "cc": _REPLY_ADDRESSES,
        "locale": {"anyOf": [{"type": "string", "maxLength": 20}, _NULL]},
    },
}
SEND_RECORD: dict[str, Any] = {
    "type": "object",
    "description": "One reply and where its sending stands.",
    "required": ["id", "state", "label", "subject", "to", "template", "attempts", "error", "created_at"],
    "properties": {
        "id": {"type": "integer"},
        "state": {"type": "string", "enum": ["pending", "sending", "sent", "failed"]},
        "label": {"type": "string", "description": "The state in words for a person."},
        "subject": {"type": "string"},
        "to": {"type": "array", "items": {"type": "string"}},
        "template": {"type": "string"},
        "attempts": {"type": "integer"},
        "error": {"type": "string", "description": "Why the last attempt failed; what to do."},
        "created_at": {"type": "string", "format": "date-time"},
        "sent_at": {"type": ["string", "null"], "format": "date-time"},
        "next_attempt_at": {"type": ["string", "null"], "format": "date-time"},
        "linked": {"type": "boolean", "description": "Linked in Oro with the thread's records."},
    },
}
REPLY_RESPONSE_SCHEMAS: dict[str, Any] = {
    "SendRecord": SEND_RECORD,
    "SendAnswer": {
        "type": "object",
        "required": ["send"],
        "properties": {"send": {"$ref": "#/components/schemas/SendRecord"}},
    },
    "SendList": {
        "type": "object",
        "required": ["sends"],
        "properties": {"sends": {"type": "array", "items": {"$ref": "#/components/schemas/SendRecord"}}},
    },
}

# --- a validator for the subset of JSON Schema used above --------------------------------------------

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "number": (int, float),
    "null": (type(None),),
}


def validate(value: Any, schema: Mapping[str, Any], *, path: str = "") -> list[dict[str, str]]:
    """Every way ``value`` fails ``schema`` (refs resolve among the request schemas), as field errors."""
    errors: list[dict[str, str]] = []
    where = path or "(body)"

    def fail(message: str) -> list[dict[str, str]]:
        errors.append({"field": where, "message": message})
        return errors

    if "$ref" in schema:
        return validate(value, REQUEST_SCHEMAS[schema["$ref"].rsplit("/", 1)[1]], path=path)
    if "anyOf" in schema:
        if any(not validate(value, option, path=path) for option in schema["anyOf"]):
            return errors
        return fail("does not match any allowed form")
    kind = schema.get("type")
    if kind is not None:
        allowed = _JSON_TYPES[kind]
        is_bool = isinstance(value, bool)
        if not isinstance(value, allowed) or (is_bool and kind in {"integer", "number"}):
            return fail(f"must be of type {kind}")
    if "enum" in schema and value not in schema["enum"]:
        return fail("must be one of " + ", ".join(map(str, schema["enum"])))
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            return fail(f"must be at least {schema['minLength']} characters long")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            return fail(f"must be at most {schema['maxLength']} characters long")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            return fail("is not in the expected form")
        if schema.get("format") == "date-time" and _datetime(value) is None:
            return fail("must be an RFC 3339 date-time")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            return fail(f"must have at least {schema['minItems']} items")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            return fail(f"must have at most {schema['maxItems']} items")
        for index, item in enumerate(value):
            errors += validate(item, schema.get("items", {}), path=f"{path}[{index}]")
    if isinstance(value, dict):
        if len(value) < schema.get("minProperties", 0):
            return fail(f"must have at least {schema['minProperties']} fields")
        properties = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                errors.append({"field": f"{path}.{name}".lstrip("."), "message": "is required"})
        for name, item in value.items():
            field_path = f"{path}.{name}".lstrip(".")
            if name in properties:
                errors += validate(item, properties[name], path=field_path)
            elif schema.get("additionalProperties") is False:
                errors.append({"field": field_path, "message": "is not a known field"})
    return errors


def _datetime(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def checked(value: Any, schema_name: str) -> dict[str, Any]:
    """``value`` when it matches the named request schema; :class:`InvalidInput` otherwise."""
    errors = validate(value, REQUEST_SCHEMAS[schema_name])
    if errors:
        raise InvalidInput(errors)
    assert isinstance(value, dict)
    return value


# --- request bodies as domain objects ----------------------------------------------------------------


@dataclass(frozen=True)
class OpenMessage:
    """The email the pane has open, in the caller's mailbox."""

    context: MessageContext
    item_id: str
    body_text: str | None

    @classmethod
    def parse(cls, data: Mapping[str, Any], *, mailbox: str) -> OpenMessage:
        message_id = data["internet_message_id"].strip()
        thread_id = (data.get("conversation_id") or "").strip() or message_id
        sender = _address(data.get("from"))
        date = _datetime(data["date"]) if data.get("date") else None
        context = MessageContext(
            message_id=message_id,
            thread_id=thread_id,
            mailbox=mailbox,
            subject=data.get("subject", ""),
            sender=sender,
            to=_addresses(data.get("to", [])),
            cc=_addresses(data.get("cc", [])),
            date=date,
            references=tuple(dict.fromkeys(r.strip() for r in data.get("references", []) if r.strip())),
        )
        return cls(context=context, item_id=data.get("item_id", ""), body_text=data.get("body_text"))

    def mail_message(self) -> MailMessage:
        """The email as linking takes it (the pane sends no HTML body and no attachments)."""
        c = self.context
        return MailMessage(
            message_id=c.message_id,
            thread_id=c.thread_id,
            mailbox=c.mailbox,
            subject=c.subject,
            sender=c.sender,
            to=c.to,
            cc=c.cc,
            date=c.date,
            references=c.references,
            body_text=self.body_text,
        )


def _address(data: Mapping[str, Any] | None) -> EmailAddress | None:
    if not data:
        return None
    return EmailAddress.parse(data["email"], data.get("name", ""))


def _addresses(items: list[Mapping[str, Any]]) -> tuple[EmailAddress, ...]:
    # An entry Outlook lists without a usable address (a contact group, a malformed header) is not a
    # participant anyone can be matched by: left out rather than refused.
    return tuple(a for item in items if (a := _address(item)) is not None)


def link_target(data: Mapping[str, Any]) -> LinkTarget:
    return LinkTarget(type=data["type"], id=data["id"], title=data.get("title", "").strip())


def record_ref(data: Mapping[str, Any]) -> RecordRef:
    return RecordRef(data["type"], data["id"])


def create_fields(data: Mapping[str, Any] | None) -> CreateFields:
    """The form's fields; blank ones are left out (the prefill stays)."""
    given = {name: value.strip() for name, value in (data or {}).items() if name in CREATE_FIELD_LIMITS}
    return CreateFields(**{name: value for name, value in given.items() if value})


# --- response schemas, derived from the dataclasses ----------------------------------------------------


def dataclass_schemas(*roots: type) -> dict[str, dict[str, Any]]:
    """JSON Schemas of ``roots`` and every dataclass they hold, keyed by class name (``to_dict`` form:
    every field present, datetimes as RFC 3339 strings, tuples as arrays)."""
    found: dict[str, dict[str, Any]] = {}

    def schema_of(kind: Any) -> dict[str, Any]:
        origin = get_origin(kind)
        if origin in (Union, types.UnionType):
            options = [schema_of(a) for a in get_args(kind)]
            return {"anyOf": options}
        if origin is tuple:
            return {"type": "array", "items": schema_of(get_args(kind)[0])}
        if origin is Literal:
            return {"type": "string", "enum": list(get_args(kind))}
        if kind is type(None):
            return {"type": "null"}
        if kind is str:
            return {"type": "string"}
        if kind is bool:
            return {"type": "boolean"}
        if kind is int:
            return {"type": "integer"}
        if kind is float:
            return {"type": "number"}
        if kind is datetime:
            return {"type": "string", "format": "date-time"}
        if dataclasses.is_dataclass(kind) and isinstance(kind, type):
            add(kind)
            return {"$ref": f"#/components/schemas/{kind.__name__}"}
        raise TypeError(f"no JSON Schema for {kind!r}")

    def add(cls: type) -> None:
        if cls.__name__ in found:
            return
        found[cls.__name__] = {}  # placeholder against cycles
        hints = get_type_hints(cls)
        fields = dataclasses.fields(cls)
        found[cls.__name__] = {
            "type": "object",
            "required": [f.name for f in fields],
            "properties": {f.name: schema_of(hints[f.name]) for f in fields},
        }

    for root in roots:
        add(root)
    return found


def to_plain(value: Any) -> Any:
    """A response dataclass as JSON values, in the form :func:`dataclass_schemas` describes."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [to_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return value


@dataclass(frozen=True)
class Me:
    """The caller as the connector knows them, and whether Oro can be asked on their behalf."""

    email: str
    name: str
    oro_connected: bool
    connect_url: str | None


@dataclass(frozen=True)
class ChoiceMade:
    address: str
    record_type: str
    record_id: str


RESPONSE_ROOTS: tuple[type, ...] = (
    Me,
    SidebarView,
    SearchResults,
    LinkResult,
    UnlinkResult,
    NoteResult,
    CreateOutcome,
    ChoiceMade,
)


# --- email templates (/api/v1/templates, /api/v1/template-variables) -----------------------------------
# Kept together so that other groups of routes can add their own shapes the same way.

MAX_TEMPLATE_NAME = 200  # connector.templates.operations.MAX_NAME
MAX_TEMPLATE_SUBJECT = 10_000
MAX_TEMPLATE_BODY = 200_000  # connector.templates.rendering.MAX_SOURCE
MAX_TEMPLATE_VARIANTS = 50
MAX_PREVIEW_RECIPIENTS = 20
MAX_TEMPLATE_ID = 2**31 - 1  # the largest id an integer column holds on every database we support
# Exactly the locales connector.templates.operations.normalize_locale accepts, in either case, with
# "-" or "_": language, optional script, optional region (de, de-AT, zh_Hant_TW, es_419).
LOCALE_PATTERN = "^[A-Za-z]{2,3}([_-][A-Za-z]{4})?([_-]([A-Za-z]{2}|[0-9]{3}))?$"
# Texts end up in the database, and PostgreSQL refuses a NUL character in text.
NO_NUL_PATTERN = "^[^\\x00]*$"

TEMPLATE_NAME: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "maxLength": MAX_TEMPLATE_NAME,
    "pattern": "^[^\\x00]*[^\\x00\\s][^\\x00]*$",
}
TEMPLATE_RECORD_TYPE: dict[str, Any] = {
    "anyOf": [{"type": "string", "enum": list(TEMPLATE_RECORD_TYPES)}, {"type": "null"}],
    "description": "The Oro record type the template is about (its `entity.*` variables); null: none.",
}
TEMPLATE_SUBJECT: dict[str, Any] = {
    "type": "string",
    "maxLength": MAX_TEMPLATE_SUBJECT,
    "pattern": NO_NUL_PATTERN,
    "description": "Twig, rendered as text on one line.",
}
TEMPLATE_BODY: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "maxLength": MAX_TEMPLATE_BODY,
    "pattern": NO_NUL_PATTERN,
    "description": "Twig; HTML-escaped as it renders when the format is `html`.",
}
LOCALE: dict[str, Any] = {
    "type": "string",
    "minLength": 2,
    "maxLength": 20,
    "pattern": LOCALE_PATTERN,
    "description": "A locale such as `de` or `de-AT`; a render falls back to the parent locale, then the "
    "default text.",
}

TEMPLATE_VARIANT_TEXT: dict[str, Any] = {
    "type": "object",
    "required": ["subject", "body"],
    "properties": {"subject": TEMPLATE_SUBJECT, "body": TEMPLATE_BODY},
    "additionalProperties": False,
}

TEMPLATE_CREATE: dict[str, Any] = {
    "type": "object",
    "required": ["name", "subject", "body"],
    "properties": {
        "name": TEMPLATE_NAME,
        "record_type": TEMPLATE_RECORD_TYPE,
        "format": {"type": "string", "enum": list(FORMATS)},
        "visibility": {
            "type": "string",
            "enum": list(VISIBILITIES),
            "description": "`private`: only you see it; `shared`: every user may use it.",
        },
        "subject": TEMPLATE_SUBJECT,
        "body": TEMPLATE_BODY,
        "variants": {
            "type": "array",
            "maxItems": MAX_TEMPLATE_VARIANTS,
            "description": "Texts for other locales than the default.",
            "items": {
                "type": "object",
                "required": ["locale", "subject", "body"],
                "properties": {"locale": LOCALE, "subject": TEMPLATE_SUBJECT, "body": TEMPLATE_BODY},
                "additionalProperties": False,
            },
        },
    },
    "additionalProperties": False,
}

TEMPLATE_EDIT: dict[str, Any] = {
    "type": "object",
    "description": "What to change; what is left out stays. `subject` and `body` are the default text.",
    "minProperties": 1,
    "properties": {
        name: TEMPLATE_CREATE["properties"][name]
        for name in ("name", "record_type", "format", "visibility", "subject", "body")
    },
    "additionalProperties": False,
}

TEMPLATE_RECORD: dict[str, Any] = {
    "type": "object",
    "required": ["type", "id"],
    "properties": {
        "type": {"type": "string", "enum": list(TEMPLATE_RECORD_TYPES)},
        "id": {"type": "string", "pattern": RECORD_ID_PATTERN},
    },
    "additionalProperties": False,
}

TEMPLATE_PREVIEW_REQUEST: dict[str, Any] = {
    "type": "object",
    "required": ["recipients"],
    "properties": {
        "record": {
            "anyOf": [{"$ref": "#/components/schemas/TemplateRecord"}, {"type": "null"}],
            "description": "The Oro record the email is about, read as the caller; it must be of the "
            "template's record type. Without it, the template's `entity.*` fields are missing.",
        },
        "recipients": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_PREVIEW_RECIPIENTS,
            "items": {
                "type": "object",
                "required": ["email"],
                "properties": {
                    "email": {"type": "string", "minLength": 3, "maxLength": 320, "pattern": ADDRESS_PATTERN},
                    "name": {"type": "string", "maxLength": 320},
                    "record": {
                        "$ref": "#/components/schemas/TemplateRecord",
                        "description": "This recipient's own record (their contact) instead of `record`.",
                    },
                    "locale": LOCALE,
                },
                "additionalProperties": False,
            },
        },
        "locale": LOCALE,
    },
    "additionalProperties": False,
}

TEMPLATE_LIST_QUERY: dict[str, Any] = {
    "type": "object",
    "properties": {"record_type": {"type": "string", "enum": [*TEMPLATE_RECORD_TYPES, "none"]}},
    "additionalProperties": False,
}

TEMPLATE_REQUEST_SCHEMAS: dict[str, dict[str, Any]] = {
    "TemplateCreate": TEMPLATE_CREATE,
    "TemplateEdit": TEMPLATE_EDIT,
    "TemplateVariantText": TEMPLATE_VARIANT_TEXT,
    "TemplateRecord": TEMPLATE_RECORD,
    "TemplatePreviewRequest": TEMPLATE_PREVIEW_REQUEST,
    "TemplateListQuery": TEMPLATE_LIST_QUERY,
}
REQUEST_SCHEMAS.update(TEMPLATE_REQUEST_SCHEMAS)


def template_texts_valid(data: Mapping[str, Any]) -> None:
    """:class:`InvalidInput` for text that cannot be stored: JSON lets a lone UTF-16 surrogate through
    (``"\\ud800"``), which no database encodes. (JSON Schema cannot say this in a way that ECMA 262 and
    Python read alike: see ``ADDRESS_PATTERN``.)"""
    errors = []
    for name, value in _strings(data, ""):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            errors.append({"field": name, "message": "is not valid Unicode text"})
    if errors:
        raise InvalidInput(errors)


def _strings(value: Any, path: str) -> list[tuple[str, str]]:
    if isinstance(value, str):
        return [(path or "(body)", value)]
    if isinstance(value, Mapping):
        return [s for k, v in value.items() for s in _strings(v, f"{path}.{k}".lstrip("."))]
    if isinstance(value, list):
        return [s for i, v in enumerate(value) for s in _strings(v, f"{path}[{i}]")]
    return []


@dataclass(frozen=True)
class TemplateSummary:
    """A template as a list shows it. ``mine``: the caller owns it; ``can_change``: the caller may edit
    or delete it (its owner, or an administrator for a shared template)."""

    id: int
    name: str
    record_type: str | None
    record_type_label: str
    format: Literal["html", "text"]
    visibility: Literal["private", "shared"]
    version: int
    locales: tuple[str, ...]
    mine: bool
    can_change: bool


@dataclass(frozen=True)
class TemplateVariantOut:
    """One locale's text (``locale`` ``""``: the default text)."""

    locale: str
    subject: str
    body: str


@dataclass(frozen=True)
class TemplateDetail(TemplateSummary):
    subject: str
    body: str
    variants: tuple[TemplateVariantOut, ...]


@dataclass(frozen=True)
class TemplateList:
    templates: tuple[TemplateSummary, ...]


@dataclass(frozen=True)
class TemplateVariable:
    path: str
    label: str
    kind: str


@dataclass(frozen=True)
class TemplateVariableCatalog:
    """The variables a template for ``record_type`` (null: for no record) may use."""

    record_type: str | None
    label: str
    entity: tuple[TemplateVariable, ...]
    system: tuple[TemplateVariable, ...]
    user: tuple[TemplateVariable, ...]


@dataclass(frozen=True)
class TemplateVariableCatalogs:
    catalogs: tuple[TemplateVariableCatalog, ...]


@dataclass(frozen=True)
class TemplatePreviewRecord:
    type: str
    id: str
    title: str


@dataclass(frozen=True)
class TemplateMissingField:
    """A field the render left empty: ``path`` as the template writes it, ``label`` as people call it."""

    path: str
    label: str


@dataclass(frozen=True)
class TemplateRecipientPreview:
    """The email one recipient would get. ``ready`` is false while ``missing`` names a field: sending
    is refused until it is filled in Oro or taken out of the template. ``text`` is the plain-text
    alternative of an HTML body (null for a text template: the body is text already)."""

    to: str
    name: str
    record: TemplatePreviewRecord | None
    subject: str
    body: str
    text: str | None
    format: Literal["html", "text"]
    locale: str
    missing: tuple[str, ...]
    missing_fields: tuple[TemplateMissingField, ...]
    ready: bool


@dataclass(frozen=True)
class TemplatePreviews:
    template_id: int
    version: int
    previews: tuple[TemplateRecipientPreview, ...]


TEMPLATE_RESPONSE_ROOTS: tuple[type, ...] = (
    TemplateList,
    TemplateDetail,
    TemplateVariableCatalogs,
    TemplatePreviews,
)
RESPONSE_ROOTS = (*RESPONSE_ROOTS, *TEMPLATE_RESPONSE_ROOTS)


def template_summary(template: EmailTemplate, *, user: User, can_change: bool) -> TemplateSummary:
    return TemplateSummary(**_summary_fields(template, user=user, can_change=can_change))


def template_detail(template: EmailTemplate, *, user: User, can_change: bool) -> TemplateDetail:
    default = template.variant("")
    return TemplateDetail(
        **_summary_fields(template, user=user, can_change=can_change),
        subject=default.subject if default is not None else "",
        body=default.body if default is not None else "",
        variants=tuple(
            TemplateVariantOut(v.locale, v.subject, v.body)
            for v in sorted(template.variants, key=lambda v: v.locale)
        ),
    )


def _summary_fields(template: EmailTemplate, *, user: User, can_change: bool) -> dict[str, Any]:
    return {
        "id": template.id,
        "name": template.name,
        "record_type": template.record_type,
        "record_type_label": catalog(template.record_type).label,
        "format": template.format,
        "visibility": template.visibility,
        "version": template.version,
        "locales": tuple(sorted(template.locales)),
        "mine": template.owner_id == user.id,
        "can_change": can_change,
    }


def variable_catalog(known: VariableCatalog) -> TemplateVariableCatalog:
    def variables(items: tuple[Variable, ...]) -> tuple[TemplateVariable, ...]:
        return tuple(TemplateVariable(v.path, v.label, v.kind) for v in items)

    return TemplateVariableCatalog(
        record_type=known.record_type,
        label=known.label,
        entity=variables(known.entity),
        system=variables(known.system),
        user=variables(known.user),
    )


def template_previews(
    template: EmailTemplate,
    previews: Sequence[RecipientPreview],
    *,
    plain_text: Callable[[str], str],
) -> TemplatePreviews:
    """The previews as the API gives them; ``plain_text`` makes an HTML body's text alternative."""
    known = catalog(template.record_type)
    labels = {v.path: v.label for v in (*known.entity, *known.system, *known.user)}
    answers = []
    for preview in previews:
        email, record = preview.email, preview.recipient.record
        answers.append(
            TemplateRecipientPreview(
                to=preview.recipient.email,
                name=preview.recipient.name,
                record=TemplatePreviewRecord(record.type, record.id, record.title) if record else None,
                subject=email.subject,
                body=email.body,
                text=plain_text(email.body) if email.format == "html" else None,
                format=email.format,
                locale=email.locale,
                missing=email.missing,
                missing_fields=tuple(TemplateMissingField(p, labels.get(p, p)) for p in email.missing),
                ready=email.ready,
            )
        )
    return TemplatePreviews(template.id, template.version, tuple(answers))
