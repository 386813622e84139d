"""The wallet gateway as a request dependency: the adapter the app built at start-up,
for this request's session."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from kefu.db import DbSession
from kefu.wallet.port import WalletGateway


def get_wallet(connection: HTTPConnection, db: DbSession) -> WalletGateway:
    """For a request, or a websocket's unit of work (``db`` its session)."""
    gateway: WalletGateway = connection.app.state.wallet(db)
    return gateway


WalletDep = Annotated[WalletGateway, Depends(get_wallet)]
