"""Rendering Oro's Twig subset: variables, tags, filters, Oro's formatting, and strict missing fields."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connector.oro import Money, Opportunity
from connector.templates.errors import TemplateFieldsMissing, TemplateInvalid, TemplateRenderFailed
from connector.templates.rendering import RenderContext, Sender, TemplateRenderer
from tests.templates.conftest import contact, context_for, order


def body(renderer: TemplateRenderer, source: str, context: RenderContext, fmt: str = "html") -> str:
    return renderer.render(subject="s", body=source, format=fmt, context=context).body  # type: ignore[arg-type]


def test_an_order_status_reply_reads_like_oro_would_print_it(
    renderer: TemplateRenderer, sender: Sender
) -> None:
    source = (
        "<p>Dear {{ entity.identifier }} customer,</p>"
        "<p>Your order {{ entity.identifier }} (PO {{ entity.poNumber }}) placed on "
        "{{ entity.createdAt|oro_format_date }} totals {{ entity.total|oro_format_price }}. "
        "Shipping: {{ entity.shippingStatus }}.</p>"
        "<p>{{ user.signature }}</p>"
    )
    rendered = renderer.render(
        subject="Your order {{ entity.identifier }}",
        body=source,
        format="html",
        context=context_for(order(), sender),
    )
    assert rendered.subject == "Your order SO-10041"
    assert rendered.body == (
        "<p>Dear SO-10041 customer,</p><p>Your order SO-10041 (PO PO-7781) placed on Feb 17, 2026 totals "
        "€26,516.29. Shipping: Not Shipped.</p><p>Alice Martin<br />\nAcme Outfitters</p>"
    )
    assert rendered.ready and rendered.missing == ()


def test_bare_values_use_oros_default_formats(renderer: TemplateRenderer, sender: Sender) -> None:
    out = body(
        renderer,
        "{{ entity.createdAt }} | {{ entity.totalValue }} | {{ entity.total }}",
        context_for(order(), sender),
    )
    assert out == "Feb 17, 2026, 2:05 PM | 26,516.29 | €26,516.29"


def test_dates_follow_the_render_time_zone(renderer: TemplateRenderer, sender: Sender) -> None:
    out = body(
        renderer,
        "{{ entity.createdAt }} / {{ entity.createdAt|date('d.m.Y H:i T') }}",
        context_for(order(), sender, timezone="Europe/Berlin"),
    )
    assert out == "Feb 17, 2026, 3:05 PM / 17.02.2026 15:05 CET"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ entity.createdAt|date('Y-m-d') }}", "2026-02-17"),
        ("{{ entity.createdAt|date('D, d M Y H:i:s') }}", "Tue, 17 Feb 2026 14:05:00"),
        (
            "{{ entity.createdAt|date('l jS \\\\o\\\\f F Y, g:i a') }}",
            "Tuesday 17th of February 2026, 2:05 pm",
        ),
        ("{{ entity.createdAt|date('c') }}", "2026-02-17T14:05:00+00:00"),
        ("{{ date('2024-02-29')|date('N W t L') }}", "4 09 29 1"),
        ("{{ date()|date('Y') }}", "2026"),
        ("{{ entity.createdAt|date }}", "February 17, 2026 14:05"),
    ],
)
def test_php_date_formats(renderer: TemplateRenderer, sender: Sender, source: str, expected: str) -> None:
    assert body(renderer, source, context_for(order(), sender)) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ entity.identifier|lower }}", "so-10041"),
        ("{{ 'sophie wagner'|title }}", "Sophie Wagner"),
        ("{{ '  padded  '|trim }}|{{ '..x..'|trim('.') }}", "padded|x"),
        ("{{ entity.poNumber|upper }}", "PO-7781"),
        ("{{ entity.identifier|length }}", "8"),
        ("{{ 1234567.891|number_format(2, ',', '.') }}", "1.234.567,89"),
        ("{{ entity.totalValue|number_format }}", "26,516"),
        ("{{ 'Order %s of %.1f%%'|format(entity.identifier, 12.34) }}", "Order SO-10041 of 12.3%"),
        ("{{ ['a', 'b', 'c']|join(', ', ' and ') }}", "a, b and c"),
        ("{{ entity.currency|default('USD') }}", "EUR"),
        ("{{ entity.totalValue|oro_format_currency({'currency': 'USD'}) }}", "$26,516.29"),
        ("{{ entity.totalValue|oro_format_currency({currency: entity.currency}) }}", "€26,516.29"),
        ("{{ 1234.5|oro_format_currency('CHF') }}", "CHF\u00a01,234.50"),
        ("{{ entity.createdAt|oro_format_datetime }}", "Feb 17, 2026, 2:05 PM"),
        ("{{ entity.createdAt|oro_format_time({'timeZone': 'America/New_York'}) }}", "9:05 AM"),
        ("{{ 0.755|oro_format_percent }}", "76%"),
        ("{{ 1234.5678|oro_format_number }}", "1,234.568"),
        ("{{ entity.createdAt|oro_format('date') }}", "Feb 17, 2026"),
        ("{{ '<b>x</b>'|oro_html_strip_tags }}", "x"),
    ],
)
def test_filters(renderer: TemplateRenderer, sender: Sender, source: str, expected: str) -> None:
    assert body(renderer, source, context_for(order(), sender)) == expected


def test_tags_if_for_set_and_concatenation(renderer: TemplateRenderer, sender: Sender) -> None:
    source = (
        "{% set greeting = 'Hello ' ~ entity.firstName %}{{ greeting }}!\n"
        "{% if entity.jobTitle is defined and entity.jobTitle is not empty %}"
        "({{ entity.jobTitle }}){% endif %}\n"
        "{% for address in entity.emails %}{{ loop.index }}. {{ address }}{% if not loop.last %}; {% endif %}"
        "{% else %}no address{% endfor %}\n"
        "{% if entity.lastName == 'Wagner' %}yes{% elif entity.lastName %}other{% else %}none{% endif %}\n"
        "{{ entity is defined ? 1 : 0 }}"
    )
    with pytest.raises(TemplateInvalid):  # Twig's ternary is not in the subset
        body(renderer, source, context_for(contact(), sender), "text")
    out = body(renderer, source.rsplit("\n", 1)[0] + "\n", context_for(contact(), sender), "text")
    # like Twig, the newline right after a tag is dropped
    assert out == "Hello Sophie!\n(Head of Procurement)1. sophie.wagner@nordlicht.exampleyes"


def test_spaceless_and_verbatim_like_twig(renderer: TemplateRenderer, sender: Sender) -> None:
    out = body(
        renderer,
        "{% spaceless %}\n<p> {{ entity.firstName }} </p>\n  <p>x</p>\n{% endspaceless %}"
        "{% verbatim %}{{ entity.firstName }}{% endverbatim %}",
        context_for(contact(), sender),
    )
    assert out == "<p> Sophie </p><p>x</p>{{ entity.firstName }}"


def test_printing_a_record_prints_its_name_and_oro_format_name(
    renderer: TemplateRenderer, sender: Sender
) -> None:
    out = body(
        renderer, "{{ entity }} / {{ entity|oro_format_name }} / {{ user }}", context_for(contact(), sender)
    )
    assert out == "Sophie Wagner / Sophie Wagner / Alice Martin"


def test_system_and_sender_variables(renderer: TemplateRenderer, sender: Sender) -> None:
    source = (
        "{{ system.appName }}|{{ system.appURL }}|{{ system.currentDate }}|{{ system.currentDateTime }}|"
        "{{ system.userFullName }}|{{ system.userFirstName }}|{{ user.name }}|{{ user.lastName }}|"
        "{{ user.email }}"
    )
    out = body(renderer, source, context_for(None, sender), "text")
    assert out == (
        "Oro Connector|https://connector.example|Mar 2, 2026|Mar 2, 2026, 9:30 AM|Alice Martin|Alice|"
        "Alice Martin|Martin|alice@acme.example"
    )


def test_an_empty_field_is_reported_and_sending_is_refused(
    renderer: TemplateRenderer, sender: Sender
) -> None:
    rendered = renderer.render(
        subject="Order {{ entity.identifier }}",
        body="<p>PO {{ entity.poNumber }}, due {{ entity.shipUntil }}</p>",
        format="html",
        context=context_for(order(po_number=None), sender),
    )
    assert rendered.missing == ("entity.poNumber", "entity.shipUntil")
    assert not rendered.ready
    assert "[missing: entity.poNumber]" in rendered.body  # the preview shows where
    with pytest.raises(TemplateFieldsMissing) as refused:
        rendered.require_complete()
    assert refused.value.missing == ("entity.poNumber", "entity.shipUntil")
    assert str(refused.value) == (
        "Sending refused until these fields are filled: entity.poNumber, entity.shipUntil"
    )


def test_filled_values_complete_the_email(renderer: TemplateRenderer, sender: Sender) -> None:
    context = context_for(
        order(po_number=""), sender, filled={"entity.poNumber": "PO-<9>", "entity.poNumber2": ""}
    )
    rendered = renderer.render(
        subject="s", body="<p>PO {{ entity.poNumber }}</p>", format="html", context=context
    )
    assert rendered.require_complete().body == "<p>PO PO-&lt;9&gt;</p>"
    blank = context_for(order(po_number=""), sender, filled={"entity.poNumber": "   "})
    assert renderer.render(
        subject="s", body="{{ entity.poNumber }}", format="html", context=blank
    ).missing == ("entity.poNumber",)


def test_missing_sender_signature_is_reported(renderer: TemplateRenderer) -> None:
    rendered = renderer.render(
        subject="s",
        body="{{ user.signature }}",
        format="text",
        context=context_for(None, Sender(name="Alice Martin")),
    )
    assert rendered.missing == ("user.signature",)


def test_asking_about_a_field_is_not_using_it(renderer: TemplateRenderer, sender: Sender) -> None:
    source = (
        "{% if entity.poNumber %}PO {{ entity.poNumber }}{% endif %}"
        "{{ entity.poNumber|default('') }}{% if entity.poNumber is empty %}none{% endif %}"
        "{{ entity.poNumber is null ? '' : '' }}"
    )
    with pytest.raises(TemplateInvalid):
        body(renderer, source, context_for(order(po_number=None), sender))
    rendered = renderer.render(
        subject="s",
        body=source.rsplit("{{", 1)[0],
        format="html",
        context=context_for(order(po_number=None), sender),
    )
    assert rendered.body == "none"
    assert rendered.ready


def test_a_template_for_an_order_without_a_record_reports_each_field(
    renderer: TemplateRenderer, sender: Sender
) -> None:
    rendered = renderer.render(
        subject="Order {{ entity.identifier }}",
        body="{{ entity.total.amount }} {{ undefined_name }}",
        format="text",
        context=context_for(None, sender),
    )
    assert rendered.missing == ("entity.identifier", "entity.total.amount", "undefined_name")


def test_a_comparison_with_a_missing_field_reports_it(renderer: TemplateRenderer, sender: Sender) -> None:
    rendered = renderer.render(
        subject="s",
        body="{% if entity.closeRevenueValue > 100 %}big{% else %}small{% endif %}",
        format="text",
        context=context_for(Opportunity(id="3", name="Deal"), sender),
    )
    assert rendered.body == "small"
    assert rendered.missing == ("entity.closeRevenueValue",)


def test_opportunity_prices_and_percentages(renderer: TemplateRenderer, sender: Sender) -> None:
    deal = Opportunity(
        id="3", name="Deal", status="in_progress", probability=0.75, budget=Money(Decimal("80450"), "EUR")
    )
    out = body(
        renderer,
        "{{ entity.status }}: {{ entity.probability }} of {{ entity.budgetAmount }} "
        "({{ entity.budgetAmountValue|number_format }} {{ entity.budgetAmountCurrency }})",
        context_for(deal, sender),
        "text",
    )
    assert out == "Open: 75% of €80,450.00 (80,450 EUR)"


def test_html_escaping_of_record_values_and_not_of_the_template(
    renderer: TemplateRenderer, sender: Sender
) -> None:
    hostile = contact(first_name="<script>alert(1)</script>", last_name='O"Neil & <b>Sons</b>')
    out = body(
        renderer,
        '<p class="x">{{ entity.firstName }} {{ entity.lastName|upper }} {{ entity }}</p>',
        context_for(hostile, sender),
    )
    assert out == (
        '<p class="x">&lt;script&gt;alert(1)&lt;/script&gt; O&#34;NEIL &amp; &lt;B&gt;SONS&lt;/B&gt; '
        "&lt;script&gt;alert(1)&lt;/script&gt; O&#34;Neil &amp; &lt;b&gt;Sons&lt;/b&gt;</p>"
    )
    text = body(renderer, "{{ entity.firstName }}", context_for(hostile, sender), "text")
    assert text == "<script>alert(1)</script>"  # a plain-text email shows the text as it is


def test_subject_is_text_on_one_line(renderer: TemplateRenderer, sender: Sender) -> None:
    rendered = renderer.render(
        subject="Re:\n {{ entity.lastName }}\n",
        body="x",
        format="html",
        context=context_for(contact(last_name="Müller & Söhne"), sender),
    )
    assert rendered.subject == "Re: Müller & Söhne"


def test_twig_whitespace_rules(renderer: TemplateRenderer, sender: Sender) -> None:
    source = "{% if true %}\nline\n{% endif %}\n{{- ' trimmed' }}\n"
    assert body(renderer, source, context_for(None, sender), "text") == "line\n trimmed\n"


def test_unsupported_syntax_is_reported_with_lines(renderer: TemplateRenderer) -> None:
    check = renderer.check("{% apply upper %}x{% endapply %}", format="html")
    assert check.problems == (
        "line 1: the tag 'apply' is not supported",
        "line 1: the tag 'endapply' is not supported",
    )
    check = renderer.check("a\n{{ entity.x|raw }}\n{{ url('home') }}\n{{ entity.getName() }}", format="html")
    assert check.problems == (
        "line 2: the filter 'raw' is not supported",
        "line 3: the function 'url' is not supported",
        "line 4: calling entity.getName() is not supported",
    )
    assert renderer.check("{{ entity.firstName ~ }}", format="html").problems[0].startswith("line 1:")


def test_compiled_templates_are_cached_by_key(renderer: TemplateRenderer, sender: Sender) -> None:
    context = context_for(contact(), sender)
    for _ in range(3):
        renderer.render(
            subject="Hi", body="{{ entity.firstName }}", format="html", context=context, key=(1, 1, "")
        )
    assert renderer.compilations == 2  # subject and body, once
    second = renderer.render(
        subject="Hi", body="{{ entity.lastName }}", format="html", context=context, key=(1, 2, "")
    )
    assert second.body == "Wagner"  # a new version is compiled anew


def test_a_bad_time_zone_fails_the_render(renderer: TemplateRenderer, sender: Sender) -> None:
    with pytest.raises(TemplateRenderFailed):
        body(renderer, "x", context_for(None, sender, timezone="Mars/Olympus"))


def test_a_filled_top_level_name_completes_the_email_but_cannot_replace_a_view(
    renderer: TemplateRenderer, sender: Sender
) -> None:
    context = context_for(contact(), sender, filled={"note": "call me", "entity": "hijacked"})
    rendered = renderer.render(
        subject="s", body="{{ note }} / {{ entity.firstName }}", format="text", context=context
    )
    assert rendered.body == "call me / Sophie" and rendered.ready


def test_a_missing_value_equals_an_empty_string_like_twig(renderer: TemplateRenderer, sender: Sender) -> None:
    out = body(
        renderer, "{% if entity.poNumber == '' %}no PO{% endif %}", context_for(order(po_number=None), sender)
    )
    assert out == "no PO"
