"""The sidebar for one email and one user: cached, explained, and still useful when Oro is slow or down.

A view is cached per user and email until the user's generation is bumped (a link, unlink, create or
choice) or ``cache_seconds`` pass. The last complete view of each email is also kept longer: when Oro
cannot be reached it is served marked stale, with a banner. A view missing a section (time budget) is
shown but not cached, so the next open tries again.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.cache import Cache
from connector.db.models import User, utcnow
from connector.linking.errors import LinkingError, OroRefusedWrite
from connector.linking.operations import link_if_thread_linked, link_thread, thread_state, unlink_record
from connector.linking.policy import load_policy
from connector.linking.schemas import LinkResult, LinkTarget, UnlinkResult
from connector.mail.addresses import EmailAddress
from connector.mail.message import MailMessage
from connector.oro import Capabilities, OroClient, OroRecord, Query, RecordRef, SearchHit
from connector.sidebar.cards import LINKABLE, card_for, type_label
from connector.sidebar.context import MessageContext
from connector.sidebar.lookup import Findings, SidebarLookup
from connector.sidebar.matching import RememberedChoice, build_participants
from connector.sidebar.models import MatchChoice
from connector.sidebar.policy import SidebarPolicy
from connector.sidebar.view import Banner, CommerceContext, LinkedRecord, RecordCard, SidebarView, ThreadState

logger = logging.getLogger(__name__)

CAPABILITIES_SECONDS = 3600.0
REFUSAL_SECONDS = 24 * 3600.0
SECTION_LABELS = {
    "people": "who the participants are",
    "orders": "open orders",
    "rfqs": "requests for quote",
    "opportunities": "opportunities",
    "cases": "cases",
    "customers": "customer names",
    "accounts": "account names",
}


def user_owner(user: User) -> str:
    """The cache generation owner for a user's sidebars."""
    return f"user:{user.id}"


@dataclass(frozen=True)
class SearchResults:
    text: str
    page: int
    records: tuple[RecordCard, ...]
    has_more: bool


