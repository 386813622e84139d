"""Background jobs on huey: SLA checks, follow-ups, inbound mail and outgoing mail.

Jobs are declared in the domains (``kefu.cases.jobs``, ``kefu.channels.email.jobs``) with
``@job`` and ``@periodic``, which only record them. The huey instance is built from settings
on first use and registers them then, so importing a domain never opens a queue:

- ``KEFU_JOBS_BACKEND=sqlite`` (default): a file kept across restarts, consumed by a thread
  pool inside ``kefu serve`` (``KEFU_JOBS_INLINE=true``) or by ``kefu worker``;
- ``redis``: ``KEFU_REDIS_URL``, shared by any number of app and worker processes;
- ``immediate``: runs a job at the moment it is enqueued, for tests.

A job opens its own database session and commits; it takes ids, never ORM objects, because
its arguments are pickled into the queue. The adapters it talks to the outside through (the
message senders) are the process's: ``adapter(build_senders)`` gives the one built at start-up
(by ``kefu worker``, or by ``create_app`` in the process that serves the app), never a new
one per run.

Every consumer runs huey's scheduler (``kefu worker``, and ``kefu serve`` when
``KEFU_JOBS_INLINE=true``), so with several of them each would queue every periodic job each
minute. Before queuing one, a scheduler claims its minute in ``job_schedule`` (one row per
job, moved forward by a conditional UPDATE that only one database transaction can win): each
scan runs once a minute however many processes schedule it.
"""

from __future__ import annotations

import importlib
import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy import Boolean, String, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from kefu.config import Settings, get_settings
from kefu.db import Base, UtcDateTime, get_sessionmaker, utcnow
from kefu.errors import ConfigError

if TYPE_CHECKING:  # huey is imported when a process builds its queue (kefu.huey_queue)
    from huey import Huey
    from huey.consumer import Consumer

log = logging.getLogger("kefu.jobs")

_JOB_MODULES = (
    "kefu.cases.jobs",
    "kefu.channels.email.jobs",
    "kefu.inbound.email.jobs",
    "kefu.inbound.wechat.jobs",
    "kefu.chat.jobs",
    "kefu.quality.jobs",
    "kefu.support.payout",
    "kefu.voice.jobs",
)
BACKENDS = ("sqlite", "redis", "immediate")
QUEUE_NAME = "kefu"


# a crontab field, or one read from the settings when the queue is built
Field = str | Callable[[Settings], str]
Delay = int | Callable[[Settings], int]


@dataclass(frozen=True)
class _Spec:
    func: Callable[..., Any]
    retries: int
    retry_delay: Delay
    schedule: dict[str, Field] | None  # crontab fields for a periodic job


_SPECS: dict[str, _Spec] = {}
_T = TypeVar("_T")
ERROR_TEXT_MAX = 300


class JobFailure(Base):
    """A job run that raised, kept so the admin's home shows failures from every worker
    process; ``gave_up`` when no retry was left. The error is the exception's class and
    first line only: jobs carry ids, never message texts, so it holds nothing sensitive."""

    __tablename__ = "job_failure"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_name: Mapped[str] = mapped_column(String(80))
    error: Mapped[str] = mapped_column(String(ERROR_TEXT_MAX))
    gave_up: Mapped[bool] = mapped_column(Boolean)
    failed_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class JobSchedule(Base):
    """The minute slot each periodic job was last queued for, and by which process: the
    lease that keeps several schedulers from queuing one scan twice."""

    __tablename__ = "job_schedule"

    job_name: Mapped[str] = mapped_column(String(80), primary_key=True)
    last_slot: Mapped[datetime] = mapped_column(UtcDateTime)
    claimed_by: Mapped[str] = mapped_column(String(120))


def process_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


