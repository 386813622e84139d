"""A few weeks of believable contacts for the demo, so the dashboard has something to show.

Everything goes through ``events.record`` like real traffic: calls by ``call_sid``, chats as
real conversations. A resolution plans its survey as it would live; the survey then goes out
and is answered through the survey module at the times the history says. Arrivals follow a
day curve (quiet at night, busy late morning and evening); waits, handle times and scores
are drawn from a seeded generator, so a demo looks the same every time it is loaded.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from kefu import audit
from kefu.cases.categories import Category
from kefu.chat import service as chat_service
from kefu.config import Settings
from kefu.identity import service as identity_service
from kefu.identity.models import Customer, StaffUser
from kefu.quality import events, surveys, tasks
from kefu.quality.models import QualitySurvey

T = TypeVar("T")

# relative arrivals per local hour, 0..23
_DAY_CURVE = (1, 1, 0, 0, 0, 1, 2, 4, 7, 10, 11, 10, 8, 8, 9, 9, 8, 7, 8, 9, 9, 7, 4, 2)
_CHANNELS = (("phone", 40), ("web", 30), ("app", 22), ("wechat", 8))
_SCORES = ((5, 50), (4, 25), (3, 10), (2, 8), (1, 7))


def _pick(rng: random.Random, weighted: Sequence[tuple[T, int]]) -> T:
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def seed_history(
    db: Session, *, settings: Settings, now: datetime, days: int = 14, per_day: int = 40
) -> int:
    """Record ``days`` days of contacts before ``now``; returns how many. Flushes only."""
    rng = random.Random(20261123)  # noqa: S311 - demo data, not security
    staff = [s for s in identity_service.list_staff(db) if s.role in ("agent", "specialist")]
    customers = identity_service.list_customers(db, limit=200)
    if not staff:
        return 0
    categories = [c.value for c in Category]
    tz = settings.tz
    count = 0
    # the rollups take the whole history's sum once, not one upsert per event
    with events.batched(db):
        for back in range(days, 0, -1):
            day = (now - timedelta(days=back)).astimezone(tz).date()
            for _ in range(per_day):
                hour = rng.choices(range(24), weights=_DAY_CURVE)[0]
                start = datetime(day.year, day.month, day.day, hour, tzinfo=tz) + timedelta(
                    seconds=rng.uniform(0, 3600)
                )
                _one(db, rng, start.astimezone(UTC), staff, customers, categories, count)
                count += 1
    surveys.settle_history(db, now=now)
    people = identity_service.list_staff(db)
    _follow_ups(db, rng, now, caller=next((s for s in people if s.role == "supervisor"), staff[0]))
    return count


def _follow_ups(db: Session, rng: random.Random, now: datetime, *, caller: StaffUser) -> None:
    """The low scores' follow-ups (opened by the answers) were called back within a day
    or so, as a team would: done when the history says, unless that is still to come."""
    actor = audit.Actor(name=f"staff:{caller.username}", role=caller.role)
    for task in tasks.list_tasks(db, status="open", limit=1000):
        done_at = task.created_at + timedelta(hours=rng.uniform(1, 30))
        if done_at <= now:
            tasks.complete(
                db,
                task,
                outcome="已回电，向客户致歉并说明了处理结果",
                staff_id=caller.id,
                actor=actor,
                now=done_at,
            )


def _one(
    db: Session,
    rng: random.Random,
    start: datetime,
    staff: list[StaffUser],
    customers: list[Customer],
    categories: list[str],
    number: int,
) -> None:
    channel = _pick(rng, _CHANNELS)
    customer_id = rng.choice(customers).id if customers and rng.random() < 0.8 else None
    agent_id = rng.choice(staff).id
    ids: dict[str, Any] = {}
    if channel == "phone":
        ids["call_sid"] = f"DEMO-CALL-{number:06d}"
    else:
        conversation = chat_service.start(
            db, channel=channel, language="zh-CN", customer_id=customer_id, now=start
        )
        ids["conversation_id"] = conversation.id
    category = rng.choice(categories)

    def rec(kind: str, at: datetime, **extra: Any) -> None:
        events.record(db, kind, channel=channel, at=at, **ids, **extra)

    rec("contact_arrived", start, customer_id=customer_id, category=category)
    at = start
    if channel != "phone":
        at += timedelta(seconds=rng.uniform(2, 6))
        rec("bot_answered", at)
        if rng.random() < 0.45:
            at += timedelta(seconds=rng.uniform(30, 240))
            rec("resolved", at)
            _chat_card(db, ids["conversation_id"], at)  # shown, and left unanswered
            return
        at += timedelta(seconds=rng.uniform(20, 120))
        rec("handed_over", at)
    rec("queued", at)
    wait = rng.expovariate(1 / 25)
    if rng.random() < 0.07 or wait > 240:
        rec("abandoned", at + timedelta(seconds=min(wait, 240)))
        return
    at += timedelta(seconds=wait)
    rec("answered_by_agent", at, staff_id=agent_id)
    rec("first_reply", at + timedelta(seconds=rng.uniform(3, 15)), staff_id=agent_id)
    handle = rng.lognormvariate(5.4, 0.45)
    if rng.random() < 0.05:
        rec("escalated", at + timedelta(seconds=handle / 2), data={"reason": "manual"})
    at += timedelta(seconds=handle)
    solved = rng.random() < 0.85
    if solved:
        rec("resolved", at, staff_id=agent_id)
    rec("contact_ended", at, data={"wrap_seconds": round(rng.uniform(10, 60))})
    if not solved:
        return
    # the survey goes out on the keypad as the call ends, or as a card in the chat
    card = None
    if channel == "phone":
        surveys.offer_for_call(db, call_sid=ids["call_sid"], now=at)
    else:
        card = _chat_card(db, ids["conversation_id"], at)
    if rng.random() < 0.45:
        score = _pick(rng, _SCORES)
        later = rng.uniform(2, 60)
        if channel == "phone":  # on the keypad, seconds after the question
            presses = [str(score), "1" if score >= 3 else "2", "0"]  # "0": no reason given
            for n, digit in enumerate(presses, start=1):
                answered = at + timedelta(seconds=later * n)
                reply = surveys.answer_by_keypad(
                    db, call_sid=ids["call_sid"], digit=digit, now=answered
                )
                if reply.expects is None:
                    break
        elif card is not None:
            surveys.answer(
                db,
                card.token,
                surveys.Answers(score=score, solved=score >= 3),
                via="chat",
                now=card.due_at + timedelta(minutes=later),
            )


def _chat_card(db: Session, conversation_id: int, resolved_at: datetime) -> QualitySurvey | None:
    """The survey card the resolution planned, shown when the widget asks for it (when due)."""
    planned = surveys.chat_card(db, conversation_id, now=resolved_at)
    return planned and surveys.chat_card(db, conversation_id, now=planned.due_at)
