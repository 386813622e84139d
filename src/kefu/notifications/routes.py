"""Staff notifications over HTTP: the staff API (list, mark read) and the console page with
the whole list. Every console page shows the count and a panel (``notifications.js``),
kept live over ``/ws/console``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field

from kefu.db import DbSession
from kefu.errors import InvalidInput
from kefu.identity.deps import CSRF_FIELD, StaffPrincipal, require
from kefu.notifications import service
from kefu.numbers import RowId
from kefu.web.templating import render

api = APIRouter(prefix="/notifications", tags=["notifications"])
console = APIRouter(prefix="/console", include_in_schema=False)

Staff = Annotated[StaffPrincipal, Depends(require("chat.work"))]


class NotificationRead(BaseModel):
    id: int
    kind: str
    body: str
    link: str | None
    created_at: str
    read: bool


class NotificationPage(BaseModel):
    unread: int
    items: list[NotificationRead]
    # pass as ``before`` for the next page; None on the last one
    next_before: int | None


class MarkRead(BaseModel):
    """``ids`` to mark read, or ``all``."""

    ids: list[int] | None = Field(default=None, max_length=service.MAX_IDS)
    all: bool = False


def _page(
    db: DbSession, staff: StaffPrincipal, before: int | None, unread_only: bool
) -> NotificationPage:
    rows = service.recent(db, staff.user.id, before_id=before, unread_only=unread_only)
    return NotificationPage(
        unread=service.unread(db, staff.user.id),
        items=[NotificationRead(**service.payload(row)) for row in rows],
        next_before=rows[-1].id if len(rows) == service.PAGE else None,
    )


@api.get("", response_model=NotificationPage)
def list_notifications(
    staff: Staff,
    db: DbSession,
    before: Annotated[RowId | None, Query()] = None,
    unread: bool = False,
) -> NotificationPage:
    """The signed-in staff member's notifications, newest first, with the unread count."""
    return _page(db, staff, before, unread)


@api.post("/read")
def mark_read(body: MarkRead, staff: Staff, db: DbSession) -> dict[str, int]:
    if body.all == (body.ids is not None):
        raise InvalidInput("give ids or all, not both", field="ids")
    changed = service.mark_read(db, staff.user.id, ids=None if body.all else body.ids)
    db.commit()
    return {"marked": changed, "unread": service.unread(db, staff.user.id)}


@console.get("/notifications")
def notifications_page(
    request: Request,
    staff: Staff,
    db: DbSession,
    before: Annotated[RowId | None, Query()] = None,
) -> Response:
    page = _page(db, staff, before, False)
    return render(
        request,
        "notifications/page.html",
        {
            "staff": staff.user,
            "csrf_token": staff.token.csrf_token,
            "csrf_field": CSRF_FIELD,
            "nav_active": "notifications",
            "may": staff.may,
            "page": page,
            "times": {item.id: datetime.fromisoformat(item.created_at) for item in page.items},
        },
    )


@console.post("/notifications/read")
def notifications_read(
    staff: Staff,
    db: DbSession,
    ids: Annotated[list[int] | None, Form()] = None,
    next_url: Annotated[str, Form(alias="next", max_length=200)] = "/console/notifications",
) -> Response:
    """Mark ``ids`` read (all without them), then go to ``next``: the notification's own
    console page when one was opened."""
    service.mark_read(db, staff.user.id, ids=ids)
    db.commit()
    target = next_url if next_url.startswith("/console") else "/console/notifications"
    return RedirectResponse(target, status_code=303)
