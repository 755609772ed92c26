"""The template store: create, edit, delete, list, locale variants, visibility, preview per recipient."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connector.templates import operations as ops
from connector.templates.errors import (
    TemplateAccessDenied,
    TemplateFieldsMissing,
    TemplateInvalid,
    TemplateNotFound,
    TemplateRenderFailed,
)
from connector.templates.models import EmailTemplate, TemplateVariant
from connector.templates.rendering import Sender, TemplateRenderer
from tests.templates.conftest import People, contact, context_for, order

ORDER_BODY = "<p>Hello,</p><p>your order {{ entity.identifier }} is {{ entity.shippingStatus|lower }}.</p>"


def new_order_template(
    db: Session, people: People, renderer: TemplateRenderer, **changes: object
) -> EmailTemplate:
    values: dict[str, object] = {
        "owner": people.owner,
        "name": "Order status",
        "record_type": "orders",
        "subject": "Your order {{ entity.identifier }}",
        "body": ORDER_BODY,
        "renderer": renderer,
    }
    values.update(changes)
    return ops.create_template(db, **values)  # type: ignore[arg-type]


def test_create_and_render_for_an_order(
    db: Session, people: People, renderer: TemplateRenderer, sender: Sender
) -> None:
    template = new_order_template(db, people, renderer)
    assert template.id is not None and template.version == 1
    assert db.scalar(select(func.count()).select_from(TemplateVariant)) == 1
    rendered = ops.render_template(template, context=context_for(order(), sender), renderer=renderer)
    assert rendered.subject == "Your order SO-10041"
    assert rendered.body == "<p>Hello,</p><p>your order SO-10041 is not shipped.</p>"


def test_create_refuses_unknown_variables_and_syntax(
    db: Session, people: People, renderer: TemplateRenderer
) -> None:
    with pytest.raises(TemplateInvalid) as refused:
        new_order_template(
            db, people, renderer, body="{{ entity.firstName }} {{ entity.total.cents }} {{ user.phone }}"
        )
    assert refused.value.problems == (
        "body: entity.firstName is not a variable of order templates",
        "body: entity.total.cents is not a variable of order templates",
        "body: user.phone is not a variable of order templates",
    )
    with pytest.raises(TemplateInvalid) as refused:
        new_order_template(db, people, renderer, subject="{% if %}")
    assert refused.value.problems[0].startswith("subject, line 1:")
    with pytest.raises(TemplateInvalid):
        new_order_template(db, people, renderer, record_type="users")
    with pytest.raises(TemplateInvalid):
        new_order_template(db, people, renderer, visibility="public")
    with pytest.raises(TemplateInvalid):
        new_order_template(db, people, renderer, name=" ")
    with pytest.raises(TemplateInvalid):
        ops.create_template(
            db,
            owner=people.owner,
            name="none",
            record_type=None,
            subject="s",
            body="{{ entity.identifier }}",
            renderer=renderer,
        )
    assert db.scalar(select(func.count()).select_from(EmailTemplate)) == 0


def test_locale_variants_fall_back_to_parent_then_default(
    db: Session, people: People, renderer: TemplateRenderer, sender: Sender
) -> None:
    template = new_order_template(
        db,
        people,
        renderer,
        variants={
            "de": ops.TemplateText(
                "Ihre Bestellung {{ entity.identifier }}", "Bestellung {{ entity.identifier }}"
            ),
            "de-AT": ops.TemplateText(
                "Ihre Bestellung {{ entity.identifier }} (AT)", "Servus {{ entity.identifier }}"
            ),
        },
    )
    assert template.locales == ["de", "de_AT"]
    context = context_for(order(), sender)
    rendered = {
        loc: ops.render_template(template, context=context, locale=loc, renderer=renderer)
        for loc in ("de_AT", "de_CH", "de", "fr_FR", None)
    }
    assert rendered["de_AT"].body == "Servus SO-10041" and rendered["de_AT"].locale == "de_AT"
    assert rendered["de_CH"].body == "Bestellung SO-10041" and rendered["de_CH"].locale == "de"
    assert rendered["de"].subject == "Ihre Bestellung SO-10041"
    assert rendered["fr_FR"].locale == "" and rendered["fr_FR"].subject == "Your order SO-10041"
    assert rendered[None].locale == ""
    assert ops.locale_chain("zh-hant-tw") == ["zh_Hant_TW", "zh_Hant", "zh", ""]
    with pytest.raises(TemplateInvalid):
        ops.normalize_locale("not a locale")


def test_edit_bumps_version_and_renders_the_new_text(
    db: Session, people: People, renderer: TemplateRenderer, sender: Sender
) -> None:
    template = new_order_template(db, people, renderer)
    context = context_for(order(), sender)
    assert "SO-10041" in ops.render_template(template, context=context, renderer=renderer).body
    ops.edit_template(
        db, template, editor=people.owner, body="PO {{ entity.poNumber }}", name="PO reply", renderer=renderer
    )
    assert template.version == 2 and template.name == "PO reply"
    assert ops.render_template(template, context=context, renderer=renderer).body == "PO PO-7781"
    ops.set_variant(
        db, template, editor=people.owner, locale="fr", subject="Commande", body="Bonjour", renderer=renderer
    )
    assert template.version == 3
    assert ops.render_template(template, context=context, locale="fr_BE", renderer=renderer).body == "Bonjour"
    ops.remove_variant(db, template, editor=people.owner, locale="fr")
    assert (
        ops.render_template(template, context=context, locale="fr_BE", renderer=renderer).body == "PO PO-7781"
    )
    with pytest.raises(TemplateInvalid):  # the contact's variables do not exist on an order template's text
        ops.edit_template(db, template, editor=people.owner, record_type="contacts", renderer=renderer)
    ops.edit_template(
        db,
        template,
        editor=people.owner,
        record_type=None,
        subject="Thanks",
        body="Thanks!",
        renderer=renderer,
    )
    assert template.record_type is None
    assert (
        ops.render_template(template, context=context_for(None, sender), renderer=renderer).body == "Thanks!"
    )


def test_visibility_private_and_shared(db: Session, people: People, renderer: TemplateRenderer) -> None:
    private = new_order_template(db, people, renderer, name="Mine")
    shared = new_order_template(db, people, renderer, name="Team", visibility="shared")
    other = ops.create_template(
        db,
        owner=people.colleague,
        name="Bruno's",
        record_type=None,
        subject="Hi",
        body="Hello",
        renderer=renderer,
    )
    assert [t.name for t in ops.list_templates(db, user=people.owner)] == ["Mine", "Team"]
    assert [t.name for t in ops.list_templates(db, user=people.colleague)] == ["Bruno's", "Team"]
    assert [t.name for t in ops.list_templates(db, user=people.colleague, record_type=None)] == ["Bruno's"]
    assert [t.name for t in ops.list_templates(db, user=people.owner, record_type="orders")] == [
        "Mine",
        "Team",
    ]
    with pytest.raises(TemplateNotFound):
        ops.get_template(db, user=people.colleague, template_id=private.id)
    assert ops.get_template(db, user=people.colleague, template_id=shared.id) is shared
    with pytest.raises(TemplateAccessDenied):
        ops.edit_template(db, shared, editor=people.colleague, name="Taken over", renderer=renderer)
    with pytest.raises(TemplateNotFound):
        ops.delete_template(db, private, editor=people.colleague)
    ops.edit_template(
        db, shared, editor=people.colleague, name="Fixed by admin", as_admin=True, renderer=renderer
    )
    assert shared.name == "Fixed by admin"
    ops.delete_template(db, other, editor=people.colleague)
    assert [t.name for t in ops.list_templates(db, user=people.colleague)] == ["Fixed by admin"]
    assert db.scalar(select(func.count()).select_from(TemplateVariant)) == 2  # the variants went with it


def test_operations_flush_but_do_not_commit(db: Session, people: People, renderer: TemplateRenderer) -> None:
    new_order_template(db, people, renderer)
    db.rollback()
    assert db.scalar(select(func.count()).select_from(EmailTemplate)) == 0


def test_preview_per_recipient_shows_what_each_is_missing(
    db: Session, people: People, renderer: TemplateRenderer, sender: Sender
) -> None:
    template = ops.create_template(
        db,
        owner=people.owner,
        name="Follow-up",
        record_type="contacts",
        subject="Following up, {{ entity.firstName }}",
        body="<p>Dear {{ entity.firstName }},</p><p>I will call you at {{ entity.primaryPhone }}.</p>",
        renderer=renderer,
    )
    recipients = [
        ops.Recipient("sophie.wagner@nordlicht.example", "Sophie Wagner", contact()),
        ops.Recipient(
            "jan@nordlicht.example", "Jan Berg", contact(id="8", first_name="Jan", primary_phone=None)
        ),
    ]
    previews = ops.preview_template(
        template, context=context_for(None, sender), recipients=recipients, renderer=renderer
    )
    assert [p.email.subject for p in previews] == ["Following up, Sophie", "Following up, Jan"]
    assert previews[0].email.ready
    assert previews[1].email.missing == ("entity.primaryPhone",)
    assert previews[1].to_dict()["ready"] is False
    with pytest.raises(TemplateFieldsMissing, match=r"entity\.primaryPhone"):
        previews[1].email.require_complete()


def test_a_template_for_orders_refuses_a_contact(
    db: Session, people: People, renderer: TemplateRenderer, sender: Sender
) -> None:
    template = new_order_template(db, people, renderer)
    with pytest.raises(TemplateRenderFailed, match="orders"):
        ops.render_template(template, context=context_for(contact(), sender), renderer=renderer)


@pytest.mark.parametrize(
    "changes",
    [
        {"body": "<p>Hello\x00</p>"},
        {"subject": "Your order\x00"},
        {"body": "<p>Half a pair \ud83d</p>"},
        {"name": "Order\x00status"},
    ],
)
def test_text_no_database_can_keep_is_refused_before_it_is_stored(
    db: Session, people: People, renderer: TemplateRenderer, changes: dict[str, str]
) -> None:
    with pytest.raises(TemplateInvalid) as refused:
        new_order_template(db, people, renderer, **changes)
    assert "NUL or an unpaired surrogate" in " ".join((str(refused.value), *refused.value.problems))
    assert db.scalar(select(func.count()).select_from(EmailTemplate)) == 0
