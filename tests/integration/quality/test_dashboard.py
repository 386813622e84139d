"""The dashboard's API and pages: permissions, filters, bad dates, drill-down, CSV."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.factories import make_staff, staff_token
from tests.integration.quality.helpers import console_login
from tests.integration.quality.history import build

from kefu.quality import drill as drill_module

DAY = "from=2026-03-02&to=2026-03-02"


def _auth(client: TestClient, db: Session, role: str = "supervisor") -> dict[str, str]:
    return {"Authorization": f"Bearer {staff_token(client, db, role)}"}


def test_figures_by_channel_as_json(client: TestClient, db: Session) -> None:
    build(db)
    response = client.get(f"/api/v1/quality/figures?{DAY}&by=channel", headers=_auth(client, db))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"]["contacts"] == 6
    assert {row["key"]: row["contacts"] for row in body["rows"]} == {"phone": 3, "web": 3}
    assert body["total"]["service_level"] == pytest.approx(0.6)
    agents = client.get(f"/api/v1/quality/figures?{DAY}", headers=_auth(client, db, "agent"))
    assert agents.status_code == 403


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2026-03-05&to=2026-03-01", "to"),
        ("from=2024-01-01&to=2026-03-01", "to"),
        ("from=yesterday&to=2026-03-01", "from"),
        ("from=2026-02-30&to=2026-03-01", "from"),
        (f"{DAY}&channel=fax", "channel"),
        (f"{DAY}&category=weather", "category"),
        (f"{DAY}&team=interns", "team"),
        (f"{DAY}&by=week", "by"),
        (f"{DAY}&by=hour&team=agent", "by"),
    ],
)
def test_bad_questions_are_refused_with_the_field(
    client: TestClient, db: Session, query: str, field: str
) -> None:
    response = client.get(f"/api/v1/quality/figures?{query}", headers=_auth(client, db))
    assert response.status_code == 400, response.text
    assert response.json()["error"]["field"] == field


def test_csv_in_the_readers_language(client: TestClient, db: Session) -> None:
    build(db)
    headers = _auth(client, db)
    zh = client.get(f"/api/v1/quality/figures.csv?{DAY}&by=day&lang=zh-CN", headers=headers)
    assert zh.status_code == 200 and zh.headers["content-type"].startswith("text/csv")
    lines = zh.text.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("按日,接入量,")
    assert lines[1].startswith("2026-03-02,6,") and lines[-1].startswith("合计,6,")
    en = client.get(f"/api/v1/quality/figures.csv?{DAY}&by=agent&lang=en", headers=headers)
    assert en.text.lstrip("\ufeff").startswith("By agent,Contacts,")


def test_drill_down_lists_the_contacts_behind_a_figure(client: TestClient, db: Session) -> None:
    build(db)
    headers = _auth(client, db)
    abandoned = client.get(f"/api/v1/quality/drill?{DAY}&figure=abandon_rate", headers=headers)
    assert abandoned.status_code == 200
    assert abandoned.json()["total"] == 1
    low = client.get(f"/api/v1/quality/drill?{DAY}&figure=csat", headers=headers).json()
    assert [row["survey_score"] for row in low["rows"]] == [2]
    slow = client.get(f"/api/v1/quality/drill?{DAY}&figure=service_level", headers=headers).json()
    assert slow["total"] == 2  # waited 40 s, and the abandoned one
    unknown = client.get(f"/api/v1/quality/drill?{DAY}&figure=happiness", headers=headers)
    assert unknown.status_code == 400
    # page by page: newest first, each page after the last contact of the one before
    everyone = client.get(f"/api/v1/quality/drill?{DAY}&figure=contacts", headers=headers).json()
    assert everyone["total"] >= 3 and everyone["next_cursor"] is None
    first = client.get(
        f"/api/v1/quality/drill?{DAY}&figure=contacts&limit=2", headers=headers
    ).json()
    after = first["next_cursor"]
    rest = client.get(
        f"/api/v1/quality/drill?{DAY}&figure=contacts&limit=500&cursor={after}", headers=headers
    ).json()
    ids = [row["contact_id"] for row in first["rows"] + rest["rows"]]
    assert ids == [row["contact_id"] for row in everyone["rows"]]
    exactly = client.get(
        f"/api/v1/quality/drill?{DAY}&figure=contacts&limit={everyone['total']}", headers=headers
    ).json()
    assert exactly["next_cursor"] is None  # a full last page links to no empty page


def test_live_and_staffing_api(client: TestClient, db: Session) -> None:
    headers = _auth(client, db)
    live = client.get("/api/v1/quality/live", headers=headers)
    assert live.status_code == 200
    assert {"waiting", "longest_wait_seconds", "agents_online", "cases_at_risk"} <= set(live.json())
    staffing = client.get("/api/v1/quality/staffing?contacts=100&aht=180", headers=headers)
    assert staffing.json()["agents"] == 14
    assert (
        client.get("/api/v1/quality/staffing?contacts=100&aht=0", headers=headers).status_code
        == 422
    )


def test_supervisor_pages_and_their_csv(
    client: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(db)
    console_login(client, db, make_staff(db, "supervisor"))
    live = client.get("/console/quality?lang=en")
    assert live.status_code == 200 and "Waiting now" in live.text
    trends = client.get(f"/console/quality/trends?{DAY}&by=day&lang=zh-CN")
    assert trends.status_code == 200
    assert "服务水平" in trends.text and 'id="q-trend-data"' in trends.text
    assert "/vendor/chart.js/chart.umd.min.js" in trends.text
    bad = client.get("/console/quality/trends?from=2026-03-05&to=2026-03-01&lang=en")
    assert bad.status_code == 400 and "Check the dates" in bad.text
    drill = client.get(f"/console/quality/drill?{DAY}&figure=abandon_rate&lang=en")
    assert drill.status_code == 200 and "1 contacts" in drill.text
    csv = client.get(f"/console/quality/drill.csv?{DAY}&figure=contacts&lang=en")
    assert csv.status_code == 200 and len(csv.text.strip().splitlines()) == 7
    # the six contacts three to a page: the second page is the last, with no next link
    monkeypatch.setattr(drill_module, "PAGE", 3)
    first = client.get(f"/console/quality/drill?{DAY}&figure=contacts&lang=en")
    following = re.search(r'href="([^"]+)" rel="next"', first.text)
    assert following and "figure=contacts" in following.group(1)
    second = client.get(following.group(1).replace("&amp;", "&"))
    assert second.status_code == 200 and 'rel="next"' not in second.text
    assert "First page" in second.text
    assert (first.text.count("</tr>") - 1, second.text.count("</tr>") - 1) == (3, 3)
    staffing = client.get("/console/quality/staffing?contacts=100&aht=180&level=80&shrinkage=0")
    assert staffing.status_code == 200 and 'id="q-agents">14<' in staffing.text
    plan = client.get("/console/quality/staffing.csv?contacts=10&aht=180&day=2026-03-09")
    assert plan.status_code == 200 and len(plan.text.strip().splitlines()) == 49
    assert client.get("/console/quality/surveys").status_code == 403  # admins only


def test_review_and_follow_up_forms(client: TestClient, db: Session) -> None:
    history = build(db)
    csrf = console_login(client, db, make_staff(db, "supervisor"))
    sample = client.post(
        "/console/quality/reviews/sample",
        data={"csrf_token": csrf, "from": "2026-03-02", "to": "2026-03-02", "size": "20"},
        follow_redirects=False,
    )
    assert sample.status_code == 303  # all of the day: test_reviews checks the odds
    listing = client.get("/console/quality/reviews?status=sampled&lang=en")
    assert listing.status_code == 200 and "Low CSAT" in listing.text
    assert history.agent_a.display_name in listing.text  # the sample holds the agents' contacts
    no_csrf = client.post(
        "/console/quality/reviews/sample", data={"from": "2026-03-02", "to": "2026-03-02"}
    )
    assert no_csrf.status_code == 403
    bad = client.post(
        "/console/quality/reviews/sample",
        data={"csrf_token": csrf, "from": "2026-03-09", "to": "2026-03-02"},
    )
    assert bad.status_code == 400
    assert client.get("/console/quality/reviews.csv").status_code == 200
    tasks = client.get("/console/quality/tasks?lang=en")
    assert tasks.status_code == 200


def test_admin_changes_the_survey_settings(client: TestClient, db: Session) -> None:
    csrf = console_login(client, db, make_staff(db, "admin"))
    form = {
        "csrf_token": csrf,
        "ask_solved": "on",
        "reasons": ["long_wait", "other"],
        "low_score_max": "3",
        "chat_delay_minutes": "0",
        "sms_delay_minutes": "15",
        "email_delay_minutes": "60",
        "reminder_hours": "0",
        "expiry_hours": "48",
        "followup_hours": "12",
    }
    saved = client.post("/console/quality/surveys", data=form, follow_redirects=False)
    assert saved.status_code == 303
    page = client.get("/console/quality/surveys?lang=en")
    assert 'name="low_score_max" min="1" max="4" value="3"' in page.text
    bad = client.post("/console/quality/surveys", data={**form, "low_score_max": "9"})
    assert bad.status_code == 400
