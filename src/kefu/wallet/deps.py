"""The wallet gateway as a request dependency: the adapter the app built at start-up,
for this request's session."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from kefu.db import DbSession
from kefu.wallet.port import WalletGateway


def get_wallet(request: Request, db: DbSession) -> WalletGateway:
    gateway: WalletGateway = request.app.state.wallet(db)
    return gateway


WalletDep = Annotated[WalletGateway, Depends(get_wallet)]
