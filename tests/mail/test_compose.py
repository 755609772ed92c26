"""Outgoing mail: the Message-ID the outbox looks for later, the reply subject, the plain-text
alternative, and the MIME bytes Gmail sends (read back with the standard library, as a receiver would)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from connector.mail.addresses import EmailAddress
from connector.mail.compose import build_mime, html_to_text, new_message_id, reply_subject


def address(text: str, name: str = "") -> EmailAddress:
    parsed = EmailAddress.parse(text, name)
    assert parsed is not None
    return parsed


ALICE = address("alice@acme.example", "Alice Martin")
HANAKO = address("hanako.yamada@sakura-kogaku.example", "山田 花子")
JB = address("jb.lefevre@atelier-lefevre.example", "Jean-Baptiste Lefèvre, Jr.")
CLAIRE = address("claire@acme.example")
# As long as the ids Gmail makes: longer than a header line once the name is in front.
LONG_ID = "<CAJx5YvE7k2n0PqRsTuVwXyZaBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789+AbC=dEf@mail.gmail.com>"


def parse(raw: bytes) -> EmailMessage:
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


# --- Message-ID and subject -------------------------------------------------------------------------------


def test_a_new_message_id_is_ours_and_never_repeats() -> None:
    made = {new_message_id("connector.example.com") for _ in range(1000)}
    assert len(made) == 1000
    for message_id in made:
        assert re.fullmatch(r"<[0-9a-f]{32}@connector\.example\.com>", message_id)


def test_a_message_id_domain_is_an_ascii_host() -> None:
    assert new_message_id(" Connector.Example.COM. ").endswith("@connector.example.com>")
    assert new_message_id("bücher.example").endswith("@xn--bcher-kva.example>")
    for bad in ("", "connector.example.com:8443", "a b.example", "<x>"):
        with pytest.raises(ValueError):
            new_message_id(bad)


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Lens coating order", "Re: Lens coating order"),
        ("Re: Lens coating order", "Re: Lens coating order"),
        ("RE: Lens coating order", "RE: Lens coating order"),
        ("re:Lens", "re:Lens"),
        ("Re : Lens", "Re : Lens"),
        ("Fwd: Lens", "Re: Fwd: Lens"),
        ("Regarding the lens", "Re: Regarding the lens"),
        ("見積もりのご依頼", "Re: 見積もりのご依頼"),
        ("", "Re:"),
        ("   ", "Re:"),
        ("Line\r\nbreak", "Re: Line break"),
    ],
)
def test_the_reply_subject_gets_one_re(subject: str, expected: str) -> None:
    assert reply_subject(subject) == expected


# --- the MIME message ---------------------------------------------------------------------------------------


def test_every_header_of_a_reply_reads_back_as_written() -> None:
    sent_at = datetime(2026, 11, 2, 9, 12, 30, tzinfo=UTC)
    raw = build_mime(
        sender=ALICE,
        to=[HANAKO, JB],
        cc=[CLAIRE],
        subject="Re: 見積もりのご依頼 — Lens coating",
        html="<p>Bonjour, <b>Inès</b></p>",
        text="Bonjour, Inès",
        message_id="<ours-1@connector.example.com>",
        in_reply_to="<r2@sakura-kogaku.example>",
        references=["<r1@acme.example>", "<r2@sakura-kogaku.example>"],
        date=sent_at,
    )
    message = parse(raw)
    assert str(message["From"]) == "Alice Martin <alice@acme.example>"
    to = message["To"].addresses
    assert [(a.display_name, a.addr_spec) for a in to] == [
        ("山田 花子", "hanako.yamada@sakura-kogaku.example"),
        ("Jean-Baptiste Lefèvre, Jr.", "jb.lefevre@atelier-lefevre.example"),
    ]
    assert [a.addr_spec for a in message["Cc"].addresses] == ["claire@acme.example"]
    assert str(message["Subject"]) == "Re: 見積もりのご依頼 — Lens coating"
    assert message["Date"].datetime == sent_at
    assert str(message["Message-ID"]) == "<ours-1@connector.example.com>"
    assert str(message["In-Reply-To"]) == "<r2@sakura-kogaku.example>"
    assert str(message["References"]) == "<r1@acme.example> <r2@sakura-kogaku.example>"
    assert message["MIME-Version"] == "1.0"
    assert message.get_all("Bcc") is None


def test_the_bytes_are_ascii_headers_with_crlf_line_ends() -> None:
    raw = build_mime(
        sender=HANAKO,
        to=[JB],
        cc=[],
        subject="見積もりのご依頼",
        html=None,
        text="こんにちは",
        message_id="<x@connector.example.com>",
        in_reply_to=None,
        references=[],
    )
    head, _, _ = raw.partition(b"\r\n\r\n")
    head.decode("ascii")  # non-ASCII names and subjects travel as RFC 2047 encoded words
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert all(len(line) <= 78 for line in head.split(b"\r\n"))
    message = parse(raw)
    assert message.get_all("Cc") is None and message.get_all("In-Reply-To") is None
    assert message.get_all("References") is None
    assert message.get_content_type() == "text/plain"
    assert message.get_content().strip() == "こんにちは"


def test_html_and_text_are_alternatives_text_first() -> None:
    raw = build_mime(
        sender=ALICE,
        to=[HANAKO],
        cc=[],
        subject="Quote",
        html="<p>Price: 12&nbsp;&euro;</p>",
        text="Price: 12 €",
        message_id="<x@connector.example.com>",
        in_reply_to=None,
        references=[],
    )
    message = parse(raw)
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert isinstance(parts[0], EmailMessage) and isinstance(parts[1], EmailMessage)
    assert parts[0].get_content().strip() == "Price: 12 €"
    assert parts[1].get_content().strip() == "<p>Price: 12&nbsp;&euro;</p>"


def test_long_message_ids_are_never_encoded_words() -> None:
    """Python folds any over-long header token as =?utf-8?q?...?=; nobody decodes that in References,
    and Gmail would then not put the reply in the thread."""
    chain = [f"<{n}-{LONG_ID[1:]}" for n in range(4)]
    raw = build_mime(
        sender=ALICE,
        to=[CLAIRE],
        cc=[],
        subject="Re: Lens",
        html=None,
        text="ok",
        message_id=LONG_ID,
        in_reply_to=chain[-1],
        references=chain,
    )
    assert b"=?" not in raw
    head = raw.partition(b"\r\n\r\n")[0].decode("ascii")
    assert f"Message-ID: {LONG_ID}\r\n" in head
    assert f"In-Reply-To: {chain[-1]}\r\n" in head
    assert "References: " + "\r\n ".join(chain) + "\r\n" in head
    message = parse(raw)
    assert str(message["References"]).split() == chain
    assert str(message["In-Reply-To"]) == chain[-1]


def test_references_end_with_the_parent_each_once_in_angle_brackets() -> None:
    raw = build_mime(
        sender=ALICE,
        to=[HANAKO],
        cc=[],
        subject="Re: Lens",
        html=None,
        text="ok",
        message_id="ours@connector.example.com",
        in_reply_to="r2@sakura-kogaku.example",
        references=["<r0@acme.example>", "r1@acme.example", "<r0@acme.example>", " "],
    )
    message = parse(raw)
    assert str(message["Message-ID"]) == "<ours@connector.example.com>"
    assert str(message["In-Reply-To"]) == "<r2@sakura-kogaku.example>"
    assert str(message["References"]) == "<r0@acme.example> <r1@acme.example> <r2@sakura-kogaku.example>"


def test_a_subject_or_name_cannot_add_a_header() -> None:
    raw = build_mime(
        sender=address("alice@acme.example", "Alice\r\nBcc: eve@evil.example"),
        to=[HANAKO],
        cc=[],
        subject="Quote\r\nBcc: eve@evil.example",
        html=None,
        text="ok",
        message_id="<x@connector.example.com>",
        in_reply_to=None,
        references=[],
    )
    message = parse(raw)
    assert message.get_all("Bcc") is None
    assert str(message["Subject"]) == "Quote Bcc: eve@evil.example"


def test_a_message_needs_a_recipient() -> None:
    with pytest.raises(ValueError, match="recipient"):
        build_mime(
            sender=ALICE,
            to=[],
            cc=[],
            subject="s",
            html=None,
            text="t",
            message_id="<x@y.example>",
            in_reply_to=None,
            references=[],
        )


# --- HTML to text -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "text"),
    [
        (
            "<p>Hello Inès,</p><p>12&nbsp;&euro; &amp; &lt;net&gt; &#x2014; &quot;ok&quot;</p>",
            'Hello Inès,\n\n12 € & <net> — "ok"',
        ),
        ("<div>Thursday works.<br>Inès</div><div>Alice</div>", "Thursday works.\nInès\nAlice"),
        ("one<br><br>two<br/>three", "one\n\ntwo\nthree"),
        ("<p>  lots \n\t of   <b>space</b> </p>", "lots of space"),
        ("Hello <b>world</b>!", "Hello world!"),
        (
            '<p>See <a href="https://oro.example/quotes/7">the quote</a>.</p>',
            "See the quote (https://oro.example/quotes/7).",
        ),
        ('<a href="https://oro.example">https://oro.example</a>', "https://oro.example"),
        ('<a href="mailto:sales@acme.example">sales@acme.example</a>', "sales@acme.example"),
        ('<a href="mailto:sales@acme.example">Write to us</a>', "Write to us (sales@acme.example)"),
        ('<a href="#top">Top</a> <a href="javascript:void(0)">Click</a>', "Top Click"),
        ('<a href="https://acme.example"><img src="logo.png" alt="ACME"></a>', "ACME (https://acme.example)"),
        (
            "<ul><li>one</li><li>two<ul><li>two a</li></ul></li><li>three</li></ul><p>after</p>",
            "- one\n- two\n  - two a\n- three\n\nafter",
        ),
        ("<ol><li>first</li><li>second</li></ol>", "1. first\n2. second"),
        ("<h1>Order</h1><p>shipped</p>", "Order\n\nshipped"),
        (
            "<p>a</p><blockquote><p>quoted</p><p>more</p></blockquote><p>b</p>",
            "a\n\n> quoted\n>\n> more\n\nb",
        ),
        (
            "<table><tr><th>Item</th><th>Price</th></tr><tr><td>Lens</td><td>12 €</td></tr></table>",
            "Item Price\nLens 12 €",
        ),
        ("<pre>  code\n    indented</pre>", "  code\n    indented"),
        ("above<hr>below", "above\n\n---\n\nbelow"),
        (
            "<html><head><title>Mail</title><style>p {color: red}</style></head>"
            "<body><script>alert(1)</script><p>Body</p></body></html>",
            "Body",
        ),
        ("<p></p><p>  </p><div><br></div><p>only</p><p></p>", "only"),
        ("", ""),
        ("plain text, no tags", "plain text, no tags"),
    ],
)
def test_html_reads_as_plain_text(html: str, text: str) -> None:
    assert html_to_text(html) == text


def test_a_reply_goes_to_reply_to_else_the_sender_and_on_ones_own_message_to_its_recipients() -> None:
    from connector.mail.compose import message_id_domain, reply_recipients

    def a(text: str) -> EmailAddress:
        found = EmailAddress.parse(text)
        assert found is not None
        return found

    me, ines, desk, bob = (
        a("alice@acme.example"),
        a("ines@l.example"),
        a("desk@l.example"),
        a("bob@x.example"),
    )
    assert reply_recipients("Alice@Acme.example", sender=ines, to=(me,)) == (ines,)
    assert reply_recipients("alice@acme.example", sender=ines, reply_to=(desk,), to=(me,)) == (desk,)
    assert reply_recipients("alice@acme.example", sender=me, to=(ines, me, bob)) == (ines, bob)
    assert reply_recipients("alice@acme.example", sender=None, to=(ines,)) == (ines,)
    assert message_id_domain("https://connector.example.com:8443/base") == "connector.example.com"