class SidebarService:
    def __init__(
        self,
        *,
        cache: Cache,
        pool: ThreadPoolExecutor,
        policy: SidebarPolicy,
        oro_key: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.cache = cache
        self.pool = pool
        self.policy = policy
        self._oro_key = oro_key
        self._clock = clock

    def __repr__(self) -> str:
        return f"<SidebarService {self.policy}>"

    # --- the view ----------------------------------------------------------------------------------

    def view(
        self, session: Session, *, user: User, oro: OroClient, message: MessageContext, fresh: bool = False
    ) -> SidebarView:
        """The sidebar of ``message`` for ``user``; ``OroAuthExpired`` propagates (ask to reconnect)."""
        privacy = load_policy(session, user=user)

        def reason(address: EmailAddress) -> str | None:
            found = privacy.exclusion(address)
            return found.reason if found else None

        participants = message.participants()
        reasons = {address.key: reason(address) for address, _ in participants}

        def excluded(address: EmailAddress) -> str | None:
            return reasons.get(address.key)

        # The cache key names who is kept out, so a change to the never-log lists shows at once.
        exclusions = sorted((key, why or "") for key, why in reasons.items())
        email_key = hashlib.sha256(
            f"{message.mailbox}\0{message.message_id}\0{exclusions}".encode()
        ).hexdigest()[:32]
        generation = self.cache.generation(user_owner(user))
        key = f"sidebar:{user.id}:{generation}:{email_key}"
        last_key = f"sidebar-last:{user.id}:{email_key}"
        if not fresh:
            cached = self.cache.get(key)
            if cached is not None:
                return self._with_thread_state(session, SidebarView.from_dict(cached), message, user)

        findings = SidebarLookup(oro, pool=self.pool, budget=self.policy.time_budget).run(
            [address for address, _ in participants if excluded(address) is None],
            message_id=message.message_id,
            capabilities=self.capabilities(oro),
        )
        if "people" in findings.unavailable:
            last = self.cache.get(last_key)
            if last is not None:
                stale = SidebarView.from_dict(last)
                shown_at = (
                    stale.generated_at.strftime("%Y-%m-%d %H:%M UTC") if stale.generated_at else "earlier"
                )
                banner = Banner(
                    "warning",
                    "oro_unreachable_stale",
                    f"Oro could not be reached; showing what it said at {shown_at}. Refresh to try again.",
                )
                stale = replace(stale, stale=True, banners=(banner, *stale.banners))
                return self._with_thread_state(session, stale, message, user)

        view = self._assemble(session, user=user, message=message, findings=findings, excluded=excluded)
        if not view.unavailable:
            data = view.to_dict()
            self.cache.set(key, data, ttl=self.policy.cache_seconds)
            self.cache.set(last_key, data, ttl=self.policy.stale_seconds)
        return self._with_thread_state(session, view, message, user)

    # --- what both hosts do from the sidebar ----------------------------------------------------------

    def open_message(
        self,
        session: Session,
        *,
        user: User,
        oro: OroClient,
        message: MessageContext,
        mail: MailMessage | None = None,
        fresh: bool = False,
    ) -> SidebarView:
        """The sidebar when a message is opened: first thread stickiness (a message of a linked thread is
        linked like it, with a line saying so), then the view. ``mail`` carries the body when the host
        has it; without it the policy's body mode cannot add one."""
        banners: list[Banner] = []
        note = ""
        try:
            sticky = link_if_thread_linked(
                session,
                oro,
                user=user,
                message=mail or MailMessage.from_context(message),
                capabilities=self.capabilities(oro),
            )
        except LinkingError as exc:
            logger.info("a message of a linked thread was not linked: %s", exc.code)
            banners.append(
                Banner("warning", exc.code, f"This message could not be linked like its thread: {exc}")
            )
        else:
            # Only news is worth a line: a message linked just now, or kept out although its thread is linked.
            if sticky is not None and (sticky.changed or sticky.refused):
                note = sticky.line
            if sticky is not None and sticky.changed:
                self.invalidate(user)
        view = self.view(session, user=user, oro=oro, message=message, fresh=fresh)
        if not note and not banners:
            return view
        return replace(
            view,
            thread=replace(view.thread, note=note or view.thread.note),
            banners=(*view.banners, *banners),
        )

    def link(
        self,
        session: Session,
        *,
        user: User,
        oro: OroClient,
        mail: MailMessage,
        record: LinkTarget,
        earlier: Sequence[MailMessage] = (),
    ) -> LinkResult:
        """Link the message's thread to ``record`` (see connector.linking); ``earlier``: the thread's
        earlier messages the host has, logged too. The user's views are refreshed."""
        try:
            result = link_thread(
                session,
                oro,
                user=user,
                message=mail,
                records=[record],
                earlier=earlier,
                capabilities=self.capabilities(oro),
            )
        except OroRefusedWrite as exc:
            if exc.status == 403:
                self.note_refusal(user, action="link", record_type=record.type)
            raise
        self.invalidate(user)
        return result

    def unlink(
        self, session: Session, *, user: User, oro: OroClient, mail: MailMessage, record: RecordRef
    ) -> UnlinkResult:
        try:
            result = unlink_record(
                session, oro, user=user, message=mail, record=record, capabilities=self.capabilities(oro)
            )
        except OroRefusedWrite as exc:
            if exc.status == 403:
                self.note_refusal(user, action="unlink", record_type=record.type)
            raise
        self.invalidate(user)
        return result

    def note_refusal(self, user: User, *, action: str, record_type: str) -> None:
        """Oro answered 403 when ``user`` tried ``action`` on a ``record_type``: stop offering it to them
        (for a day; permissions change rarely) while the records stay visible."""
        key = f"refused-actions:{user.id}"
        refused = {tuple(pair) for pair in self.cache.get(key) or []}
        refused.add((action, record_type))
        self.cache.set(key, sorted(refused), ttl=REFUSAL_SECONDS)

    def invalidate(self, user: User) -> None:
        """Forget ``user``'s cached sidebars (after a link, unlink or create changed what Oro holds)."""
        self.cache.bump(user_owner(user))

    def _with_thread_state(
        self, session: Session, view: SidebarView, message: MessageContext, user: User
    ) -> SidebarView:
        """Overlay what the connector's own tables say about the thread, and what Oro refused this user:
        read live on every view (cheap, local), so a link made by anyone shows at once, cached or not."""
        state = thread_state(
            session, mailbox=message.mailbox, thread_id=message.thread_id, message_id=message.message_id
        )
        refused = {tuple(pair) for pair in self.cache.get(f"refused-actions:{user.id}") or []}
        if not state.records and not refused:
            return view
        linked = {(r.type, r.id): r for r in state.records}

        def mark(card: RecordCard) -> RecordCard:
            if (card.type, card.id) in linked and not card.in_context:
                actions = tuple("unlink" if a == "link" else a for a in card.actions)
                card = replace(card, in_context=True, actions=actions)
            allowed = tuple(a for a in card.actions if (a, card.type) not in refused)
            return card if allowed == card.actions else replace(card, actions=allowed)

        participants = tuple(
            replace(
                p,
                matches=tuple(replace(g, records=tuple(mark(c) for c in g.records)) for g in p.matches),
                choices=tuple(replace(ch, options=tuple(mark(c) for c in ch.options)) for ch in p.choices),
                domain_matches=tuple(mark(c) for c in p.domain_matches),
            )
            for p in view.participants
        )
        commerce = view.commerce
        commerce = replace(
            commerce,
            open_orders=tuple(mark(c) for c in commerce.open_orders),
            recent_rfqs=tuple(mark(c) for c in commerce.recent_rfqs),
            open_cases=tuple(mark(c) for c in commerce.open_cases),
            open_opportunities=tuple(mark(c) for c in commerce.open_opportunities),
        )
        shown = {
            (c.type, c.id): c
            for p in participants
            for c in [*(c for g in p.matches for c in g.records), *p.domain_matches]
        }
        linked_cards = tuple(
            LinkedRecord(
                record=shown.get((r.type, r.id))
                or RecordCard(
                    type=r.type,
                    id=r.id,
                    title=r.title,
                    type_label=type_label(r.type),
                    in_context=True,
                    actions=("unlink",),
                ),
                linked_by=r.linked_by,
                linked_at=r.linked_at,
            )
            for r in state.records
        )
        return replace(
            view,
            participants=participants,
            commerce=commerce,
            thread=ThreadState(linked=linked_cards, note=state.note),
        )

    def _assemble(
        self,
        session: Session,
        *,
        user: User,
        message: MessageContext,
        findings: Findings,
        excluded: Callable[[EmailAddress], str | None],
    ) -> SidebarView:
        participants = build_participants(
            message.participants(),
            findings,
            policy=self.policy,
            excluded=excluded,
            remembered=self._remembered(session, user),
        )

        def cards(records: Sequence[OroRecord]) -> tuple[RecordCard, ...]:
            return tuple(
                card_for(r, companies=findings.companies, in_context=r.ref in findings.in_context)
                for r in records
            )

        banners: list[Banner] = []
        unavailable = tuple(SECTION_LABELS.get(s, s.removeprefix("domain:")) for s in findings.unavailable)
        if "people" in findings.unavailable:
            banners.append(
                Banner("error", "oro_unreachable", "Oro could not be reached, so nobody could be looked up.")
            )
        elif unavailable:
            banners.append(
                Banner(
                    "warning",
                    "partial",
                    "Some of Oro's answers did not come in time: " + ", ".join(unavailable),
                )
            )
        if findings.denied:
            banners.append(
                Banner(
                    "info", "not_allowed", "Oro does not let you see " + ", ".join(sorted(findings.denied))
                )
            )
        return SidebarView(
            message_id=message.message_id,
            thread_id=message.thread_id,
            subject=message.subject,
            participants=participants,
            commerce=CommerceContext(
                open_orders=cards(findings.orders),
                recent_rfqs=cards(findings.rfqs),
                open_cases=cards(findings.cases),
                open_opportunities=cards(findings.opportunities),
            ),
            thread=ThreadState(),
            banners=tuple(banners),
            unavailable=unavailable,
            generated_at=self._clock(),
        )

    # --- capabilities ------------------------------------------------------------------------------

    def capabilities(self, oro: OroClient) -> Capabilities:
        """What this Oro offers, asked once an hour (the probes cost a round of requests)."""
        key = f"oro-capabilities:{self._oro_key}"
        cached = self.cache.get(key)
        if cached is not None:
            return Capabilities(
                api_base=cached["api_base"], resources=cached["resources"], legacy_templates=cached["legacy"]
            )
        found = oro.capabilities()
        if found.api_enabled:
            self.cache.set(
                key,
                {
                    "api_base": found.api_base,
                    "resources": dict(found.resources),
                    "legacy": found.legacy_templates,
                },
                ttl=CAPABILITIES_SECONDS,
            )
        return found

    # --- ambiguous matches -------------------------------------------------------------------------

    def _remembered(self, session: Session, user: User) -> dict[tuple[str, str], RememberedChoice]:
        rows = session.scalars(select(MatchChoice).where(MatchChoice.user_id == user.id))
        return {(r.address_key, r.record_type): RememberedChoice(r.record_id, r.chosen_at) for r in rows}

    def choose(
        self, session: Session, *, user: User, address_key: str, record_type: str, record_id: str
    ) -> None:
        """Remember that, for ``address_key``, ``user`` means this record (replacing an earlier answer)."""
        choice = session.scalar(
            select(MatchChoice).where(
                MatchChoice.user_id == user.id,
                MatchChoice.address_key == address_key,
                MatchChoice.record_type == record_type,
            )
        )
        if choice is None:
            session.add(
                MatchChoice(
                    user_id=user.id, address_key=address_key, record_type=record_type, record_id=record_id
                )
            )
        else:
            choice.record_id = record_id
            choice.chosen_at = utcnow()
        session.flush()
        self.cache.bump(user_owner(user))
        logger.info("%s chose %s %s for an address", user, record_type, record_id)

    def forget_choice(self, session: Session, *, user: User, address_key: str, record_type: str) -> None:
        choice = session.scalar(
            select(MatchChoice).where(
                MatchChoice.user_id == user.id,
                MatchChoice.address_key == address_key,
                MatchChoice.record_type == record_type,
            )
        )
        if choice is not None:
            session.delete(choice)
            session.flush()
        self.cache.bump(user_owner(user))

    # --- search ------------------------------------------------------------------------------------

    def search(
        self, *, oro: OroClient, text: str, entities: tuple[str, ...] = (), page: int = 1, page_size: int = 10
    ) -> SearchResults:
        """Free-text search across record types, a page at a time ("load more")."""
        query = Query().where("searchText", text.strip())
        if entities:
            query = query.where("entities", list(entities))
        query = query.including("entity").page(size=page_size, number=page)
        result = oro.list_records(SearchHit, query=query)
        cards = tuple(
            card_for(hit.record, companies={})
            if hit.record is not None
            else RecordCard(
                type=hit.entity.type,
                id=hit.entity.id,
                title=hit.title,
                type_label=type_label(hit.entity.type),
                url=hit.url,
                actions=("open", "link") if hit.entity.type in LINKABLE else ("open",),
            )
            for hit in result.items
        )
        return SearchResults(text=text, page=page, records=cards, has_more=result.next is not None)
