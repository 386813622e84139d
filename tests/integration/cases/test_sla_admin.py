"""SLA and hours in the console: business hours that do not parse and a holiday that
overlaps are refused in the form with nothing saved; holidays added as a list; the
business calendar the SLA clock runs on follows the console; a policy edit and the preview
of when a case opened now would be due; stale edits refused."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.factories import make_staff
from tests.integration.identity.test_staff_admin import sign_in

from kefu.cases import hours, policies, sla
from kefu.cases.models import BusinessHoliday, BusinessHours
from kefu.config import Settings


def _holidays(db: Session) -> int:
    return int(db.scalar(select(func.count(BusinessHoliday.id))) or 0)


def test_hours_that_do_not_parse_are_refused(client: TestClient, db: Session) -> None:
    admin = make_staff(db, "admin")
    db.commit()
    csrf = sign_in(client, admin.username)
    for spec in ("mon-fri 9-18", "mon-fri 18:00-09:00", "funday 09:00-18:00"):
        page = client.post(
            "/console/sla/hours", data={"hours": spec, "hours_version": "0", "csrf_token": csrf}
        )
        assert page.status_code == 400, spec
        assert "看不懂" in page.text and spec in page.text
    assert db.get(BusinessHours, 1) is None
    ok = client.post(
        "/console/sla/hours",
        data={"hours": "mon-sat 08:30-20:00", "hours_version": "0", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    stale = client.post(
        "/console/sla/hours",
        data={"hours": "mon-fri 09:00-18:00", "hours_version": "0", "csrf_token": csrf},
    )
    assert stale.status_code == 409
    row = db.get(BusinessHours, 1)
    assert row is not None and row.spec == "mon-sat 08:30-20:00"


def test_holidays_are_added_as_a_list_and_an_overlap_adds_nothing(
    client: TestClient, db: Session
) -> None:
    admin = make_staff(db, "admin")
    db.commit()
    csrf = sign_in(client, admin.username)
    added = client.post(
        "/console/sla/holidays",
        data={"name": "国庆节", "days": "2027-10-01..2027-10-07", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert added.status_code == 303 and _holidays(db) == 7
    overlap = client.post(
        "/console/sla/holidays",
        data={"name": "调休", "days": "2027-09-30\n2027-10-07\n2027-10-08", "csrf_token": csrf},
    )
    assert overlap.status_code == 409
    assert "2027-10-07 已经是节假日（国庆节）" in overlap.text
    assert "2027-09-30" in overlap.text  # what was typed stays
    assert _holidays(db) == 7
    bad = client.post(
        "/console/sla/holidays",
        data={"name": "春节", "days": "2027-02-06, 2027-02-30", "csrf_token": csrf},
    )
    assert bad.status_code == 400 and "“2027-02-30”不是日期" in bad.text
    assert _holidays(db) == 7


def test_the_business_clock_follows_the_console(db: Session, settings: Settings) -> None:
    from kefu import audit

    actor = audit.Actor("staff:admin", "admin")
    hours.set_hours(
        db, spec="mon-fri 09:00-18:00", expected_version=0, settings=settings, actor=actor
    )
    hours.add_holidays(db, text="2026-11-23", name="测试假日", settings=settings, actor=actor)
    calendar = policies.calendar("business", settings, db)
    monday_10 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # a Monday, 10:00 in Shanghai
    due = sla.due(calendar, monday_10, timedelta(hours=1))
    assert due is not None
    local = due.astimezone(settings.tz)
    assert (local.date(), local.hour) == (date(2026, 11, 24), 10)  # Monday is a holiday


def test_a_policy_edit_and_the_preview(client: TestClient, db: Session) -> None:
    admin = make_staff(db, "admin")
    db.commit()
    csrf = sign_in(client, admin.username)
    page = client.get("/console/sla?category=refund&priority=high")
    assert "如果现在" in page.text and "首次响应应在" in page.text
    # the shipped refund/high resolution, 60 h, reads in days and hours, not "60 小时"
    assert "2 小时 / 2 天 12 小时" in page.text
    row = policies.get_policy(db, category="refund", priority="high")
    stamp = row.updated_at.isoformat()
    bad = client.post(
        "/console/sla/policies/refund/high",
        data={
            "first_response_minutes": "600",
            "resolution_minutes": "60",
            "calendar": "24x7",
            "updated_at": stamp,
            "csrf_token": csrf,
        },
    )
    assert bad.status_code == 400 and "首次响应时限不能晚于解决时限" in bad.text
    saved = client.post(
        "/console/sla/policies/refund/high",
        data={
            "first_response_minutes": "30",
            "resolution_minutes": "2880",
            "calendar": "business",
            "updated_at": stamp,
            "csrf_token": csrf,
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    db.refresh(row)
    assert (row.first_response_minutes, row.resolution_minutes, row.calendar) == (
        30,
        2880,
        "business",
    )
    stale = client.post(
        "/console/sla/policies/refund/high",
        data={
            "first_response_minutes": "45",
            "resolution_minutes": "2880",
            "calendar": "business",
            "updated_at": stamp,
            "csrf_token": csrf,
        },
    )
    assert stale.status_code == 409
    db.refresh(row)
    assert row.first_response_minutes == 30
