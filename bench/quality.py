"""Service-quality dashboard and report at scale: 1 M cases, 10 M contact events.

Builds a throwaway database (SQLite by default, or ``--database-url`` for PostgreSQL) with
a year of history: customers, staff, cases, one contact per case with its segments, ten
events per contact, and the rollups — summed with the same ``metrics.contribution`` that
``events.record`` applies, so they are what live traffic would have left. Then it times:

- recording events through ``events.record`` on the full tables (the write cost);
- the dashboard's API and pages through the real app (HTTP, in process): today live,
  30-day trends by day, hour, agent and team, a filtered 90-day question, a drill-down,
  a whole-year report by day and by agent (``kefu report``), the staffing plan.

Target: p95 < 200 ms for every dashboard and report question.

Before timing, the benchmark settles its heap the way ``kefu serve`` does after start-up
(``kefu.heap.settle``), so the generator's leftovers do not make the collector's walks
longer than a server's.

    python bench/quality.py [--contacts 1000000] [--events 10] [--runs 30]
                            [--database-url postgresql+psycopg://... | --keep FILE]

``--keep FILE`` builds the SQLite database into FILE the first time and only times on later
runs (the build takes about 20 minutes at full size on two cores).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from _harness import pct, postgres_database

from kefu.cases.categories import Category

CHANNELS = (("phone", 38), ("web", 27), ("app", 20), ("wechat", 8), ("email", 5), ("sms", 2))
CATEGORIES = tuple(c.value for c in Category)
DAY_CURVE = (1, 1, 0, 0, 0, 1, 2, 4, 7, 10, 11, 10, 8, 8, 9, 9, 8, 7, 8, 9, 9, 7, 4, 2)
BENCH_PASSWORD = "bench-only-" + "password"
ROLES = ("agent",) * 80 + ("specialist",) * 15 + ("supervisor",) * 5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10, help="events per contact")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--writes", type=int, default=400, help="contacts recorded live")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--keep", type=Path, help="SQLite file built once, reused after")
    args = parser.parse_args()
    if args.keep and args.database_url:
        parser.error("--keep is for SQLite; leave out --database-url")

    if args.keep:
        path = args.keep.resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        built = path.with_name(path.name + ".built")
        if not built.exists():
            # a file left by an interrupted build is not reused
            for leftover in path.parent.glob(path.name + "*"):
                leftover.unlink()
        _run(args, f"sqlite:///{path}", path.parent, build_marker=built)
        return
    workdir = Path(tempfile.mkdtemp(prefix="kefu-bench-quality-"))
    try:
        with _database(args.database_url, workdir) as url:
            _run(args, url, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def _database(server_url: str, workdir: Path) -> Iterator[str]:
    """A new empty database: a file, or a database created on the PostgreSQL server given
    (never the one named in the URL), dropped afterwards."""
    if not server_url:
        yield f"sqlite:///{workdir / 'quality.db'}"
        return
    with postgres_database(server_url, "quality") as url:
        try:
            yield url
        finally:
            from kefu.db import get_engine

            get_engine().dispose()  # the benchmark's connections, before the drop


def _run(
    args: argparse.Namespace, url: str, workdir: Path, build_marker: Path | None = None
) -> None:
    os.environ.update(
        {
            "KEFU_DATABASE_URL": url,
            "KEFU_ENV": "test",
            "KEFU_LOG_LEVEL": "WARNING",
            "KEFU_SMTP_ENABLED": "false",
            "KEFU_STORAGE_DIR": str(workdir / "attachments"),
        }
    )
    from kefu import heap, migrate
    from kefu.db import get_engine

    engine = get_engine()
    migrate.upgrade(engine)
    now = datetime.now(UTC)
    if build_marker is not None and build_marker.exists():
        print(f"database: {url}, built before ({build_marker.read_text().strip()})")
    else:
        started = time.perf_counter()
        sizes = Generator(args, now).run(engine)
        build_seconds = time.perf_counter() - started
        print(f"database: {engine.dialect.name}; built in {build_seconds:.0f} s")
        for name, count in sizes.items():
            print(f"  {name:<20} {count:>12,}")
        if build_marker is not None:
            build_marker.write_text(f"{now:%Y-%m-%d %H:%M} UTC, {args.contacts:,} contacts\n")
    heap.settle()
    _time_writes(args.writes)
    _time_questions(args.runs, now)


# --- building the data -------------------------------------------------------------------


@dataclass
class Facts:
    """A contact's facts in the shape ``metrics.contribution`` reads."""

    channel: str
    category: str | None
    staff_id: int | None
    started_at: datetime
    bot_answered_at: datetime | None = None
    handed_over_at: datetime | None = None
    first_reply_at: datetime | None = None
    first_resolved_at: datetime | None = None
    resolved_at: datetime | None = None
    escalations: int = 0
    transfers: int = 0
    reopens: int = 0
    within_sla: bool | None = None
    is_repeat: bool = False
    followed_by_repeat: bool = False
    survey_sent: bool = False
    survey_score: int | None = None
    survey_solved: bool | None = None
    callbacks_requested: int = 0
    callbacks_done: int = 0


