"""Folding events into per-contact facts, and keeping the rollups in step.

``apply`` takes the contact's contribution before the event, changes the contact, takes it
again after, and adds the difference to the rollups. Events may arrive a little out of
order (a channel reporting late): first times keep the earliest value, and a person's answer
pairs with the latest queue entry before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from itertools import chain
from typing import Any, NamedTuple, cast
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Executable,
    Insert,
    Integer,
    Select,
    Table,
    and_,
    bindparam,
    delete,
    exists,
    insert,
    inspect,
    literal_column,
    null,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy import event as orm_event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import (
    Session,
    SessionTransaction,
    joinedload,
    make_transient,
    make_transient_to_detached,
)
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from kefu.config import get_settings
from kefu.db import utcnow
from kefu.quality import metrics, rollup
from kefu.quality.models import ContactEvent, QualityContact, QualityContactRef, QualitySegment


@dataclass(frozen=True)
class ContactIds:
    call_sid: str | None = None
    conversation_id: int | None = None
    work_item_id: int | None = None
    case_id: int | None = None

    @property
    def live(self) -> list[str]:
        """Refs of a conversation, call or queue item, most specific first."""
        refs = []
        if self.call_sid is not None:
            refs.append(f"call:{self.call_sid}")
        if self.conversation_id is not None:
            refs.append(f"conv:{self.conversation_id}")
        if self.work_item_id is not None:
            refs.append(f"work:{self.work_item_id}")
        return refs

    @property
    def case_ref(self) -> str | None:
        return None if self.case_id is None else f"case:{self.case_id}"

    @property
    def empty(self) -> bool:
        return not self.live and self.case_ref is None


@cache
def _find_query() -> Select[QualityContactRef, QualityContact]:
    """Built once, the ref bound at each call: every event asks it, and building the
    statement cost more than running it."""
    return (
        select(QualityContactRef, QualityContact)
        .join(QualityContact, QualityContact.id == QualityContactRef.contact_id)
        .where(QualityContactRef.ref == bindparam("ref"))
        .options(joinedload(QualityContact.segments))
        .with_for_update(of=QualityContact)
    )


_HELD = "kefu.quality.facts.held"


def _held(db: Session) -> dict[str, tuple[QualityContactRef, QualityContact] | None]:
    """The refs this transaction (or savepoint) found or pointed, with their contacts,
    locked: an assistant turn's second event, or a batch's next event of the same contact,
    finds its contact without asking again; None for a ref known to point nowhere
    (``read_ahead``). Kept apart for each transaction and savepoint, so nothing a rollback
    undid is found here; the merging of a contact empties it."""
    transaction = db.get_nested_transaction() or db.get_transaction()
    held = db.info.get(_HELD)
    if held is None or held[0] is not transaction:
        held = db.info[_HELD] = (transaction, {})
    refs: dict[str, tuple[QualityContactRef, QualityContact] | None] = held[1]
    return refs


def _find(db: Session, ref: str) -> tuple[QualityContactRef, QualityContact] | None:
    """The ref and the contact it points at, locked and read with its segments, in one
    query, unless this transaction holds them already."""
    held = _held(db)
    if ref in held:
        return held[ref]
    row = db.execute(_find_query(), {"ref": ref}).unique().first()
    if row is None:
        return None
    found = held[ref] = (row[0], row[1])
    return found


_TAKEN = select(QualityContactRef.ref).where(
    QualityContactRef.ref.in_(bindparam("refs", expanding=True))
)


def read_ahead(db: Session, refs: list[str]) -> None:
    """Ask in one statement which of ``refs`` point at no contact yet (a batch of deferred
    work's new cases), so their events create their contacts without asking each. A ref
    that is there is left for its event to read and lock when it comes: locking it now
    would hold a contact while later rows may wait for others (see ``deferred.Later``).
    Another writer that makes one of them meanwhile is met as in ``_create``; the ref's
    INSERT then fails and the batch is done again row by row."""
    held = _held(db)
    asked = [ref for ref in refs if ref not in held]
    if not asked:
        return
    taken = set(db.scalars(_TAKEN, {"refs": asked}))
    for ref in asked:
        if ref not in taken:
            held[ref] = None


def _lookup(db: Session, ref: str) -> QualityContact | None:
    found = _find(db, ref)
    if found is None:
        return None
    _write_parked(db, found[1])
    return found[1]


def contact_for(
    db: Session,
    ids: ContactIds,
    event: ContactEvent,
    *,
    fold: bool = False,
    fresh: bool = False,
) -> tuple[QualityContact, bool, list[_Gained]]:
    """The contact an event belongs to, whether the event created it, and, for a contact
    created with the event folded in (``fold``: see ``_create``), the customer's contacts
    whose marks it sets. ``fresh``: the live
    ids are new in this transaction, so no ref names them and none is asked for; should
    their contact exist all the same (an event before this one), it is found by its key.

    A conversation, call or queue item always is (or starts) a contact of its own; an event
    naming only a case goes to the case's latest contact, or starts one for the case.
    """
    # the refs asked on the way, held here (the session forgets objects nothing holds)
    # so pointing them needs no second read; None: asked and not there (a new contact's
    # own ref among them)
    seen: dict[str, QualityContactRef | None] = {}

    def lookup(ref: str) -> QualityContact | None:
        found = _find(db, ref)
        seen[ref] = None if found is None else found[0]
        return None if found is None else found[1]

    contact = None
    for ref in () if fresh else ids.live:
        contact = lookup(ref)
        if contact is not None:
            break
    if contact is None and not ids.live and ids.case_ref is not None:
        contact = lookup(ids.case_ref)
    if contact is not None and not _may_wait(ids, event):
        _write_parked(db, contact)
    created = contact is None
    # a contact another writer created in the same instant was read, not locked
    locked = True
    gained: list[_Gained] = []
    if contact is None:
        key = ids.live[0] if ids.live else ids.case_ref
        assert key is not None  # ids are never empty here
        park = fresh and fold and _may_wait(ids, event)
        contact, created, gained = _create(db, key, event, fold=fold, park=park)
        locked = created
        if fresh and created:
            seen.update(dict.fromkeys(ids.live))
    for ref in ids.live:
        _point(db, ref, contact, replace=False, seen=seen, locked=locked)
    if ids.case_ref is not None:
        if ids.live:
            _absorb_case_contact(db, ids.case_ref, contact, seen)
        if contact.case_id != ids.case_id:
            contact.case_id = ids.case_id
        _point(db, ids.case_ref, contact, replace=True, seen=seen, locked=locked)
    return contact, created, gained


def _absorb_case_contact(
    db: Session, case_ref: str, live: QualityContact, seen: dict[str, QualityContactRef | None]
) -> None:
    """A case opened during a conversation or call is part of that contact, not a second
    one: once the two are tied, the case's own contact (started when it opened) is merged
    into the conversation's or call's. A case opened before the contact began stays apart:
    the customer came back about it. The case's ref goes into ``seen`` unless it went with
    the merged contact."""
    row = _find(db, case_ref)
    if row is None:
        seen[case_ref] = None
        return
    ref, found = row
    if found.id == live.id or found.key != case_ref or found.started_at < live.started_at:
        seen[case_ref] = ref
        return
    tz = get_settings().tz
    rollup.apply(
        db,
        metrics.difference(
            metrics.Contribution(), metrics.contribution(found, segments_of(db, found), tz)
        ),
    )
    db.execute(
        update(ContactEvent).where(ContactEvent.contact_id == found.id).values(contact_id=live.id)
    )
    db.execute(delete(QualitySegment).where(QualitySegment.contact_id == found.id))
    db.execute(delete(QualityContactRef).where(QualityContactRef.contact_id == found.id))
    _held(db).clear()
    partners = _partners(db, _identity(found), marked=True)
    db.delete(found)
    db.flush()
    for partner in partners:  # the marks the merged contact set may go with it
        _recount(db, partner, tz)
    refold(db, live)


_DEFAULTS: dict[str, Any] = {
    "arrived_at": None,
    "bot_answered_at": None,
    "handed_over_at": None,
    "first_reply_at": None,
    "first_resolved_at": None,
    "resolved_at": None,
    "ended_at": None,
    "staff_id": None,
    "escalations": 0,
    "transfers": 0,
    "reopens": 0,
    "actions": 0,
    "within_sla": None,
    "survey_sent": False,
    "survey_score": None,
    "survey_solved": None,
    "callbacks_requested": 0,
    "callbacks_done": 0,
    "handle_seconds": 0.0,
}


def reset(
    db: Session, contact: QualityContact, history: list[ContactEvent]
) -> list[QualitySegment]:
    """Fold ``history`` (in time order) into a contact from scratch; its old segments must
    be gone already. Returns the new segments."""
    for name, value in _DEFAULTS.items():
        setattr(contact, name, value)
    segments: list[QualitySegment] = []
    if history:
        contact.started_at = history[0].at
    for event in history:
        _fold(db, contact, segments, event)
    _sum_handle(contact, segments)
    set_committed_value(contact, "segments", segments)
    return segments


def refold(db: Session, contact: QualityContact) -> None:
    """Rebuild a contact's facts from its events, and move its rollup contribution."""
    tz = get_settings().tz
    before = metrics.contribution(contact, segments_of(db, contact), tz)
    previous = _identity(contact)
    history = list(
        db.scalars(
            select(ContactEvent)
            .where(ContactEvent.contact_id == contact.id)
            .order_by(ContactEvent.at, ContactEvent.id)
        )
    )
    db.execute(delete(QualitySegment).where(QualitySegment.contact_id == contact.id))
    segments = reset(db, contact, history)
    db.flush()
    rollup.apply(db, metrics.difference(metrics.contribution(contact, segments, tz), before))
    refresh_repeats(db, contact, previous=previous)


def record(
    db: Session, ids: ContactIds, event: ContactEvent, *, fresh: bool = False
) -> QualityContact:
    """Store a checked event on its contact and fold it in; ``events.record`` checks
    (``fresh``: see ``contact_for``)."""
    # A new contact is inserted with its first event folded in (no UPDATE after), unless
    # tying it to a case may merge the case's contact into it: the merge folds the events
    # it reads back, which this one is not among yet.
    fold = not (ids.live and ids.case_ref is not None)
    contact, created, gained = contact_for(db, ids, event, fold=fold, fresh=fresh)
    if created and fold:
        _add(db, contact, event)
        tz = get_settings().tz
        if not _waits(db, contact):  # a waiting one counts when it is written
            rollup.apply(db, metrics.contribution(contact, segments_of(db, contact), tz))
        _mark_gained(db, gained, tz)
    else:
        _add(db, contact, event)
        apply(db, contact, event, created=created)
    return contact


def record_on(
    db: Session, contact: QualityContact, event: ContactEvent, *, created: bool = False
) -> None:
    """Store an event on a contact already known (quality's own events: surveys)."""
    _write_parked(db, contact)
    _add(db, contact, event)
    apply(db, contact, event, created=created)


def refs_of(db: Session, contact: QualityContact) -> list[str]:
    return list(
        db.scalars(select(QualityContactRef.ref).where(QualityContactRef.contact_id == contact.id))
    )


_INSERTS: dict[str, Any] = {}
_COLUMNS = tuple(column.key for column in QualityContact.__table__.columns if column.key != "id")
# Bound as a new contact's id in its repeat questions, asked before its INSERT: the id the
# INSERT gives is above every id the questions can see (SQLite gives the largest plus one;
# PostgreSQL's sequence gave every row visible to them its id before).
_UNSTORED_ID = 2**63 - 1


def _insert_new(db: Session) -> Any:
    """INSERT of a contact (every column bound) that does nothing when its key is taken,
    returning the id. Built once per dialect. On PostgreSQL a writer creating the same key
    waits for the first to commit and then inserts nothing; no savepoint is needed to
    survive it."""
    dialect = db.get_bind().dialect.name
    if dialect not in _INSERTS:
        table = QualityContact.__table__
        insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
        _INSERTS[dialect] = (
            insert(table).on_conflict_do_nothing(index_elements=[table.c.key]).returning(table.c.id)
        )
    return _INSERTS[dialect]


def _create(
    db: Session, key: str, event: ContactEvent, *, fold: bool, park: bool = False
) -> tuple[QualityContact, bool, list[_Gained]]:
    """A new contact for ``event``, whether this created it, and the contacts whose marks
    it sets; with ``fold``, the event folded in, its own repeat marks asked (with those
    contacts, in one question: ``_new_marks``), and everything in its INSERT. The contact
    is built here and inserted as one Core statement, then joins the session as if read
    back (no flush, no second read). With ``park`` it is inserted only at the session's
    next flush (see ``_may_wait``)."""
    contact = QualityContact(
        key=key,
        channel=event.channel,
        customer_id=event.customer_id,
        category=event.category,
        case_id=event.case_id,
        case_reference=None,
        started_at=event.at,
        is_repeat=False,
        followed_by_repeat=False,
        repeat_until=None,
        **_DEFAULTS,
    )
    segments: list[QualitySegment] = []
    gained: list[_Gained] = []
    if fold:
        _fold(None, contact, segments, event)
        _sum_handle(contact, segments)
        identity = _identity(contact)
        contact.repeat_until = _repeat_until(identity)
        if _shape(identity) is not None:
            _flush_for_questions(db)
            with db.no_autoflush:
                contact.is_repeat, contact.followed_by_repeat, gained = _new_marks(
                    db, identity._replace(id=_UNSTORED_ID)
                )
    contact.updated_at = utcnow()
    if park:
        set_committed_value(contact, "segments", segments)
        transaction = db.get_nested_transaction() or db.get_transaction()
        assert transaction is not None  # an event is recorded in a change's transaction
        db.info.setdefault(_PARKED, {})[id(contact)] = _Parked(transaction, contact, segments, [])
        return contact, True, gained
    if _insert(db, contact, segments):
        return contact, True, gained
    # another writer created it in the same instant
    found = db.scalar(select(QualityContact).where(QualityContact.key == key))
    if found is None:
        raise RuntimeError(f"quality contact {key} neither created nor found")
    return found, False, []


# What the repeat questions read of the other contacts besides their marks.
_ASKED = frozenset({"customer_id", "category", "case_id", "started_at", "repeat_until"})
_MARKS = ("is_repeat", "followed_by_repeat")


def _flush_for_questions(db: Session) -> None:
    """Write the earlier events' changes when they can move the answers of a new contact's
    repeat questions (``_new_marks``: its marks and its unmarked partners): a contact added or
    deleted, a change of what they read, or a mark cleared. A mark set need not be written:
    the unmarked partners then include a contact this session has marked already, and
    marking it again changes nothing. So the events, refs and marks of a batch's new cases
    wait for the session's next flush and are written together."""
    if any(isinstance(item, QualityContact) for item in chain(db.new, db.deleted)):
        db.flush()
        return
    for item in db.dirty:
        if not isinstance(item, QualityContact):
            continue
        # an attribute set keeps its value before, even when set to the same again
        before = inspect(item).committed_state
        if any(before[name] != getattr(item, name) for name in _ASKED.intersection(before)) or any(
            before.get(mark) is True and getattr(item, mark) is False for mark in _MARKS
        ):
            db.flush()
            return


def _insert(db: Session, contact: QualityContact, segments: list[QualitySegment]) -> bool:
    """Insert a new contact and its segments; False when its key is taken."""
    # on the session's connection: no autoflush, so what ``_flush_for_questions`` left
    # waits for the next flush
    contact_id = (
        db.connection()
        .execute(_insert_new(db), {name: getattr(contact, name) for name in _COLUMNS})
        .scalar()
    )
    if contact_id is None:
        return False
    contact.id = contact_id
    make_transient_to_detached(contact)
    db.add(contact)
    for segment in segments:
        segment.contact_id = contact_id
        db.add(segment)
    set_committed_value(contact, "segments", segments)
    return True


# A new contact may wait, unwritten, for the session's next flush, so that the event after
# its first goes into its INSERT instead of an UPDATE of it (an anonymous assistant turn's
# arrival and answer). Only the contact of a conversation its transaction inserted, with no
# customer and no case: no ref, repeat question or other contact can bring it in before the
# flush. The rows naming it (its events and refs) are added to the session and get its id
# when it is written; the session is not clean while they wait, so a flush, a query's
# autoflush, a savepoint's start or the commit writes it first.
_PARKED = "kefu.quality.facts.parked"


@dataclass
class _Parked:
    transaction: SessionTransaction
    contact: QualityContact
    segments: list[QualitySegment]
    rows: list[ContactEvent | QualityContactRef]


def _may_wait(ids: ContactIds, event: ContactEvent) -> bool:
    """Whether a contact may wait unwritten after, or for, this event: its first or the
    assistant's answer, naming no customer and no case."""
    return (
        event.kind in ("contact_arrived", "bot_answered")
        and event.customer_id is None
        and ids.case_ref is None
    )


def _add(db: Session, contact: QualityContact, row: ContactEvent | QualityContactRef) -> None:
    """Add a row naming ``contact``; it gets the contact's id when a waiting one is written."""
    row.contact_id = contact.id
    db.add(row)
    parked = db.info.get(_PARKED)
    if parked and id(contact) in parked:
        parked[id(contact)].rows.append(row)


def _write_parked(db: Session, contact: QualityContact) -> None:
    """Write ``contact`` now if it waits (see ``_PARKED``)."""
    parked = db.info.get(_PARKED)
    waiting = parked.pop(id(contact), None) if parked else None
    if waiting is None:
        return
    if not _insert(db, contact, waiting.segments):
        raise RuntimeError(f"quality contact {contact.key} exists already")
    _insert_rows(db, contact, waiting.rows)
    # its events' figures, counted once rather than before and after each
    rollup.apply(db, metrics.contribution(contact, segments_of(db, contact), get_settings().tz))


def _waits(db: Session, contact: QualityContact) -> bool:
    parked: dict[int, _Parked] | None = db.info.get(_PARKED)
    return parked is not None and id(contact) in parked


def write_waiting(db: Session) -> None:
    """Write the contacts waiting to be written (see ``_PARKED``) now."""
    parked = db.info.get(_PARKED)
    if parked:
        for waiting in list(parked.values()):
            _write_parked(db, waiting.contact)


def _insert_rows(
    db: Session, contact: QualityContact, rows: list[ContactEvent | QualityContactRef]
) -> None:
    """Write a waiting contact's events and refs with it, one Core INSERT a table, and let
    them go from the session: nothing in the change reads them back as objects (a ref the
    transaction holds is only compared), and the unit of work's flush of them cost several
    times their INSERTs. A row a rolled-back savepoint took out of the session is not
    written."""
    values: dict[Table, list[dict[str, Any]]] = {table: [] for table in _ROW_TABLES}
    for row in rows:
        if row not in db:
            continue
        row.contact_id = contact.id
        table = cast(Table, row.__table__)
        values[table].append({key: getattr(row, key) for key in _written(table)})
        make_transient(row)  # out of the session, without ``expunge``'s walk of relations
    connection = db.connection()
    for table, batch in values.items():
        if batch:
            connection.execute(_row_inserts(table), batch)


_ROW_TABLES = (cast(Table, ContactEvent.__table__), cast(Table, QualityContactRef.__table__))


@cache
def _written(table: Table) -> tuple[str, ...]:
    # the database gives an event its id; a ref's key is its own
    return tuple(column.key for column in table.columns if column is not table.autoincrement_column)


@cache
def _row_inserts(table: Table) -> Insert:
    # built once: building a statement and its cache key cost more than running it
    return insert(table)


@orm_event.listens_for(Session, "before_flush")
def _write_waiting(session: Session, _context: object, _instances: object) -> None:
    write_waiting(session)


@orm_event.listens_for(Session, "after_transaction_end")
def _forget_waiting(session: Session, transaction: SessionTransaction) -> None:
    """A waiting contact is never written if its transaction (or savepoint) rolled back:
    the rows naming it went with it."""
    parked = session.info.get(_PARKED)
    if parked:
        for key, waiting in list(parked.items()):
            if waiting.transaction is transaction:
                del parked[key]


def _point(
    db: Session,
    ref: str,
    contact: QualityContact,
    *,
    replace: bool,
    seen: dict[str, QualityContactRef | None],
    locked: bool,
) -> None:
    """Point ``ref`` at ``contact``. A ref in ``seen`` was asked for by this event a moment
    ago, in this transaction, and is not asked again (a new contact's own ref was asked
    and not found)."""
    existing = seen[ref] if ref in seen else db.get(QualityContactRef, ref)
    if existing is None:
        existing = QualityContactRef(ref=ref)
        _add(db, contact, existing)
    elif replace and existing.contact_id != contact.id:
        existing.contact_id = contact.id
    elif existing.contact_id != contact.id:
        return
    if locked:
        _held(db)[ref] = (existing, contact)
    else:  # no longer pointing nowhere, and not locked by this transaction
        _held(db).pop(ref, None)


def contact_by_ref(db: Session, ref: str) -> QualityContact | None:
    return _lookup(db, ref)


def segments_of(db: Session, contact: QualityContact) -> list[QualitySegment]:
    """The contact's segments in the order they began: read from the database the first
    time in a session, then the list this module keeps in step with the rows
    (``_new_segment`` adds to it, ``reset`` replaces it)."""
    return contact.segments


def _earliest(current: datetime | None, at: datetime) -> datetime:
    return at if current is None or at < current else current


class Identity(NamedTuple):
    """What decides whether a contact repeats another, or is repeated."""

    id: int
    customer_id: int | None
    category: str | None
    case_id: int | None
    started_at: datetime
    first_resolved_at: datetime | None


def _identity(contact: QualityContact) -> Identity:
    return Identity(
        contact.id,
        contact.customer_id,
        contact.category,
        contact.case_id,
        contact.started_at,
        contact.first_resolved_at,
    )


def apply(
    db: Session, contact: QualityContact, event: ContactEvent, *, created: bool = False
) -> None:
    """Fold one event in; a contact the event just created had counted nothing before.

    The changes are written at the session's next flush (a query, the commit), so the
    events of one transaction go in one flush: an assistant turn's two. The repeat
    questions run without autoflush (the contact's own change need not be written for
    them) and must see the other contacts' changes, so an event that can ask them (one
    with a customer) writes what earlier events left first."""
    tz = get_settings().tz
    if contact.customer_id is not None or event.customer_id is not None:
        db.flush()
    if created:  # nothing to read: it has no segments yet
        set_committed_value(contact, "segments", [])
    segments = segments_of(db, contact)
    # a waiting contact counts once, as it is written (``_write_parked``)
    counted = not _waits(db, contact)
    before = (
        metrics.contribution(contact, segments, tz)
        if counted and not created
        else metrics.Contribution()
    )
    identity = None if created else _identity(contact)
    _fold(db, contact, segments, event)
    _sum_handle(contact, segments)
    contact.updated_at = utcnow()
    current = _identity(contact)
    if current != identity:
        # its repeat window and own marks go in with the event's other changes: one UPDATE
        # and one rollup change (the question leaves the contact itself out, so it need
        # not be written first)
        contact.repeat_until = _repeat_until(current)
        with db.no_autoflush:
            contact.is_repeat, contact.followed_by_repeat = _marks(db, current)
    if counted:
        rollup.apply(db, metrics.difference(metrics.contribution(contact, segments, tz), before))
    if current != identity:
        _recount_partners(db, current, previous=identity, tz=tz)


def _sum_handle(contact: QualityContact, segments: list[QualitySegment]) -> None:
    contact.handle_seconds = sum(metrics.handle_seconds(s) or 0.0 for s in segments)


def _open_queued(segments: list[QualitySegment], at: datetime) -> QualitySegment | None:
    waiting = [
        s
        for s in segments
        if s.queued_at is not None
        and s.queued_at <= at
        and s.answered_at is None
        and s.abandoned_at is None
        and s.ended_at is None
    ]
    return max(waiting, key=lambda s: s.queued_at or at) if waiting else None


def _open_answered(segments: list[QualitySegment]) -> QualitySegment | None:
    talking = [s for s in segments if s.answered_at is not None and s.ended_at is None]
    return talking[-1] if talking else None


def _new_segment(
    db: Session | None, contact: QualityContact, segments: list[QualitySegment], **values: Any
) -> QualitySegment:
    """A new stretch; with ``db`` None the contact is not stored yet, and its stretches
    are added with it (``_create``)."""
    segment = QualitySegment(contact_id=contact.id, wrap_seconds=0.0, **values)
    if db is not None:
        db.add(segment)
    segments.append(segment)
    return segment


def _end_talk(segments: list[QualitySegment], event: ContactEvent) -> None:
    segment = _open_answered(segments)
    if segment is None:
        return
    segment.ended_at = max(event.at, segment.answered_at or event.at)
    wrap = event.data.get("wrap_seconds")
    if isinstance(wrap, int | float) and not isinstance(wrap, bool) and wrap > 0:
        segment.wrap_seconds = float(wrap)


def _fold(
    db: Session | None,
    contact: QualityContact,
    segments: list[QualitySegment],
    event: ContactEvent,
) -> None:
    at = event.at
    if event.customer_id is not None and contact.customer_id is None:
        contact.customer_id = event.customer_id
    if event.category is not None:
        contact.category = event.category  # an agent's correction wins over the first guess
    reference = event.data.get("case_reference")
    if isinstance(reference, str) and event.case_id is not None:
        contact.case_reference = reference[:20]
    if at < contact.started_at:
        contact.started_at = at
    kind = event.kind
    if kind == "contact_arrived":
        contact.arrived_at = _earliest(contact.arrived_at, at)
        contact.started_at = min(contact.started_at, at)
    elif kind == "bot_answered":
        contact.bot_answered_at = _earliest(contact.bot_answered_at, at)
    elif kind == "handed_over":
        contact.handed_over_at = _earliest(contact.handed_over_at, at)
    elif kind == "queued":
        if _open_queued(segments, at) is None:
            _new_segment(db, contact, segments, queued_at=at)
    elif kind == "answered_by_agent":
        segment = _open_queued(segments, at)
        if segment is None:  # reached a person without a queue (direct call, call-back)
            segment = _new_segment(db, contact, segments)
        segment.answered_at = at
        segment.wait_seconds = (
            max((at - segment.queued_at).total_seconds(), 0.0) if segment.queued_at else None
        )
        segment.staff_id = event.staff_id
        contact.staff_id = event.staff_id
    elif kind == "first_reply":
        if contact.first_reply_at is None or at < contact.first_reply_at:
            contact.first_reply_at = at
        contact.staff_id = event.staff_id
    elif kind == "transferred":
        contact.transfers += 1
        _end_talk(segments, event)
    elif kind == "escalated":
        contact.escalations += 1
        if event.data.get("reason") == "sla_breach":
            contact.within_sla = False
    elif kind == "action_done":
        contact.actions += 1
    elif kind == "resolved":
        contact.resolved_at = at
        contact.first_resolved_at = _earliest(contact.first_resolved_at, at)
        if event.staff_id is not None:
            contact.staff_id = event.staff_id
        within_sla = event.data.get("within_sla")
        if isinstance(within_sla, bool) and contact.within_sla is not False:
            contact.within_sla = within_sla
    elif kind == "reopened":
        contact.reopens += 1
        contact.resolved_at = None
    elif kind == "contact_ended":
        contact.ended_at = at
        _end_talk(segments, event)
        waiting = _open_queued(segments, at)
        if waiting is not None:  # the customer left while still in the queue
            waiting.abandoned_at = at
    elif kind == "abandoned":
        waiting = _open_queued(segments, at)
        if waiting is None:
            waiting = _new_segment(db, contact, segments)
        waiting.abandoned_at = at
    elif kind == "callback_requested":
        contact.callbacks_requested += 1
        waiting = _open_queued(segments, at)
        if waiting is not None:  # left the queue for a call-back: neither answered nor lost
            waiting.ended_at = at
    elif kind == "callback_done":
        contact.callbacks_done += 1
    elif kind == "survey_sent":
        contact.survey_sent = True
    elif kind == "survey_answered":
        contact.survey_sent = True
        score = event.data.get("score")
        if isinstance(score, int) and not isinstance(score, bool):
            contact.survey_score = score
        solved = event.data.get("solved")
        if isinstance(solved, bool):
            contact.survey_solved = solved


def _repeat_until(identity: Identity) -> datetime:
    return (identity.first_resolved_at or identity.started_at) + metrics.REPEAT_WINDOW


class _Shape(NamedTuple):
    """Which terms the repeat questions about a contact have: the same problem is its case
    and/or its category (unless that is "other")."""

    case: bool
    category: bool


def _shape(identity: Identity) -> _Shape | None:
    """None when nothing can repeat ``identity`` or be repeated by it: no customer, or no
    problem to repeat."""
    case = identity.case_id is not None
    category = identity.category is not None and identity.category != "other"
    if identity.customer_id is None or not (case or category):
        return None
    return _Shape(case, category)


def _params(identity: Identity) -> dict[str, Any]:
    return {
        "customer_id": identity.customer_id,
        "started_at": identity.started_at,
        "until": _repeat_until(identity),
        "id": identity.id,
        "case_id": identity.case_id,
        "category": identity.category,
    }


def _repeat_terms(
    shape: _Shape,
) -> tuple[list[ColumnElement[bool]], list[ColumnElement[bool]]]:
    """Conditions, with the contact's values as bound parameters (``_params``), on the
    earlier contacts it repeats (same customer and problem, started before it, and it
    started within their repeat window) and on the later contacts that repeat it."""
    contact, param = QualityContact, bindparam
    alike: list[ColumnElement[bool]] = []
    if shape.case:
        alike.append(contact.case_id == param("case_id"))
    if shape.category:
        alike.append(contact.category == param("category"))
    earlier = [
        contact.customer_id == param("customer_id"),
        contact.repeat_until >= param("started_at"),
        contact.started_at <= param("started_at"),
        or_(
            contact.started_at < param("started_at"),
            and_(contact.started_at == param("started_at"), contact.id < param("id")),
        ),
        or_(*alike),
    ]
    later = [
        contact.customer_id == param("customer_id"),
        contact.started_at >= param("started_at"),
        contact.started_at <= param("until"),
        or_(
            contact.started_at > param("started_at"),
            and_(contact.started_at == param("started_at"), contact.id > param("id")),
        ),
        or_(*alike),
    ]
    return earlier, later


@cache
def _marks_query(shape: _Shape) -> Select[bool, bool]:
    """Built once per shape: building the expression cost more than running it."""
    earlier, later = _repeat_terms(shape)
    itself = QualityContact.id != bindparam("id")
    return select(exists().where(*earlier, itself), exists().where(*later, itself))


@cache
def _partners_query(shape: _Shape, marked: bool) -> Executable:
    """Both directions in one statement: each branch is searched through its own index,
    and no contact is in both (one started before the contact, the other after)."""
    earlier, later = _repeat_terms(shape)
    other = QualityContact.id != bindparam("id")
    both = union_all(
        select(QualityContact).where(
            *earlier, QualityContact.followed_by_repeat.is_(marked), other
        ),
        select(QualityContact).where(*later, QualityContact.is_repeat.is_(marked), other),
    )
    return select(QualityContact).from_statement(both)


def _marks(db: Session, identity: Identity) -> tuple[bool, bool]:
    """Whether ``identity`` repeats an earlier contact, and whether a later one repeats it:
    both asked in one query."""
    shape = _shape(identity)
    if shape is None:
        return False, False
    row = db.execute(_marks_query(shape), _params(identity)).one()
    return bool(row[0]), bool(row[1])


def _recount(db: Session, contact: QualityContact, tz: ZoneInfo) -> None:
    """Set whether a contact repeats an earlier one and whether a later one repeats it,
    moving its rollup contribution when either changes."""
    is_repeat, followed = _marks(db, _identity(contact))
    _set_marks(db, contact, is_repeat, followed, tz)


def _set_marks(
    db: Session, contact: QualityContact, is_repeat: bool, followed: bool, tz: ZoneInfo
) -> None:
    if is_repeat == contact.is_repeat and followed == contact.followed_by_repeat:
        return
    # A contact's stretches add the same whatever its marks, so they drop out of the
    # change, except through containment (answered by the assistant, by no person), which
    # the followed-by-repeat mark also decides: they are read only when it can hold.
    may_be_contained = contact.bot_answered_at is not None and contact.handed_over_at is None
    segments = segments_of(db, contact) if may_be_contained else []
    before = metrics.contribution(contact, segments, tz)
    contact.is_repeat, contact.followed_by_repeat = is_repeat, followed
    rollup.apply(db, metrics.difference(metrics.contribution(contact, segments, tz), before))


def refresh_repeats(
    db: Session, contact: QualityContact, *, previous: Identity | None = None
) -> None:
    """Recompute the repeat marks a change of ``contact`` can move: its own, and those of
    the customer's contacts it repeats or that repeat it, before the change (``previous``,
    None for a new contact) and after.

    Run when a contact's customer, problem, start or resolution changes. Only contacts
    whose mark can flip are read (a new relation can only set a mark that is off, a lost
    one only clear a mark that is on), through indexes on the customer, so the cost does
    not grow with the length of the customer's history.
    """
    tz = get_settings().tz
    contact.repeat_until = _repeat_until(_identity(contact))
    db.flush()
    _recount(db, contact, tz)
    _recount_partners(db, _identity(contact), previous=previous, tz=tz)
    db.flush()


def _recount_partners(
    db: Session, current: Identity, *, previous: Identity | None, tz: ZoneInfo
) -> None:
    """Recount the customer's other contacts whose marks a change of one contact (from
    ``previous`` to ``current``) can move; see ``refresh_repeats``.

    A contact the change relates anew has its mark on that side set without asking: the
    relation is there, and its other mark hangs on contacts beyond it, which the change
    did not touch. One the change may also have parted from is counted afresh (that
    question, which can find the changed contact, writes the change first). Finding the
    partners leaves the changed contact out, so it need not be written for that."""
    parted: dict[int, QualityContact] = {}
    with db.no_autoflush:
        if previous is not None and previous != current:
            parted = {item.id: item for item in _partners(db, previous, marked=True)}
        gained = _partners(db, current, marked=False)
    for item in gained:
        if item.id in parted:
            continue
        if (item.started_at, item.id) < (current.started_at, current.id):  # current repeats it
            _set_marks(db, item, item.is_repeat, True, tz)
        else:  # it repeats current
            _set_marks(db, item, True, item.followed_by_repeat, tz)
    for item in parted.values():
        _recount(db, item, tz)


def _partners(db: Session, identity: Identity, *, marked: bool) -> list[QualityContact]:
    """The contacts ``identity`` repeats whose followed-by-repeat mark is ``marked``, and
    those repeating it whose repeat mark is ``marked``."""
    shape = _shape(identity)
    if shape is None:
        return []
    return list(db.scalars(_partners_query(shape, marked), _params(identity)))


class _Gained(NamedTuple):
    """A contact a new one relates to whose mark on that side is not set yet."""

    id: int
    earlier: bool  # the new contact repeats it (else it repeats the new contact)


_EARLIER_UNMARKED, _LATER_UNMARKED, _REPEATS, _REPEATED = range(4)


@cache
def _new_marks_query(shape: _Shape) -> Executable:
    """``_marks`` and ``_partners`` of the unmarked in one statement, for a new contact:
    rows (id, side) of the partners, then a row with no id for each mark it has. Built
    once per shape."""
    earlier, later = _repeat_terms(shape)
    other = QualityContact.id != bindparam("id")

    def side(value: int) -> ColumnElement[int]:
        return literal_column(str(value), Integer)

    return union_all(
        select(QualityContact.id, side(_EARLIER_UNMARKED)).where(
            *earlier, QualityContact.followed_by_repeat.is_(False), other
        ),
        select(QualityContact.id, side(_LATER_UNMARKED)).where(
            *later, QualityContact.is_repeat.is_(False), other
        ),
        select(null(), side(_REPEATS)).where(exists().where(*earlier, other)),
        select(null(), side(_REPEATED)).where(exists().where(*later, other)),
    )


def _new_marks(db: Session, identity: Identity) -> tuple[bool, bool, list[_Gained]]:
    """Whether a new contact repeats an earlier one and whether a later one repeats it,
    and the contacts whose mark on its side it sets (those of ``_recount_partners``
    without a previous identity), asked before its row is written (``_UNSTORED_ID``)."""
    shape = _shape(identity)
    if shape is None:
        return False, False, []
    rows = db.execute(_new_marks_query(shape), _params(identity)).all()
    sides = {row[1] for row in rows}
    gained = [
        _Gained(row[0], row[1] == _EARLIER_UNMARKED)
        for row in rows
        if row[1] in (_EARLIER_UNMARKED, _LATER_UNMARKED)
    ]
    return _REPEATS in sides, _REPEATED in sides, gained


_BY_IDS = select(QualityContact).where(QualityContact.id.in_(bindparam("ids", expanding=True)))


def _mark_gained(db: Session, gained: list[_Gained], tz: ZoneInfo) -> None:
    """Set the marks a new contact relates its partners by (see ``_recount_partners``).
    Most are in the session already (a batch's earlier contacts of the customer, marked
    but not written yet): those are not read again."""
    if not gained:
        return
    found: dict[int, QualityContact] = {}
    missing = []
    for item in gained:
        known = db.identity_map.get(identity_key(QualityContact, item.id))
        if known is None:
            missing.append(item.id)
        else:
            found[item.id] = known
    if missing:
        with db.no_autoflush:
            found.update((contact.id, contact) for contact in db.scalars(_BY_IDS, {"ids": missing}))
    for item in gained:
        contact = found[item.id]
        if item.earlier:  # the new contact repeats it
            _set_marks(db, contact, contact.is_repeat, True, tz)
        else:  # it repeats the new contact
            _set_marks(db, contact, True, contact.followed_by_repeat, tz)


def recount_customer(db: Session, customer_id: int) -> None:
    """Set every repeat mark of one customer's contacts from scratch (a rebuild)."""
    tz = get_settings().tz
    history = list(
        db.scalars(
            select(QualityContact)
            .where(QualityContact.customer_id == customer_id)
            .order_by(QualityContact.started_at, QualityContact.id)
        )
    )
    for item in history:
        item.repeat_until = _repeat_until(_identity(item))
    db.flush()
    for item in history:
        _recount(db, item, tz)
    db.flush()
