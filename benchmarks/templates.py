"""Renders per second of a typical order-status reply, compiled once and served from the cache.

Run from the repository root: ``python benchmarks/templates.py``. Prints plain numbers; asserts nothing.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal

from connector.oro import Order
from connector.templates.rendering import RenderContext, Sender, TemplateRenderer

SUBJECT = "Your order {{ entity.identifier }}"
BODY = """<p>Dear customer,</p>
<p>thank you for your order {{ entity.identifier }}
{%- if entity.poNumber %} (your reference {{ entity.poNumber }}){% endif %},
placed on {{ entity.createdAt|oro_format_date }}.</p>
<table>
{% for label in ['Subtotal', 'Total'] %}
  <tr><td>{{ loop.index }}. {{ label }}</td>
  <td>{% if label == 'Total' %}{{ entity.total }}{% else %}{{ entity.subtotal }}{% endif %}</td></tr>
{% endfor %}
</table>
<p>Status: {{ entity.internalStatus }}, shipping: {{ entity.shippingStatus|lower }}.</p>
<p>Kind regards,<br>{{ user.name }}</p>
<p>{{ user.signature }}</p>
"""

ORDER = Order(
    id="41",
    identifier="SO-10041",
    po_number="PO-7781",
    total_value=Decimal("26516.29"),
    subtotal_value=Decimal("24394.99"),
    currency="EUR",
    internal_status="open",
    shipping_status="not_shipped",
    created_at=datetime(2026, 2, 17, 14, 5, tzinfo=UTC),
)
CONTEXT = RenderContext(
    record=ORDER,
    sender=Sender(name="Alice Martin", email="alice@acme.example", signature="Alice Martin\nAcme"),
)


def measure(
    renderer: TemplateRenderer, seconds: float, *, key: tuple[object, ...] | None
) -> tuple[int, float]:
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        for _ in range(100):
            renderer.render(subject=SUBJECT, body=BODY, format="html", context=CONTEXT, key=key)
        count += 100
    return count, time.perf_counter() - start


def main() -> None:
    renderer = TemplateRenderer()
    first = renderer.render(subject=SUBJECT, body=BODY, format="html", context=CONTEXT, key=(1, 1, ""))
    assert first.ready, first.missing
    start = time.perf_counter()
    for version in range(2, 52):
        TemplateRenderer().compile(BODY, format="html", key=(1, version, "body"))
    compile_ms = (time.perf_counter() - start) / 50 * 1000
    count, elapsed = measure(renderer, 2.0, key=(1, 1, ""))
    by_digest, digest_elapsed = measure(renderer, 1.0, key=None)
    print(f"template: order status, html, {len(BODY)} characters, {len(first.body)} characters rendered")
    print(f"compile (cache miss): {compile_ms:.2f} ms per template")
    print(
        f"render, cached by template id+version: {count / elapsed:,.0f} renders/s "
        f"({elapsed / count * 1e6:.0f} us per render)"
    )
    print(f"render, cached by source digest: {by_digest / digest_elapsed:,.0f} renders/s")
    print(f"compilations during the run: {renderer.compilations}")


if __name__ == "__main__":
    main()
