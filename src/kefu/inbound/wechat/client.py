"""wechatpy's client as the customer-service API uses it (``kefu.inbound.wechat.api``), in a
module of its own so that wechatpy is imported only by a process that talks to WeChat."""

from __future__ import annotations

from typing import Any

from wechatpy import WeChatClient

from kefu.config import Settings

TIMEOUT_SECONDS = 10


class Client(WeChatClient):  # type: ignore[misc]  # wechatpy ships no type hints
    """wechatpy's client, pointed at ``KEFU_WECHAT_API_BASE_URL`` for the token too."""

    def __init__(self, settings: Settings, session: Any) -> None:
        super().__init__(
            settings.wechat_app_id,
            settings.wechat_app_secret,
            session=session,
            timeout=TIMEOUT_SECONDS,
        )
        base = settings.wechat_api_base_url.rstrip("/") + "/cgi-bin/"
        self.API_BASE_URL = base
        self._token_url = base + "token"

    def fetch_access_token(self) -> Any:
        return self._fetch_access_token(
            url=self._token_url,
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        )
