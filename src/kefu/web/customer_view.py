"""The agent's customer view (客户视图): the wallet account and its history, past
conversations and cases, what was verified and when, and the support actions.

Every action form carries a fresh idempotency key made when the page is drawn, so a
double click or a resent form acts once (``kefu.support.actions``); risky actions come
back as "waiting for approval" and show in the supervisors' queue.

It lives in the shell, not in ``kefu.support``: it draws the customer's calls
(``kefu.voice.views``), and the phone's self-service acts through the support layer
(``kefu.voice.selfservice`` -> ``kefu.support``), so a support-owned page would close a
support <-> voice cycle. Like the console home, it sits above the domains it shows.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from kefu import audit
from kefu.antifraud import service as antifraud_service
from kefu.cases import service as cases_service
from kefu.channels.deps import get_senders
from kefu.chat import service as chat_service
from kefu.config import Settings
from kefu.db import DbSession
from kefu.deps import SettingsDep
from kefu.i18n import Lang, translate
from kefu.identity import otp
from kefu.identity import service as identity_service
from kefu.identity.deps import CSRF_FIELD, StaffPrincipal, require
from kefu.identity.models import Customer
from kefu.masking import mask_email, mask_phone
from kefu.numbers import RowId
from kefu.support import actions as support_actions
from kefu.support import approval
from kefu.voice import views as voice_views
from kefu.wallet import offers
from kefu.wallet.deps import get_wallet
from kefu.wallet.errors import WalletNotFound
from kefu.wallet.port import WalletGateway
from kefu.wallet.schemas import TransactionFilter
from kefu.web import audit_view
from kefu.web.forms import form_errors
from kefu.web.templating import render

router = APIRouter(prefix="/console", include_in_schema=False)
Reader = Annotated[StaffPrincipal, Depends(require("customer.read"))]
Actor = Annotated[StaffPrincipal, Depends(require("wallet.act"))]
CustomerId = Annotated[RowId, Path()]
FINISHED_CASE = ("resolved", "closed")


def form_key() -> str:
    """A new idempotency key for one drawn form."""
    return secrets.token_urlsafe(18)


def _labeller(lang: Lang) -> Callable[[str, str], str]:
    """A code's catalogue text, or the code itself for one the catalogue does not know
    (a company's core may have reasons of its own)."""

    def label(prefix: str, code: str) -> str:
        key = f"{prefix}.{code}"
        text = translate(key, lang)
        return code if text == key else text

    return label


def _wallet_sections(wallet: WalletGateway, account_id: str) -> dict[str, Any]:
    try:
        account = wallet.get_account(account_id)
    except WalletNotFound:
        return {"account": None}
    return {
        "account": account,
        "transactions": [
            offers.row(t) for t in wallet.list_transactions(account_id, TransactionFilter(limit=20))
        ],
        "top_ups": [
            offers.row(t)
            for t in wallet.list_transactions(account_id, TransactionFilter(kind="topup", limit=10))
        ],
        "refunds": wallet.list_refunds(account_id),
        "disputes": wallet.list_disputes(account_id),
        "logins": wallet.login_events(account_id, limit=10),
    }


def _page(
    request: Request,
    db: DbSession,
    settings: Settings,
    staff: StaffPrincipal,
    customer: Customer,
    *,
    chosen_case: str | None = None,
    notice: dict[str, Any] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    cases = cases_service.list_cases(
        db, flt=cases_service.CaseFilter(customer_id=customer.id), limit=20
    )
    open_cases = [c for c in cases if c.status not in FINISHED_CASE]
    if chosen_case is None and open_cases:
        chosen_case = open_cases[0].reference
    verifications = otp.list_verifications(db, customer.id, limit=10)
    context: dict[str, Any] = {
        "staff": staff.user,
        "may": staff.may,
        "csrf_token": staff.token.csrf_token,
        "csrf_field": CSRF_FIELD,
        "customer": customer,
        "phone": mask_phone(customer.phone),
        "email": mask_email(customer.email),
        "cases": cases,
        "open_cases": open_cases,
        "chosen_case": chosen_case,
        "conversations": chat_service.conversations_of(db, customer.id, limit=10),
        "scam_flags": antifraud_service.flags_for(db, customer_id=customer.id),
        "verifications": [(v, otp.verification_status(v)) for v in verifications],
        "approvals": approval.of_customer(db, customer_id=customer.id, limit=10),
        "audit_events": (
            audit_view.rows(
                db, audit.list_events(db, customer_id=customer.id, limit=15), request.state.lang
            )
            if staff.may("audit.read_customer")
            else []
        ),
        "threshold": settings.approval_amount_above,
        "freeze_reasons": support_actions.FREEZE_REASONS,
        "new_key": form_key,
        "label": _labeller(request.state.lang),
        "notice": notice,
        "error": error,
    }
    if staff.may("voice.read"):
        context["calls"] = voice_views.customer_calls(db, customer.id, request.state.lang)
    if staff.may("wallet.read"):
        wallet = get_wallet(request, db)
        context.update(_wallet_sections(wallet, customer.wallet_account_id))
    return render(request, "console/customer.html", context, status_code=status_code)


@router.get("/customers/{customer_id}")
def customer_page(
    request: Request,
    staff: Reader,
    db: DbSession,
    settings: SettingsDep,
    customer_id: CustomerId,
    done: Annotated[str | None, Query(max_length=24)] = None,
    approval: Annotated[RowId | None, Query()] = None,
    case: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    customer = identity_service.get_customer(db, customer_id)
    notice = None
    if done in support_actions.PERMISSION:
        notice = {"action": done, "approval": approval, "case": case}
    return _page(request, db, settings, staff, customer, chosen_case=case, notice=notice)


@router.post("/customers/{customer_id}/actions")
def act(
    request: Request,
    staff: Actor,
    db: DbSession,
    settings: SettingsDep,
    customer_id: CustomerId,
    action: Annotated[str, Form(max_length=24)],
    key: Annotated[str, Form(max_length=64)] = "",
    reason: Annotated[str, Form(max_length=400)] = "",
    case_reference: Annotated[str, Form(max_length=40)] = "",
    transaction_id: Annotated[str, Form(max_length=64)] = "",
    amount: Annotated[str, Form(max_length=20)] = "",
    freeze_reason: Annotated[str, Form(max_length=24)] = "",
) -> Response:
    customer = identity_service.get_customer(db, customer_id)
    request_ = support_actions.SupportRequest(
        action=action,
        key=key,
        reason=reason,
        case_reference=case_reference or None,
        transaction_id=transaction_id or None,
        amount=amount or None,
        freeze_reason=freeze_reason or None,
    )
    with form_errors(db, request.state.lang) as refused:
        outcome = support_actions.perform(
            db,
            get_wallet(request, db),
            customer=customer,
            staff=staff.user,
            request=request_,
            settings=settings,
            senders=get_senders(request),
        )
    if refused:
        return _page(
            request,
            db,
            settings,
            staff,
            customer,
            chosen_case=case_reference or None,
            error=refused.text,
            status_code=refused.status,
        )
    db.commit()
    target = f"/console/customers/{customer.id}?done={outcome.action}"
    if outcome.approval_id is not None:
        target += f"&approval={outcome.approval_id}"
    if outcome.case_reference:
        target += f"&case={outcome.case_reference}"
    return RedirectResponse(target, status_code=303)
