"""Linking's state changes: link a thread to Oro records, keep later messages linked, unlink, add notes,
create records from an email; and the reads the sidebar needs (link state, a record's history).

Every operation takes domain objects (our ``User``, a :class:`~connector.mail.message.MailMessage`, an
:class:`~connector.oro.OroClient` acting as that user), enforces the privacy policy before any Oro
call, writes its audit entry, and flushes without committing, with two documented exceptions that
commit the caller's session:

- the write claims of :mod:`connector.linking.claims`: a claim that another request cannot see, or
  that a rollback erases, does not prevent a second Oro write;
- ``synced_messages`` and ``message_links``, the mirror of what Oro holds, are committed together with
  the Oro change they record: Oro does not roll back with the request, so neither may its mirror (a
  mirror claiming a context Oro does not have would make a later link skip the write).

``thread_links`` (the person's intent: this thread goes with that record) and the audit entries are
the request's own rows: flushed, committed or rolled back by the request.

How a write stays single, per kind:

- **Oro emails** are keyed by the Message-ID (``synced_messages``, a claim). The claim's owner asks
  Oro first (``find_email``) and creates only what Oro lacks; a 409 from Oro ("already exists") is
  answered by looking again; a timeout keeps the claim until Oro has had time to finish, and the next
  attempt looks before writing.
- **Targets** (``activityTargets``) are a set in Oro: adding one twice changes nothing, and the
  connector adds only those Oro (or, on stickiness, the mirror) does not show. Locally, rows carry
  unique keys and are written with ``INSERT ... ON CONFLICT DO NOTHING`` in a fixed order (by record),
  so two requests neither fail nor deadlock.
- **Notes and created records** have no natural key in Oro: a claim on a hash of the request (or the
  caller's idempotency key) stops double clicks and retries; after a timeout the record is looked for
  (the same note text on the record, a record with the participant's address) before writing again.

No write lock is held across an Oro call: every Oro call comes after a commit and before the next
write, so on SQLite (one writer) a request never blocks others while it waits for Oro.
"""

from __future__ import annotations

import hashlib
import html
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from connector.audit.operations import record_audit
from connector.db.models import User
from connector.linking import claims
from connector.linking.claims import Claim, ClaimTuning, insert_ignoring_conflict
from connector.linking.errors import (
    InvalidRequest,
    LinkingError,
    MessageUnusable,
    OroRefusedWrite,
    OroTooOld,
    OroUnreachable,
    OroWriteUncertain,
)
from connector.linking.models import (
    CLAIM_DONE,
    MessageLink,
    PrivacyRule,
    PrivacySettings,
    SyncedMessage,
    ThreadLink,
    WriteClaim,
)
from connector.linking.policy import (
    ORG_SCOPE,
    SETTINGS_ROW_ID,
    PrivacyPolicy,
    RuleKind,
    load_policy,
    normalise_address,
    normalise_domain,
    parse_attachment_mode,
    parse_body_mode,
    user_scope,
)
from connector.linking.prefill import prefill_for, same_subject
from connector.linking.schemas import (
    CREATE_KINDS,
    CREATED_TYPES,
    CreateFields,
    CreateKind,
    CreateOutcome,
    DuplicateOffer,
    HistoryEmail,
    HistoryNote,
    LinkedRecord,
    LinkResult,
    LinkTarget,
    MessageOutcome,
    NoteResult,
    Prefill,
    RecordHistory,
    StickyOutcome,
    ThreadLinkState,
    UnlinkResult,
    Via,
)
from connector.mail.addresses import EmailAddress
from connector.mail.message import MailMessage, html_to_text
from connector.oro import (
    B2bCustomer,
    Capabilities,
    Contact,
    CustomerUser,
    Email,
    Lead,
    NewEmail,
    OroAuthExpired,
    OroBadRequest,
    OroClient,
    OroConflict,
    OroError,
    OroNotFound,
    OroRecord,
    OroRejected,
    OroUnavailable,
    Query,
    RecordRef,
    angle_bracketed,
)
from connector.oro import EmailAddress as OroAddress

logger = logging.getLogger(__name__)

T = TypeVar("T")

LINK_TUNING = ClaimTuning()
"""Claims on Oro emails: a lease longer than a look-up plus a write with retries, then a settle time
as long as Oro might still work on a write the client stopped waiting for."""
NOTE_TUNING = ClaimTuning(reuse_after_seconds=600.0)
"""The same note text on the same record by the same person within ten minutes is one note."""
CREATE_TUNING = ClaimTuning(reuse_after_seconds=3600.0)
"""Creating the same kind of record for the same participant of the same email, within an hour, is
one record."""

# The statuses Oro writes after a request was turned away before it was processed (the transport's
# docstring explains why only these are retried for writes): nothing was stored.
NOT_PROCESSED_STATUSES = frozenset({429, 503})
PEOPLE_TYPES: tuple[type[OroRecord], ...] = (Contact, Lead, CustomerUser, B2bCustomer)
MAX_NOTE_LENGTH = 20_000
SUBJECT_PLACEHOLDER = "(no subject)"


# --- small helpers ---------------------------------------------------------------------------------


def thread_subject(mailbox: str, thread_id: str) -> str:
    """The audit subject of a mailbox thread."""
    return f"thread:{mailbox}:{thread_id}"


def record_subject(ref: RecordRef) -> str:
    return f"{ref.type}:{ref.id}"


def _names(titles: Sequence[str]) -> str:
    """``A``, ``A and B``, ``A, B and C``."""
    if len(titles) <= 1:
        return "".join(titles)
    return f"{', '.join(titles[:-1])} and {titles[-1]}"


def sticky_line(records: Sequence[LinkedRecord]) -> str:
    return f"Linked because this thread is linked to {_names([r.title for r in records])}."


def _unique_targets(records: Iterable[LinkTarget]) -> list[LinkTarget]:
    """Each record once, in a fixed order (the order local rows are written in: no lock cycles)."""
    found: dict[RecordRef, LinkTarget] = {}
    for record in records:
        if not record.type or not record.id:
            raise InvalidRequest("Each record to link needs a type and an id.")
        found.setdefault(record.ref, record)
    return [found[ref] for ref in sorted(found, key=lambda r: (r.type, r.id))]


