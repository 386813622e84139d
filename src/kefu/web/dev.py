"""Pages for development and demos only: create_app mounts this router only when
KEFU_DEMO=true, so elsewhere these paths do not exist."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from kefu.channels import outbox
from kefu.db import DbSession
from kefu.masking import mask_destination
from kefu.web.templating import render

router = APIRouter(prefix="/dev", include_in_schema=False)


@router.get("/outbox")
def outbox_page(
    request: Request,
    db: DbSession,
    to: Annotated[str | None, Query(max_length=254)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 30,
) -> Response:
    """The latest SMS and e-mails, codes included, so a demo needs no phone."""
    messages = outbox.latest(db, limit=limit, to=to or None)
    return render(
        request,
        "dev/outbox.html",
        {"messages": messages, "to": to or "", "mask": mask_destination},
    )
