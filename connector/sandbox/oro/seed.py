"""Sample data of the sandbox's Oro, deterministic from a seed.

First the fixed cast of :mod:`connector.sandbox.examples` (same ids and addresses for every seed),
then seeded bulk data around it: 60 accounts with their business customers and Commerce customers,
200 contacts, 300 customer users, 100 leads, 80 opportunities, 500 orders over every internal status,
RFQs, cases, tasks and notes. Names go well beyond ASCII.
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from connector.sandbox import examples as ex
from connector.sandbox.oro.schema import RESOURCES, Record, Ref
from connector.sandbox.oro.store import SANDBOX_PASSWORD, EmailTemplate, OroState

ENUMS: dict[str, list[tuple[str, str]]] = {
    "leadstatuses": [("new", "New"), ("qualified", "Qualified"), ("canceled", "Disqualified")],
    "opportunitystatuses": [
        ("in_progress", "Open"),
        ("identification_alignment", "Identification & Alignment"),
        ("needs_analysis", "Needs Analysis"),
        ("solution_development", "Solution Development"),
        ("negotiation", "Negotiation"),
        ("won", "Closed Won"),
        ("lost", "Closed Lost"),
    ],
    "orderinternalstatuses": [
        ("open", "Open"),
        ("pending", "Pending"),
        ("processing", "Processing"),
        ("closed", "Closed"),
        ("cancelled", "Cancelled"),
    ],
    "orderstatuses": [],
    "ordershippingstatuses": [("not_shipped", "Not Shipped"), ("shipped", "Shipped")],
    "taskstatuses": [("open", "Open"), ("in_progress", "In Progress"), ("closed", "Closed")],
    "rfqinternalstatuses": [
        ("open", "Open"),
        ("processed", "Processed"),
        ("more_info_requested", "More Info Requested"),
        ("declined", "Declined"),
        ("cancelled_by_customer", "Cancelled By Customer"),
        ("deleted", "Deleted"),
    ],
    "rfqcustomerstatuses": [
        ("submitted", "Submitted"),
        ("pending_approval", "Pending Approval"),
        ("requires_attention", "Requires Attention"),
        ("cancelled", "Cancelled"),
    ],
    "customerratings": [(f"{n}_of_5", f"{n} of 5") for n in range(1, 6)],
    "userauthstatuses": [("active", "Active"), ("expired", "Password reset"), ("locked", "Locked")],
    "leadsources": [
        ("website", "Website"),
        ("direct_mail", "Direct Mail"),
        ("partner", "Partner"),
        ("email_marketing", "Email Marketing"),
    ],
}
DICTIONARIES: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "opportunityclosereasons": [
        ("outsold", {"label": "Outsold"}),
        ("won", {"label": "Won"}),
        ("cancelled", {"label": "Cancelled"}),
    ],
    "casestatuses": [
        ("open", {"label": "Open", "order": 1}),
        ("in_progress", {"label": "In Progress", "order": 2}),
        ("resolved", {"label": "Resolved", "order": 3}),
        ("closed", {"label": "Closed", "order": 4}),
    ],
    "casepriorities": [
        ("low", {"label": "Low", "order": 1}),
        ("normal", {"label": "Normal", "order": 2}),
        ("high", {"label": "High", "order": 3}),
    ],
    "casesources": [
        ("phone", {"label": "Phone"}),
        ("email", {"label": "Email"}),
        ("web", {"label": "Web"}),
        ("other", {"label": "Other"}),
    ],
    "taskpriorities": [
        ("low", {"label": "Low", "order": 1}),
        ("normal", {"label": "Normal", "order": 2}),
        ("high", {"label": "High", "order": 3}),
    ],
    "customergroups": [
        ("1", {"name": "Non-Authenticated Visitors"}),
        ("2", {"name": "Wholesale Accounts"}),
        ("3", {"name": "Partners"}),
    ],
    "customeruserroles": [
        ("1", {"role": "ROLE_FRONTEND_ADMINISTRATOR", "label": "Administrator"}),
        ("2", {"role": "ROLE_FRONTEND_BUYER", "label": "Buyer"}),
    ],
    "userroles": [
        ("1", {"role": "ROLE_ADMINISTRATOR", "label": "Administrator"}),
        ("2", {"role": "ROLE_USER", "label": "User"}),
        ("3", {"role": "ROLE_MANAGER", "label": "Sales Manager"}),
    ],
}

# (first names, last names) per region; the sample people are drawn from these.
NAMES: dict[str, tuple[list[str], list[str]]] = {
    "de": (
        [
            "Lukas",
            "Jürgen",
            "Anna",
            "Sophie",
            "Maximilian",
            "Lea",
            "Jörg",
            "Käthe",
            "Felix",
            "Mia",
            "Björn",
            "Grete",
        ],
        [
            "Müller",
            "Schäfer",
            "Weiß",
            "Groß",
            "Köhler",
            "Becker",
            "Wagner",
            "Hoffmann",
            "Schröder",
            "Krüger",
            "Fuchs",
            "Zimmermann",
        ],
    ),
    "fr": (
        [
            "Inès",
            "Hélène",
            "Jérôme",
            "Élodie",
            "François",
            "Chloé",
            "Théo",
            "Zoé",
            "Gaëlle",
            "Noël",
            "Céline",
            "Benoît",
        ],
        [
            "Moreau",
            "Lefèvre",
            "Dupré",
            "Girard",
            "Bérénger",
            "Rousseau",
            "Lemaître",
            "Fournier",
            "Château",
            "Mercier",
            "Faure",
            "Gautier",
        ],
    ),
    "no": (
        [
            "Ørjan",
            "Sølvi",
            "Åse",
            "Bjørn",
            "Ingrid",
            "Håkon",
            "Sigrid",
            "Tor",
            "Mette",
            "Øystein",
            "Liv",
            "Kåre",
        ],
        [
            "Haraldsen",
            "Bråten",
            "Sæther",
            "Løvås",
            "Dahl",
            "Ødegård",
            "Berg",
            "Strøm",
            "Aas",
            "Lie",
            "Holm",
            "Næss",
        ],
    ),
    "jp": (
        ["花子", "健太", "陽菜", "翔", "美咲", "大輔", "さくら", "蓮", "結衣", "悠斗"],
        ["山田", "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "中村", "小林", "加藤"],
    ),
    "es": (
        [
            "María",
            "José",
            "Lucía",
            "Sebastián",
            "Ana",
            "Íñigo",
            "Camila",
            "Martín",
            "Sofía",
            "Andrés",
            "Valentina",
            "Tomás",
        ],
        [
            "González",
            "Pérez",
            "Rodríguez",
            "Fernández",
            "López",
            "Martínez",
            "Núñez",
            "Ibáñez",
            "Ortega",
            "Peña",
            "Ramírez",
            "Suárez",
        ],
    ),
    "pl": (
        ["Łukasz", "Zofia", "Paweł", "Agnieszka", "Michał", "Małgorzata", "Wojciech", "Katarzyna"],
        ["Wiśniewski", "Wójcik", "Kowalczyk", "Zieliński", "Szymański", "Woźniak", "Dąbrowski", "Kozłowski"],
    ),
    "en": (
        [
            "Ethan",
            "Olivia",
            "Noah",
            "Emma",
            "Liam",
            "Ava",
            "Mason",
            "Harper",
            "Lucas",
            "Amelia",
            "Priya",
            "Kwame",
            "Aisha",
            "Diego",
        ],
        [
            "Clarke",
            "Johnson",
            "Nguyen",
            "O'Brien",
            "Patel",
            "Walker",
            "Okafor",
            "Brooks",
            "Reyes",
            "Kim",
            "Raman",
            "Mensah",
            "Hughes",
            "Pereira",
        ],
    ),
}
ROMAJI = {
    "花子": "hanako",
    "健太": "kenta",
    "陽菜": "hina",
    "翔": "sho",
    "美咲": "misaki",
    "大輔": "daisuke",
    "さくら": "sakura",
    "蓮": "ren",
    "結衣": "yui",
    "悠斗": "yuto",
    "山田": "yamada",
    "佐藤": "sato",
    "鈴木": "suzuki",
    "高橋": "takahashi",
    "田中": "tanaka",
    "伊藤": "ito",
    "渡辺": "watanabe",
    "中村": "nakamura",
    "小林": "kobayashi",
    "加藤": "kato",
    "健二": "kenji",
}
COMPANIES: dict[str, tuple[list[str], list[str]]] = {
    "de": (
        [
            "Rheinwerk",
            "Alpenglühn",
            "Weißdorn",
            "Brückner",
            "Sonnenfeld",
            "Eisenhut",
            "Elbtal",
            "Schwarzwälder",
        ],
        ["Maschinenbau AG", "Elektrotechnik GmbH", "Verpackung KG", "Logistik GmbH"],
    ),
    "fr": (
        ["Chêne Vert", "Belle-Île", "Mistral", "Côte Sauvage", "Vallée d'Or", "Pré Fleuri"],
        ["Distribution SAS", "Emballages SA", "Optique SARL", "Industries SA"],
    ),
    "no": (
        ["Fjordlys", "Solberg", "Åsgard", "Nordkapp", "Trollheim", "Sjøkanten"],
        ["Design ApS", "Marine AS", "Bygg AS", "Handel AB"],
    ),
    "jp": (["ヒカリ", "フジ", "アサヒ", "ミドリ"], ["精密株式会社", "商事株式会社", "工業株式会社"]),
    "es": (
        ["Sierra Alta", "Río Claro", "Monteverde", "Costa Brava", "Valparaíso", "Pampa"],
        ["Textiles S.A.", "Comercial S.L.", "Industrias S.A. de C.V."],
    ),
    "pl": (["Wisła", "Tatry", "Bałtyk", "Mazury"], ["Sp. z o.o.", "Handel S.A."]),
    "en": (
        [
            "Maple Ridge",
            "Cascade",
            "Great Lakes",
            "Blue Harbor",
            "Redwood",
            "Prairie Wind",
            "Granite Peak",
            "Silver Creek",
            "Ironwood",
            "Lakeshore",
        ],
        ["Supply Co.", "Industries Inc.", "Manufacturing LLC", "Distribution Ltd."],
    ),
}
ROMAJI_COMPANIES = {"ヒカリ": "hikari", "フジ": "fuji", "アサヒ": "asahi", "ミドリ": "midori"}
INTERNATIONAL = ("de", "fr", "no", "jp", "pl")
AMERICAS = ("es", "en")
CURRENCY = {"de": "EUR", "fr": "EUR", "no": "NOK", "jp": "JPY", "pl": "PLN", "es": "USD", "en": "USD"}

CASE_SUBJECTS = [
    "Damaged pallet on delivery",
    "Invoice shows wrong VAT rate",
    "Portal login does not work",
    "Request for product certificates",
    "Late shipment",
    "Wrong item received",
    "Price list question",
    "Return authorisation needed",
    "Lieferung unvollständig",
    "Facture en double",
]
TASK_SUBJECTS = [
    "Call back about the renewal",
    "Send the updated price list",
    "Prepare the Q1 forecast",
    "Follow up on the samples",
    "Book the site visit",
    "Check credit limit",
    "Confirm delivery window",
    "Review the framework agreement",
]
DEAL_KINDS = ["framework deal", "expansion", "renewal", "pilot"]
LEAD_TOPICS = [
    "new distributor",
    "pilot project",
    "catalogue request",
    "trade fair contact",
    "tender invitation",
]


def slug(text: str) -> str:
    """An ASCII local part or domain label for a name: "Müller" -> "mueller", "山田" -> "yamada"."""
    if text in ROMAJI:
        return ROMAJI[text]
    if text in ROMAJI_COMPANIES:
        return ROMAJI_COMPANIES[text]
    replaced = text.replace("ß", "ss").replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
    replaced = (
        replaced.replace("Ä", "Ae").replace("Ö", "Oe").replace("Ü", "Ue").replace("ø", "o").replace("Ø", "O")
    )
    replaced = (
        replaced.replace("æ", "ae").replace("å", "a").replace("Å", "A").replace("ł", "l").replace("Ł", "L")
    )
    ascii_text = unicodedata.normalize("NFKD", replaced).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


@dataclass
class Company:
    account: Record
    b2b: Record
    customer: Record | None
    domain: str
    region: str
    owner: Ref


class _Seeder:
    def __init__(self, state: OroState, seed: int) -> None:
        self.state = state
        self.rng = random.Random(seed)
        self.users: dict[str, Ref] = {}
        self.companies: list[Company] = []
        self.contacts_by_company: dict[str, list[Record]] = {}
        self.customer_users: dict[str, list[Record]] = {}
        self.fixed_contacts: set[str] = set()  # the named cast stays exactly as documented

    # --- helpers -------------------------------------------------------------------------------

    def when(self, days_back: int, *, after: datetime | None = None) -> datetime:
        if after is not None:
            span = max(1, int((ex.ANCHOR - after).total_seconds()))
            return after + timedelta(seconds=self.rng.randrange(span))
        return ex.ANCHOR - timedelta(seconds=self.rng.randrange(86_400, days_back * 86_400))

    def add(
        self,
        type_: str,
        attributes: dict[str, Any],
        relationships: dict[str, Any] | None = None,
        *,
        record_id: str = "",
    ) -> Record:
        spec = RESOURCES[type_]
        attrs = {a.name: None for a in spec.attributes}
        attrs.update(attributes)
        rels: dict[str, Any] = {r.name: ([] if r.many else None) for r in spec.relationships}
        if spec.rel("organization") is not None:
            rels["organization"] = ("organizations", "1")
        rels.update(relationships or {})
        created = attrs.get("createdAt")
        if "updatedAt" in attrs and attrs.get("updatedAt") is None and isinstance(created, datetime):
            attrs["updatedAt"] = self.when(0, after=created)
        return self.state.add(Record(type_, record_id, attrs, rels))

    def person_fields(self, first: str, last: str) -> dict[str, Any]:
        return {"firstName": first, "lastName": last}

    def email_for(self, first: str, last: str, domain: str) -> str:
        return f"{slug(first)}.{slug(last)}@{domain}"

    def owner_for(self, region: str) -> Ref:
        names = ("alice", "claire") if region in INTERNATIONAL else ("bob", "kenji")
        return self.users[self.rng.choice(names)]

    # --- lookups and organisation ----------------------------------------------------------------

    def lookups(self) -> None:
        for type_, options in ENUMS.items():
            for priority, (code, name) in enumerate(options, start=1):
                self.add(
                    type_, {"name": name, "default": priority == 1, "priority": priority}, record_id=code
                )
        for type_, items in DICTIONARIES.items():
            for code, attributes in items:
                self.add(type_, attributes, record_id=code)
        created = ex.ANCHOR - timedelta(days=900)
        self.add(
            "organizations",
            {
                "name": "Acme Outfitters",
                "description": None,
                "enabled": True,
                "createdAt": created,
                "updatedAt": created,
            },
            record_id="1",
        )

    def organisation(self) -> None:
        created = ex.ANCHOR - timedelta(days=900)
        units = [("1", ex.BU_HEAD_OFFICE, None), ("2", ex.BU_INTERNATIONAL, "1"), ("3", ex.BU_AMERICAS, "1")]
        for unit_id, name, parent in units:
            self.add(
                "businessunits",
                {"name": name, "email": None, "createdAt": created, "updatedAt": created},
                {"owner": ("businessunits", parent) if parent else None},
                record_id=unit_id,
            )
        people = [
            ("admin", "Oro", "Admin", ex.ADMIN_EMAIL, "1", "1", "Administrator"),
            ("alice", "Alice", "Martin", ex.ALICE_MAILBOX, "2", "3", "Key Account Manager, International"),
            ("bob", "Bob", "Okafor", ex.BOB_MAILBOX, "3", "3", "Key Account Manager, Americas"),
            ("claire", "Claire", "Dubois", "claire@acme.example", "2", "2", "Inside Sales"),
            ("kenji", "健二", "佐藤", "kenji@acme.example", "3", "2", "Inside Sales"),
        ]
        for number, (username, first, last, email, unit, role, title) in enumerate(people, start=1):
            user = self.add(
                "users",
                {
                    "username": username,
                    "email": email,
                    "firstName": first,
                    "lastName": last,
                    "title": title,
                    "enabled": True,
                    "createdAt": created,
                    "updatedAt": created,
                    "loginCount": 0,
                    "emails": [],
                },
                {
                    "owner": ("businessunits", unit),
                    "businessUnits": [("businessunits", unit)],
                    "organizations": [("organizations", "1")],
                    "userRoles": [("userroles", role)],
                    "auth_status": ("userauthstatuses", "active"),
                },
                record_id=str(number),
            )
            self.users[username] = user.ref
            self.state.passwords[username] = SANDBOX_PASSWORD
        self.state.global_users.add(self.users["admin"][1])
        for unit_id in ("1", "2", "3"):
            members = [
                u.ref
                for u in self.state.all("users")
                if ("businessunits", unit_id) in u.relationships["businessUnits"]
            ]
            self.state.records["businessunits"][unit_id].relationships["users"] = members

    # --- companies and people ----------------------------------------------------------------------

    def company(
        self,
        name: str,
        domain: str,
        region: str,
        owner: Ref,
        *,
        customer: bool = True,
        employees: int | None = None,
    ) -> Company:
        created = self.when(720)
        account = self.add("accounts", {"name": name, "createdAt": created}, {"owner": owner})
        b2b = self.add(
            "b2bcustomers",
            {
                "name": name,
                "primaryEmail": f"info@{domain}",
                "emails": [{"email": f"info@{domain}"}],
                "primaryPhone": None,
                "phones": [],
                "website": f"https://www.{domain}",
                "employees": employees,
                "createdAt": created,
            },
            {"account": account.ref, "owner": owner, "dataChannel": None},
        )
        commerce = None
        if customer:
            commerce = self.add(
                "customers",
                {"name": name, "createdAt": created},
                {
                    "owner": owner,
                    "salesRepresentatives": [owner],
                    "group": ("customergroups", "2"),
                    "internal_rating": ("customerratings", f"{self.rng.randint(2, 5)}_of_5"),
                },
            )
            self.customer_users[commerce.id] = []
        company = Company(account, b2b, commerce, domain, region, owner)
        self.companies.append(company)
        self.contacts_by_company[account.id] = []
        return company

    def contact(
        self,
        company: Company,
        first: str,
        last: str,
        emails: list[str],
        *,
        owner: Ref | None = None,
        job: str | None = None,
        phone: str | None = None,
    ) -> Record:
        created = self.when(700)
        phones = [{"phone": phone}] if phone else []
        record = self.add(
            "contacts",
            {
                **self.person_fields(first, last),
                "jobTitle": job,
                "emails": [{"email": e} for e in emails],
                "primaryEmail": emails[0] if emails else None,
                "phones": phones,
                "primaryPhone": phone,
                "createdAt": created,
            },
            {
                "owner": owner or company.owner,
                "accounts": [company.account.ref],
                "createdBy": owner or company.owner,
                "assignedTo": owner or company.owner,
            },
        )
        if not company.account.relationships.get("defaultContact"):
            company.account.relationships["defaultContact"] = record.ref
            record.relationships["defaultInAccounts"] = [company.account.ref]
            company.b2b.relationships["contact"] = record.ref
        self.contacts_by_company[company.account.id].append(record)
        return record

    def customer_user(
        self, company: Company, first: str, last: str, email: str, *, admin: bool = False
    ) -> Record:
        assert company.customer is not None
        created = self.when(600)
        record = self.add(
            "customerusers",
            {
                **self.person_fields(first, last),
                "email": email,
                "confirmed": True,
                "enabled": True,
                "isGuest": False,
                "loginCount": self.rng.randint(0, 80),
                "createdAt": created,
                "lastLogin": self.when(60),
            },
            {
                "customer": company.customer.ref,
                "owner": company.owner,
                "salesRepresentatives": [company.owner],
                "userRoles": [("customeruserroles", "1" if admin else "2")],
            },
        )
        self.customer_users[company.customer.id].append(record)
        return record

    def lead(
        self,
        first: str,
        last: str,
        email: str,
        company_name: str,
        owner: Ref,
        *,
        status: str = "new",
        company: Company | None = None,
        contact: Record | None = None,
        topic: str | None = None,
    ) -> Record:
        created = self.when(300)
        return self.add(
            "leads",
            {
                "name": f"{company_name} — {topic or self.rng.choice(LEAD_TOPICS)}",
                **self.person_fields(first, last),
                "companyName": company_name,
                "emails": [{"email": email}],
                "primaryEmail": email,
                "phones": [],
                "createdAt": created,
                "jobTitle": None,
            },
            {
                "owner": owner,
                "status": ("leadstatuses", status),
                "source": (
                    "leadsources",
                    self.rng.choice(["website", "direct_mail", "partner", "email_marketing"]),
                ),
                "account": company.account.ref if company else None,
                "customer": company.b2b.ref if company else None,
                "contact": contact.ref if contact else None,
            },
        )

    def fixed_cast(self) -> None:
        """The people of :mod:`connector.sandbox.examples`, in both business units."""
        u = self.users
        nordlicht = self.company(
            ex.UNKNOWN_SENDER_COMPANY, "nordlicht-logistik.example", "de", u["alice"], employees=420
        )
        lumiere = self.company(
            "Lumière Optique SARL", "lumiere-optique.example", "fr", u["alice"], employees=85
        )
        haraldsen = self.company(
            "Haraldsen Bygg AS", "haraldsen-bygg.example", "no", u["claire"], employees=12
        )
        lefevre = self.company(
            "Atelier Lefèvre SAS", "atelier-lefevre.example", "fr", u["alice"], employees=30
        )
        sakura = self.company("サクラ精機株式会社", "sakura-seiki.example", "jp", u["claire"], employees=1200)
        andes = self.company("Andes Textiles S.A.", "andes-textiles.example", "es", u["bob"], employees=260)
        maple = self.company(
            "Maple Ridge Supply Co.", "mapleridge-supply.example", "en", u["bob"], employees=150
        )
        copper = self.company(
            "Copperline Industries Inc.", "copperline.example", "en", u["kenji"], employees=900
        )

        self.contact(
            nordlicht,
            "Sophie",
            "Wagner",
            ["sophie.wagner@nordlicht-logistik.example"],
            job="Head of Procurement",
            phone="+49 40 5550 1201",
        )
        self.contact(
            nordlicht,
            "Lukas",
            "Müller",
            [ex.SECONDARY_PRIMARY_ADDRESS, ex.SECONDARY_ADDRESS],
            job="Logistics Coordinator",
            phone="+49 40 5550 1277",
        )
        ines = self.contact(
            lumiere,
            "Inès",
            "Moreau",
            [ex.TRIPLE_PERSON_EMAIL],
            job="Directrice des achats",
            phone="+33 1 55 55 01 23",
        )
        self.customer_user(lumiere, "Inès", "Moreau", ex.TRIPLE_PERSON_EMAIL, admin=True)
        self.lead(
            "Inès",
            "Moreau",
            ex.TRIPLE_PERSON_EMAIL,
            "Lumière Optique SARL",
            u["claire"],
            status="qualified",
            company=lumiere,
            contact=ines,
            topic="new lens coating line",
        )
        self.contact(
            haraldsen,
            "Ørjan",
            "Haraldsen",
            [ex.SHARED_ADDRESS, "orjan@haraldsen.example"],
            job="Daglig leder",
        )
        self.contact(haraldsen, "Sølvi", "Haraldsen", [ex.SHARED_ADDRESS], job="Økonomiansvarlig")
        self.contact(lefevre, "Jean-Baptiste", "Lefèvre", [ex.MIXED_CASE_STORED_EMAIL], job="Gérant")
        self.contact(sakura, "花子", "山田", [ex.JAPANESE_CONTACT_EMAIL], job="購買部 部長")
        self.contact(sakura, "健太", "佐藤", [ex.PLUS_BASE_ADDRESS], job="Purchasing")
        self.customer_user(sakura, "健太", "佐藤", ex.PLUS_ADDRESS, admin=True)
        self.contact(andes, "María", "González", [ex.HIDDEN_FROM_ALICE_EMAIL], job="Gerente de Compras")
        self.contact(
            maple, "Ethan", "Clarke", ["ethan.clarke@mapleridge-supply.example"], job="Operations Manager"
        )
        self.contact(maple, "Olivia", "Brooks", ["olivia.brooks@mapleridge-supply.example"], job="Buyer")
        self.contact(copper, "Amelia", "Hughes", ["amelia.hughes@copperline.example"], job="Quality Lead")
        self.customer_user(copper, "Lucas", "Pereira", ex.CUSTOMER_USER_ONLY_EMAIL)
        self.lead(
            "Priya", "Raman", ex.LEAD_ONLY_EMAIL, "Blue Canyon Outdoor", u["bob"], topic="new distributor"
        )

    def bulk_companies(self, total: int = 60) -> None:
        self.fixed_contacts = {c.id for c in self.state.all("contacts")}
        used = {c.account.attributes["name"] for c in self.companies}
        regions = [r for r in INTERNATIONAL + AMERICAS]
        while len(self.companies) < total:
            region = self.rng.choice(regions)
            roots, suffixes = COMPANIES[region]
            root, suffix = self.rng.choice(roots), self.rng.choice(suffixes)
            name = f"{root}{suffix}" if region == "jp" else f"{root} {suffix}"
            if name in used:
                continue
            used.add(name)
            domain = f"{slug(root)}-{slug(suffix.split()[0]) or 'co'}.example"
            self.company(
                name,
                domain,
                region,
                self.owner_for(region),
                customer=len(self.companies) < 60,
                employees=self.rng.choice([8, 25, 60, 140, 300, 850, 2400]),
            )

    def bulk_people(self) -> None:
        contacts_total = 200
        i = 0
        while sum(len(v) for v in self.contacts_by_company.values()) < contacts_total:
            company = self.companies[i % len(self.companies)]
            i += 1
            first, last = self.name(company.region)
            emails = [self.email_for(first, last, company.domain)]
            if self.rng.random() < 0.25:
                emails.append(
                    f"{slug(first)}{self.rng.randint(1, 99)}@{self.rng.choice(['mail', 'posteo'])}.example"
                )
            if self.rng.random() < 0.08:  # a mixed-case address as some CRMs store them
                emails[0] = emails[0][0].upper() + emails[0][1:]
            self.contact(
                company,
                first,
                last,
                emails,
                job=self.rng.choice(["Buyer", "CFO", "Engineer", "Office Manager", "CEO", None]),
                phone=self.phone(),
            )
        per_customer = 5
        for company in self.companies:
            if company.customer is None:
                continue
            known = self.customer_users[company.customer.id]
            contacts = [
                c
                for c in self.contacts_by_company[company.account.id]
                if c.attributes["primaryEmail"] not in {k.attributes["email"] for k in known}
                and c.id not in self.fixed_contacts
            ]
            while len(known) < per_customer:
                if contacts and self.rng.random() < 0.4:
                    person = contacts.pop(0)
                    self.customer_user(
                        company,
                        person.attributes["firstName"],
                        person.attributes["lastName"],
                        person.attributes["primaryEmail"].lower(),
                        admin=not known,
                    )
                    continue
                first, last = self.name(company.region)
                address = self.email_for(first, last, company.domain)
                if any(k.attributes["email"] == address for k in known):
                    continue
                if self.rng.random() < 0.1:
                    address = address.replace("@", "+shop@")
                self.customer_user(company, first, last, address, admin=not known)
        leads_total = 100
        while len(self.state.records["leads"]) < leads_total:
            region = self.rng.choice(INTERNATIONAL + AMERICAS)
            first, last = self.name(region)
            roots, suffixes = COMPANIES[region]
            root = self.rng.choice(roots)
            if self.rng.random() < 0.3:
                company = self.rng.choice(self.companies)
                self.lead(
                    first,
                    last,
                    self.email_for(first, last, company.domain),
                    company.account.attributes["name"],
                    company.owner,
                    company=company,
                    status=self.rng.choice(["new", "qualified", "canceled"]),
                )
                continue
            name = f"{root} {self.rng.choice(suffixes)}"
            domain = f"{slug(root)}-prospect.example"
            self.lead(
                first,
                last,
                self.email_for(first, last, domain),
                name,
                self.owner_for(region),
                status=self.rng.choice(["new", "new", "qualified", "canceled"]),
            )

    def phone(self) -> str:
        return f"+{self.rng.randint(1, 99)} {self.rng.randint(100, 999)} {self.rng.randint(1000, 9999)}"

    def name(self, region: str) -> tuple[str, str]:
        firsts, lasts = NAMES[region]
        return self.rng.choice(firsts), self.rng.choice(lasts)

    # --- sales and commerce ------------------------------------------------------------------------------

    def opportunities(self, total: int = 80) -> None:
        statuses = [s for s, _ in ENUMS["opportunitystatuses"]]
        for n in range(total):
            company = self.companies[(n * 7) % len(self.companies)]
            contacts = self.contacts_by_company[company.account.id]
            status = self.rng.choice(statuses)
            budget = Decimal(self.rng.randrange(2_000, 250_000, 50))
            created = self.when(400)
            currency = CURRENCY[company.region] if company.region != "jp" else "JPY"
            self.add(
                "opportunities",
                {
                    "name": f"{company.account.attributes['name']} — {self.rng.choice(DEAL_KINDS)}",
                    "closeDate": (ex.ANCHOR + timedelta(days=self.rng.randint(-120, 180))).date(),
                    "probability": {"won": 1.0, "lost": 0.0}.get(
                        status, self.rng.choice([0.1, 0.25, 0.5, 0.75, 0.9])
                    ),
                    "budgetAmountCurrency": currency,
                    "budgetAmountValue": budget,
                    "closeRevenueCurrency": currency if status == "won" else None,
                    "closeRevenueValue": budget if status == "won" else None,
                    "customerNeed": None,
                    "proposedSolution": None,
                    "createdAt": created,
                },
                {
                    "status": ("opportunitystatuses", status),
                    "owner": company.owner,
                    "account": company.account.ref,
                    "customer": company.b2b.ref,
                    "contact": self.rng.choice(contacts).ref if contacts else None,
                    "closeReason": ("opportunityclosereasons", {"won": "won", "lost": "outsold"}[status])
                    if status in ("won", "lost")
                    else None,
                },
            )

    def orders(self, total: int = 500) -> None:
        statuses = ["open", "pending", "processing", "closed", "cancelled"]
        weights = [25, 15, 20, 30, 10]
        buying = [c for c in self.companies if c.customer is not None]
        for n in range(total):
            company = buying[self.rng.randrange(len(buying))]
            assert company.customer is not None
            users = self.customer_users[company.customer.id]
            status = statuses[n] if n < len(statuses) else self.rng.choices(statuses, weights)[0]
            created = self.when(730)
            currency = CURRENCY[company.region]
            total_value = Decimal(self.rng.randrange(5_000, 5_000_000)) / 100
            if currency == "JPY":
                total_value = Decimal(int(total_value) * 100)
            subtotal = (total_value * Decimal("0.92")).quantize(Decimal("0.01"))
            number = 10_000 + len(self.state.records["orders"]) + 1
            self.add(
                "orders",
                {
                    "identifier": f"SO-{number}",
                    "poNumber": f"PO-{self.rng.randint(1000, 99999)}" if self.rng.random() < 0.8 else None,
                    "customerNotes": None,
                    "shipUntil": (created + timedelta(days=self.rng.randint(5, 40))).date(),
                    "currency": currency,
                    "subtotalValue": subtotal,
                    "totalValue": total_value,
                    "shippingMethod": "flat_rate",
                    "shippingMethodType": "primary",
                    "estimatedShippingCostAmount": Decimal("25.00"),
                    "external": False,
                    "createdAt": created,
                },
                {
                    "internalStatus": ("orderinternalstatuses", status),
                    "shippingStatus": (
                        "ordershippingstatuses",
                        "shipped" if status == "closed" else "not_shipped",
                    ),
                    "owner": company.owner,
                    "customer": company.customer.ref,
                    "customerUser": self.rng.choice(users).ref if users else None,
                },
            )

    def rfqs(self, total: int = 60) -> None:
        buying = [c for c in self.companies if c.customer is not None]
        internal = [s for s, _ in ENUMS["rfqinternalstatuses"] if s != "deleted"]
        customer_side = [s for s, _ in ENUMS["rfqcustomerstatuses"]]
        for _ in range(total):
            company = self.rng.choice(buying)
            assert company.customer is not None
            person = self.rng.choice(self.customer_users[company.customer.id])
            self.add(
                "rfqs",
                {
                    "firstName": person.attributes["firstName"],
                    "lastName": person.attributes["lastName"],
                    "email": person.attributes["email"],
                    "phone": None,
                    "company": company.account.attributes["name"],
                    "role": None,
                    "note": self.rng.choice(
                        ["Please quote 200 units.", "Need delivery by end of month.", None]
                    ),
                    "poNumber": f"RFQ-{self.rng.randint(100, 9999)}",
                    "projectName": None,
                    "shipUntil": (ex.ANCHOR + timedelta(days=self.rng.randint(10, 90))).date(),
                    "createdAt": self.when(200),
                },
                {
                    "customerUser": person.ref,
                    "customer": company.customer.ref,
                    "owner": company.owner,
                    "internal_status": ("rfqinternalstatuses", self.rng.choice(internal)),
                    "customer_status": ("rfqcustomerstatuses", self.rng.choice(customer_side)),
                },
            )

    def cases(self, total: int = 60) -> None:
        for _ in range(total):
            company = self.rng.choice(self.companies)
            contacts = self.contacts_by_company[company.account.id]
            status = self.rng.choice(["open", "open", "in_progress", "resolved", "closed"])
            reported = self.when(240)
            self.add(
                "cases",
                {
                    "subject": self.rng.choice(CASE_SUBJECTS),
                    "description": None,
                    "resolution": None,
                    "createdAt": reported,
                    "reportedAt": reported,
                    "closedAt": self.when(0, after=reported) if status == "closed" else None,
                },
                {
                    "status": ("casestatuses", status),
                    "priority": ("casepriorities", self.rng.choice(["low", "normal", "normal", "high"])),
                    "source": ("casesources", self.rng.choice(["email", "phone", "web", "other"])),
                    "relatedContact": self.rng.choice(contacts).ref if contacts else None,
                    "relatedAccount": company.account.ref,
                    "assignedTo": company.owner,
                    "owner": company.owner,
                },
            )

    def activities(self, tasks: int = 80, notes: int = 40) -> None:
        for _ in range(tasks):
            company = self.rng.choice(self.companies)
            contacts = self.contacts_by_company[company.account.id]
            target = (
                self.rng.choice(contacts).ref if contacts and self.rng.random() < 0.7 else company.account.ref
            )
            self.add(
                "tasks",
                {
                    "subject": self.rng.choice(TASK_SUBJECTS),
                    "description": None,
                    "dueDate": ex.ANCHOR
                    + timedelta(days=self.rng.randint(-20, 40), hours=self.rng.randint(0, 8)),
                    "createdAt": self.when(90),
                },
                {
                    "taskPriority": ("taskpriorities", self.rng.choice(["low", "normal", "high"])),
                    "status": ("taskstatuses", self.rng.choice(["open", "open", "in_progress", "closed"])),
                    "owner": company.owner,
                    "createdBy": company.owner,
                    "activityTargets": [target],
                },
            )
        for _ in range(notes):
            company = self.rng.choice(self.companies)
            contacts = self.contacts_by_company[company.account.id]
            targets = [company.account.ref] + ([self.rng.choice(contacts).ref] if contacts else [])
            self.add(
                "notes",
                {
                    "message": self.rng.choice(
                        [
                            "<p>Called about the new price list; wants volume tiers.</p>",
                            "<p>Met at the trade fair. Interested in the premium line.</p>",
                            "<p>Prefers email over phone. Invoices go to accounts payable.</p>",
                        ]
                    ),
                    "createdAt": self.when(120),
                },
                {"owner": company.owner, "updatedBy": company.owner, "activityTargets": targets},
            )

    def templates(self) -> None:
        contact, order, lead = (RESOURCES[t].entity_class for t in ("contacts", "orders", "leads"))
        case, user = RESOURCES["cases"].entity_class, RESOURCES["users"].entity_class
        self.state.templates = [
            EmailTemplate(
                1,
                "contact_follow_up",
                contact,
                "Following up, {{ entity.firstName }}",
                "<p>Dear {{ entity.firstName }} {{ entity.lastName }},</p><p>Thank you for your time today."
                "</p><p>Best regards,<br>{{ system.userFullName }}</p>",
            ),
            EmailTemplate(
                2,
                "order_status",
                order,
                "Your order {{ entity.identifier }}",
                "<p>Your order {{ entity.identifier }} (PO {{ entity.poNumber }}) totals "
                "{{ entity.totalValue }} {{ entity.currency }}.</p>",
            ),
            EmailTemplate(
                3,
                "lead_introduction",
                lead,
                "Nice to meet you, {{ entity.firstName }}",
                "Hello {{ entity.firstName }},\n\nThanks for your interest in Acme Outfitters.\n\n"
                "{{ system.userFullName }}",
                type="txt",
            ),
            EmailTemplate(
                4,
                "case_update",
                case,
                "Update on your case: {{ entity.subject }}",
                '<p>We are working on "{{ entity.subject }}" and will update you shortly.</p>',
            ),
            EmailTemplate(5, "generic_thanks", None, "Thank you", "<p>Thank you for your message.</p>"),
            EmailTemplate(
                6,
                "user_reset_password",
                user,
                "Reset your password",
                "<p>Hello {{ entity.firstName }}, follow the link to reset your password.</p>",
                is_system=True,
                is_editable=False,
            ),
        ]


def populate(state: OroState, seed: int) -> None:
    """Fill ``state`` with the fixed cast and the seeded bulk data."""
    seeder = _Seeder(state, seed)
    seeder.lookups()
    seeder.organisation()
    seeder.fixed_cast()
    seeder.bulk_companies()
    seeder.bulk_people()
    seeder.opportunities()
    seeder.orders()
    seeder.rfqs()
    seeder.cases()
    seeder.activities()
    seeder.templates()
