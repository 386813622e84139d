"""Recompute every contact's facts and all rollups from the events (``kefu quality
rebuild``): after a change to a figure's definition, or to the time zone days are cut in."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kefu.config import get_settings
from kefu.quality import facts, metrics, rollup
from kefu.quality.models import ContactEvent, QualityContact, QualitySegment

BATCH = 500


@dataclass(frozen=True)
class RebuildReport:
    contacts: int
    events: int


def rebuild_all(db: Session) -> RebuildReport:
    tz = get_settings().tz
    rollup.clear(db)
    db.execute(delete(QualitySegment))
    contacts = events = 0
    last_id = 0
    while True:
        batch = list(
            db.scalars(
                select(QualityContact)
                .where(QualityContact.id > last_id)
                .order_by(QualityContact.id)
                .limit(BATCH)
            )
        )
        if not batch:
            break
        total = metrics.Contribution()
        for contact in batch:
            history = list(
                db.scalars(
                    select(ContactEvent)
                    .where(ContactEvent.contact_id == contact.id)
                    .order_by(ContactEvent.at, ContactEvent.id)
                )
            )
            segments = facts.reset(db, contact, history)
            contact.is_repeat = contact.followed_by_repeat = False
            part = metrics.contribution(contact, segments, tz)
            total.extend(part)
            events += len(history)
        db.flush()
        rollup.apply(db, total)
        contacts += len(batch)
        last_id = batch[-1].id
    customers = db.scalars(
        select(QualityContact.customer_id).where(QualityContact.customer_id.is_not(None)).distinct()
    ).all()
    for customer_id in customers:
        if customer_id is not None:
            facts.recount_customer(db, customer_id)
    db.flush()
    return RebuildReport(contacts=contacts, events=events)
