"""The sample conversations of the sandbox mailboxes (alice's and bob's), scripted around the named
examples: the triple person, the shared address, mixed-case, plus- and secondary addresses, an
unknown sender from a known company's domain, a multi-party thread, a sender alice may not see, a
thread Oro already has, and an internal handover that sits in both mailboxes.

Message-IDs are fixed (``<{topic}-{n}@{sender's domain}>``); Gmail-style ids derive from the seed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from connector.sandbox import examples as ex


@dataclass(frozen=True)
class Address:
    name: str
    email: str


@dataclass(frozen=True)
class SampleMessage:
    id: str  # Gmail-style 16-hex id
    message_id: str  # RFC 5322 "<...@...>"
    thread_id: str
    mailbox: str  # the owner's address
    sender: Address
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    subject: str
    date: datetime  # aware, UTC
    in_reply_to: str | None
    references: tuple[str, ...]
    body_text: str

    @property
    def snippet(self) -> str:
        """The first words of the body on one line, as Gmail shows them in a list."""
        text = " ".join(self.body_text.split())
        return text if len(text) <= 100 else text[:99].rstrip() + "…"


@dataclass(frozen=True)
class SampleThread:
    id: str
    mailbox: str
    subject: str
    messages: tuple[SampleMessage, ...]


ALICE = Address("Alice Martin", ex.ALICE_MAILBOX)
BOB = Address("Bob Okafor", ex.BOB_MAILBOX)
CLAIRE = Address("Claire Dubois", "claire@acme.example")
INES = Address(ex.TRIPLE_PERSON_NAME, ex.TRIPLE_PERSON_EMAIL)
HARALDSEN = Address("Haraldsen Bygg", ex.SHARED_ADDRESS)
LEFEVRE = Address("Jean-Baptiste Lefèvre", ex.MIXED_CASE_SENT_EMAIL)
KENTA = Address("佐藤 健太", ex.PLUS_ADDRESS)
LUKAS_PRIVATE = Address("Lukas Müller", ex.SECONDARY_ADDRESS)
LUKAS = Address("Lukas Müller", ex.SECONDARY_PRIMARY_ADDRESS)
PROCUREMENT = Address("Einkauf Nordlicht", ex.UNKNOWN_SENDER)
HANAKO = Address("山田 花子", ex.JAPANESE_CONTACT_EMAIL)
MARIA = Address("María González", ex.HIDDEN_FROM_ALICE_EMAIL)
SOPHIE = Address("Sophie Wagner", "sophie.wagner@nordlicht-logistik.example")
NEWS = Address("Industry Weekly", ex.NO_MATCH_SENDER)
ETHAN = Address("Ethan Clarke", "ethan.clarke@mapleridge-supply.example")
OLIVIA = Address("Olivia Brooks", "olivia.brooks@mapleridge-supply.example")
PRIYA = Address("Priya Raman", ex.LEAD_ONLY_EMAIL)
LUCAS = Address("Lucas Pereira", ex.CUSTOMER_USER_ONLY_EMAIL)
AMELIA = Address("Amelia Hughes", "amelia.hughes@copperline.example")


@dataclass(frozen=True)
class _Line:
    sender: Address
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    days_ago: int
    time: str  # "HH:MM", UTC
    body: str


@dataclass(frozen=True)
class _Script:
    key: str | None
    topic: str  # Message-ID stem
    mailboxes: tuple[str, ...]
    subject: str
    lines: tuple[_Line, ...]


def _line(
    sender: Address, to: list[Address], days_ago: int, time: str, body: str, cc: list[Address] | None = None
) -> _Line:
    return _Line(sender, tuple(to), tuple(cc or ()), days_ago, time, body)


SCRIPTS: tuple[_Script, ...] = (
    _Script(
        ex.THREAD_TRIPLE_PERSON,
        "lens-coating",
        (ex.ALICE_MAILBOX,),
        "Lens coating order — delivery date?",
        (
            _line(
                INES,
                [ALICE],
                6,
                "09:12",
                "Bonjour Alice,\n\nCould you confirm the delivery date for our order of "
                "AR-coated lenses? Our production starts on the 20th.\n\nMerci,\nInès",
            ),
            _line(
                ALICE,
                [INES],
                6,
                "11:40",
                "Hi Inès,\n\nThe coating line confirmed shipment on the 14th; you will "
                "have tracking by Friday.\n\nBest,\nAlice",
            ),
            _line(
                INES,
                [ALICE],
                5,
                "08:05",
                "Parfait, thank you! Could you also send the updated price list for 2027?\n\nInès",
            ),
        ),
    ),
    _Script(
        ex.THREAD_SHARED_ADDRESS,
        "site-visit",
        (ex.ALICE_MAILBOX,),
        "Site visit next Tuesday",
        (
            _line(
                HARALDSEN,
                [ALICE],
                9,
                "13:30",
                "Hei Alice,\n\nØrjan and I would like to walk you through the new "
                "warehouse next Tuesday. Does 10:00 suit you?\n\nHilsen,\nSølvi",
            ),
            _line(
                ALICE,
                [HARALDSEN],
                9,
                "15:02",
                "Hei Sølvi,\n\n10:00 works for me. See you both on Tuesday!\n\nAlice",
            ),
        ),
    ),
    _Script(
        ex.THREAD_MIXED_CASE,
        "devis-atelier",
        (ex.ALICE_MAILBOX,),
        "Devis pour l'atelier",
        (
            _line(
                LEFEVRE,
                [ALICE],
                4,
                "10:15",
                "Bonjour Madame Martin,\n\nPourriez-vous nous envoyer un devis pour 40 "
                "établis ?\n\nCordialement,\nJean-Baptiste Lefèvre",
            ),
            _line(
                ALICE,
                [LEFEVRE],
                4,
                "16:45",
                "Bonjour Monsieur Lefèvre,\n\nLe devis suit demain matin.\n\nBien "
                "cordialement,\nAlice Martin",
            ),
        ),
    ),
    _Script(
        ex.THREAD_PLUS_ADDRESS,
        "invoice-1187",
        (ex.ALICE_MAILBOX,),
        "Invoice 2026-1187: question",
        (
            _line(
                KENTA,
                [ALICE],
                3,
                "02:20",
                "Hello Alice-san,\n\nInvoice 2026-1187 lists 12 units but we received 10. "
                "Could you check?\n\nBest regards,\nKenta Sato",
            ),
            _line(
                ALICE,
                [KENTA],
                3,
                "08:10",
                "Dear Sato-san,\n\nThank you for flagging this. I have asked accounting "
                "to issue a credit note for two units.\n\nAlice",
            ),
        ),
    ),
    _Script(
        ex.THREAD_SECONDARY_ADDRESS,
        "pallet-tracking",
        (ex.ALICE_MAILBOX,),
        "Pallet tracking (sent from my private address)",
        (
            _line(
                LUKAS_PRIVATE,
                [ALICE],
                2,
                "19:40",
                "Hi Alice,\n\nWriting from my private address as I am off today: "
                "do you have the tracking numbers for the pallets to Hamburg?\n\nLukas",
            ),
            _line(
                ALICE,
                [LUKAS_PRIVATE],
                1,
                "07:55",
                "Hi Lukas,\n\nHere they are: DE-PAL-5512 and DE-PAL-5513. "
                "Copying your work address for the record.\n\nAlice",
                cc=[LUKAS],
            ),
        ),
    ),
    _Script(
        ex.THREAD_UNKNOWN_SENDER,
        "rahmenvertrag",
        (ex.ALICE_MAILBOX,),
        "Anfrage: Rahmenvertrag 2027",
        (
            _line(
                PROCUREMENT,
                [ALICE],
                1,
                "09:30",
                "Sehr geehrte Frau Martin,\n\nwir möchten für 2027 einen "
                "Rahmenvertrag über Verpackungsmaterial anfragen.\n\nMit freundlichen Grüßen\n"
                "Einkauf, Nordlicht Logistik GmbH",
            ),
        ),
    ),
    _Script(
        ex.THREAD_MULTI_PARTY,
        "q1-rollout",
        (ex.ALICE_MAILBOX,),
        "Q1 roll-out plan",
        (
            _line(
                ALICE,
                [INES, LUKAS],
                8,
                "10:00",
                "Hello all,\n\nAttached is the draft roll-out plan for Q1. Please "
                "send comments by Friday.\n\nAlice",
                cc=[CLAIRE, HANAKO],
            ),
            _line(
                INES,
                [ALICE],
                8,
                "14:22",
                "Looks good from our side; week 3 is tight for us.\n\nInès",
                cc=[LUKAS, CLAIRE, HANAKO],
            ),
            _line(
                HANAKO,
                [ALICE, INES],
                7,
                "01:10",
                "皆様\n\n計画を拝見しました。第2週の出荷で問題ありません。\n\n山田",
                cc=[LUKAS, CLAIRE],
            ),
        ),
    ),
    _Script(
        None,
        "osaka-samples",
        (ex.ALICE_MAILBOX,),
        "大阪工場向けサンプルについて",
        (
            _line(
                HANAKO,
                [ALICE],
                10,
                "03:00",
                "マーティン様\n\n大阪工場向けのサンプルを10個お送りいただけますでしょうか。\n\n山田 花子",
            ),
            _line(
                ALICE,
                [HANAKO],
                10,
                "09:30",
                "Dear Yamada-san,\n\nThe ten samples will ship on Monday.\n\nBest regards,\nAlice",
            ),
        ),
    ),
    _Script(
        ex.THREAD_HIDDEN_FROM_ALICE,
        "tejidos",
        (ex.ALICE_MAILBOX,),
        "Consulta: tejidos técnicos",
        (
            _line(
                MARIA,
                [ALICE],
                5,
                "15:00",
                "Hola Alice,\n\nBob me dio tu contacto. ¿Podrían cotizar tejidos técnicos "
                "para Europa?\n\nSaludos,\nMaría",
            ),
        ),
    ),
    _Script(
        ex.THREAD_LINKED_IN_ORO,
        "contract-renewal",
        (ex.ALICE_MAILBOX,),
        "Renewal of the service contract",
        (
            _line(
                SOPHIE,
                [ALICE],
                20,
                "09:00",
                "Dear Alice,\n\nOur service contract ends in December. Could you send a "
                "renewal offer?\n\nKind regards,\nSophie Wagner",
            ),
            _line(
                ALICE,
                [SOPHIE],
                19,
                "11:00",
                "Dear Sophie,\n\nThe renewal offer is attached; prices are unchanged "
                "for 2027.\n\nBest,\nAlice",
            ),
            _line(
                SOPHIE,
                [ALICE],
                18,
                "16:30",
                "Thank you, we will sign next week. Copying Lukas for logistics.\n\nSophie",
                cc=[LUKAS],
            ),
        ),
    ),
    _Script(
        None,
        "packaging-trends",
        (ex.ALICE_MAILBOX,),
        "Industry Weekly: packaging trends 2027",
        (
            _line(
                NEWS,
                [ALICE],
                2,
                "06:00",
                "This week: recyclable films, pallet pooling and what 2027 holds for packaging buyers.",
            ),
        ),
    ),
    _Script(
        None,
        "invoice-copy",
        (ex.ALICE_MAILBOX,),
        "Copy of invoice 2026-0933",
        (
            _line(
                SOPHIE,
                [ALICE],
                12,
                "08:45",
                "Hello Alice,\n\nCould you resend invoice 2026-0933? Our AP team cannot "
                "find it.\n\nThanks,\nSophie",
            ),
        ),
    ),
    _Script(
        ex.THREAD_HANDOVER,
        "handover-andes",
        (ex.ALICE_MAILBOX, ex.BOB_MAILBOX),
        "Handover: Andes Textiles",
        (
            _line(
                BOB,
                [ALICE],
                11,
                "17:00",
                "Alice,\n\nMaría González from Andes Textiles may contact you about Europe. "
                "Her account stays with me.\n\nBob",
            ),
            _line(ALICE, [BOB], 11, "17:45", "Thanks Bob, I will loop you in if she writes.\n\nAlice"),
        ),
    ),
    _Script(
        None,
        "po-4471",
        (ex.BOB_MAILBOX,),
        "PO 4471 status",
        (
            _line(MARIA, [BOB], 7, "13:00", "Hola Bob,\n\n¿Cuál es el estado del pedido PO 4471?\n\nMaría"),
            _line(
                BOB,
                [MARIA],
                7,
                "15:20",
                "Hola María,\n\nIt ships on Thursday; I will send the tracking link.\n\nBob",
            ),
            _line(MARIA, [BOB], 6, "12:10", "¡Gracias, Bob!\n\nMaría"),
        ),
    ),
    _Script(
        None,
        "maple-reorder",
        (ex.BOB_MAILBOX,),
        "Maple Ridge — reorder",
        (
            _line(
                ETHAN,
                [BOB],
                4,
                "14:00",
                "Hi Bob,\n\nWe need to reorder the 40 ft trailer covers, same spec as in March.\n\nEthan",
            ),
            _line(
                BOB,
                [ETHAN],
                4,
                "16:00",
                "Hi Ethan,\n\nNoted. Olivia will get the order confirmation today.\n\nBob",
                cc=[OLIVIA],
            ),
        ),
    ),
    _Script(
        None,
        "distributor-inquiry",
        (ex.BOB_MAILBOX,),
        "Distributor inquiry",
        (
            _line(
                PRIYA,
                [BOB],
                3,
                "18:30",
                "Hello Bob,\n\nBlue Canyon Outdoor would like to discuss becoming a "
                "distributor in Colorado. Do you have time next week?\n\nPriya Raman",
            ),
        ),
    ),
    _Script(
        None,
        "damaged-shipment",
        (ex.BOB_MAILBOX,),
        "Damaged shipment",
        (
            _line(
                LUCAS,
                [BOB],
                2,
                "10:10",
                "Hi Bob,\n\nTwo cartons of our last order arrived crushed. Photos attached.\n\nLucas",
            ),
            _line(
                BOB,
                [LUCAS],
                2,
                "11:30",
                "Hi Lucas,\n\nSorry about that. I have opened a case; Amelia will follow up "
                "on quality.\n\nBob",
                cc=[AMELIA],
            ),
        ),
    ),
    _Script(
        None,
        "maple-meeting-notes",
        (ex.BOB_MAILBOX,),
        "Meeting notes — Maple Ridge",
        (
            _line(
                ETHAN,
                [BOB, OLIVIA],
                1,
                "20:00",
                "All,\n\nNotes from today: pricing agreed, Copperline supplies the "
                "brackets, Lumière the lenses.\n\nEthan",
                cc=[AMELIA, INES],
            ),
        ),
    ),
    _Script(
        None,
        "quality-audit",
        (ex.BOB_MAILBOX,),
        "Quality audit dates",
        (
            _line(
                AMELIA,
                [BOB],
                13,
                "15:15",
                "Hi Bob,\n\nCould we schedule the supplier audit for the first week of December?\n\nAmelia",
            ),
            _line(BOB, [AMELIA], 12, "09:05", "Hi Amelia,\n\nDecember 2nd or 3rd both work.\n\nBob"),
        ),
    ),
)


def _domain(address: str) -> str:
    return address.rsplit("@", 1)[1]


def _gmail_id(seed: int, mailbox: str, message_id: str) -> str:
    return hashlib.sha256(f"{seed}/{mailbox}/{message_id}".encode()).hexdigest()[:16]


def build_threads(seed: int) -> tuple[list[SampleThread], dict[str, SampleThread]]:
    """All sample threads (one per mailbox that has the conversation) and the named ones by key."""
    threads: list[SampleThread] = []
    named: dict[str, SampleThread] = {}
    for script in SCRIPTS:
        headers: list[tuple[str, str | None, tuple[str, ...], datetime, str]] = []
        references: list[str] = []
        for n, line in enumerate(script.lines, start=1):
            message_id = f"<{script.topic}-{n}@{_domain(line.sender.email)}>"
            hour, minute = (int(part) for part in line.time.split(":"))
            when = (
                ex.ANCHOR.replace(hour=0, minute=0)
                - timedelta(days=line.days_ago)
                + timedelta(hours=hour, minutes=minute)
            )
            subject = script.subject if n == 1 else f"Re: {script.subject}"
            headers.append(
                (message_id, references[-1] if references else None, tuple(references), when, subject)
            )
            references.append(message_id)
        for mailbox in script.mailboxes:
            thread_id = _gmail_id(seed, mailbox, headers[0][0])
            messages = tuple(
                SampleMessage(
                    id=_gmail_id(seed, mailbox, message_id),
                    message_id=message_id,
                    thread_id=thread_id,
                    mailbox=mailbox,
                    sender=line.sender,
                    to=line.to,
                    cc=line.cc,
                    subject=subject,
                    date=when,
                    in_reply_to=in_reply_to,
                    references=refs,
                    body_text=line.body,
                )
                for line, (message_id, in_reply_to, refs, when, subject) in zip(
                    script.lines, headers, strict=True
                )
            )
            thread = SampleThread(thread_id, mailbox, script.subject, messages)
            threads.append(thread)
            if script.key is not None and script.key not in named:
                named[script.key] = thread
    threads.sort(key=lambda t: t.messages[-1].date, reverse=True)
    return threads, named
