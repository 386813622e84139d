"""Agents' saved case views: a name for the query string of a list they use often."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.cases import views
from kefu.cases.models import CaseSavedView
from kefu.db import utcnow
from kefu.errors import Conflict, InvalidInput, NotFound

MAX_PER_AGENT = 30
MAX_NAME = 60


class SavedViewExists(Conflict):
    code = "case_view_exists"
    message_key = "error.case.view_exists"


def of_staff(db: Session, staff_user_id: int) -> list[CaseSavedView]:
    return list(
        db.scalars(
            select(CaseSavedView)
            .where(CaseSavedView.staff_user_id == staff_user_id)
            .order_by(CaseSavedView.name)
        )
    )


def save(db: Session, *, staff_user_id: int, name: str, query: str) -> CaseSavedView:
    """Keep ``query`` (checked as a view, without its page cursor) under ``name``."""
    name = " ".join(name.split())
    if not 1 <= len(name) <= MAX_NAME:
        raise InvalidInput("a saved view needs a name of 1 to 60 characters", field="name")
    params = {k: v for k, v in parse_qsl(query) if k != "after"}
    checked = views.parse(params)
    stored = urlencode(checked.params())
    if len(of_staff(db, staff_user_id)) >= MAX_PER_AGENT:
        raise InvalidInput("too many saved views", field="name", max=MAX_PER_AGENT)
    existing = db.scalar(
        select(CaseSavedView).where(
            CaseSavedView.staff_user_id == staff_user_id, CaseSavedView.name == name
        )
    )
    if existing is not None:
        raise SavedViewExists(f"a view named {name!r} exists", name=name)
    row = CaseSavedView(staff_user_id=staff_user_id, name=name, query=stored, created_at=utcnow())
    db.add(row)
    db.flush()
    return row


def delete(db: Session, *, staff_user_id: int, view_id: int) -> None:
    row = db.get(CaseSavedView, view_id)
    if row is None or row.staff_user_id != staff_user_id:  # another agent's is not found
        raise NotFound("no such saved view")
    db.delete(row)
    db.flush()
