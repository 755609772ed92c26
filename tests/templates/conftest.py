"""Fixtures for templates: a renderer, a sender, typed records, users in the database, and an Oro
client on the sandbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session

from connector.db.models import User
from connector.oro import Contact, Order, OroConfig, OroConnection
from connector.templates.rendering import RenderContext, Sender, TemplateRenderer

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def renderer() -> TemplateRenderer:
    return TemplateRenderer()


@pytest.fixture
def sender() -> Sender:
    return Sender(name="Alice Martin", email="alice@acme.example", signature="Alice Martin\nAcme Outfitters")


def order(**changes: Any) -> Order:
    values: dict[str, Any] = {
        "id": "41",
        "identifier": "SO-10041",
        "po_number": "PO-7781",
        "total_value": Decimal("26516.29"),
        "subtotal_value": Decimal("24394.99"),
        "currency": "EUR",
        "internal_status": "open",
        "shipping_status": "not_shipped",
        "created_at": datetime(2026, 2, 17, 14, 5, tzinfo=UTC),
        "url": "https://oro.example/admin/order/view/41",
    }
    values.update(changes)
    return Order(**values)


def contact(**changes: Any) -> Contact:
    values: dict[str, Any] = {
        "id": "7",
        "first_name": "Sophie",
        "last_name": "Wagner",
        "job_title": "Head of Procurement",
        "primary_email": "sophie.wagner@nordlicht.example",
        "emails": ("sophie.wagner@nordlicht.example",),
        "primary_phone": "+49 40 5550 1201",
        "created_at": datetime(2025, 3, 18, 8, 26, tzinfo=UTC),
    }
    values.update(changes)
    return Contact(**values)


def context_for(record: Any, sender: Sender, **changes: Any) -> RenderContext:
    values: dict[str, Any] = {
        "record": record,
        "sender": sender,
        "now": NOW,
        "app_url": "https://connector.example",
    }
    values.update(changes)
    return RenderContext(**values)


@dataclass
class People:
    owner: User
    colleague: User


@pytest.fixture
def people(db: Session) -> People:
    owner = User(email="alice@acme.example", display_name="Alice Martin")
    colleague = User(email="bruno@acme.example", display_name="Bruno Keller")
    db.add_all([owner, colleague])
    db.flush()
    return People(owner, colleague)


@pytest.fixture
def oro_client(sandbox_server: Any) -> Any:
    """A client on the sandbox's Oro, as alice."""
    oro = sandbox_server.world.oro
    user = oro.user_by_username("alice")
    token = oro.oauth.issue_for_user(user.id)
    return OroConnection(OroConfig(oro_url=sandbox_server.oro_url)).with_token(token)
