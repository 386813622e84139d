"""Staff API on the wallet port: look-ups only. Actions on an account are support
commands (``kefu.support.routes``), so every surface obeys the same rules. A surface, so it
lives here above the port: the wallet imports no other domain, not even who is calling."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from kefu.identity.deps import StaffPrincipal, require
from kefu.wallet.deps import WalletDep
from kefu.wallet.errors import WalletNotFound
from kefu.wallet.schemas import (
    AccountView,
    DisputeView,
    LimitView,
    LoginEventView,
    RefundView,
    TransactionFilter,
    TransactionView,
)

router = APIRouter(prefix="/wallet", tags=["wallet"])
Reader = Annotated[StaffPrincipal, Depends(require("wallet.read"))]


@router.get("/accounts", response_model=AccountView)
def find_account(
    wallet: WalletDep,
    _: Reader,
    phone: str | None = None,
    email: str | None = None,
    account_id: str | None = None,
) -> AccountView:
    found = wallet.find_account(account_id=account_id, phone=phone, email=email)
    if found is None:
        raise WalletNotFound(
            "no such wallet account", what="account", ref=account_id or phone or email or ""
        )
    return found


@router.get("/accounts/{account_id}", response_model=AccountView)
def get_account(account_id: str, wallet: WalletDep, _: Reader) -> AccountView:
    return wallet.get_account(account_id)


@router.get("/accounts/{account_id}/transactions", response_model=list[TransactionView])
def list_transactions(
    account_id: str,
    wallet: WalletDep,
    _: Reader,
    filters: Annotated[TransactionFilter, Query()],
) -> list[TransactionView]:
    return wallet.list_transactions(account_id, filters)


@router.get("/accounts/{account_id}/top-ups", response_model=list[TransactionView])
def find_top_ups(
    account_id: str,
    wallet: WalletDep,
    _: Reader,
    amount: Annotated[str | None, Query(pattern=r"^[0-9]{1,12}(\.[0-9]{1,2})?$")] = None,
    around: datetime | None = None,
    card_last4: Annotated[str | None, Query(pattern=r"^[0-9]{4}$")] = None,
) -> list[TransactionView]:
    return wallet.find_top_ups(account_id, amount=amount, around=around, card_last4=card_last4)


@router.get("/accounts/{account_id}/logins", response_model=list[LoginEventView])
def login_events(account_id: str, wallet: WalletDep, _: Reader) -> list[LoginEventView]:
    return wallet.login_events(account_id)


@router.get("/accounts/{account_id}/limits", response_model=list[LimitView])
def get_limits(account_id: str, wallet: WalletDep, _: Reader) -> list[LimitView]:
    return wallet.get_limits(account_id)


@router.get("/accounts/{account_id}/refunds", response_model=list[RefundView])
def list_refunds(account_id: str, wallet: WalletDep, _: Reader) -> list[RefundView]:
    return wallet.list_refunds(account_id)


@router.get("/accounts/{account_id}/disputes", response_model=list[DisputeView])
def list_disputes(account_id: str, wallet: WalletDep, _: Reader) -> list[DisputeView]:
    return wallet.list_disputes(account_id)


@router.get("/transactions/{transaction_id}", response_model=TransactionView)
def get_transaction(transaction_id: str, wallet: WalletDep, _: Reader) -> TransactionView:
    return wallet.get_transaction(transaction_id)
