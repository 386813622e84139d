"""Canned replies staff write themselves: shared ones kept by admins, and each agent's
own. Both languages, a category, the variables ``{customer_name}``, ``{reference}`` and
``{committed_time}`` (filled from the chat or case when inserted), and a count of uses.

Edits carry the version they were made on; one made on a stale copy is refused. Every
change is audited. Functions flush and never commit.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from kefu import audit, placeholders
from kefu.cases.categories import Category
from kefu.chat.canned_models import SavedReply
from kefu.db import utcnow
from kefu.errors import Conflict, InvalidInput, NotFound, PermissionDenied

GENERAL = "general"
CATEGORIES = (GENERAL, *(c.value for c in Category))
_ANY_VARIABLE = re.compile(r"\{([^{}]*)\}")
TITLE_MAX = 120
BODY_MAX = 2000


class StaleReply(Conflict):
    code = "stale_edit"
    message_key = "canned.error.stale"


@dataclass(frozen=True)
class ReplyText:
    category: str
    title_zh: str
    body_zh: str
    title_en: str
    body_en: str


# a variable typed with a Chinese keyboard's braces: ｛customer_name｝
_FULL_WIDTH_VARIABLE = re.compile(r"[｛{]\s*([A-Za-z_]+)\s*[｝}]")


def _clean(value: str) -> str:
    """Stored as written (NFC): NFKC would fold Chinese punctuation (，：！（）) into ASCII.
    Only a variable's braces are folded, so it is still filled."""
    text = unicodedata.normalize("NFC", value or "").strip()
    return _FULL_WIDTH_VARIABLE.sub(lambda m: "{" + m.group(1) + "}", text)


def _checked(text: ReplyText) -> ReplyText:
    if text.category not in CATEGORIES:
        raise InvalidInput("unknown category", field="category")
    cleaned = ReplyText(
        category=text.category,
        title_zh=_clean(text.title_zh),
        body_zh=_clean(text.body_zh),
        title_en=_clean(text.title_en),
        body_en=_clean(text.body_en),
    )
    for lang in ("zh", "en"):
        title, body = getattr(cleaned, f"title_{lang}"), getattr(cleaned, f"body_{lang}")
        if not title or len(title) > TITLE_MAX:
            raise InvalidInput("title required", field=f"title_{lang}", max=TITLE_MAX)
        if not body or len(body) > BODY_MAX:
            raise InvalidInput("text required", field=f"body_{lang}", max=BODY_MAX)
        unknown = [v for v in _ANY_VARIABLE.findall(body) if v not in placeholders.NAMES]
        if unknown:
            raise InvalidInput(
                "unknown variable", field=f"body_{lang}", variable="{" + unknown[0] + "}"
            )
    return cleaned


def _snapshot(reply: SavedReply) -> dict[str, Any]:
    return {
        "id": reply.id,
        "shared": reply.owner_id is None,
        "category": reply.category,
        "title_zh": reply.title_zh,
        "title_en": reply.title_en,
        "body_zh": reply.body_zh,
        "body_en": reply.body_en,
        "active": reply.active,
    }


def create(db: Session, text: ReplyText, *, owner_id: int | None, actor: audit.Actor) -> SavedReply:
    """``owner_id`` None: a shared reply (the caller checked the permission)."""
    cleaned = _checked(text)
    now = utcnow()
    reply = SavedReply(
        owner_id=owner_id,
        category=cleaned.category,
        title_zh=cleaned.title_zh,
        body_zh=cleaned.body_zh,
        title_en=cleaned.title_en,
        body_en=cleaned.body_en,
        uses=0,
        version=1,
        active=True,
        created_at=now,
        updated_at=now,
    )
    db.add(reply)
    db.flush()
    audit.record(db, actor=actor, action="canned.create", after=_snapshot(reply))
    return reply


def get(db: Session, reply_id: int) -> SavedReply:
    reply = db.get(SavedReply, reply_id)
    if reply is None or not reply.active:
        raise NotFound("no such canned reply")
    return reply


def editable(reply: SavedReply, *, staff_id: int, may_share: bool) -> None:
    """Shared replies are edited by those who keep them; a personal one by its owner only."""
    if reply.owner_id is None and not may_share:
        raise PermissionDenied()
    if reply.owner_id is not None and reply.owner_id != staff_id:
        raise NotFound("no such canned reply")  # another agent's own: not even its existence


def update_reply(
    db: Session, reply: SavedReply, text: ReplyText, *, expected_version: int, actor: audit.Actor
) -> SavedReply:
    if expected_version != reply.version:
        raise StaleReply("changed meanwhile", field="version", version=reply.version)
    cleaned = _checked(text)
    before = _snapshot(reply)
    reply.category = cleaned.category
    reply.title_zh, reply.body_zh = cleaned.title_zh, cleaned.body_zh
    reply.title_en, reply.body_en = cleaned.title_en, cleaned.body_en
    reply.version += 1
    reply.updated_at = utcnow()
    db.flush()
    audit.record(db, actor=actor, action="canned.update", before=before, after=_snapshot(reply))
    return reply


def retire(db: Session, reply: SavedReply, *, expected_version: int, actor: audit.Actor) -> None:
    if expected_version != reply.version:
        raise StaleReply("changed meanwhile", field="version", version=reply.version)
    before = _snapshot(reply)
    reply.active = False
    reply.version += 1
    reply.updated_at = utcnow()
    db.flush()
    audit.record(db, actor=actor, action="canned.retire", before=before, after=_snapshot(reply))


def visible(
    db: Session, *, staff_id: int, category: str | None = None, query: str = ""
) -> list[SavedReply]:
    """The shared replies and the agent's own, most used first."""
    statement = select(SavedReply).where(
        SavedReply.active.is_(True),
        or_(SavedReply.owner_id.is_(None), SavedReply.owner_id == staff_id),
    )
    if category:
        statement = statement.where(SavedReply.category.in_((category, GENERAL)))
    rows = list(db.scalars(statement.order_by(SavedReply.uses.desc(), SavedReply.id)))
    if query:
        needle = query.lower()
        rows = [
            r
            for r in rows
            if needle in f"{r.title_zh} {r.body_zh} {r.title_en} {r.body_en}".lower()
        ]
    return rows


def record_use(db: Session, *, reply_id: int, staff_id: int) -> None:
    """One more use of a reply the agent may see (an insert into a reply box)."""
    db.execute(
        update(SavedReply)
        .where(
            SavedReply.id == reply_id,
            SavedReply.active.is_(True),
            or_(SavedReply.owner_id.is_(None), SavedReply.owner_id == staff_id),
        )
        .values(uses=SavedReply.uses + 1)
    )
