"""The account actions on the agent's case page (``/console/cases/{reference}``): unlock,
password reset, freeze, unfreeze, refund or return a payment, open a dispute, trace a
top-up, an outgoing transfer or a withdrawal, each tied to the case in hand.

The route only reads the form and calls ``kefu.support.actions.perform`` with the case's
reference: the layer checks the permission, claims the form's idempotency key (drawn with
the page, so a double click acts once), files a four-eyes request when the action waits
for a supervisor, and writes the audit row and the case note. A refused form comes back
as the case page with the reason beside the form and the agent's words still in it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Header, Path, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field

from kefu.cases import pages as case_pages
from kefu.cases import refs
from kefu.cases import service as cases_service
from kefu.cases.errors import CaseNotFound
from kefu.channels.deps import get_senders
from kefu.db import DbSession
from kefu.deps import SettingsDep
from kefu.errors import InvalidInput, KefuError
from kefu.i18n import Lang, translate
from kefu.identity import service as identity_service
from kefu.identity.deps import StaffPrincipal, require
from kefu.support import actions
from kefu.wallet.deps import get_wallet
from kefu.web.forms import form_errors

router = APIRouter(prefix="/console", include_in_schema=False)
api_router = APIRouter(prefix="/cases", tags=["cases"])
Actor = Annotated[StaffPrincipal, Depends(require("wallet.act"))]
Reference = Annotated[str, Path(min_length=1, max_length=64)]
# fields whose refusal has words of its own; others read as the error's own text
_FIELD_TEXTS = ("reason", "transaction_id", "freeze_reason", "amount", "key", "customer")


def form_name(action: str, transaction_id: str) -> str:
    """Which form on the page a refusal belongs to: the action on the account or on one
    transaction (the template names its forms the same way)."""
    return f"account-{action}-{transaction_id or 'account'}"


def refusal_text(exc: KefuError, lang: Lang) -> str:
    field = exc.params.get("field")
    if isinstance(exc, InvalidInput) and field in _FIELD_TEXTS:
        return translate(f"cases.account.refused.{field}", lang)
    return case_pages.error_text(exc, lang)


@router.post("/cases/{reference}/account")
def act_on_account(
    request: Request,
    staff: Actor,
    db: DbSession,
    settings: SettingsDep,
    reference: Reference,
    action: Annotated[str, Form(max_length=24)],
    key: Annotated[str, Form(max_length=64)] = "",
    reason: Annotated[str, Form(max_length=400)] = "",
    transaction_id: Annotated[str, Form(max_length=64)] = "",
    amount: Annotated[str, Form(max_length=20)] = "",
    freeze_reason: Annotated[str, Form(max_length=24)] = "",
) -> Response:
    lang: Lang = request.state.lang
    try:
        case = cases_service.get_case(db, reference)
    except (CaseNotFound, refs.ReferenceInvalid, refs.ReferenceMistyped) as exc:
        return case_pages.not_found(request, staff, reference, exc)
    customer = identity_service.get_customer(db, case.customer_id)
    with form_errors(db, lang, reason=refusal_text) as refused:
        if identity_service.is_mail_contact(customer):
            raise InvalidInput("a mail contact has no wallet account", field="customer")
        outcome = actions.perform(
            db,
            get_wallet(request, db),
            customer=customer,
            staff=staff.user,
            request=actions.SupportRequest(
                action=action,
                key=key,
                reason=reason,
                case_reference=case.reference,
                transaction_id=transaction_id or None,
                amount=amount or None,
                freeze_reason=freeze_reason or None,
            ),
            settings=settings,
            senders=get_senders(request),
        )
    if refused:
        kept = {"key": key, "reason": reason, "amount": amount, "freeze_reason": freeze_reason}
        return case_pages.case_page_response(
            request,
            db,
            staff,
            cases_service.get_case(db, case.reference),
            form=form_name(action, transaction_id),
            error=refused.text,
            kept=kept,
            status_code=refused.status,
        )
    db.commit()
    target = f"/console/cases/{case.reference}?done=account&action={outcome.action}"
    if outcome.approval_id is not None:
        target += f"&approval={outcome.approval_id}"
    return RedirectResponse(target + "#timeline", status_code=303)


class AccountActionIn(BaseModel):
    action: str = Field(max_length=24)
    reason: str = Field(max_length=400)
    transaction_id: str | None = Field(default=None, max_length=64)
    amount: str | None = Field(default=None, max_length=20)
    freeze_reason: str | None = Field(default=None, max_length=24)


class AccountActionOut(BaseModel):
    action: str
    waiting: bool
    approval_id: int | None
    case_reference: str


@api_router.post("/{reference}/account-actions", response_model=AccountActionOut, status_code=201)
def act_on_account_api(
    request: Request,
    staff: Actor,
    db: DbSession,
    settings: SettingsDep,
    reference: Reference,
    body: AccountActionIn,
    response: Response,
    key: Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=64)],
) -> AccountActionOut:
    """The case page's account form as the staff API: ``201`` when done, ``202`` when it
    waits for a supervisor (``approval_id`` names the request in the approval queue)."""
    case = cases_service.get_case(db, reference)
    customer = identity_service.get_customer(db, case.customer_id)
    if identity_service.is_mail_contact(customer):
        raise InvalidInput("a mail contact has no wallet account", field="customer")
    outcome = actions.perform(
        db,
        get_wallet(request, db),
        customer=customer,
        staff=staff.user,
        request=actions.SupportRequest(
            action=body.action,
            key=key,
            reason=body.reason,
            case_reference=case.reference,
            transaction_id=body.transaction_id,
            amount=body.amount,
            freeze_reason=body.freeze_reason,
        ),
        settings=settings,
        senders=get_senders(request),
    )
    db.commit()
    if outcome.waiting:
        response.status_code = 202
    return AccountActionOut(
        action=outcome.action,
        waiting=outcome.waiting,
        approval_id=outcome.approval_id,
        case_reference=outcome.case_reference or case.reference,
    )
