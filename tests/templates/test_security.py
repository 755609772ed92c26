"""Server-side template injection: every payload is refused, or renders inert.

"Refused" means the render raises one of our template errors (the template is not stored, not sent);
"inert" means it renders, shows nothing of the server, and any name it tried is only reported missing.
"""

from __future__ import annotations

import pytest

from connector.templates.errors import TemplateError, TemplateInvalid, TemplateRenderFailed, TemplateUnsafe
from connector.templates.rendering import Sender, TemplateRenderer
from tests.templates.conftest import contact, context_for

PAYLOADS: list[tuple[str, str, type[TemplateError] | str]] = [
    ("dunder on a record", "{{ entity.__class__ }}", TemplateInvalid),
    ("subclasses walk", "{{ entity.__class__.__mro__[1].__subclasses__() }}", TemplateInvalid),
    ("mro of a string", "{{ ''.__class__.__mro__[1].__subclasses__() }}", TemplateInvalid),
    ("globals of a method", "{{ entity.firstName.upper.__globals__ }}", TemplateInvalid),
    ("subscript dunder", "{{ entity['__class__'] }}", TemplateInvalid),
    ("dunder built at runtime", "{% set k = '__cla' ~ 'ss__' %}{{ entity[k] }}", TemplateUnsafe),
    ("dunder on a value at runtime", "{% set k = '__init__' %}{{ entity.firstName[k] }}", TemplateUnsafe),
    ("flask config", "{{ config.items() }}", TemplateInvalid),
    ("config secret", "{{ config['SECRET_KEY'] }}", "[missing: config.SECRET_KEY]"),
    ("self reference", "{{ self }}", TemplateInvalid),
    ("self globals", "{{ self.__init__.__globals__.__builtins__ }}", TemplateInvalid),
    ("cycler globals", "{{ cycler.__init__.__globals__.os.popen('id').read() }}", TemplateInvalid),
    ("lipsum globals", "{{ lipsum.__globals__['os'] }}", TemplateInvalid),
    ("lipsum call", "{{ lipsum(1000000, false, 1, 1000000) }}", TemplateInvalid),
    ("joiner call", "{{ joiner('x')() }}", TemplateInvalid),
    ("namespace", "{% set ns = namespace(x=entity) %}{{ ns.x }}", TemplateInvalid),
    ("request object", "{{ request.environ }}", "[missing: request.environ]"),
    ("url_for globals", "{{ url_for.__globals__.current_app.config }}", TemplateInvalid),
    ("huge range", "{% for i in range(1000000000) %}{% endfor %}", TemplateInvalid),
    ("range length", "{{ range(10**9)|length }}", TemplateInvalid),
    ("str.format attribute", "{{ '{0.__class__.__mro__}'.format(entity) }}", TemplateInvalid),
    ("str.format at runtime", "{% set f = 'format' %}{{ ''[f] }}", TemplateUnsafe),
    ("format filter with attribute", "{{ '%(firstName)s %(__class__)s'|format(entity) }}", TemplateUnsafe),
    ("format filter repr", "{{ '%r'|format(entity) }}", TemplateUnsafe),
    ("percent operator", "{{ '%(x)s' % entity }}", TemplateUnsafe),
    ("format width DoS", "{{ '%999999999d'|format(1) }}", TemplateUnsafe),
    ("format filter on a record", "{{ '%s'|format(entity) }}", "Sophie Wagner"),
    ("attr filter walk", "{{ entity|attr('__class__')|attr('__mro__') }}", TemplateInvalid),
    ("map attribute walk", "{{ entity.emails|map(attribute='__class__')|list }}", TemplateInvalid),
    ("map on a record", "{{ [entity]|map(attribute='firstName')|join }}", TemplateInvalid),
    ("string multiplication DoS", "{{ 'A' * 1000000000 }}", TemplateUnsafe),
    ("list multiplication DoS", "{{ ([1] * 100000000)|length }}", TemplateUnsafe),
    ("power DoS", "{{ 10 ** 1000000000 }}", TemplateUnsafe),
    (
        "doubling with set",
        "{% set s = 'xxxxxxxxxx' %}" + "{% set s = s ~ s %}" * 40 + "{{ s|length }}",
        TemplateUnsafe,
    ),
    (
        "nested loops DoS",
        "{% for a in 'x' * 1000 %}{% for b in 'x' * 1000 %}{% endfor %}{% endfor %}",
        TemplateUnsafe,
    ),
    ("output flood", "{% for a in 'x' * 5000 %}{{ 'y' * 100000 }}{% endfor %}", TemplateUnsafe),
    ("macro recursion", "{% macro r() %}{{ r() }}{% endmacro %}{{ r() }}", TemplateInvalid),
    ("recursive loop", "{% for x in [1] recursive %}{{ loop([1]) }}{% endfor %}", TemplateInvalid),
    ("deep nesting", "{{ " + "(" * 3000 + "1" + ")" * 3000 + " }}", TemplateInvalid),
    ("loop.cycle", "{% for i in [1, 2] %}{{ loop.cycle('a', 'b') }}{% endfor %}", TemplateInvalid),
    ("loop internals", "{% for i in [1] %}{{ loop._iterator }}{% endfor %}", TemplateInvalid),
    (
        "loop cycle by name",
        "{% for i in [1] %}{% set c = 'cycle' %}{{ loop[c] }}{% endfor %}",
        TemplateUnsafe,
    ),
    ("list mutation", "{{ entity.emails.append('x') }}", TemplateInvalid),
    ("dict literal walk", "{% set d = {'a': entity} %}{{ d.a.__dict__ }}", TemplateInvalid),
    ("values of a dict", "{% set d = {'a': 1} %}{% set v = 'values' %}{{ d[v] }}", TemplateUnsafe),
    ("method call on a value", "{{ entity.firstName.replace('S', 'X') }}", TemplateInvalid),
    ("include a file", "{% include '/etc/passwd' %}", TemplateInvalid),
    ("import a template", "{% import 'settings.py' as s %}", TemplateInvalid),
    ("extends", "{% extends oro_get_email_template('base') %}", TemplateInvalid),
    ("autoescape off", "{% autoescape false %}{{ entity.firstName }}{% endautoescape %}", TemplateInvalid),
    ("raw filter (Twig)", "{{ entity.firstName|raw }}", TemplateInvalid),
    ("safe filter (Jinja)", "{{ entity.firstName|safe }}", TemplateInvalid),
    ("iterate a record", "{% for f in entity %}{{ f }}{% endfor %}", TemplateRenderFailed),
    ("undefined call", "{{ os.system('id') }}", TemplateInvalid),
    ("dict constructor", "{{ dict(a=1).items() }}", TemplateInvalid),
    ("escape strategy", "{{ entity.firstName|e('js') }}", TemplateRenderFailed),
]


