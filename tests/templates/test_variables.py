"""The variable catalog per record type, as the template editor shows it, and the values behind it."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from connector.oro import Money, OroRecord
from connector.templates.rendering import RenderContext, Sender, TemplateRenderer
from connector.templates.variables import (
    RECORD_CLASSES,
    TEMPLATE_RECORD_TYPES,
    all_catalogs,
    catalog,
    entity_values,
    option_label,
)

FILLERS: dict[Any, Any] = {
    "str | None": "x-value",
    "datetime | None": datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
    "date | None": date(2026, 5, 6),
    "Decimal | None": Decimal("12.5"),
    "float | None": 0.5,
    "bool | None": True,
    "tuple[str, ...]": ("a@x", "b@x"),
    "Money | None": Money(Decimal("99.9"), "USD"),
}


def complete(cls: type[OroRecord]) -> OroRecord:
    """A record of ``cls`` with every field filled."""
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name in ("id", "type"):
            continue
        if f.name in ("status", "internal_status", "shipping_status", "priority", "source"):
            values[f.name] = "open"
        elif str(f.type) in FILLERS:
            values[f.name] = FILLERS[str(f.type)]
    return cls(id="5", **values)


def test_the_catalog_offers_oro_names_for_each_record_type() -> None:
    order = catalog("orders").to_dict()
    assert order["label"] == "Order"
    assert [v["path"] for v in order["entity"]][:6] == [
        "entity.id",
        "entity.url",
        "entity.identifier",
        "entity.poNumber",
        "entity.total",
        "entity.totalValue",
    ]
    assert {"path": "entity.total", "label": "Total", "kind": "price"} in order["entity"]
    assert (
        "entity.firstName" in catalog("contacts").paths
        and "entity.firstName" in catalog("customerusers").paths
    )
    assert catalog(None).entity == ()
    assert "system.userFullName" in catalog(None).paths and "user.signature" in catalog(None).paths
    assert [c.record_type for c in all_catalogs()] == [None, *TEMPLATE_RECORD_TYPES]
    with pytest.raises(ValueError, match="users"):
        catalog("users")


@pytest.mark.parametrize("record_type", TEMPLATE_RECORD_TYPES)
def test_every_catalog_variable_renders_for_a_complete_record(record_type: str) -> None:
    record = complete(RECORD_CLASSES[record_type])
    assert set(entity_values(record)) == {v.path.split(".", 1)[1] for v in catalog(record_type).entity}
    source = " | ".join("{{ " + v.path + " }}" for v in catalog(record_type).entity)
    rendered = TemplateRenderer().render(
        subject="s",
        body=source,
        format="text",
        context=RenderContext(record=record, sender=Sender("Alice", signature="A")),
    )
    assert rendered.missing == ()
    assert "x-value" in rendered.body


def test_option_codes_read_as_oros_names() -> None:
    assert option_label("not_shipped") == "Not Shipped"
    assert option_label("canceled", "leads") == "Disqualified"
    assert option_label("in_progress", "opportunities") == "Open"
    assert option_label("in_progress", "cases") == "In Progress"
    assert option_label("on_hold") == "On hold"