@dataclass
class Segment:
    staff_id: int | None
    queued_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    abandoned_at: datetime | None
    wrap_seconds: float = 0.0


@dataclass
class Generator:
    args: argparse.Namespace
    now: datetime
    rng: random.Random = field(default_factory=lambda: random.Random(9))

    def run(self, engine: Any) -> dict[str, int]:
        from kefu.config import get_settings
        from kefu.quality import metrics

        self.tz: ZoneInfo = get_settings().tz
        self.total = metrics.Contribution()
        self.writer = Writer(engine, self.now)
        staff_ids = self._staff(engine)
        customers = self.args.customers
        self.writer.customers(customers, self.now)
        sizes = {"customers": customers, "staff": len(staff_ids)}
        sizes.update(self._contacts(staff_ids, customers))
        sizes.update(self.writer.rollups(self.total))
        self.writer.finish()
        return sizes

    def _staff(self, engine: Any) -> list[int]:
        from sqlalchemy.orm import Session

        from kefu.identity import service as identity_service

        with Session(engine) as db:
            first = identity_service.create_staff(
                db, username="boss", password=BENCH_PASSWORD, role="supervisor"
            )
            ids = self.writer.staff(db, first.password_hash, ROLES)
            db.commit()
        return ids

    def _when(self) -> datetime:
        day = self.rng.randrange(1, self.args.days + 1)
        hour = self.rng.choices(range(24), weights=DAY_CURVE)[0]
        local = (self.now - timedelta(days=day)).astimezone(self.tz)
        start = datetime(local.year, local.month, local.day, hour, tzinfo=self.tz)
        return (start + timedelta(seconds=self.rng.uniform(0, 3600))).astimezone(UTC)

    def _contacts(self, staff_ids: list[int], customers: int) -> dict[str, int]:
        from kefu.quality import metrics

        counts = {"cases": 0, "contacts": 0, "segments": 0, "contact events": 0}
        chunk = 20_000
        for first in range(1, self.args.contacts + 1, chunk):
            batch: list[tuple[int, Facts, list[Segment], int]] = []
            for contact_id in range(first, min(first + chunk, self.args.contacts + 1)):
                facts, segments = self._one(staff_ids)
                customer = self.rng.randrange(1, customers + 1)
                batch.append((contact_id, facts, segments, customer))
                self.total.extend(metrics.contribution(facts, segments, self.tz))
            sizes = self.writer.contacts(batch, self.args.events)
            for name, value in sizes.items():
                counts[name] += value
            print(f"  … {counts['contacts']:,} contacts", file=sys.stderr)
        return counts

    def _one(self, staff_ids: list[int]) -> tuple[Facts, list[Segment]]:
        rng = self.rng
        channel = rng.choices([c for c, _ in CHANNELS], weights=[w for _, w in CHANNELS])[0]
        start = self._when()
        facts = Facts(
            channel=channel, category=rng.choice(CATEGORIES), staff_id=None, started_at=start
        )
        segments: list[Segment] = []
        at = start
        if channel in ("web", "app", "wechat"):
            at += timedelta(seconds=3)
            facts.bot_answered_at = at
            if rng.random() < 0.45:
                facts.resolved_at = facts.first_resolved_at = at + timedelta(seconds=90)
                facts.followed_by_repeat = rng.random() < 0.08
                return facts, segments
            at += timedelta(seconds=rng.uniform(20, 120))
            facts.handed_over_at = at
        agent = rng.choice(staff_ids)
        wait = rng.expovariate(1 / 25)
        if rng.random() < 0.06:
            segments.append(Segment(None, at, None, None, at + timedelta(seconds=wait)))
            return facts, segments
        answered = at + timedelta(seconds=wait)
        handle = rng.lognormvariate(5.4, 0.5)
        ended = answered + timedelta(seconds=handle)
        segments.append(Segment(agent, at, answered, ended, None, rng.uniform(10, 60)))
        facts.staff_id = agent
        facts.first_reply_at = answered + timedelta(seconds=rng.uniform(3, 20))
        facts.escalations = int(rng.random() < 0.06)
        facts.is_repeat = rng.random() < 0.12
        if rng.random() < 0.85:
            facts.resolved_at = facts.first_resolved_at = ended
            facts.reopens = int(rng.random() < 0.04)
            facts.followed_by_repeat = rng.random() < 0.1
            facts.within_sla = rng.random() < 0.93
            if rng.random() < 0.45:
                facts.survey_sent = True
                if rng.random() < 0.6:
                    facts.survey_score = rng.choices((5, 4, 3, 2, 1), (50, 25, 10, 8, 7))[0]
                    facts.survey_solved = facts.survey_score >= 3
        return facts, segments


