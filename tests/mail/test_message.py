"""The neutral message model: what a host's headers become before linking sends them to Oro."""

from __future__ import annotations

from datetime import UTC, datetime

from connector.mail.message import MailMessage, html_to_text


def test_headers_give_the_ids_oro_threads_by_and_the_people_on_the_email() -> None:
    message = MailMessage.from_headers(
        thread_id="18c2f0a1",
        mailbox="alice@acme.example",
        headers={
            "Message-ID": " <r2@lumiere-optique.example> ",
            "From": "=?utf-8?q?In=C3=A8s_Moreau?= <ines.moreau@lumiere-optique.example>",
            "To": "Alice Martin <alice@acme.example>",
            "Cc": "claire@acme.example, Alice <ALICE@acme.example>",
            "Subject": "Re: Lens coating",
            "Date": "Mon, 02 Nov 2026 09:12:00 +0100",
            "References": "<r0@acme.example>\r\n <r1@lumiere-optique.example>",
            "In-Reply-To": "<r1@lumiere-optique.example>",
        },
    )

    assert message.message_id == "<r2@lumiere-optique.example>"
    assert message.references == ("<r0@acme.example>", "<r1@lumiere-optique.example>")
    assert message.date == datetime(2026, 11, 2, 8, 12, tzinfo=UTC)
    assert message.sender is not None and message.sender.name == "Inès Moreau"
    assert [(a.address, role) for a, role in message.participants()] == [
        ("ines.moreau@lumiere-optique.example", "from"), ("claire@acme.example", "cc"),
    ]


def test_an_html_body_reads_as_text_without_its_quoted_part() -> None:
    body = "<div>Thursday works.<br>Inès</div><div class=\"gmail_quote\">On Mon, Alice wrote:<blockquote>Old"
    assert html_to_text(body, drop_quotes=True) == "Thursday works.\nInès"
    assert "Old" in html_to_text(body)