def claim_slot(db: Session, job_name: str, slot: datetime, *, by: str) -> bool:
    """True for the one caller that moves ``job_name`` to ``slot``; False for every other
    (the slot is already taken, or a later one). Commits."""
    moved = db.execute(
        update(JobSchedule)
        .where(JobSchedule.job_name == job_name, JobSchedule.last_slot < slot)
        .values(last_slot=slot, claimed_by=by)
    )
    if moved.rowcount == 1:  # type: ignore[attr-defined]  # a CursorResult for an UPDATE
        db.commit()
        return True
    if db.get(JobSchedule, job_name) is not None:
        db.rollback()
        return False
    try:
        db.add(JobSchedule(job_name=job_name, last_slot=slot, claimed_by=by))
        db.commit()
    except IntegrityError:  # another scheduler inserted the first row at the same moment
        db.rollback()
        return False
    return True


def _claim_due(due: list[Any], slot: datetime) -> list[Any]:
    """The periodic tasks due in the minute ``slot`` that this process claimed."""
    by = process_name()
    claimed: list[Any] = []
    try:
        with get_sessionmaker()() as db:
            claimed = [task for task in due if claim_slot(db, task.name, slot, by=by)]
    except Exception:  # the database is away: queue nothing now, the next minute tries
        log.exception("could not claim the periodic jobs of %s", slot.isoformat())
        return []
    log.info(
        "periodic jobs for %s: %s queued here; %s claimed elsewhere",
        slot.strftime("%H:%M"),
        " ".join(task.name for task in claimed) or "none",
        " ".join(task.name for task in due if task not in claimed) or "none",
    )
    return claimed


def _record_failure(signal: str, task: Any, exc: BaseException | None = None) -> None:
    first_line = str(exc).splitlines()[0] if exc is not None and str(exc) else ""
    error = f"{type(exc).__name__}: {first_line}" if exc is not None else signal
    try:
        with get_sessionmaker()() as db:
            db.add(
                JobFailure(
                    job_name=str(task.name)[:80],
                    error=error[:ERROR_TEXT_MAX],
                    gave_up=not task.retries,
                    failed_at=utcnow(),
                )
            )
            db.commit()
    except Exception:  # the failure is logged by huey already; never fail the worker
        log.exception("could not record the failure of job %s", task.name)


def failures_since(db: Session, since: datetime, *, limit: int = 200) -> list[JobFailure]:
    """Newest first."""
    return list(
        db.scalars(
            select(JobFailure)
            .where(JobFailure.failed_at >= since)
            .order_by(JobFailure.failed_at.desc(), JobFailure.id.desc())
            .limit(limit)
        )
    )


def _record(spec: _Spec) -> None:
    name = spec.func.__name__
    known = _SPECS.get(name)
    if known is not None and known.func is not spec.func:
        raise RuntimeError(f"two jobs are called {name!r}")
    _SPECS[name] = spec