def require_emails_api(capabilities: Capabilities | None) -> None:
    """Refuse early on an Oro known to be older than 6.0 (no ``emails`` API)."""
    if capabilities is not None and not capabilities.emails_api:
        raise OroTooOld()


def _refused(exc: OroRejected, what: str) -> OroRefusedWrite:
    detail = exc.detail or exc.title
    message = f"Oro refused to {what}: {detail or exc.status}."
    return OroRefusedWrite(message, status=exc.status, detail=detail)


def as_linking_error(exc: OroError, what: str, *, missing_means_old: bool = False) -> LinkingError:
    """An Oro client failure as the linking error a person can act on."""
    if isinstance(exc, OroNotFound) and exc.resource_missing and missing_means_old:
        return OroTooOld()
    if isinstance(exc, OroRejected):
        return _refused(exc, what)
    if isinstance(exc, OroUnavailable):
        return OroUnreachable(f"Oro did not answer ({what}); nothing was changed. Try again shortly.")
    return OroUnreachable(f"Oro answered unexpectedly ({what}): {exc}")


def _oro_read(call: Callable[[], T], what: str, *, missing_means_old: bool = False) -> T:
    """An Oro call whose failure changes nothing, its errors as linking errors. An expired authorisation
    passes through: every feature answers it alike (connect to Oro again)."""
    try:
        return call()
    except OroAuthExpired:
        raise
    except OroError as exc:
        raise as_linking_error(exc, what, missing_means_old=missing_means_old) from exc


