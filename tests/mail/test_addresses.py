from __future__ import annotations

from connector.mail.addresses import EmailAddress, parse_address_list


def test_display_names_and_encoded_words_are_decoded() -> None:
    found = parse_address_list(
        '"Müller, Jörg" <J.Mueller@Example.COM>, =?utf-8?q?Ren=C3=A9e?= <renee@x.example>'
    )
    assert [a.name for a in found] == ["Müller, Jörg", "Renée"]
    assert found[0].address == "J.Mueller@example.com"
    assert found[0].key == "j.mueller@example.com"


def test_idna_domains_compare_in_ascii_and_show_in_unicode() -> None:
    (a,) = parse_address_list("info@Bücher.example")
    (b,) = parse_address_list("INFO@xn--bcher-kva.example")
    assert a.key == b.key == "info@xn--bcher-kva.example"
    assert a.display_domain == "bücher.example"


def test_plus_addresses_keep_their_base() -> None:
    address = EmailAddress.parse("Jane+Orders@shop.example")
    assert address is not None
    assert address.is_plus_addressed
    assert address.base_key == "jane@shop.example"
    plain = EmailAddress.parse("jane@shop.example")
    assert plain is not None and not plain.is_plus_addressed


def test_lists_from_several_headers_drop_repeats_and_garbage() -> None:
    found = parse_address_list("a@x.example, A@X.example", "undisclosed-recipients:;", None, "b@y.example")
    assert [a.key for a in found] == ["a@x.example", "b@y.example"]
    assert EmailAddress.parse("not an address") is None
