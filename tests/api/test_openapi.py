"""The OpenAPI document says what the API does: every route is in it, and nothing else is."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask

from connector.api.schemas import REQUEST_SCHEMAS, validate


def test_the_document_lists_exactly_the_routes_of_the_api(app: Flask) -> None:
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    documented = {
        (path, method.upper()) for path, operations in document["paths"].items() for method in operations
    }
    served = {
        (re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule), method)  # <int:id> is OpenAPI's {id}
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    assert documented == served


def test_every_reference_in_the_document_resolves(app: Flask) -> None:
    document = app.test_client().get("/api/v1/openapi.json").get_json()

    def refs(node: Any) -> list[str]:
        if isinstance(node, dict):
            return ([node["$ref"]] if "$ref" in node else []) + [r for v in node.values() for r in refs(v)]
        if isinstance(node, list):
            return [r for v in node for r in refs(v)]
        return []

    for ref in refs(document):
        target: Any = document
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
        assert isinstance(target, dict), ref


def test_bodies_are_checked_against_the_published_schemas() -> None:
    good = {"message": {"internet_message_id": "<a@b.example>", "to": [{"email": "x@y.example"}]}}
    assert validate(good, REQUEST_SCHEMAS["SidebarRequest"]) == []
    bad = {"message": {"to": [{"name": 3}]}, "colour": "blue"}
    fields = {e["field"] for e in validate(bad, REQUEST_SCHEMAS["SidebarRequest"])}
    assert fields == {"message.internet_message_id", "message.to[0].name", "message.to[0].email", "colour"}
