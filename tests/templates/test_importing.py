"""Importing Oro's templates (legacy REST) and rendering them like Oro's own compiled output."""

from __future__ import annotations

import dataclasses
import html
from typing import Any

import pytest
from sqlalchemy.orm import Session

from connector.oro import Case, Contact, Lead, Order, User
from connector.oro.records import ENTITY_CLASSES
from connector.sandbox.oro.store import EmailTemplate as SandboxTemplate
from connector.templates import operations as ops
from connector.templates.importing import import_oro_templates
from connector.templates.models import EmailTemplate
from connector.templates.rendering import RenderContext, Sender, TemplateRenderer
from tests.templates.conftest import People

RECORDS: dict[str | None, tuple[type[Any], str] | None] = {
    "contacts": (Contact, "1"),
    "orders": (Order, "1"),
    "leads": (Lead, "1"),
    "cases": (Case, "1"),
    None: None,
}

EXTRA = [
    SandboxTemplate(
        20,
        "order_shipped",
        ENTITY_CLASSES["orders"],
        "{{ entity.identifier|upper }} is {{ entity.shippingStatus|lower }}",
        "<p>Order {{ entity.identifier }} of {{ entity.createdAt }}: {{ entity.internalStatus }}, "
        "{{ entity.totalValue }} {{ entity.currency }}.</p>"
        "{% if entity.poNumber %}<p>Your reference: {{ entity.poNumber }}</p>"
        "{% else %}<p>No PO.</p>{% endif %}"
        "{% if entity.currency is empty %}<p>no currency</p>{% endif %}"
        "<p>{{ system.userFirstName }} {{ system.userLastName }}</p>",
    ),
    SandboxTemplate(
        21,
        "case_card",
        ENTITY_CLASSES["cases"],
        "Case: {{ entity.subject|title }}",
        "Reported {{ entity.reportedAt }}, priority {{ entity.priority|upper }}.\n"
        "{% if entity.closedAt is defined %}Closed: {{ entity.closedAt|default('not yet') }}{% endif %}\n"
        "{{ system.userFullName|trim }}",
        type="txt",
    ),
    SandboxTemplate(
        22,
        "order_with_commerce_functions",
        ENTITY_CLASSES["orders"],
        "Order {{ entity.identifier }}",
        "{{ oro_order_shipping_method_label(entity.shippingMethod) }}{{ entity.customerNotes }}"
        "{% for item in order_line_items(entity) %}{{ item.sku }}{% endfor %}{{ entity.poNumber|raw }}",
    ),
    SandboxTemplate(
        23,
        "storefront_base",
        ENTITY_CLASSES["customerusers"],
        "Welcome",
        "{% extends oro_get_email_template('base_storefront') %}{% block content %}Hi{% endblock %}",
    ),
    SandboxTemplate(
        24, "account_hello", ENTITY_CLASSES["accounts"], "Hello", "<p>Hello {{ entity.name }}</p>"
    ),
]


@pytest.fixture
def oro_templates(sandbox_server: Any) -> list[SandboxTemplate]:
    state = sandbox_server.world.oro
    state.templates = [*state.templates, *EXTRA]
    return state.templates


def sender_from_oro(client: Any, sandbox_server: Any) -> Sender:
    alice = sandbox_server.world.oro.user_by_username("alice")
    user = client.get_record(User, id=alice.id)
    return Sender(
        name=user.title,
        email=user.email or "",
        first_name=user.first_name or "",
        last_name=user.last_name or "",
        username=user.username or "",
    )


def test_import_reports_each_template(
    db: Session,
    people: People,
    oro_client: Any,
    oro_templates: list[SandboxTemplate],
    renderer: TemplateRenderer,
) -> None:
    report = import_oro_templates(
        db, client=oro_client, owner=people.owner, include_system=True, renderer=renderer
    )
    outcome = {item.name: (item.outcome, item.record_type) for item in report.items}
    assert outcome == {
        "account_hello": ("skipped", None),
        "case_card": ("created", "cases"),
        "case_update": ("created", "cases"),
        "contact_follow_up": ("created", "contacts"),
        "generic_thanks": ("created", None),
        "lead_introduction": ("created", "leads"),
        "order_shipped": ("created", "orders"),
        "order_status": ("created", "orders"),
        "order_with_commerce_functions": ("skipped", "orders"),
        "storefront_base": ("skipped", "customerusers"),
        "user_reset_password": ("skipped", None),
    }
    unsupported = {item.name: item.unsupported for item in report.of("skipped")}
    assert unsupported["order_with_commerce_functions"] == (
        "body, line 1: the function 'oro_order_shipping_method_label' is not supported",
        "body, line 1: the function 'order_line_items' is not supported",
        "body, line 1: the filter 'raw' is not supported",
        "body: entity.shippingMethod is not a variable of order templates",
        "body: entity.customerNotes is not a variable of order templates",
    )
    assert unsupported["storefront_base"] == (
        "body, line 1: the tag 'extends' is not supported",
        "body, line 1: the tag 'block' is not supported",
        "body, line 1: the tag 'endblock' is not supported",
    )
    assert unsupported["account_hello"] == (
        "templates for Oro\\Bundle\\AccountBundle\\Entity\\Account records are not supported",
    )
    assert unsupported["user_reset_password"] == (
        "templates for Oro\\Bundle\\UserBundle\\Entity\\User records are not supported",
    )
    stored = ops.list_templates(db, user=people.colleague)  # imported as shared
    assert [t.name for t in stored] == [
        "case_card",
        "case_update",
        "contact_follow_up",
        "generic_thanks",
        "lead_introduction",
        "order_shipped",
        "order_status",
    ]
    assert {t.name: t.format for t in stored}["lead_introduction"] == "text"
    assert report.to_dict()["counts"] == {"created": 7, "updated": 0, "unchanged": 0, "skipped": 4}