def job(*, retries: int = 0, retry_delay: Delay = 0) -> Callable[[Callable[..., Any]], Any]:
    """Declare a job run by ``enqueue(name, ...)``; a raised exception is retried after
    ``retry_delay`` seconds (or the seconds a setting names)."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        _record(_Spec(func, retries, retry_delay, None))
        return func

    return decorate


def periodic(*, minute: Field = "*", hour: Field = "*") -> Callable[[Callable[[], Any]], Any]:
    """Declare a job the consumer's scheduler runs on a crontab (service time is UTC); a
    field may be read from the settings."""

    def decorate(func: Callable[[], Any]) -> Callable[[], Any]:
        _record(_Spec(func, 0, 0, {"minute": minute, "hour": hour}))
        return func

    return decorate


def sqlite_queue_path(settings: Settings) -> Path:
    if settings.jobs_sqlite_path:
        return Path(settings.jobs_sqlite_path)
    database = settings.sqlite_path()
    return database.parent / "jobs.db" if database is not None else Path("var/jobs.db")


@dataclass(frozen=True)
class Queue:
    huey: Huey
    tasks: dict[str, Any]  # job name -> huey TaskWrapper

    def enqueue(self, name: str, *args: Any) -> None:
        if name not in self.tasks:
            raise KeyError(f"no job called {name!r}")
        self.tasks[name](*args)


def build_queue(settings: Settings) -> Queue:
    from huey import crontab
    from huey.signals import SIGNAL_ERROR
    from huey.storage import MemoryStorage, RedisStorage, SqliteStorage

    from kefu.huey_queue import KefuHuey

    backend = settings.jobs_backend
    huey: Huey
    if backend == "sqlite":
        path = sqlite_queue_path(settings)
        path.parent.mkdir(parents=True, exist_ok=True)
        huey = KefuHuey(
            QUEUE_NAME,
            claim=_claim_due,
            results=False,
            storage_class=SqliteStorage,
            filename=str(path),
        )
    elif backend == "redis":
        huey = KefuHuey(
            QUEUE_NAME,
            claim=_claim_due,
            results=False,
            storage_class=RedisStorage,
            url=settings.redis_url,
        )
    elif backend == "immediate":
        huey = KefuHuey(
            QUEUE_NAME,
            claim=_claim_due,
            immediate=True,
            results=False,
            storage_class=MemoryStorage,
        )
    else:
        raise ConfigError(f"KEFU_JOBS_BACKEND={backend!r}; expected one of {sorted(BACKENDS)}")
    huey.signal(SIGNAL_ERROR)(_record_failure)
    for module in _JOB_MODULES:
        importlib.import_module(module)
    tasks: dict[str, Any] = {}
    for name, spec in sorted(_SPECS.items()):
        if spec.schedule is not None:
            fields = {key: _resolve(value, settings) for key, value in spec.schedule.items()}
            tasks[name] = huey.periodic_task(crontab(**fields), name=name)(spec.func)
        else:
            delay = _resolve(spec.retry_delay, settings)
            tasks[name] = huey.task(retries=spec.retries, retry_delay=delay, name=name)(spec.func)
    return Queue(huey=huey, tasks=tasks)


def _resolve(value: _T | Callable[[Settings], _T], settings: Settings) -> _T:
    return value(settings) if callable(value) else value


_lock = threading.Lock()
_current: list[Queue] = []


def get_queue() -> Queue:
    """The process's queue, built from the settings on first use."""
    with _lock:
        if not _current:
            _current.append(build_queue(get_settings()))
        return _current[0]


def enqueue(name: str, *args: Any) -> None:
    get_queue().enqueue(name, *args)


# the adapters jobs use, one per builder: the settings it was built for, and what it built
_adapters_lock = threading.Lock()
_adapters: dict[Callable[[Settings], Any], tuple[Settings, Any]] = {}


def adapter(build: Callable[[Settings], _T]) -> _T:
    """What ``build`` (``build_senders``) makes for the process's settings, made once per
    process: ``kefu worker`` asks at start-up (a bad ``KEFU_*_BACKEND`` stops it there), the
    app hands over its own (``share_adapter``), and every job run after gets that same one.
    Only settings that are another object (a test's) make another."""
    settings = get_settings()
    with _adapters_lock:
        held = _adapters.get(build)
        if held is None or held[0] is not settings:
            held = (settings, build(settings))
            _adapters[build] = held
        return cast(_T, held[1])


def share_adapter(build: Callable[[Settings], _T], built: _T, settings: Settings) -> None:
    """Jobs run in this process use ``built``, which ``build`` already made for
    ``settings`` (``create_app``'s, so a process serving the app and running jobs builds
    each adapter once)."""
    with _adapters_lock:
        _adapters[build] = (settings, built)


def start_inline_consumer(queue: Queue, *, workers: int) -> Consumer | None:
    """Worker threads and the periodic scheduler inside this process (``kefu serve``);
    None in immediate mode, where jobs run as they are queued."""
    if queue.huey.immediate:
        return None
    from kefu.huey_queue import QuietConsumer

    consumer = QuietConsumer(queue.huey, workers=workers, worker_type="thread", periodic=True)
    consumer.start()
    log.info("job consumer started in-process with %s worker thread(s)", workers)
    return consumer


def run_worker(queue: Queue, *, workers: int) -> None:
    """A consumer that owns this process (``kefu worker``): stops on SIGINT / SIGTERM."""
    queue.huey.create_consumer(workers=workers, worker_type="thread", periodic=True).run()
