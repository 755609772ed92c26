"""Property-based run of the whole API against its OpenAPI document (schemathesis): no answer is a 5xx,
and every answer matches what the document says, for a signed-in user connected to the sandbox's Oro."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.api.support import LiveConnector

# Everything but the checks that take any 4xx for schema-valid data as a failure: "link this record"
# is schema-valid for a record Oro does not have, and the right answer then is a 4xx.
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.ignored_auth,
]


def test_no_request_the_document_allows_gets_a_server_error(connector: LiveConnector) -> None:
    connector.connect_to_oro("alice")
    schema = schemathesis.openapi.from_url(f"{connector.url}/api/v1/openapi.json")
    headers = connector.headers("alice")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8
    failures: list[str] = []
    succeeded: set[str] = set()

    def exercise(operation: Any) -> None:
        @settings(
            max_examples=25,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            response = case.call_and_validate(base_url=connector.url, headers=headers, checks=CHECKS)
            if response.status_code < 300:
                succeeded.add(operation.label)

        run()

    for operation in operations:
        try:
            exercise(operation)
        except Exception as exc:
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
    # The run reached past validation into Oro and the database, not only into 4xx answers.
    for label in ("GET /api/v1/me", "POST /api/v1/sidebar", "GET /api/v1/search", "PUT /api/v1/choices"):
        assert label in succeeded, label
