"""A hand-built day of contacts whose figures the tests work out by hand.

Day 2026-03-02 in Shanghai; T0 is 09:00 local. Seconds after T0:

1 phone CA-H1, customer 1, refund: arrives 0, queued 10, agent A answers 25 (wait 15),
  replies 30, resolved 300 (committed time missed), reopened 400, resolved 500 (in time),
  call ends 330 with 30 s wrap-up (A handles 335 s). Survey: 5, solved.
2 phone CA-H2, customer 2, recharge: arrives 0, queued 5, abandons at 65.
3 phone CA-H3, customer 2, recharge (a repeat of 2): arrives 600, queued 600, B answers 640
  (wait 40), replies 650, transfers 700 (B handled 60 s), queued 700, A answers 710
  (wait 10), resolved 900 by A (in time), ends 960 (A handled 250 s). Survey: 2, not solved.
4 web work 501, customer 3, account locked: arrives 1000, assistant answers 1005, resolved
  1100 — but customer 3 is back on the same problem two days later (contact 6).
  Survey sent, never answered.
5 web work 502, customer 4, login: arrives 1200, assistant 1201, handed over 1260, queued
  1260, A answers 1280 (wait 20), replies 1290, escalated 1300, ends 1500 (A 220 s).
7 web work 503, anonymous: arrives 4900 (10:21 local), assistant 4901, resolved 4920.
6 app work 504, customer 3, account locked: two days later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session
from tests.factories import make_customer, make_staff

from kefu.identity.models import StaffUser
from kefu.quality import events

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@dataclass(frozen=True)
class History:
    agent_a: StaffUser
    agent_b: StaffUser


def build(db: Session) -> History:
    a = make_staff(db, "agent")
    b = make_staff(db, "specialist")
    c1, c2, c3, c4 = (make_customer(db) for _ in range(4))

    def rec(kind: str, seconds: float, **kwargs: object) -> None:
        events.record(db, kind, at=at(seconds), **kwargs)  # type: ignore[arg-type]

    one = {"channel": "phone", "call_sid": "CA-H1"}
    rec("contact_arrived", 0, customer_id=c1.id, category="refund", **one)
    rec("queued", 10, **one)
    rec("answered_by_agent", 25, staff_id=a.id, **one)
    rec("first_reply", 30, staff_id=a.id, **one)
    rec("resolved", 300, staff_id=a.id, data={"within_sla": False}, **one)
    rec("contact_ended", 330, data={"wrap_seconds": 30}, **one)
    rec("reopened", 400, **one)
    rec("resolved", 500, staff_id=a.id, data={"within_sla": True}, **one)
    rec("survey_sent", 600, **one)
    rec("survey_answered", 700, data={"score": 5, "solved": True}, **one)

    two = {"channel": "phone", "call_sid": "CA-H2"}
    rec("contact_arrived", 0, customer_id=c2.id, category="recharge_not_credited", **two)
    rec("queued", 5, **two)
    rec("abandoned", 65, **two)

    three = {"channel": "phone", "call_sid": "CA-H3"}
    rec("contact_arrived", 600, customer_id=c2.id, category="recharge_not_credited", **three)
    rec("queued", 600, **three)
    rec("answered_by_agent", 640, staff_id=b.id, **three)
    rec("first_reply", 650, staff_id=b.id, **three)
    rec("transferred", 700, **three)
    rec("queued", 700, **three)
    rec("answered_by_agent", 710, staff_id=a.id, **three)
    rec("resolved", 900, staff_id=a.id, data={"within_sla": True}, **three)
    rec("contact_ended", 960, **three)
    rec("survey_sent", 1000, **three)
    rec("survey_answered", 1100, data={"score": 2, "solved": False}, **three)

    four = {"channel": "web", "work_item_id": 501}
    rec("contact_arrived", 1000, customer_id=c3.id, category="account_locked", **four)
    rec("bot_answered", 1005, **four)
    rec("resolved", 1100, **four)
    rec("survey_sent", 1200, **four)

    five = {"channel": "web", "work_item_id": 502}
    rec("contact_arrived", 1200, customer_id=c4.id, category="login_failed", **five)
    rec("bot_answered", 1201, **five)
    rec("handed_over", 1260, **five)
    rec("queued", 1260, **five)
    rec("answered_by_agent", 1280, staff_id=a.id, **five)
    rec("first_reply", 1290, staff_id=a.id, **five)
    rec("escalated", 1300, data={"reason": "manual"}, **five)
    rec("contact_ended", 1500, **five)

    seven = {"channel": "web", "work_item_id": 503}
    rec("contact_arrived", 4900, **seven)
    rec("bot_answered", 4901, **seven)
    rec("resolved", 4920, **seven)

    six = {"channel": "app", "work_item_id": 504}
    rec("contact_arrived", 2 * 86400, customer_id=c3.id, category="account_locked", **six)
    return History(agent_a=a, agent_b=b)
