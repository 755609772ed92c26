"""Records to JSON:API documents the way Oro writes them.

String ids; datetimes in UTC as ``2024-01-01T10:00:00Z``; dates as ``2024-01-01``; money as strings
with four decimals (``"1234.0000"``); HATEOAS links (item ``self``, relationship ``self`` and
``related``) unless ``X-Include: noHateoas``; sparse fieldsets (``fields[type]``) and ``include``
with dotted paths. Records the viewer may not see never appear in ``included``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from connector.sandbox.oro.schema import ACTIVITY_TYPES, RESOURCES, Record, Ref, ResourceSpec
from connector.sandbox.oro.store import OroState


def format_datetime(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def serialise_value(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "datetime" and isinstance(value, datetime):
        return format_datetime(value)
    if kind == "date" and isinstance(value, date):
        return value.isoformat()
    if kind == "money":
        return f"{Decimal(value):.4f}"
    if kind == "float":
        number = float(value)
        return int(number) if number.is_integer() else number
    if kind == "json":
        return copy.deepcopy(value)
    return value


def identifier(ref: Ref) -> dict[str, str]:
    return {"type": ref[0], "id": ref[1]}


@dataclass
class RenderContext:
    """How to write documents for one request."""

    state: OroState
    api_base: str  # absolute URL of the JSON:API root, built from the incoming request
    site_base: str  # absolute URL of the back-office root (for entityUrl links)
    user_id: str
    fields: dict[str, set[str]] = field(default_factory=dict)
    hateoas: bool = True
    meta_title: bool = False
    thread_context_meta: bool = False  # emails create/update: meta.emailThreadContextItemId on targets

    def entity_url(self, ref: Ref) -> str | None:
        spec = RESOURCES.get(ref[0])
        if spec is None or spec.view_path is None:
            return None
        return f"{self.site_base}/{spec.view_path.format(id=ref[1])}"

    def allows(self, type_: str, name: str) -> bool:
        wanted = self.fields.get(type_)
        return wanted is None or name in wanted

    def relationship_value(self, record: Record, name: str) -> Any:
        spec = RESOURCES[record.type]
        if spec.activity_target and name in ACTIVITY_TYPES.values():
            activity_type = next(t for t, assoc in ACTIVITY_TYPES.items() if assoc == name)
            return self.state.activities_of(record.ref, activity_type)
        rel = spec.rel(name)
        value = record.relationships.get(name)
        if rel is not None and rel.many:
            return list(value or [])
        return value

    def resource(self, record: Record) -> dict[str, Any]:
        spec = RESOURCES[record.type]
        obj: dict[str, Any] = {"type": record.type, "id": record.id}
        if self.hateoas:
            entity = record.relationships.get("entity") if spec.virtual else None
            if record.links is not None:
                obj["links"] = dict(record.links)
            elif entity is not None and self.entity_url(entity):
                obj["links"] = {"entityUrl": self.entity_url(entity)}
            elif not spec.virtual:
                obj["links"] = {"self": f"{self.api_base}/{record.type}/{record.id}"}
        if self.meta_title:
            obj["meta"] = {"title": spec.entity_name(record)}
        attributes = {
            attr.name: serialise_value(record.attributes.get(attr.name), attr.kind)
            for attr in spec.attributes
            if self.allows(record.type, attr.name)
        }
        if attributes:
            obj["attributes"] = attributes
        relationships = {}
        for rel in spec.all_relationships:
            if not self.allows(record.type, rel.name):
                continue
            relationships[rel.name] = self.relationship(record, spec, rel.name)
        if relationships:
            obj["relationships"] = relationships
        return obj

    def relationship(self, record: Record, spec: ResourceSpec, name: str) -> dict[str, Any]:
        value = self.relationship_value(record, name)
        out: dict[str, Any] = {}
        if self.hateoas and not spec.virtual:
            base = f"{self.api_base}/{record.type}/{record.id}"
            out["links"] = {"self": f"{base}/relationships/{name}", "related": f"{base}/{name}"}
        if isinstance(value, list):
            items: list[dict[str, Any]] = [dict(identifier(ref)) for ref in value]
            if self.thread_context_meta and name == "activityTargets":
                for item in items:
                    item["meta"] = {"emailThreadContextItemId": f"{item['type']}-{item['id']}-{record.id}"}
            out["data"] = items
        else:
            out["data"] = None if value is None else identifier(value)
        return out

    def included(self, primary: list[Record], include: list[str]) -> list[dict[str, Any]]:
        """The ``included`` member for ``include`` paths, deduplicated, primary records left out."""
        seen = {r.ref for r in primary}
        found: list[Record] = []
        for path in include:
            level = list(primary)
            for name in path.split("."):
                following: list[Record] = []
                for record in level:
                    spec = RESOURCES[record.type]
                    if spec.rel(name) is None or not self.allows(record.type, name):
                        continue
                    value = self.relationship_value(record, name)
                    for ref in value if isinstance(value, list) else ([value] if value else []):
                        target = self.state.get(ref)
                        if target is None or not self.state.can_view(self.user_id, target):
                            continue
                        following.append(target)
                        if target.ref not in seen:
                            seen.add(target.ref)
                            found.append(target)
                level = following
        return [self.resource(r) for r in found]


def strip_links(document: Any) -> Any:
    """``X-Include: noHateoas``: the same document without any ``links``."""
    if isinstance(document, dict):
        return {k: strip_links(v) for k, v in document.items() if k != "links"}
    if isinstance(document, list):
        return [strip_links(v) for v in document]
    return document
