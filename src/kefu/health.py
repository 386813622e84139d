"""Liveness that means something: the database answers."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from kefu.db import DbSession
from kefu.deps import LangDep
from kefu.i18n import translate

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=None)
def healthz(db: DbSession, lang: LangDep) -> dict[str, str] | JSONResponse:
    try:
        db.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return JSONResponse(
            {
                "error": {
                    "code": "database_unavailable",
                    "message": translate("error.database", lang),
                }
            },
            status_code=503,
        )
    return {"status": "ok"}
