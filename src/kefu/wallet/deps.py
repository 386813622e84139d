"""The wallet gateway as a request dependency."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from kefu.db import DbSession
from kefu.deps import SettingsDep
from kefu.wallet.port import WalletGateway, build_gateway


def get_wallet(db: DbSession, settings: SettingsDep) -> WalletGateway:
    return build_gateway(settings, db)


WalletDep = Annotated[WalletGateway, Depends(get_wallet)]
