"""QA scorecards and follow-up tasks: sampling that favours what needs a look, scoring,
agents seeing only their own reviews, and follow-ups done on time."""

from __future__ import annotations

import html
import re
from collections import Counter
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.factories import make_customer, make_staff
from tests.integration.quality.helpers import T0, console_login

from kefu import audit
from kefu.errors import Conflict, InvalidInput
from kefu.quality import events, qa, tasks
from kefu.quality.models import QualityContact

SUPERVISOR = audit.Actor(name="staff:boss", role="supervisor")


def _call(
    db: Session,
    sid: str,
    agent_id: int,
    *,
    minutes: float,
    score: int | None = None,
    escalate: bool = False,
) -> None:
    customer = make_customer(db)
    common = {"channel": "phone", "call_sid": sid}
    events.record(db, "contact_arrived", at=T0, customer_id=customer.id, **common)  # type: ignore[arg-type]
    events.record(db, "answered_by_agent", at=T0, staff_id=agent_id, **common)  # type: ignore[arg-type]
    if escalate:
        events.record(db, "escalated", at=T0 + timedelta(minutes=1), **common)  # type: ignore[arg-type]
    events.record(db, "contact_ended", at=T0 + timedelta(minutes=minutes), **common)  # type: ignore[arg-type]
    if score is not None:
        events.record(
            db,
            "survey_answered",
            at=T0 + timedelta(hours=1),
            data={"score": score},
            **common,  # type: ignore[arg-type]
        )


def test_the_sample_leans_to_low_scores_escalations_and_long_calls(db: Session) -> None:
    agent = make_staff(db)
    for n in range(40):
        _call(db, f"CA-ok-{n}", agent.id, minutes=3, score=5)
    _call(db, "CA-low", agent.id, minutes=3, score=1)
    _call(db, "CA-esc", agent.id, minutes=3, escalate=True)
    _call(db, "CA-long", agent.id, minutes=30)
    picked: Counter[str] = Counter()
    for seed in range(30):
        with db.begin_nested() as nested:
            sample = qa.draw_sample(
                db, start=T0, end=T0 + timedelta(days=1), size=5, actor=SUPERVISOR, seed=seed
            )
            picked.update(review.sample_reason for review in sample)
            nested.rollback()
    # at random each contact would be picked in 5 of 43 draws, about 3.5 times in 30
    # samples; weighted 20 or 10 to 1 they come up far more often
    assert picked["low_csat"] >= 18, picked
    assert picked["escalated"] >= 10 and picked["long_handle"] >= 10, picked
    assert picked["random"] > 0
    # the review list pages by cursor: the same reviews, in the same order, as one page
    qa.draw_sample(db, start=T0, end=T0 + timedelta(days=1), size=5, actor=SUPERVISOR, seed=1)
    whole = qa.list_reviews(db, limit=100)
    paged: list[int] = []
    cursor = None
    while True:
        page, cursor = qa.LIST_ORDER.cut(qa.list_reviews(db, limit=3, after=cursor), 2)
        paged += [review.id for review in page]
        if cursor is None:
            break
    assert len(whole) == 5 and paged == [review.id for review in whole]


def test_scoring_a_review(db: Session) -> None:
    agent, boss = make_staff(db), make_staff(db, "supervisor")
    _call(db, "CA-score", agent.id, minutes=5)
    contact = db.query(QualityContact).filter_by(key="call:CA-score").one()
    review = qa.add_contact(db, contact_id=contact.id, actor=SUPERVISOR)
    assert qa.add_contact(db, contact_id=contact.id, actor=SUPERVISOR).id == review.id
    scores = dict.fromkeys(qa.RUBRIC, 5)
    with pytest.raises(InvalidInput):
        qa.score(
            db,
            review,
            scores={"attitude": 5},
            comments={},
            summary=None,
            reviewer_id=boss.id,
            actor=SUPERVISOR,
        )
    with pytest.raises(InvalidInput):
        qa.score(
            db,
            review,
            scores={**scores, "attitude": 6},
            comments={},
            summary=None,
            reviewer_id=boss.id,
            actor=SUPERVISOR,
        )
    with pytest.raises(InvalidInput):
        qa.score(
            db,
            review,
            scores=scores,
            comments={},
            summary=None,
            reviewer_id=agent.id,
            actor=SUPERVISOR,
        )
    qa.score(
        db,
        review,
        scores={**scores, "solution": 3, "follow_up": 1},
        comments={"solution": "应先核实到账时间"},
        summary="整体良好",
        reviewer_id=boss.id,
        actor=SUPERVISOR,
    )
    assert review.total == pytest.approx(20 + 20 + 20 + 12.5 + 0)
    with pytest.raises(Conflict):
        qa.score(
            db,
            review,
            scores=scores,
            comments={},
            summary=None,
            reviewer_id=boss.id,
            actor=SUPERVISOR,
        )


