"""Attachments on a case: staff upload and download evidence."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, UploadFile
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from kefu.cases import attachments, service
from kefu.cases.routes import Reader, Reference, Writer, actor_of
from kefu.cases.schemas import AttachmentRead
from kefu.db import DbSession
from kefu.deps import SettingsDep
from kefu.storage import Storage

router = APIRouter(tags=["cases"])


def storage(request: Request) -> Storage:
    built: Storage = request.app.state.storage
    return built


StorageDep = Annotated[Storage, Depends(storage)]


@router.post("/cases/{reference}/attachments", response_model=AttachmentRead, status_code=201)
async def upload(
    staff: Writer,
    reference: Reference,
    file: UploadFile,
    db: DbSession,
    settings: SettingsDep,
    store: StorageDep,
) -> AttachmentRead:
    # read one byte past the limit: enough to refuse, never the whole of a huge upload
    data = await file.read(settings.attachment_max_bytes + 1)

    # Database work stays off the event loop (see kefu.identity.deps.sent_csrf_token for why).
    def store_attachment() -> AttachmentRead:
        case = service.get_case(db, reference, for_update=True)
        row = attachments.add_attachment(
            db,
            case,
            filename=file.filename or "",
            data=data,
            actor=actor_of(staff),
            settings=settings,
            storage=store,
        )
        db.commit()
        return AttachmentRead.model_validate(row)

    return await run_in_threadpool(store_attachment)


@router.get("/cases/{reference}/attachments/{attachment_id}")
def download(
    _: Reader,
    reference: Reference,
    attachment_id: Annotated[str, Path(max_length=32)],
    db: DbSession,
    store: StorageDep,
) -> Response:
    case = service.get_case(db, reference)
    row = attachments.get_attachment(db, case, attachment_id)
    return Response(
        store.get(row.storage_key),
        media_type=row.content_type,
        headers={"Content-Disposition": f'attachment; filename="{row.public_id}"'},
    )