def _case_status(f: Facts, now: datetime) -> str:
    """As a real desk keeps them: resolved cases close after a week, and what is still
    open is recent (older problems were closed one way or another)."""
    age = now - f.started_at
    if f.resolved_at is not None:
        return "closed" if age > timedelta(days=7) else "resolved"
    return "closed" if age > timedelta(days=30) else "open"


def _stamp(moment: datetime | None) -> Any:
    return None if moment is None else moment.astimezone(UTC).replace(tzinfo=None)


class Writer:
    """Bulk writes through the driver (executemany / COPY): the generator's fast path."""

    def __init__(self, engine: Any, now: datetime) -> None:
        self.engine = engine
        self.now = now
        self.postgres = engine.dialect.name == "postgresql"

    def _put(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            if self.postgres:
                quoted = ", ".join(f'"{c}"' for c in columns)
                with cursor.copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" for _ in columns)
                quoted = ", ".join(f'"{c}"' for c in columns)
                cursor.execute("BEGIN")
                cursor.executemany(
                    f'INSERT INTO "{table}" ({quoted}) VALUES ({marks})',  # noqa: S608 - our names
                    [[_sqlite(v) for v in row] for row in rows],
                )
            raw.commit()
        finally:
            raw.close()

    def staff(self, db: Any, password_hash: str, roles: Sequence[str]) -> list[int]:
        from kefu.identity.models import StaffUser

        users = [
            StaffUser(
                username=f"agent{n:03d}",
                display_name=f"客服 {n:03d}",
                role=role,
                password_hash=password_hash,
                language="zh-CN",
                is_active=True,
                created_at=datetime.now(UTC),
            )
            for n, role in enumerate(roles, start=1)
        ]
        db.add_all(users)
        db.flush()
        return [u.id for u in users if u.role in ("agent", "specialist")]

    def customers(self, count: int, now: datetime) -> None:
        rows = [
            (n, f"B{n:09d}", f"客户{n}", f"+8613{n:09d}", None, "zh-CN", _stamp(now))
            for n in range(1, count + 1)
        ]
        self._put(
            "customer",
            ("id", "wallet_account_id", "name", "phone", "email", "language", "created_at"),
            rows,
        )

    def contacts(
        self, batch: list[tuple[int, Facts, list[Segment], int]], events_each: int
    ) -> dict[str, int]:
        cases, contacts, refs, segments, events = [], [], [], [], []
        for contact_id, f, segs, customer in batch:
            opened = _stamp(f.started_at)
            due = _stamp(f.started_at + timedelta(hours=24))
            status = _case_status(f, self.now)
            cases.append(
                (
                    contact_id,
                    f"KF-B-{contact_id:09d}",
                    customer,
                    f.category,
                    "normal",
                    f.channel if f.channel != "phone" else "voice",
                    status,
                    "bench",
                    "zh-CN",
                    "tier1",
                    "24x7",
                    60,
                    1440,
                    True,
                    due,
                    due,
                    due,
                    0,
                    opened,
                    _stamp(f.resolved_at),
                    opened,
                    opened,
                    f.staff_id,
                )
            )
            handle = sum(
                (s.ended_at - s.answered_at).total_seconds() + s.wrap_seconds
                for s in segs
                if s.answered_at and s.ended_at
            )
            contacts.append(
                (
                    contact_id,
                    f"case:{contact_id}",
                    f.channel,
                    customer,
                    f.category,
                    contact_id,
                    f"KF-B-{contact_id:09d}",
                    f.staff_id,
                    _stamp(f.started_at),
                    _stamp(f.started_at),
                    _stamp(f.bot_answered_at),
                    _stamp(f.handed_over_at),
                    _stamp(f.first_reply_at),
                    _stamp(f.first_resolved_at),
                    _stamp(f.resolved_at),
                    None,
                    f.escalations,
                    f.transfers,
                    f.reopens,
                    0,
                    f.within_sla,
                    f.is_repeat,
                    f.followed_by_repeat,
                    f.survey_sent,
                    f.survey_score,
                    f.survey_solved,
                    0,
                    0,
                    handle,
                    _stamp(f.started_at),
                )
            )
            refs.append((f"case:{contact_id}", contact_id))
            for s in segs:
                wait = (
                    (s.answered_at - s.queued_at).total_seconds()
                    if s.answered_at and s.queued_at
                    else None
                )
                segments.append(
                    (
                        contact_id,
                        s.staff_id,
                        _stamp(s.queued_at),
                        _stamp(s.answered_at),
                        _stamp(s.ended_at),
                        _stamp(s.abandoned_at),
                        wait,
                        s.wrap_seconds,
                    )
                )
            kinds = _kinds(f, segs, events_each)
            step = timedelta(seconds=20)
            for n, kind in enumerate(kinds):
                at = _stamp(f.started_at + n * step)
                events.append(
                    (
                        kind,
                        f.channel,
                        at,
                        contact_id,
                        contact_id,
                        f.staff_id,
                        customer,
                        f.category,
                        "{}",
                        at,
                    )
                )
        self._put(
            "case",
            (
                "id",
                "reference",
                "customer_id",
                "category",
                "priority",
                "channel",
                "status",
                "subject",
                "language",
                "tier",
                "sla_calendar",
                "first_response_minutes",
                "resolution_minutes",
                "pause_on_customer",
                "first_response_due_at",
                "resolution_due_at",
                "committed_at",
                "escalation_count",
                "last_activity_at",
                "resolved_at",
                "created_at",
                "updated_at",
                "owner_id",
            ),
            cases,
        )
        self._put(
            "quality_contact",
            (
                "id",
                "key",
                "channel",
                "customer_id",
                "category",
                "case_id",
                "case_reference",
                "staff_id",
                "started_at",
                "arrived_at",
                "bot_answered_at",
                "handed_over_at",
                "first_reply_at",
                "first_resolved_at",
                "resolved_at",
                "ended_at",
                "escalations",
                "transfers",
                "reopens",
                "actions",
                "within_sla",
                "is_repeat",
                "followed_by_repeat",
                "survey_sent",
                "survey_score",
                "survey_solved",
                "callbacks_requested",
                "callbacks_done",
                "handle_seconds",
                "updated_at",
            ),
            contacts,
        )
        self._put("quality_contact_ref", ("ref", "contact_id"), refs)
        self._put(
            "quality_segment",
            (
                "contact_id",
                "staff_id",
                "queued_at",
                "answered_at",
                "ended_at",
                "abandoned_at",
                "wait_seconds",
                "wrap_seconds",
            ),
            segments,
        )
        self._put(
            "contact_event",
            (
                "kind",
                "channel",
                "at",
                "contact_id",
                "case_id",
                "staff_id",
                "customer_id",
                "category",
                "data",
                "recorded_at",
            ),
            events,
        )
        return {
            "cases": len(cases),
            "contacts": len(contacts),
            "segments": len(segments),
            "contact events": len(events),
        }

    def rollups(self, total: Any) -> dict[str, int]:
        from kefu.quality.metrics import COUNTERS, SUMS

        rows = [
            (
                key[0],
                _stamp(key[1]),
                key[2],
                key[3],
                key[4],
                *(values.get(n, 0.0) if n in SUMS else round(values.get(n, 0.0)) for n in COUNTERS),
            )
            for key, values in total.counters.items()
        ]
        self._put(
            "quality_rollup",
            ("grain", "period_start", "channel", "category", "staff_id", *COUNTERS),
            rows,
        )
        return {"rollup rows": len(rows)}

    def finish(self) -> None:
        """Move PostgreSQL's id sequences past the ids COPY wrote (SQLite takes the next
        rowid by itself), then gather the planner's statistics."""
        from sqlalchemy import text

        with self.engine.begin() as conn:
            if self.postgres:
                tables = conn.execute(
                    text(
                        "SELECT table_name FROM information_schema.columns"
                        " WHERE table_schema = current_schema() AND column_name = 'id'"
                        " AND (column_default LIKE 'nextval%' OR is_identity = 'YES')"
                    )
                ).scalars()
                for table in tables:
                    highest = f'SELECT max(id) FROM "{table}"'  # noqa: S608 - the catalogue's names
                    conn.execute(
                        text(
                            "SELECT setval(pg_get_serial_sequence(:quoted, 'id'),"
                            f" COALESCE(({highest}), 0) + 1, false)"
                        ),
                        {"quoted": f'"{table}"'},
                    )
            conn.execute(text("ANALYZE"))


def _sqlite(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def _kinds(f: Facts, segments: list[Segment], count: int) -> list[str]:
    kinds = ["contact_arrived"]
    if f.bot_answered_at:
        kinds.append("bot_answered")
    if f.handed_over_at:
        kinds.append("handed_over")
    for s in segments:
        kinds.append("queued")
        kinds.append("answered_by_agent" if s.answered_at else "abandoned")
    if f.first_reply_at:
        kinds.append("first_reply")
    if f.resolved_at:
        kinds.append("resolved")
    if f.survey_sent:
        kinds.append("survey_sent")
    if f.survey_score:
        kinds.append("survey_answered")
    while len(kinds) < count:
        kinds.append("action_done")
    return kinds[:count]


# --- timing ------------------------------------------------------------------------------


def _summary(label: str, samples: list[float]) -> None:
    ms = [s * 1000 for s in samples]
    verdict = "ok" if pct(ms, 0.95) < 200 else "OVER 200 ms"
    print(
        f"  {label:<44} p50 {pct(ms, 0.5):7.1f} ms   p95 {pct(ms, 0.95):7.1f} ms   "
        f"max {max(ms):7.1f} ms   {verdict}"
    )


def _time_writes(contacts: int) -> None:
    from kefu.db import get_sessionmaker
    from kefu.quality import events

    print(f"\nrecording live events on the full tables ({contacts} contacts, 6 events each):")
    sessions = get_sessionmaker()
    rng = random.Random(3)
    samples: list[float] = []
    started = time.perf_counter()
    base = datetime.now(UTC) - timedelta(hours=1)
    run = f"{base:%Y%m%d%H%M%S}"  # a kept database is timed again with new calls
    for n in range(contacts):
        sid = f"BENCH-LIVE-{run}-{n}"
        at = base + timedelta(seconds=n)
        steps = [
            ("contact_arrived", 0, {"customer_id": rng.randrange(1, 1000), "category": "refund"}),
            ("queued", 5, {}),
            ("answered_by_agent", 25, {"staff_id": 2}),
            ("first_reply", 30, {"staff_id": 2}),
            ("resolved", 200, {"staff_id": 2}),
            ("contact_ended", 230, {"data": {"wrap_seconds": 20}}),
        ]
        for kind, offset, extra in steps:
            begin = time.perf_counter()
            with sessions() as db:
                events.record(
                    db,
                    kind,
                    channel="phone",
                    call_sid=sid,
                    at=at + timedelta(seconds=offset),
                    **extra,  # type: ignore[arg-type]
                )
                db.commit()
            samples.append(time.perf_counter() - begin)
    elapsed = time.perf_counter() - started
    print(f"  {len(samples) / elapsed:,.0f} events/s, one transaction each")
    _summary("events.record + commit", samples)


def _time_questions(runs: int, now: datetime) -> None:
    from fastapi.testclient import TestClient

    from kefu.app import create_app
    from kefu.config import get_settings

    settings = get_settings()
    today = now.astimezone(settings.tz).date()
    month = f"from={today - timedelta(days=29)}&to={today}"
    quarter = f"from={today - timedelta(days=89)}&to={today}"
    year = f"from={today - timedelta(days=365)}&to={today}"
    week = f"from={today - timedelta(days=6)}&to={today}"
    app = create_app(settings)
    with TestClient(app) as client:
        token = client.post(
            "/api/v1/auth/token", json={"username": "boss", "password": BENCH_PASSWORD}
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        client.cookies.set("kefu_login_csrf", "bench", path="/console")
        client.post(
            "/console/login",
            data={"username": "boss", "password": BENCH_PASSWORD, "csrf_token": "bench"},
        )
        questions: list[tuple[str, str, dict[str, str]]] = [
            ("API today live", "/api/v1/quality/live", headers),
            ("API 30 days by day", f"/api/v1/quality/figures?{month}&by=day", headers),
            ("API 30 days by hour of day", f"/api/v1/quality/figures?{month}&by=hour", headers),
            ("API 30 days by agent", f"/api/v1/quality/figures?{month}&by=agent", headers),
            ("API 30 days by team", f"/api/v1/quality/figures?{month}&by=team", headers),
            (
                "API 90 days, phone + refund, by day",
                f"/api/v1/quality/figures?{quarter}&by=day&channel=phone&category=refund",
                headers,
            ),
            ("API drill: 7 days of low CSAT", f"/api/v1/quality/drill?{week}&figure=csat", headers),
            ("report: a year by day (CSV)", f"/api/v1/quality/figures.csv?{year}&by=day", headers),
            ("report: a year by agent (JSON)", f"/api/v1/quality/figures?{year}&by=agent", headers),
            ("page: today live", "/console/quality", {}),
            ("page: trends, 30 days by day", f"/console/quality/trends?{month}&by=day", {}),
            ("page: staffing plan for tomorrow", "/console/quality/staffing", {}),
        ]
        print(f"\ndashboard and report questions ({runs} runs each, after one warm-up):")
        for label, path, extra in questions:
            first = client.get(path, headers=extra)
            if first.status_code != 200:
                raise SystemExit(f"{path}: {first.status_code} {first.text[:200]}")
            samples = []
            for _ in range(runs):
                begin = time.perf_counter()
                response = client.get(path, headers=extra)
                samples.append(time.perf_counter() - begin)
                assert response.status_code == 200
            _summary(label, samples)
        body = client.get(f"/api/v1/quality/figures?{year}&by=day", headers=headers).json()
        print("\na year's total, as the report gives it:")
        print(json.dumps({k: body["total"][k] for k in ("contacts", "service_level", "csat")}))


if __name__ == "__main__":
    main()