def test_agents_see_their_own_reviews_only(db: Session, client: TestClient) -> None:
    mine, other, boss = make_staff(db), make_staff(db), make_staff(db, "supervisor")
    for sid, who in (("CA-mine", mine), ("CA-other", other)):
        _call(db, sid, who.id, minutes=4)
        contact = db.query(QualityContact).filter_by(key=f"call:{sid}").one()
        review = qa.add_contact(db, contact_id=contact.id, actor=SUPERVISOR)
        qa.score(
            db,
            review,
            scores=dict.fromkeys(qa.RUBRIC, 4),
            comments={"attitude": f"评语-{sid}"},
            summary=None,
            reviewer_id=boss.id,
            actor=SUPERVISOR,
        )
    console_login(client, db, mine)
    page = client.get("/console/quality/my-reviews")
    assert page.status_code == 200
    assert "评语-CA-mine" in page.text and "评语-CA-other" not in page.text
    csv = client.get("/console/quality/my-reviews.csv")
    assert csv.status_code == 200 and csv.text.count("\n") == 2  # header and one review
    assert client.get("/console/quality/reviews").status_code == 403
    assert client.get("/console/quality/trends").status_code == 403


def test_follow_ups_done_on_time(db: Session) -> None:
    agent, boss = make_staff(db), make_staff(db, "supervisor")
    _call(db, "CA-t1", agent.id, minutes=2)
    _call(db, "CA-t2", agent.id, minutes=2)
    ids = [db.query(QualityContact).filter_by(key=f"call:{s}").one().id for s in ("CA-t1", "CA-t2")]
    first = tasks.open_for_review(
        db, contact_id=ids[0], summary="回访客户", actor=SUPERVISOR, now=T0
    )
    second = tasks.open_for_review(
        db, contact_id=ids[1], summary="回访客户", actor=SUPERVISOR, now=T0
    )
    tasks.complete(
        db, first, outcome="已回访", staff_id=boss.id, actor=SUPERVISOR, now=T0 + timedelta(hours=2)
    )
    tasks.complete(
        db,
        second,
        outcome="已回访",
        staff_id=boss.id,
        actor=SUPERVISOR,
        now=T0 + timedelta(hours=30),
    )
    with pytest.raises(Conflict):
        tasks.complete(db, first, outcome="again", staff_id=boss.id, actor=SUPERVISOR)
    with pytest.raises(InvalidInput):
        tasks.open_for_review(db, contact_id=ids[0], summary="  ", actor=SUPERVISOR)
    count = tasks.on_time(db, start=T0, end=T0 + timedelta(days=3), now=T0 + timedelta(days=3))
    assert (count.due, count.on_time, count.share) == (2, 1, 0.5)
    done, after = tasks.LIST_ORDER.cut(tasks.list_tasks(db, status="done", limit=2), 1)
    assert [t.id for t in done + tasks.list_tasks(db, status="done", after=after)] == [
        first.id,
        second.id,
    ]
    assert tasks.on_time(db, start=T0, end=T0 + timedelta(days=3), now=T0).due == 0


def test_the_review_and_follow_up_pages_go_page_by_page(
    db: Session, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both pages show PAGE rows and a 下一页 link to the rows after the last one shown,
    then 第一页 back; a cursor that is not one is a 400 page, not a 500."""
    from kefu.quality import review_pages

    monkeypatch.setattr(review_pages, "PAGE", 2)
    agent, boss = make_staff(db), make_staff(db, "supervisor")
    for n in range(3):
        _call(db, f"CA-p{n}", agent.id, minutes=2)
        contact = db.query(QualityContact).filter_by(key=f"call:CA-p{n}").one()
        qa.add_contact(db, contact_id=contact.id, actor=SUPERVISOR)
        tasks.open_for_review(
            db, contact_id=contact.id, summary=f"回访-{n}", actor=SUPERVISOR, now=T0
        )
    console_login(client, db, boss)
    rows = {
        "/console/quality/reviews": r'href="/console/quality/reviews/\d+"',
        "/console/quality/tasks": r"<dd>回访-\d</dd>",
    }
    for path, row in rows.items():
        first = client.get(path)
        assert first.status_code == 200 and "下一页" in first.text and "第一页" not in first.text
        next_url = re.search(r'href="([^"]+)" rel="next"', first.text)
        assert next_url is not None
        second = client.get(html.unescape(next_url[1]))
        assert second.status_code == 200
        assert "下一页" not in second.text and "第一页" in second.text
        shown = len(re.findall(row, first.text)) + len(re.findall(row, second.text))
        assert shown == 3, path  # every row once over the two pages
        bad = client.get(path, params={"after": "bm90LWEtY3Vyc29y"})
        assert bad.status_code == 400 and "Traceback" not in bad.text
        # a link cannot put its own words on the page as if Kefu had said them
        planted = client.get(path, params={"error": "退款请拨打 400-000-0000"})
        assert planted.status_code == 200 and "退款请拨打" not in planted.text