def _hash_key(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()


def _stored_message_id(message: MailMessage) -> str:
    value = message.message_id.strip()
    if not value:
        raise MessageUnusable("This email has no Message-ID, so Oro cannot store it or find it again.")
    bracketed = angle_bracketed(value)
    if len(bracketed) > 512:
        raise MessageUnusable("This email's Message-ID is longer than Oro keeps (512 characters).")
    return bracketed


def _oro_address(address: EmailAddress) -> OroAddress:
    return OroAddress(address.address, address.name or None)


def new_email(message: MailMessage, policy: PrivacyPolicy, targets: Sequence[LinkTarget]) -> NewEmail:
    """The message as Oro should store it: headers, ``references`` for Oro's threading, the body the
    policy allows, and exactly ``targets`` as its context (an explicit list: Oro then links no one else,
    not the colleagues or other people its address book knows)."""
    if message.sender is None:
        raise MessageUnusable("This email has no sender address, which Oro requires.")
    own = _stored_message_id(message)
    sent_at = message.date or message.received_at or claims.now_utc()
    references = tuple(r for r in (angle_bracketed(x) for x in message.references if x.strip()) if r != own)
    return NewEmail(
        message_id=own,
        subject=message.subject.strip() or SUBJECT_PLACEHOLDER,
        sender=_oro_address(message.sender),
        to=tuple(_oro_address(a) for a in message.to),
        cc=tuple(_oro_address(a) for a in message.cc),
        bcc=tuple(_oro_address(a) for a in message.bcc),
        sent_at=sent_at,
        internal_date=message.received_at or sent_at,
        references=references,
        body=policy.body_for(message),
        targets=tuple(t.ref for t in targets),
    )


# --- reading the local mirror -------------------------------------------------------------------------


def _thread_links(session: Session, mailbox: str, thread_id: str) -> list[ThreadLink]:
    query = (
        select(ThreadLink)
        .where(ThreadLink.mailbox == mailbox, ThreadLink.thread_id == thread_id)
        .order_by(ThreadLink.linked_at, ThreadLink.id)
        .execution_options(populate_existing=True)
    )
    return list(session.scalars(query))


def _linked_record(link: ThreadLink) -> LinkedRecord:
    title = link.record_title or f"{link.record_type} #{link.record_id}"
    return LinkedRecord(link.record_type, link.record_id, title, link.linked_by, claims.aware(link.linked_at))


def _synced(session: Session, message_id: str) -> SyncedMessage | None:
    query = (
        select(SyncedMessage)
        .where(SyncedMessage.message_id == message_id, SyncedMessage.state == CLAIM_DONE)
        .execution_options(populate_existing=True)
    )
    synced: SyncedMessage | None = session.scalars(query).one_or_none()
    return synced


def _message_links(session: Session, synced_id: int) -> list[MessageLink]:
    query = select(MessageLink).where(MessageLink.synced_message_id == synced_id).order_by(MessageLink.id)
    return list(session.scalars(query.execution_options(populate_existing=True)))


def thread_state(session: Session, *, mailbox: str, thread_id: str, message_id: str) -> ThreadLinkState:
    """Who linked the thread to what and when, and whether this message is in Oro and linked: read from
    the local tables only, so the sidebar can show it without a round trip to Oro."""
    links = [_linked_record(link) for link in _thread_links(session, mailbox, thread_id)]
    synced = _synced(session, angle_bracketed(message_id)) if message_id.strip() else None
    message_links = _message_links(session, synced.id) if synced is not None else []
    refs = tuple(RecordRef(m.record_type, m.record_id) for m in message_links)
    by_thread = {(m.record_type, m.record_id) for m in message_links if m.via == "thread"}
    sticky = [r for r in links if (r.type, r.id) in by_thread]
    return ThreadLinkState(
        mailbox=mailbox,
        thread_id=thread_id,
        message_id=message_id,
        records=tuple(links),
        oro_email_id=synced.oro_id if synced is not None else None,
        message_records=refs,
        note=sticky_line(sticky) if sticky else "",
    )


# --- putting one message into Oro ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Logged:
    synced_id: int
    email_id: str
    created: bool
    added: tuple[RecordRef, ...]


def _find_or_create(
    session: Session, oro: OroClient, claim: Claim, email: NewEmail, tuning: ClaimTuning
) -> tuple[str, bool, set[RecordRef]]:
    """Holding ``claim``: Oro's email for the Message-ID, created when Oro has none. Returns its id,
    whether it was created now, and the records in its context. On failure the claim is released (Oro
    has nothing) or held (Oro may still be storing it); on success the caller completes it."""
    message_id = email.message_id
    try:
        existing = _oro_read(
            lambda: oro.find_email(message_id=message_id), "look the email up", missing_means_old=True
        )
    except BaseException:
        claims.release(session, claim)
        raise
    if existing is not None:
        return existing.id, False, {t.ref for t in existing.targets}
    try:
        created = oro.create_email(email=email)
    except OroConflict as exc:
        # Oro already has this Message-ID (stored by its own mailbox sync between our look and our write,
        # or by a write we gave up on): use that email.
        found = _quiet(lambda: oro.find_email(message_id=message_id))
        if found is None:
            claims.release(session, claim)
            raise _refused(exc, "save the email") from exc
        return found.id, False, {t.ref for t in found.targets}
    except OroUnavailable as exc:
        if exc.status in NOT_PROCESSED_STATUSES:
            claims.release(session, claim)
            raise OroUnreachable("Oro is busy and did not take the email; nothing was saved.") from exc
        # A timeout, a dropped connection, a 5xx: Oro may still store it. Look once more, then hold the claim.
        found = _quiet(lambda: oro.find_email(message_id=message_id))
        if found is not None:
            return found.id, False, {t.ref for t in found.targets}
        claims.hold(session, claim, seconds=tuning.settle_seconds)
        raise OroWriteUncertain(
            "Oro did not confirm that it saved the email. It is checked again before any new attempt; "
            "try again in a little while.",
            retry_after=tuning.settle_seconds,
        ) from exc
    except OroAuthExpired:
        claims.release(session, claim)
        raise
    except OroRejected as exc:
        claims.release(session, claim)
        raise _refused(exc, "save the email") from exc
    except BaseException:
        claims.release(session, claim)
        raise
    logger.info("logged %s into Oro as emails/%s", message_id, created.id)
    return created.id, True, {t.ref for t in created.targets} or set(email.targets or ())


def _quiet(call: Callable[[], Email | None]) -> Email | None:
    """A second look after a failed write; its own failure only means "do not know"."""
    try:
        return call()
    except OroError:
        return None


@dataclass(frozen=True)
class _Mirror:
    """Who and what a message's context rows are written for."""

    user: User
    mailbox: str
    thread_id: str
    via: Via


def _mirror_targets(session: Session, synced_id: int, refs: Iterable[RecordRef], mirror: _Mirror) -> bool:
    """Record that Oro now has ``refs`` in the context of the synced message; True if a row was new."""
    inserted = False
    for ref in sorted(refs, key=lambda r: (r.type, r.id)):
        inserted |= insert_ignoring_conflict(
            session,
            MessageLink,
            {
                "synced_message_id": synced_id, "record_type": ref.type, "record_id": ref.id,
                "mailbox": mirror.mailbox, "thread_id": mirror.thread_id, "via": mirror.via,
                "linked_by_id": mirror.user.id, "linked_at": claims.now_utc(),
            },
            conflict=["synced_message_id", "record_type", "record_id"],
        )
    return inserted


def _ensure_logged(
    session: Session,
    oro: OroClient,
    *,
    message: MailMessage,
    targets: Sequence[LinkTarget],
    policy: PrivacyPolicy,
    tuning: ClaimTuning,
    mirror: _Mirror,
) -> _Logged:
    """``message`` as an Oro email with ``targets`` in its context, written at most once.

    ``message_links`` mirror Oro's context and are committed together with the Oro change they record
    (in the claim's completion, or right after adding targets), like the claim itself: Oro's side does
    not roll back with the request, and a colleague waiting on the claim must see them at once.

    For a message already in Oro, stickiness (``via="thread"``, on every open) trusts the mirror and
    costs no round trip; a person's explicit link reads the email's context from Oro first (a read,
    never a second write), so a context someone removed in Oro's own UI is put back when asked for.
    """
    email = new_email(message, policy, targets)  # before claiming: a malformed message claims nothing
    wanted = [t.ref for t in targets]
    claim = claims.acquire(
        session, SyncedMessage, key=email.message_id, user_id=mirror.user.id, tuning=tuning
    )
    if claim.done:
        assert claim.oro_id is not None
        email_id = claim.oro_id
        if mirror.via == "thread":
            known = {RecordRef(m.record_type, m.record_id) for m in _message_links(session, claim.row_id)}
        else:
            current = _oro_read(lambda: oro.email_targets(email_id=email_id), "read the email's context")
            known = {t.ref for t in current}
        missing = [ref for ref in wanted if ref not in known]
        if missing:
            _oro_read(lambda: oro.add_email_targets(email_id=email_id, targets=missing), "link the email")
        if _mirror_targets(session, claim.row_id, wanted, mirror) or missing:
            session.commit()
        return _Logged(claim.row_id, email_id, False, tuple(missing))
    email_id, created, in_context = _find_or_create(session, oro, claim, email, tuning)
    missing = [ref for ref in wanted if ref not in in_context]
    if missing:
        try:
            oro.add_email_targets(email_id=email_id, targets=missing)
        except OroError as exc:
            claims.complete(session, claim, oro_id=email_id)  # the email exists, whatever its context
            if isinstance(exc, OroAuthExpired):
                raise
            raise as_linking_error(exc, "link the email") from exc
    _mirror_targets(session, claim.row_id, wanted, mirror)
    claims.complete(session, claim, oro_id=email_id)  # commits the mirror rows with the claim
    return _Logged(claim.row_id, email_id, created, tuple(wanted) if created else tuple(missing))


# --- link ---------------------------------------------------------------------------------------------


def link_thread(
    session: Session,
    oro: OroClient,
    *,
    user: User,
    message: MailMessage,
    records: Sequence[LinkTarget],
    earlier: Sequence[MailMessage] = (),
    policy: PrivacyPolicy | None = None,
    capabilities: Capabilities | None = None,
    tuning: ClaimTuning = LINK_TUNING,
    via: Via = "link",
) -> LinkResult:
    """Oro's "add context" for the thread of the open ``message``: log it into Oro when Oro lacks it and
    add ``records`` to its context; do the same for the ``earlier`` messages of the thread the host has
    seen (best effort: one failing or kept out by the policy does not stop the others); remember the
    thread as linked, so later messages follow (:func:`link_if_thread_linked`).

    Raises :class:`PolicyRefused` before any Oro call when the open message must stay out of Oro,
    :class:`OroTooOld` on an Oro before 6.0, and the other :mod:`connector.linking.errors` as they come.
    Repeating the call (double click, retry, a colleague at the same moment) writes nothing twice.
    """
    targets = _unique_targets(records)
    if not targets:
        raise InvalidRequest("Choose at least one Oro record to link the email to.")
    require_emails_api(capabilities)
    policy = policy or load_policy(session, user=user)
    policy.check(message)
    _stored_message_id(message)

    mirror = _Mirror(user, message.mailbox, message.thread_id, via)
    outcomes: list[MessageOutcome] = []
    first = _ensure_logged(
        session, oro, message=message, targets=targets, policy=policy, tuning=tuning, mirror=mirror
    )
    outcomes.append(_outcome(message, first))
    seen = {angle_bracketed(message.message_id)}
    for other in earlier:
        if not other.message_id.strip() or angle_bracketed(other.message_id) in seen:
            continue
        seen.add(angle_bracketed(other.message_id))
        refusal = policy.refusal(other)
        if refusal is not None:
            outcomes.append(MessageOutcome(other.message_id, skipped=refusal.message))
            continue
        try:
            done = _ensure_logged(
                session, oro, message=other, targets=targets, policy=policy, tuning=tuning, mirror=mirror
            )
        except LinkingError as exc:
            logger.warning("an earlier message of the thread was not linked: %s", exc.code)
            outcomes.append(MessageOutcome(other.message_id, error=exc.code))
            continue
        outcomes.append(_outcome(other, done))

    # The request's own rows last (see the module docstring), conflict-free inserts in record order.
    new_links = _record_thread_links(session, user=user, message=message, targets=targets)
    changed = bool(new_links) or any(o.created or o.added for o in outcomes)
    if changed:  # a repeat that found everything done is no new action
        record_audit(
            session,
            actor=user,
            action="link",
            subject=thread_subject(message.mailbox, message.thread_id),
            details={
                "records": [record_subject(t.ref) for t in targets],
                "new": [record_subject(t.ref) for t in new_links],
                "via": via,
                "messages": [_outcome_details(o) for o in outcomes],
            },
        )
    state = thread_state(
        session, mailbox=message.mailbox, thread_id=message.thread_id, message_id=message.message_id
    )
    return LinkResult(state=state, messages=tuple(outcomes), added=tuple(new_links))


def _outcome_details(outcome: MessageOutcome) -> dict[str, Any]:
    """One message in a link's audit entry: ids and what happened, never its content."""
    details: dict[str, Any] = {
        "message_id": outcome.message_id, "oro_email_id": outcome.oro_email_id, "created": outcome.created,
        "added": [record_subject(r) for r in outcome.added],
    }
    if outcome.skipped:
        details["skipped"] = "privacy policy"
    if outcome.error:
        details["error"] = outcome.error
    return details


def _outcome(message: MailMessage, logged: _Logged) -> MessageOutcome:
    return MessageOutcome(message.message_id, logged.email_id, logged.created, logged.added)


def _record_thread_links(
    session: Session, *, user: User, message: MailMessage, targets: Sequence[LinkTarget]
) -> list[LinkTarget]:
    """Remember the thread as linked to ``targets``; returns those that were not linked yet."""
    new: list[LinkTarget] = []
    for target in targets:
        inserted = insert_ignoring_conflict(
            session,
            ThreadLink,
            {
                "mailbox": message.mailbox, "thread_id": message.thread_id, "record_type": target.type,
                "record_id": target.id, "record_title": target.label[:300], "linked_by_id": user.id,
                "linked_by": user.email, "linked_at": claims.now_utc(),
            },
            conflict=["mailbox", "thread_id", "record_type", "record_id"],
        )
        if inserted:
            new.append(target)
    return new


def link_if_thread_linked(
    session: Session,
    oro: OroClient,
    *,
    user: User,
    message: MailMessage,
    policy: PrivacyPolicy | None = None,
    capabilities: Capabilities | None = None,
    tuning: ClaimTuning = LINK_TUNING,
) -> StickyOutcome | None:
    """Thread stickiness: when ``message`` belongs to a linked thread, link it to the same records.

    None when the thread is not linked (no Oro call). When the message is already linked, or the policy
    keeps it out, nothing is sent to Oro; ``line`` says which for the sidebar.
    """
    links = [_linked_record(link) for link in _thread_links(session, message.mailbox, message.thread_id)]
    if not links:
        return None
    line = sticky_line(links)
    stored = _stored_message_id(message)
    synced = _synced(session, stored)
    if synced is not None:
        done = {RecordRef(m.record_type, m.record_id) for m in _message_links(session, synced.id)}
        if all(link.ref in done for link in links):
            return StickyOutcome(line, tuple(links), changed=False, oro_email_id=synced.oro_id)
    policy = policy or load_policy(session, user=user)
    refusal = policy.refusal(message)
    if refusal is not None:
        titles = _names([link.title for link in links])
        return StickyOutcome(
            f"Not linked, although this thread is linked to {titles}: {refusal.message}",
            tuple(links), changed=False, refused=refusal.reasons,
        )
    require_emails_api(capabilities)
    targets = [LinkTarget(link.type, link.id, link.title) for link in links]
    result = link_thread(
        session, oro, user=user, message=message, records=targets, policy=policy, capabilities=capabilities,
        tuning=tuning, via="thread",
    )
    return StickyOutcome(line, tuple(links), changed=True, oro_email_id=result.messages[0].oro_email_id)


# --- unlink -------------------------------------------------------------------------------------------


def unlink_record(
    session: Session,
    oro: OroClient,
    *,
    user: User,
    message: MailMessage,
    record: RecordRef,
    capabilities: Capabilities | None = None,
) -> UnlinkResult:
    """Oro's "remove context" for the thread of ``message``: ``record`` leaves the context of every email
    of the thread in Oro (``DELETE emailthreadcontext/{type}-{id}-{emailId}``, once per Oro email the
    connector knows in the thread; Oro clears its whole thread on the first, and answers 404 for one
    already cleared) and the thread is no longer linked locally. Unlinking what is not linked changes
    nothing and writes no audit entry. The policy is not consulted: removing data from Oro is always
    allowed."""
    require_emails_api(capabilities)
    link = session.scalar(
        select(ThreadLink).where(
            ThreadLink.mailbox == message.mailbox, ThreadLink.thread_id == message.thread_id,
            ThreadLink.record_type == record.type, ThreadLink.record_id == record.id,
        )
    )
    known = session.scalars(
        select(SyncedMessage.oro_id)
        .join(MessageLink, SyncedMessage.id == MessageLink.synced_message_id)
        .where(
            MessageLink.mailbox == message.mailbox, MessageLink.thread_id == message.thread_id,
            MessageLink.record_type == record.type, MessageLink.record_id == record.id,
        )
        .order_by(MessageLink.id)
    ).all()
    email_ids = list(dict.fromkeys(str(oro_id) for oro_id in known if oro_id))
    if message.message_id.strip():
        synced = _synced(session, _stored_message_id(message))
        if synced is not None and synced.oro_id:
            email_ids = list(dict.fromkeys([*email_ids, synced.oro_id]))
        elif not email_ids:
            found = _oro_read(
                lambda: oro.find_email(message_id=message.message_id), "look the email up",
                missing_means_old=True,
            )
            if found is not None:
                email_ids.append(found.id)
    removed: list[str] = []
    absent: list[str] = []  # removed now, or Oro says it was not there (404)
    try:
        for email_id in email_ids:
            try:
                oro.remove_from_thread_context(email_id=email_id, target=record)
            except OroNotFound:
                absent.append(email_id)  # not (or no longer) in this thread's context
                continue
            except OroAuthExpired:
                raise
            except OroError as exc:
                raise as_linking_error(exc, "remove the record from the thread") from exc
            removed.append(email_id)
            absent.append(email_id)
    finally:
        # Oro no longer has the record on those emails, whoever linked them: the mirror forgets it,
        # committed now like every mirror change (also when a later email failed and the error goes up).
        _forget_targets(session, record, absent)
    was_linked = link is not None
    if link is not None:
        session.delete(link)
    session.flush()
    if was_linked or removed:
        record_audit(
            session,
            actor=user,
            action="unlink",
            subject=thread_subject(message.mailbox, message.thread_id),
            details={"records": [record_subject(record)], "oro_email_ids": removed},
        )
    state = thread_state(
        session, mailbox=message.mailbox, thread_id=message.thread_id, message_id=message.message_id
    )
    return UnlinkResult(record, was_linked, tuple(removed), state)


def _forget_targets(session: Session, record: RecordRef, email_ids: Sequence[str]) -> None:
    """Drop the mirror rows of ``record`` on the Oro emails ``email_ids`` and commit."""
    if not email_ids:
        return
    rows = session.scalars(
        select(MessageLink.id)
        .join(SyncedMessage, SyncedMessage.id == MessageLink.synced_message_id)
        .where(
            SyncedMessage.oro_id.in_(email_ids), MessageLink.record_type == record.type,
            MessageLink.record_id == record.id,
        )
    ).all()
    if rows:
        session.execute(delete(MessageLink).where(MessageLink.id.in_(rows)))
        session.commit()


# --- notes and history ----------------------------------------------------------------------------------


def note_html(text: str) -> str:
    """Plain text as the HTML Oro keeps a note in: escaped, paragraphs and line breaks kept."""
    paragraphs = [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)


def add_note(
    session: Session,
    oro: OroClient,
    *,
    user: User,
    record: LinkTarget,
    text: str,
    idempotency_key: str | None = None,
    tuning: ClaimTuning = NOTE_TUNING,
) -> NoteResult:
    """Attach a note (plain text, kept as escaped HTML) to ``record`` in Oro.

    The same text on the same record by the same user within ``reuse_after_seconds`` is one note (a
    double click, a retry); a caller that can tell a deliberate repeat passes its own ``idempotency_key``.
    After a timeout the record's newest notes are searched for the text before writing again.
    """
    body = text.strip()
    if not body:
        raise InvalidRequest("A note needs some text.")
    if len(body) > MAX_NOTE_LENGTH:
        raise InvalidRequest(f"A note can hold at most {MAX_NOTE_LENGTH} characters.")
    message = note_html(body)
    key = _hash_key("note", user.id, idempotency_key or f"{record.type}:{record.id}", message)
    claim = claims.acquire(
        session, WriteClaim, key=key, user_id=user.id, tuning=tuning,
        extra={"kind": "note", "oro_type": "notes"},
    )
    reused = claim.done
    if claim.done:
        assert claim.oro_id is not None
        note_id = claim.oro_id
    else:

        def recheck() -> str | None:
            since = (claim.created_at or claims.now_utc()) - timedelta(minutes=1)
            notes = oro.notes_of(target=record.ref, limit=10)
            for note in notes:
                if note.message == message and (note.created_at is None or note.created_at >= since):
                    return note.id
            return None

        note_id, reused = _write_once(
            session, claim, tuning, write=lambda: oro.create_note(message=message, targets=[record.ref]).id,
            recheck=recheck, taken_over=claim.taken_over, what="add the note",
        )
    if not reused:
        record_audit(
            session, actor=user, action="note", subject=record_subject(record.ref),
            details={"note_id": note_id, "records": [record_subject(record.ref)], "length": len(body)},
        )
    return NoteResult(note_id, record, reused=reused)


def _write_once(
    session: Session,
    claim: Claim,
    tuning: ClaimTuning,
    *,
    write: Callable[[], str],
    recheck: Callable[[], str | None],
    taken_over: bool,
    what: str,
    oro_type: str | None = None,
) -> tuple[str, bool]:
    """Holding ``claim``: write once, or find the earlier attempt's record (after a takeover or a
    timeout). Returns the Oro id and whether it was found rather than written now."""
    extra: dict[str, Any] = {"oro_type": oro_type} if oro_type else {}
    if taken_over:
        try:
            found = recheck()
        except OroAuthExpired:
            claims.release(session, claim)
            raise
        except OroError as exc:
            claims.release(session, claim)
            raise as_linking_error(exc, what) from exc
        except BaseException:
            claims.release(session, claim)
            raise
        if found is not None:
            claims.complete(session, claim, oro_id=found, **extra)
            return found, True
    try:
        oro_id = write()
    except OroUnavailable as exc:
        if exc.status in NOT_PROCESSED_STATUSES:
            claims.release(session, claim)
            raise OroUnreachable(f"Oro is busy and did not {what}; nothing was saved. Try again.") from exc
        try:
            found = recheck()
        except OroError:
            found = None
        if found is not None:
            claims.complete(session, claim, oro_id=found, **extra)
            return found, False
        claims.hold(session, claim, seconds=tuning.settle_seconds)
        raise OroWriteUncertain(
            f"Oro did not confirm that it did {what.removeprefix('add ').removeprefix('create ')}. It is "
            "checked before any new attempt; try again in a little while.",
            retry_after=tuning.settle_seconds,
        ) from exc
    except OroAuthExpired:
        claims.release(session, claim)
        raise
    except OroRejected as exc:
        claims.release(session, claim)
        raise _refused(exc, what) from exc
    except BaseException:
        claims.release(session, claim)
        raise
    claims.complete(session, claim, oro_id=oro_id, **extra)
    return oro_id, False


def record_history(oro: OroClient, *, record: RecordRef, limit: int = 10) -> RecordHistory:
    """A record's recent emails (newest first) and notes, for its detail view in the sidebar."""
    notes = _oro_read(lambda: oro.notes_of(target=record, limit=limit), "read the notes")
    emails: tuple[Email, ...] = ()
    available = True
    query = Query().where(f"activityTargets.{record.type}", record.id).sorted_by("-sentAt").page(size=limit)
    try:
        emails = oro.list_records(Email, query=query).items
    except OroNotFound as exc:
        if not exc.resource_missing:
            raise _refused(exc, "read the emails") from exc
        available = False  # Oro before 6.0
    except OroBadRequest:
        emails = ()  # this record type cannot be an email's context
    except OroUnavailable as exc:
        raise OroUnreachable("Oro did not answer while reading the record's emails.") from exc
    return RecordHistory(
        record=record,
        emails=tuple(
            HistoryEmail(
                id=e.id, subject=e.subject or SUBJECT_PLACEHOLDER,
                sender=str(e.sender.name or e.sender.email) if e.sender else "",
                sent_at=e.sent_at, snippet=e.short_text_body or "", url=e.url,
            )
            for e in emails
        ),
        notes=tuple(
            HistoryNote(
                id=n.id, text=html_to_text(n.message or ""), html=n.message or "", created_at=n.created_at
            )
            for n in notes
        ),
        emails_available=available,
    )


# --- create from email ------------------------------------------------------------------------------------


def _people(oro: OroClient, email: str, types: Sequence[type[OroRecord]] = PEOPLE_TYPES) -> list[OroRecord]:
    return _oro_read(lambda: oro.lookup_by_email(email=email, record_types=types), "look the address up")


def _type_word(record_type: str) -> str:
    return {
        "contacts": "contact", "leads": "lead", "customerusers": "customer user",
        "b2bcustomers": "business customer", "cases": "case", "opportunities": "opportunity", "tasks": "task",
        "accounts": "account",
    }.get(record_type, record_type)


def _record_name(kind: CreateKind, prefill: Prefill, fields: CreateFields) -> str:
    """A lead's or opportunity's name, a case's or task's subject; the person's name for a contact."""
    if fields.name and fields.name.strip():
        return fields.name.strip()
    if kind in ("lead", "contact"):
        return prefill.full_name or prefill.email
    if kind == "task":
        return f"Follow up: {prefill.subject}" if prefill.subject else f"Follow up with {prefill.email}"
    return prefill.subject or f"Email from {prefill.email}"


def find_duplicates(
    oro: OroClient,
    *,
    kind: CreateKind,
    prefill: Prefill,
    name: str,
    people: Sequence[OroRecord] | None = None,
) -> list[DuplicateOffer]:
    """Existing records the user may mean instead of a new one: people with the address or the same
    name (lead, contact); open cases, opportunities or tasks of those people with the same subject."""
    people = list(people) if people is not None else _people(oro, prefill.email)
    offers: dict[RecordRef, DuplicateOffer] = {}

    def offer(record: OroRecord, why: str) -> None:
        offers.setdefault(record.ref, DuplicateOffer(LinkTarget.of(record), why, record.url))

    if kind in ("lead", "contact"):
        for person in people:
            offer(person, f"A {_type_word(person.type)} with the address {prefill.email} exists.")
        wanted = " ".join(name.lower().split())
        if wanted and wanted != prefill.email.lower():
            try:
                hits = oro.search(text=name, entities=("contacts", "leads"), limit=10)
            except OroAuthExpired:
                raise
            except OroError as exc:  # no search API, or it failed: the address check above still stands
                logger.info("name search for duplicates skipped: %s", type(exc).__name__)
                hits = []
            for hit in hits:
                if " ".join(hit.title.lower().split()) == wanted:
                    offers.setdefault(
                        hit.entity,
                        DuplicateOffer(
                            LinkTarget(hit.entity.type, hit.entity.id, hit.title),
                            f"A {_type_word(hit.entity.type)} named {hit.title} exists.",
                            hit.url,
                        ),
                    )
        return list(offers.values())
    contacts = [p for p in people if isinstance(p, Contact)]
    for contact in contacts:
        if kind == "case":
            cases = _oro_read(partial(oro.open_cases, contact_id=contact.id), "read the open cases")
            for case in cases:
                if same_subject(case.subject, name):
                    offer(case, f"{contact.title} has an open case with this subject.")
        elif kind == "opportunity":
            deals = _oro_read(
                partial(oro.opportunities_of, contact_id=contact.id, open_only=True), "read the opportunities"
            )
            for deal in deals:
                if same_subject(deal.name, name):
                    offer(deal, f"{contact.title} has an open opportunity with this name.")
    if kind == "task":
        for person in people:
            tasks = _oro_read(partial(oro.tasks_of, target=person.ref), "read the tasks")
            for task in tasks:
                if task.status != "closed" and same_subject(task.subject, name):
                    offer(task, f"{person.title} has an open task with this subject.")
    return list(offers.values())


def create_from_email(
    session: Session,
    oro: OroClient,
    *,
    user: User,
    kind: CreateKind,
    message: MailMessage,
    participant: EmailAddress,
    fields: CreateFields | None = None,
    confirm: bool = False,
    link: bool = True,
    idempotency_key: str | None = None,
    policy: PrivacyPolicy | None = None,
    capabilities: Capabilities | None = None,
    tuning: ClaimTuning = CREATE_TUNING,
    link_tuning: ClaimTuning = LINK_TUNING,
) -> CreateOutcome:
    """Create a lead, contact, case, opportunity or task from ``participant`` of ``message``, then link
    the thread to it.

    The fields start from :func:`~connector.linking.prefill.prefill_for` and ``fields`` overrides them.
    Unless ``confirm``, existing records that look like the one asked for are returned as ``duplicates``
    and nothing is written. A task is not an email context in Oro: the task is attached to the
    participant's records, and the thread is linked to those. The policy is checked before any Oro call.
    """
    if kind not in CREATE_KINDS:
        raise InvalidRequest(f"Cannot create a {kind!r} from an email.")
    fields = fields or CreateFields()
    policy = policy or load_policy(session, user=user)
    policy.check_participant(participant)
    if link:
        policy.check(message)
        require_emails_api(capabilities)
    prefill = prefill_for(kind, message=message, participant=participant)
    prefill = replace(
        prefill,
        first_name=fields.first_name if fields.first_name is not None else prefill.first_name,
        last_name=fields.last_name if fields.last_name is not None else prefill.last_name,
        company=fields.company if fields.company is not None else prefill.company,
    )
    name = _record_name(kind, prefill, fields)
    people = _people(oro, prefill.email)
    if not confirm:
        duplicates = find_duplicates(oro, kind=kind, prefill=prefill, name=name, people=people)
        if duplicates:
            return CreateOutcome(prefill=prefill, duplicates=tuple(duplicates))

    write, links_to = _creator(oro, kind, prefill, fields, name, people, message, policy)
    if idempotency_key:
        request = idempotency_key
    elif message.message_id.strip():
        request = f"{participant.key}|{angle_bracketed(message.message_id)}"
    else:
        request = participant.key
    key = _hash_key("create", user.id, kind, request)
    record_type = CREATED_TYPES[kind]
    claim = claims.acquire(
        session, WriteClaim, key=key, user_id=user.id, tuning=tuning,
        extra={"kind": f"create_{kind}", "oro_type": record_type},
    )
    if claim.done:
        assert claim.oro_id is not None
        created, reused = LinkTarget(record_type, claim.oro_id, name), True
    else:
        since = claim.created_at or claims.now_utc()

        def recheck() -> str | None:
            return _created_since(oro, kind, prefill, name, since - timedelta(minutes=1))

        oro_id, reused = _write_once(
            session, claim, tuning, write=lambda: write().id, recheck=recheck, taken_over=claim.taken_over,
            what=f"create the {kind}", oro_type=record_type,
        )
        created = LinkTarget(record_type, oro_id, name)
    if not reused:
        record_audit(
            session, actor=user, action="create", subject=record_subject(created.ref),
            details={
                "kind": kind, "records": [record_subject(created.ref)], "participant": participant.address,
                "message_id": message.message_id, "confirmed_over_duplicates": confirm,
            },
        )
    outcome = CreateOutcome(prefill=prefill, created=created, reused=reused)
    if not link:
        return outcome
    targets = links_to(created)
    if not targets:
        warning = "The task is not linked to the email: the sender is in no Oro record."
        return replace(outcome, warnings=(warning,))
    result = link_thread(
        session, oro, user=user, message=message, records=targets, policy=policy, capabilities=capabilities,
        tuning=link_tuning, via="create",
    )
    return replace(outcome, link=result)


def _creator(
    oro: OroClient,
    kind: CreateKind,
    prefill: Prefill,
    fields: CreateFields,
    name: str,
    people: Sequence[OroRecord],
    message: MailMessage,
    policy: PrivacyPolicy,
) -> tuple[Callable[[], OroRecord], Callable[[LinkTarget], list[LinkTarget]]]:
    """How to create the record, and what the thread is linked to afterwards. Checks what Oro requires
    (an opportunity's account) before anything is written."""
    contacts = [p for p in people if isinstance(p, Contact)]
    contact = next((c for c in contacts if c.id == fields.contact_id), None) if fields.contact_id else (
        contacts[0] if len(contacts) == 1 else None
    )
    contact_id = fields.contact_id or (contact.id if contact else None)
    account_id = fields.account_id or (contact.account_ids[0] if contact and contact.account_ids else None)
    body = policy.body_for(message)
    description = fields.description if fields.description is not None else (
        (body.content if body.type == "text" else html_to_text(body.content))[:4000] if body else None
    )

    def itself(created: LinkTarget) -> list[LinkTarget]:
        return [created]

    if kind == "lead":
        return (
            lambda: oro.create_lead(
                name=name, first_name=prefill.first_name or None, last_name=prefill.last_name or None,
                email=prefill.email, phone=fields.phone, company_name=prefill.company or None,
                job_title=fields.job_title,
            ),
            itself,
        )
    if kind == "contact":
        if not (prefill.first_name or prefill.last_name):
            raise InvalidRequest("A contact needs a first or a last name.")
        return (
            lambda: oro.create_contact(
                first_name=prefill.first_name or None, last_name=prefill.last_name or None,
                email=prefill.email, phone=fields.phone, job_title=fields.job_title,
                account_id=fields.account_id,
            ),
            itself,
        )
    if kind == "case":
        return (
            lambda: oro.create_case(subject=name, description=description, contact_id=contact_id,
                                    account_id=account_id),
            itself,
        )
    if kind == "opportunity":
        if not (account_id or fields.b2b_customer_id):
            raise InvalidRequest(
                "An opportunity needs an account or a business customer in Oro: choose one "
                "(the sender's contact has no account)."
            )
        return (
            lambda: oro.create_opportunity(
                name=name, account_id=account_id, b2b_customer_id=fields.b2b_customer_id,
                contact_id=contact_id, close_date=fields.close_date, customer_need=description,
            ),
            itself,
        )
    # A task is an activity itself: attach it to the participant's records and link the thread to those.
    person_targets = [LinkTarget.of(p) for p in people]
    return (
        lambda: oro.create_task(
            subject=name, description=description, due_date=fields.due_date,
            targets=[t.ref for t in person_targets],
        ),
        lambda _created: person_targets,
    )


def _created_since(
    oro: OroClient, kind: CreateKind, prefill: Prefill, name: str, since: datetime
) -> str | None:
    """The id of the record an unanswered create may have made: of the kind, for the participant (by
    address or, for cases and opportunities, through their contact, with the same subject), made since
    ``since`` where Oro says when a record was made."""
    if kind in ("lead", "contact"):
        record_type: type[OroRecord] = Lead if kind == "lead" else Contact
        for record in oro.lookup_by_email(email=prefill.email, record_types=(record_type,)):
            created_at = getattr(record, "created_at", None)
            if created_at is None or created_at >= since:
                return record.id
        return None
    for offer in find_duplicates(oro, kind=kind, prefill=prefill, name=name):
        if offer.record.type == CREATED_TYPES[kind]:
            return offer.record.id
    return None


# --- the privacy policy (admin and user settings) -------------------------------------------------------


def update_privacy_settings(
    session: Session,
    *,
    actor: User,
    body_mode: str | None = None,
    attachment_mode: str | None = None,
    attachment_max_bytes: int | None = None,
) -> PrivacySettings:
    """Change the admin's body and attachment modes (the caller checks that ``actor`` is an admin)."""
    if body_mode is not None and parse_body_mode(body_mode) != body_mode:
        raise InvalidRequest(f"Unknown body mode {body_mode!r}: use none, text or full.")
    if attachment_mode is not None and parse_attachment_mode(attachment_mode) != attachment_mode:
        raise InvalidRequest(f"Unknown attachment mode {attachment_mode!r}: use none, names or content.")
    if attachment_max_bytes is not None and attachment_max_bytes < 0:
        raise InvalidRequest("The attachment size limit cannot be negative.")
    current = load_policy(session, user=None)
    settings = session.get(PrivacySettings, SETTINGS_ROW_ID)
    if settings is None:
        settings = PrivacySettings(
            id=SETTINGS_ROW_ID, body_mode=current.body_mode, attachment_mode=current.attachment_mode,
            attachment_max_bytes=current.attachment_max_bytes,
        )
        session.add(settings)
    before = {"body_mode": settings.body_mode, "attachment_mode": settings.attachment_mode,
              "attachment_max_bytes": settings.attachment_max_bytes}
    if body_mode is not None:
        settings.body_mode = body_mode
    if attachment_mode is not None:
        settings.attachment_mode = attachment_mode
    if attachment_max_bytes is not None:
        settings.attachment_max_bytes = attachment_max_bytes
    settings.updated_by_id = actor.id
    session.flush()
    after = {"body_mode": settings.body_mode, "attachment_mode": settings.attachment_mode,
             "attachment_max_bytes": settings.attachment_max_bytes}
    record_audit(session, actor=actor, action="policy.settings", subject="privacy", details={"before": before,
                                                                                          "after": after})
    return settings


def _policy_subject(scope: str) -> str:
    return "privacy" if scope == ORG_SCOPE else f"privacy:{scope}"


def add_privacy_rule(
    session: Session, *, actor: User, kind: RuleKind, value: str, own: bool = False
) -> PrivacyRule:
    """Add an entry to a list: the admin's (``own=False``; the caller checks the role) or ``actor``'s own
    never-log list (``own=True``; addresses and domains only). Adding an entry twice keeps one."""
    if kind not in ("address", "domain", "internal_domain"):
        raise InvalidRequest(f"Unknown list {kind!r}.")
    if own and kind == "internal_domain":
        raise InvalidRequest("Internal domains are set by the administrator.")
    try:
        normalised = normalise_address(value) if kind == "address" else normalise_domain(value)
    except ValueError as exc:
        raise InvalidRequest(str(exc)) from exc
    scope = user_scope(actor) if own else ORG_SCOPE
    existing = session.scalar(
        select(PrivacyRule).where(PrivacyRule.scope == scope, PrivacyRule.kind == kind,
                                  PrivacyRule.value == normalised)
    )
    if existing is not None:
        return existing
    rule = PrivacyRule(scope=scope, user_id=actor.id if own else None, kind=kind, value=normalised,
                       created_by_id=actor.id)
    session.add(rule)
    session.flush()
    record_audit(
        session, actor=actor, action="policy.add", subject=_policy_subject(scope),
        details={"kind": kind, "value": normalised},
    )
    return rule


def remove_privacy_rule(
    session: Session, *, actor: User, kind: RuleKind, value: str, own: bool = False
) -> bool:
    """Remove an entry; False when it was not there."""
    try:
        normalised = normalise_address(value) if kind == "address" else normalise_domain(value)
    except ValueError as exc:
        raise InvalidRequest(str(exc)) from exc
    scope = user_scope(actor) if own else ORG_SCOPE
    rule = session.scalar(
        select(PrivacyRule).where(PrivacyRule.scope == scope, PrivacyRule.kind == kind,
                                  PrivacyRule.value == normalised)
    )
    if rule is None:
        return False
    session.delete(rule)
    session.flush()
    record_audit(
        session, actor=actor, action="policy.remove", subject=_policy_subject(scope),
        details={"kind": kind, "value": normalised},
    )
    return True


__all__ = [
    "add_note",
    "add_privacy_rule",
    "create_from_email",
    "find_duplicates",
    "link_if_thread_linked",
    "link_thread",
    "new_email",
    "record_history",
    "remove_privacy_rule",
    "thread_state",
    "unlink_record",
    "update_privacy_settings",
]