@pytest.mark.parametrize(("payload", "expected"), [p[1:] for p in PAYLOADS], ids=[p[0] for p in PAYLOADS])
def test_injection_payload_is_refused_or_inert(
    renderer: TemplateRenderer, payload: str, expected: type[TemplateError] | str
) -> None:
    record = contact(emails=("sophie.wagner@nordlicht.example",))
    context = context_for(record, Sender("Alice"))
    if isinstance(expected, str):
        rendered = renderer.render(subject="s", body=payload, format="html", context=context)
        assert rendered.body == expected
        for leak in ("class", "function", "module", "object at", "__", "<"):
            assert leak not in rendered.body
        return
    with pytest.raises(expected) as refused:
        renderer.render(subject="s", body=payload, format="html", context=context)
    assert refused.value.code in ("template_invalid", "template_unsafe", "template_render_failed")
    message = " ".join((refused.value.message, *getattr(refused.value, "problems", ())))
    assert "object at 0x" not in message and "Traceback" not in message


def test_there_are_at_least_thirty_payloads() -> None:
    assert len(PAYLOADS) >= 30


def test_payloads_in_the_subject_are_refused_too(renderer: TemplateRenderer) -> None:
    with pytest.raises(TemplateInvalid):
        renderer.render(
            subject="{{ entity.__class__ }}",
            body="x",
            format="html",
            context=context_for(contact(), Sender("A")),
        )


def test_a_refused_render_leaves_no_state_behind(renderer: TemplateRenderer) -> None:
    context = context_for(contact(), Sender("A"))
    with pytest.raises(TemplateUnsafe):
        renderer.render(
            subject="s", body="{% for a in 'x' * 100000 %}{% endfor %}", format="html", context=context
        )
    # the next render starts with a fresh iteration budget and no stale missing fields
    rendered = renderer.render(
        subject="s",
        body="{% for a in 'x' * 9000 %}{% endfor %}{{ entity.firstName }}",
        format="html",
        context=context,
    )
    assert rendered.body == "Sophie" and rendered.missing == ()
