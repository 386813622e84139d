from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu import ratelimit
from kefu.db import utcnow
from kefu.errors import TooManyRequests

SECRET = "test-secret"


def _hit(db: Session, key: str = "10.0.0.1", **kw) -> None:
    ratelimit.hit(db, bucket="t", key=key, limit=3, window_seconds=60, secret=SECRET, **kw)


def test_limit_within_window_then_free_again(db: Session) -> None:
    start = utcnow()
    for i in range(3):
        _hit(db, now=start + timedelta(seconds=i))
    with pytest.raises(TooManyRequests) as refused:
        _hit(db, now=start + timedelta(seconds=10))
    assert 0 < refused.value.retry_after <= 51
    _hit(db, now=start + timedelta(seconds=61))  # the oldest left the window


def test_keys_are_counted_apart_and_stored_hashed(db: Session) -> None:
    for _ in range(3):
        _hit(db, key="a")
    _hit(db, key="b")
    stored = db.scalars(select(ratelimit.RateEvent.key)).all()
    assert "a" not in stored and "b" not in stored


def test_one_client_cannot_pump_codes_to_many_numbers(
    client: TestClient, settings, monkeypatch
) -> None:
    monkeypatch.setattr(settings, "otp_max_per_client_per_hour", 3)
    answers = [
        client.post("/api/v1/verifications", json={"contact": f"1390000{i:04d}", "channel": "web"})
        for i in range(4)
    ]
    assert [a.status_code for a in answers] == [202, 202, 202, 429]
    assert answers[-1].json()["error"]["code"] == "too_many_requests"


def test_events_that_left_the_window_are_cleared(db: Session) -> None:
    start = utcnow()
    for i in range(3):
        _hit(db, now=start + timedelta(seconds=i))
    _hit(db, key="another", now=start)
    _hit(db, now=start + timedelta(seconds=62))  # two of the three have left its window
    stored = db.execute(
        select(ratelimit.RateEvent.key, ratelimit.RateEvent.occurred_at).order_by(
            ratelimit.RateEvent.occurred_at
        )
    ).all()
    assert len(stored) == 3  # another key's event is its own to clear
    assert [at for _key, at in stored][-2:] == [
        start + timedelta(seconds=2),
        start + timedelta(seconds=62),
    ]


def test_events_left_in_the_table_after_the_window_are_not_counted(db: Session) -> None:
    # expired events are cleared at most every CLEAR_EVERY: those still there count for
    # nothing, neither in the limit nor in the time to wait
    start = utcnow()
    for i in range(3):
        _hit(db, now=start + timedelta(seconds=i))
    _hit(db, now=start + timedelta(seconds=60.5))  # clears the first
    _hit(db, now=start + timedelta(seconds=61.5))  # the second left the window, still stored
    _hit(db, now=start + timedelta(seconds=62.5))  # so did the third
    assert len(db.scalars(select(ratelimit.RateEvent.id)).all()) == 5
    with pytest.raises(TooManyRequests) as refused:
        _hit(db, now=start + timedelta(seconds=63))
    assert refused.value.retry_after == 58  # till 60.5 leaves the window at 120.5
    _hit(db, now=start + timedelta(seconds=121))
    stored = db.scalars(select(ratelimit.RateEvent.occurred_at)).all()
    assert sorted(stored) == [start + timedelta(seconds=s) for s in (61.5, 62.5, 121)]
