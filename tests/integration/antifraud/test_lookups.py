"""Look-up counts per value and day, by people as well as look-ups; the supervisor's view
puts a value checked far more than usual at the top."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.factories import staff_token

from kefu.antifraud import lookups, service
from kefu.config import Settings

NOON = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai


def test_counts_people_and_lookups(seeded: Session, settings: Settings) -> None:
    for client_key in ("a", "a", "b", None):
        service.verify(seeded, "+86 170 1234 5678", lang="en", client_key=client_key, now=NOON)
    service.verify(seeded, "95099", lang="en", client_key="a", now=NOON)
    (scam, hotline) = lookups.trends(seeded, today=NOON.date(), days=1)
    assert (scam.value, scam.today, scam.clients_today, scam.verdict) == (
        "+8617012345678",
        4,
        2,
        "reported_scam",
    )
    assert (hotline.value, hotline.today) == ("+8695099", 1)


def test_days_follow_the_local_calendar(seeded: Session, settings: Settings) -> None:
    late = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)  # 01:00 on the 24th in Shanghai
    service.verify(seeded, "95588", lang="en", now=late)
    (trend,) = lookups.trends(seeded, today=datetime(2026, 11, 24).date(), days=1)
    assert trend.value == "+8695588"


def test_a_surge_comes_first(seeded: Session) -> None:
    for day in range(1, 7):
        for _ in range(3):
            service.verify(seeded, "95099", lang="en", now=NOON - timedelta(days=day))
        service.verify(seeded, "+86 400 800 9596", lang="en", now=NOON - timedelta(days=day))
    for _ in range(5):
        service.verify(seeded, "95099", lang="en", now=NOON)
    for index in range(12):
        service.verify(seeded, "4008009596", lang="en", client_key=str(index), now=NOON)
    top = lookups.trends(seeded, today=NOON.date(), days=7)
    assert top[0].value == "+864008009596" and top[0].surging
    assert top[0].today == 12 and top[0].total == 18
    assert not top[1].surging
    assert top[0].by_day[NOON.date()] == 12


def test_supervisors_see_the_figures(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    service.verify(seeded, "kefu-wallet.com.cn.example.net", lang="en")
    supervisor = {"Authorization": f"Bearer {staff_token(client, seeded, 'supervisor')}"}
    body = client.get("/api/v1/antifraud/lookups", params={"days": 7}, headers=supervisor).json()
    assert body[0]["value"] == "kefu-wallet.com.cn.example.net" and body[0]["today"] == 1
    assert (
        client.get("/api/v1/antifraud/lookups", params={"days": 0}, headers=supervisor).status_code
        == 422
    )
    agent = {"Authorization": f"Bearer {staff_token(client, seeded, 'agent')}"}
    assert client.get("/api/v1/antifraud/lookups", headers=agent).status_code == 403


def test_prune_forgets_old_days(seeded: Session) -> None:
    service.verify(seeded, "95099", lang="en", client_key="a", now=NOON - timedelta(days=100))
    service.verify(seeded, "95099", lang="en", client_key="a", now=NOON)
    assert lookups.prune(seeded, before=NOON.date() - timedelta(days=90)) == 1
    assert lookups.trends(seeded, today=NOON.date(), days=90)[0].total == 1