def test_a_template_with_unknown_fields_says_which(
    db: Session,
    people: People,
    oro_client: Any,
    oro_templates: list[SandboxTemplate],
    renderer: TemplateRenderer,
) -> None:
    oro_templates.append(
        SandboxTemplate(
            25,
            "notes",
            ENTITY_CLASSES["orders"],
            "Notes",
            "{{ entity.customerNotes }} {{ entity.shipUntil }}",
        )
    )
    report = import_oro_templates(db, client=oro_client, owner=people.owner, renderer=renderer)
    notes = next(item for item in report.items if item.name == "notes")
    assert notes.outcome == "skipped"
    assert notes.unsupported == (
        "body: entity.customerNotes is not a variable of order templates",
        "body: entity.shipUntil is not a variable of order templates",
    )


def test_imported_templates_render_like_oros_compiled_output(
    db: Session,
    people: People,
    oro_client: Any,
    oro_templates: list[SandboxTemplate],
    sandbox_server: Any,
    renderer: TemplateRenderer,
) -> None:
    import_oro_templates(db, client=oro_client, owner=people.owner, renderer=renderer)
    sender = sender_from_oro(oro_client, sandbox_server)
    compared = []
    for template in ops.list_templates(db, user=people.owner):
        target = RECORDS[template.record_type]
        record = oro_client.get_record(target[0], id=target[1]) if target else None
        ours = ops.render_template(
            template, context=RenderContext(record=record, sender=sender), renderer=renderer
        )
        oros = oro_client.compile_email_template(
            template_id=template.oro_template_id, entity_id=target[1] if target else "1"
        )
        assert ours.ready, (template.name, ours.missing)
        assert ours.subject == oros.subject, template.name
        if template.format == "html":
            # Oro's sanitiser keeps quotes that autoescaping writes as &#39;: the same text for the reader
            assert html.unescape(ours.body) == html.unescape(oros.body), template.name
            assert "<script" not in ours.body
        else:
            assert ours.body == oros.body, template.name
        compared.append(template.name)
    assert len(compared) == 7
    shipped = oro_client.compile_email_template(template_id="20", entity_id="1")
    assert shipped.subject == "SO-10001 is not shipped"
    assert shipped.body == (
        "<p>Order SO-10001 of Apr 17, 2025, 6:41 AM: Open, 26,516.29 EUR.</p><p>Your reference: PO-3453</p>"
        "<p>Alice Martin</p>"
    )


def test_record_values_with_html_render_like_oro_and_escaped(
    db: Session, people: People, oro_client: Any, sandbox_server: Any, renderer: TemplateRenderer
) -> None:
    state = sandbox_server.world.oro
    record = state.get(("contacts", "1"))
    record.attributes["firstName"] = "<img src=x onerror=alert(1)> & Co"
    import_oro_templates(db, client=oro_client, owner=people.owner, renderer=renderer)
    template = next(t for t in ops.list_templates(db, user=people.owner) if t.name == "contact_follow_up")
    contact = oro_client.get_record(Contact, id="1")
    ours = ops.render_template(
        template,
        context=RenderContext(record=contact, sender=sender_from_oro(oro_client, sandbox_server)),
        renderer=renderer,
    )
    oros = oro_client.compile_email_template(template_id=template.oro_template_id, entity_id="1")
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; Co" in ours.body
    assert html.unescape(ours.body) == html.unescape(oros.body)


def test_import_again_updates_what_changed_in_oro(
    db: Session,
    people: People,
    oro_client: Any,
    oro_templates: list[SandboxTemplate],
    renderer: TemplateRenderer,
) -> None:
    first = import_oro_templates(db, client=oro_client, owner=people.owner, renderer=renderer)
    assert len(first.of("created")) == 7
    index = next(i for i, t in enumerate(oro_templates) if t.name == "order_status")
    oro_templates[index] = dataclasses.replace(
        oro_templates[index], subject="Order {{ entity.identifier }} update"
    )
    second = import_oro_templates(db, client=oro_client, owner=people.owner, renderer=renderer)
    assert [i.name for i in second.of("updated")] == ["order_status"]
    assert len(second.of("unchanged")) == 6 and not second.of("created")
    updated = db.get(EmailTemplate, second.of("updated")[0].template_id)
    assert updated is not None and updated.version == 2
    assert ops.resolve_variant(updated, "").subject == "Order {{ entity.identifier }} update"
