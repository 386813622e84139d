"""Evidence on a case (screenshots, PDFs): type checked by the file's first bytes, not by
its name or the browser's word, size capped by ``KEFU_ATTACHMENT_MAX_BYTES``."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu import audit
from kefu.cases import timeline
from kefu.cases.errors import AttachmentTooLarge, AttachmentTypeRefused, CaseNotFound
from kefu.cases.models import Case, CaseAttachment
from kefu.config import Settings
from kefu.db import utcnow
from kefu.errors import InvalidInput
from kefu.sensitive import mask
from kefu.storage import Storage


def sniff(data: bytes) -> str | None:
    """The content type the bytes really are, among those accepted."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def add_attachment(
    db: Session,
    case: Case,
    *,
    filename: str,
    data: bytes,
    actor: audit.Actor,
    settings: Settings,
    storage: Storage,
    now: datetime | None = None,
) -> CaseAttachment:
    now = now or utcnow()
    if not data:
        raise InvalidInput("the file is empty", field="file")
    if len(data) > settings.attachment_max_bytes:
        raise AttachmentTooLarge(
            "attachment too large", max_mb=round(settings.attachment_max_bytes / 1024 / 1024, 1)
        )
    content_type = sniff(data)
    if content_type is None:
        raise AttachmentTypeRefused("not a PNG, JPEG, GIF, WebP or PDF file")
    public_id = secrets.token_hex(12)
    key = f"cases/{case.reference.lower()}/{public_id}"
    storage.put(
        key, data
    )  # stored before the row: a rollback leaves a stray file, never a lost one
    row = CaseAttachment(
        case_id=case.id,
        public_id=public_id,
        filename=mask(filename.strip())[:200] or "attachment",
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        storage_key=key,
        visibility=timeline.PUBLIC,
        uploaded_by=actor.name,
        created_at=now,
    )
    db.add(row)
    timeline.add_event(
        db,
        case,
        kind="attachment",
        actor=actor,
        now=now,
        visibility=timeline.PUBLIC,
        body=row.filename,
        data={"attachment": public_id, "content_type": content_type, "size": len(data)},
    )
    return row


def get_attachment(db: Session, case: Case, public_id: str) -> CaseAttachment:
    row = db.scalar(
        select(CaseAttachment).where(
            CaseAttachment.case_id == case.id, CaseAttachment.public_id == public_id
        )
    )
    if row is None:
        raise CaseNotFound("no such attachment", reference=case.reference)
    return row


def public_attachments(db: Session, case: Case) -> list[CaseAttachment]:
    """What the customer may see and download on their case, oldest first."""
    return list(
        db.scalars(
            select(CaseAttachment)
            .where(CaseAttachment.case_id == case.id, CaseAttachment.visibility == timeline.PUBLIC)
            .order_by(CaseAttachment.id)
        )
    )
