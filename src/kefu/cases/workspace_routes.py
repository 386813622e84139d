"""The staff API twins of the console's case workspace: views, search, counts, bulk
changes, saved views, and the case actions the older routes in ``routes`` lack (claim,
transfer, merge, reopen). Each calls the same function as its console form, under the
same permission; ``tests/integration/cases/test_case_api_parity.py`` walks the pairs.

Mounted before ``routes`` so ``/cases/view`` is not read as a case reference.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from kefu.cases import bulk, finder, saved_views, service, views, work
from kefu.cases.routes import Reader, Reference, Writer, actor_of
from kefu.cases.schemas import (
    BulkIn,
    BulkOut,
    CaseFinding,
    CaseFound,
    CaseRead,
    CaseViewPage,
    MergeIn,
    ReopenIn,
    SavedViewIn,
    SavedViewRead,
    TransferIn,
)
from kefu.db import DbSession, utcnow
from kefu.deps import LangDep, SettingsDep
from kefu.i18n import translate
from kefu.numbers import RowId

router = APIRouter(tags=["cases"])


@router.get("/cases/view", response_model=CaseViewPage)
def case_view(
    request: Request, staff: Reader, db: DbSession, settings: SettingsDep
) -> CaseViewPage:
    """``view`` (mine, unassigned, at_risk, waiting, all) and the filters of the console's
    list, as query parameters; ``after`` is the previous page's ``next_cursor``."""
    params = {k: v for k, v in request.query_params.items() if k != "lang"}
    listed = views.page(db, views.parse(params), me=staff.user.id, settings=settings, now=utcnow())
    return CaseViewPage(
        cases=[CaseRead.model_validate(c) for c in listed.cases], next_cursor=listed.next_cursor
    )


@router.get("/cases/find", response_model=CaseFinding)
def find_cases(
    _: Reader, db: DbSession, q: Annotated[str, Query(min_length=1, max_length=200)]
) -> CaseFinding:
    found = finder.find(db, q)
    return CaseFinding(
        query=found.query,
        mistyped=found.mistyped,
        hits=[
            CaseFound(
                reference=hit.case.reference,
                subject=hit.case.subject,
                status=hit.case.status,
                matched=hit.matched,
                title=hit.title,
                snippet=hit.snippet,
            )
            for hit in found.hits
        ],
    )


@router.get("/cases/counts", response_model=dict[str, int])
def case_counts(staff: Reader, db: DbSession) -> dict[str, int]:
    """Cases per view, each counted up to 1,000."""
    return views.counts(db, me=staff.user.id, now=utcnow())


@router.post("/cases/bulk", response_model=BulkOut)
def bulk_change(
    staff: Writer, body: BulkIn, db: DbSession, settings: SettingsDep, lang: LangDep
) -> BulkOut:
    result = bulk.apply(
        db,
        references=body.cases,
        change=body.change,
        value=body.value or "",
        actor=actor_of(staff),
        settings=settings,
    )
    db.commit()
    return BulkOut(
        changed=result.changed,
        refused={
            reference: translate(exc.message_key, lang, **exc.params)
            for reference, exc in result.refused
        },
    )


@router.get("/cases/saved-views", response_model=list[SavedViewRead])
def list_saved_views(staff: Reader, db: DbSession) -> list[SavedViewRead]:
    return [SavedViewRead.model_validate(v) for v in saved_views.of_staff(db, staff.user.id)]


@router.post("/cases/saved-views", response_model=SavedViewRead, status_code=201)
def save_view(staff: Reader, body: SavedViewIn, db: DbSession) -> SavedViewRead:
    row = saved_views.save(db, staff_user_id=staff.user.id, name=body.name, query=body.query)
    db.commit()
    return SavedViewRead.model_validate(row)


@router.delete("/cases/saved-views/{view_id}", status_code=204)
def delete_view(staff: Reader, db: DbSession, view_id: Annotated[RowId, Path()]) -> None:
    saved_views.delete(db, staff_user_id=staff.user.id, view_id=view_id)
    db.commit()


@router.post("/cases/{reference}/claim", response_model=CaseRead)
def claim(staff: Writer, reference: Reference, db: DbSession) -> CaseRead:
    case = service.get_case(db, reference, for_update=True)
    service.assign(db, case, owner_username=staff.user.username, actor=actor_of(staff))
    db.commit()
    return CaseRead.model_validate(case)


@router.post("/cases/{reference}/transfer", response_model=CaseRead)
def transfer(staff: Writer, reference: Reference, body: TransferIn, db: DbSession) -> CaseRead:
    case = service.get_case(db, reference, for_update=True)
    work.check_fresh(case, body.version)
    work.transfer(db, case, tier=body.tier, owner_username=body.owner, actor=actor_of(staff))
    db.commit()
    return CaseRead.model_validate(case)


@router.post("/cases/{reference}/merge", response_model=CaseRead)
def merge(staff: Writer, reference: Reference, body: MergeIn, db: DbSession) -> CaseRead:
    """Fold the duplicate named in the body into this case."""
    case = service.get_case(db, reference, for_update=True)
    work.check_fresh(case, body.version)
    duplicate = service.get_case(db, body.duplicate, for_update=True)
    work.merge(db, duplicate, into=case, actor=actor_of(staff))
    db.commit()
    return CaseRead.model_validate(case)


@router.post("/cases/{reference}/reopen", response_model=CaseRead)
def reopen(
    staff: Writer, reference: Reference, body: ReopenIn, db: DbSession, settings: SettingsDep
) -> CaseRead:
    case = service.get_case(db, reference, for_update=True)
    work.check_fresh(case, body.version)
    work.reopen(db, case, reason=body.reason, actor=actor_of(staff), settings=settings)
    db.commit()
    return CaseRead.model_validate(case)
