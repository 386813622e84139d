"""Scam reports: anyone may report a number, site or account, with screenshots. Reports of
the same value (in any spelling) land on one row and are counted; a specialist confirms or
rejects them; a confirmed value enters the registry as a reported scam.

A second report from the same person (same ``client_hash``) within a day keeps its words
and screenshots but is not counted again, so one angry person cannot fake a wave.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kefu import audit, paging
from kefu.antifraud import registry, values
from kefu.antifraud.models import RegistryEntry, ScamReport, ScamReportFile, ScamReportItem
from kefu.antifraud.schemas import EntryFields
from kefu.cases import attachments as case_attachments
from kefu.cases.errors import AttachmentTooLarge, AttachmentTypeRefused
from kefu.config import Settings
from kefu.db import utcnow
from kefu.errors import Conflict, InvalidInput, NotFound
from kefu.sensitive import mask
from kefu.storage import Storage

MAX_SCREENSHOTS = 3
MAX_DESCRIPTION = 4000
REPEAT_WINDOW = timedelta(hours=24)
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")


@dataclass(frozen=True)
class Screenshot:
    filename: str
    data: bytes


@dataclass(frozen=True)
class ReportReceipt:
    report_id: int
    kind: str
    value: str
    status: str
    report_count: int
    counted: bool  # False when the same person already reported it today
    screenshots: int


def _check_screenshots(shots: Sequence[Screenshot], settings: Settings) -> list[tuple[bytes, str]]:
    if len(shots) > MAX_SCREENSHOTS:
        raise InvalidInput(f"at most {MAX_SCREENSHOTS} screenshots", field="screenshots")
    checked = []
    for shot in shots:
        if not shot.data:
            raise InvalidInput("the file is empty", field="screenshots")
        if len(shot.data) > settings.attachment_max_bytes:
            raise AttachmentTooLarge(
                "screenshot too large",
                max_mb=round(settings.attachment_max_bytes / 1024 / 1024, 1),
            )
        content_type = case_attachments.sniff(shot.data)
        if content_type not in IMAGE_TYPES:
            raise AttachmentTypeRefused("not a PNG, JPEG, GIF or WebP image")
        checked.append((shot.data, content_type))
    return checked


def _report_row(db: Session, parsed: values.Parsed, now: datetime) -> ScamReport:
    """The one report row of a value, created under a savepoint so two first reports of the
    same value at once end on the same row."""
    query = select(ScamReport).where(
        ScamReport.kind == parsed.kind, ScamReport.normalised == parsed.normalised
    )
    row = db.scalar(query.with_for_update())
    if row is not None:
        return row
    try:
        with db.begin_nested():
            row = ScamReport(
                kind=parsed.kind,
                normalised=parsed.normalised,
                value=parsed.display[: values.MAX_NORMALISED],
                status="pending",
                report_count=0,
                first_reported_at=now,
                last_reported_at=now,
            )
            db.add(row)
    except IntegrityError:
        row = db.scalar(query.with_for_update())
        if row is None:
            raise
    return row


def submit_report(
    db: Session,
    *,
    value: str,
    description: str,
    lang: str,
    settings: Settings,
    storage: Storage,
    client_hash: str | None = None,
    customer_id: int | None = None,
    screenshots: Sequence[Screenshot] = (),
    now: datetime | None = None,
) -> ReportReceipt:
    """Record one report of ``value``; screenshots are checked before anything is stored."""
    parsed = values.parse(value)
    if len(parsed.normalised) > values.MAX_NORMALISED:
        raise InvalidInput("value too long", field="value")
    description = description.strip()
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput("the description is too long", field="description")
    checked = _check_screenshots(screenshots, settings)
    now = now or utcnow()
    report = _report_row(db, parsed, now)
    repeated = (
        client_hash is not None
        and (
            db.scalar(
                select(func.count())
                .select_from(ScamReportItem)
                .where(
                    ScamReportItem.report_id == report.id,
                    ScamReportItem.client_hash == client_hash,
                    ScamReportItem.created_at >= now - REPEAT_WINDOW,
                )
            )
            or 0
        )
        > 0
    )
    item = ScamReportItem(
        report_id=report.id,
        description=mask(description),
        lang=lang[:8],
        customer_id=customer_id,
        client_hash=client_hash,
        counted=not repeated,
        created_at=now,
    )
    db.add(item)
    db.flush()
    for data, content_type in checked:
        public_id = secrets.token_hex(12)
        key = f"antifraud/reports/{report.id}/{public_id}"
        storage.put(key, data)  # stored before the row: a rollback leaves a stray file only
        db.add(
            ScamReportFile(
                item_id=item.id,
                public_id=public_id,
                content_type=content_type,
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                storage_key=key,
                created_at=now,
            )
        )
    if not repeated:
        report.report_count += 1
        if report.status == "rejected":
            report.status = "pending"  # new evidence after a rejection is looked at again
    report.last_reported_at = now
    db.flush()
    return ReportReceipt(
        report_id=report.id,
        kind=report.kind,
        value=report.value,
        status=report.status,
        report_count=report.report_count,
        counted=not repeated,
        screenshots=len(checked),
    )


def get_report(db: Session, report_id: int) -> ScamReport:
    report = db.get(ScamReport, report_id)
    if report is None:
        raise NotFound("no such report")
    return report


def report_items(
    db: Session, report: ScamReport
) -> list[tuple[ScamReportItem, list[ScamReportFile]]]:
    items = list(
        db.scalars(
            select(ScamReportItem)
            .where(ScamReportItem.report_id == report.id)
            .order_by(ScamReportItem.id)
        )
    )
    files = list(
        db.scalars(
            select(ScamReportFile)
            .where(ScamReportFile.item_id.in_([item.id for item in items]))
            .order_by(ScamReportFile.id)
        )
    )
    return [(item, [f for f in files if f.item_id == item.id]) for item in items]


def get_screenshot(db: Session, report: ScamReport, public_id: str) -> ScamReportFile:
    row = db.scalar(
        select(ScamReportFile)
        .join(ScamReportItem, ScamReportItem.id == ScamReportFile.item_id)
        .where(ScamReportItem.report_id == report.id, ScamReportFile.public_id == public_id)
    )
    if row is None:
        raise NotFound("no such screenshot")
    return row


LIST_ORDER = paging.Keyset(
    (ScamReport.report_count, paging.DESC),
    (ScamReport.last_reported_at, paging.DESC),
    (ScamReport.id, paging.ASC),
)


def list_reports(
    db: Session,
    *,
    status: str | None = "pending",
    limit: int = 50,
    offset: int = 0,
    after: str | None = None,
) -> tuple[list[ScamReport], int]:
    """Reports for review: the most reported first, then the most recent (``LIST_ORDER``),
    the page after the cursor ``after`` (``offset``: the API's deprecated way)."""
    query = select(ScamReport)
    if status:
        query = query.where(ScamReport.status == status)
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.scalars(LIST_ORDER.page(query, after=after).limit(limit).offset(offset))
    return list(rows), int(total)


def review_report(
    db: Session,
    report_id: int,
    *,
    decision: Literal["confirm", "reject"],
    note: str,
    actor: audit.Actor,
    label_zh: str = "",
    label_en: str = "",
    now: datetime | None = None,
) -> ScamReport:
    """A specialist's decision. Confirming puts the value in the registry as a reported
    scam (source: this report; date: the first report); an official value cannot be
    confirmed as a scam — its caller ID was spoofed, or the report is wrong."""
    now = now or utcnow()
    report = get_report(db, report_id)
    db.refresh(report, with_for_update=True)
    if report.status != "pending":
        raise Conflict(f"the report is already {report.status}")
    note = mask(note.strip())
    if len(note) > 2000:
        raise InvalidInput("the note is too long", field="note")
    entry: RegistryEntry | None = None
    if decision == "confirm":
        entry = _enter_scam(db, report, label_zh=label_zh, label_en=label_en, actor=actor)
    elif decision != "reject":
        raise InvalidInput("decision must be confirm or reject", field="decision")
    report.status = "confirmed" if decision == "confirm" else "rejected"
    report.reviewed_by = actor.name
    report.reviewed_at = now
    report.review_note = note or None
    report.entry_id = entry.id if entry is not None else report.entry_id
    db.flush()
    audit.record(
        db,
        actor=actor,
        action=f"antifraud.report.{decision}",
        after={
            "report": report.id,
            "kind": report.kind,
            "value": report.value,
            "reports": report.report_count,
            "entry": report.entry_id,
        },
    )
    return report


def _enter_scam(
    db: Session, report: ScamReport, *, label_zh: str, label_en: str, actor: audit.Actor
) -> RegistryEntry:
    kind = report.kind
    same_value = ("wechat", "weibo", "account") if kind == "account" else (kind,)
    official = db.scalar(
        select(RegistryEntry.id).where(
            RegistryEntry.kind.in_(same_value),
            RegistryEntry.normalised == report.normalised,
            RegistryEntry.status == "official",
        )
    )
    if official is not None:
        raise Conflict("this value is an official channel; it cannot be confirmed as a scam")
    existing = registry.find(db, kind, report.normalised)
    fields = EntryFields(
        kind=kind,
        value=report.value,
        status="scam",
        label_zh=label_zh[:120],
        label_en=label_en[:120],
        source=f"report #{report.id} ({report.report_count})",
        reported_on=report.first_reported_at.date(),
        public=False,
    )
    if existing is None:
        return registry.create_entry(db, fields, actor=actor)
    entry = registry.update_entry(db, existing.id, fields, actor=actor)
    return registry.set_active(db, entry.id, active=True, actor=actor)
