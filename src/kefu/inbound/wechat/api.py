"""The customer-service message API (客服消息接口), through wechatpy's ``WeChatClient``.

The access token comes from the account's AppID and AppSecret and is kept until it expires
(wechatpy refetches it when WeChat says it expired). WeChat gives out one valid token per
account: with several app processes the token is kept in Redis when ``KEFU_REDIS_URL`` is
set, so they share it instead of taking it from each other.

wechatpy and requests (~15 MB with the cryptography wechatpy loads) are imported when a
process first sends to WeChat, or checks its settings at start-up (``client``): a process
whose official account is not connected never loads them.
"""

from __future__ import annotations

import threading
from typing import Any

from kefu.config import Settings
from kefu.errors import ConfigError, DeliveryFailed

# WeChat refuses these for good; trying again cannot help
PERMANENT_ERRORS = {
    40003: "not a follower of this account",  # invalid openid
    43004: "the follower unsubscribed",
    45015: "the follower has not written for 48 hours",
    45047: "too many messages since the follower last wrote",
}


class SendRefused(DeliveryFailed):
    """WeChat refused the message; ``permanent`` when retrying cannot help."""

    def __init__(self, detail: str, *, permanent: bool) -> None:
        super().__init__(detail)
        self.permanent = permanent


class WeChatApi:
    """Sends text to a follower with the account's access token."""

    backend = "api"

    def __init__(self, settings: Settings) -> None:
        if not settings.wechat_app_id or not settings.wechat_app_secret:
            raise ConfigError(
                "KEFU_WECHAT_TOKEN is set: KEFU_WECHAT_APP_ID and KEFU_WECHAT_APP_SECRET are "
                "needed too, to send agents' replies"
            )
        from wechatpy.session.memorystorage import MemoryStorage
        from wechatpy.session.redisstorage import RedisStorage

        from kefu.inbound.wechat.client import Client

        if "redis_url" in settings.model_fields_set:
            import redis

            session: Any = RedisStorage(
                redis.Redis.from_url(settings.redis_url), prefix="kefu:wechat"
            )
        else:
            session = MemoryStorage()
        self._client = Client(settings, session)

    def send_text(self, openid: str, text: str) -> None:
        import requests
        from wechatpy.exceptions import WeChatClientException

        try:
            self._client.message.send_text(openid, text)
        except WeChatClientException as exc:
            code = int(exc.errcode) if exc.errcode is not None else None
            if code in PERMANENT_ERRORS:
                raise SendRefused(f"{code}: {PERMANENT_ERRORS[code]}", permanent=True) from exc
            status = exc.response.status_code if exc.response is not None else None
            detail = f"errcode {code}" if code is not None else f"HTTP {status}"
            raise SendRefused(detail, permanent=False) from exc
        except (requests.RequestException, ValueError) as exc:
            raise SendRefused(f"API unreachable: {type(exc).__name__}", permanent=False) from exc


_lock = threading.Lock()
_apis: dict[tuple[str, str, str], WeChatApi] = {}


def get_api(settings: Settings) -> WeChatApi:
    """One client per account and API address in this process, so its token is reused."""
    key = (settings.wechat_app_id, settings.wechat_app_secret, settings.wechat_api_base_url)
    with _lock:
        if key not in _apis:
            _apis[key] = WeChatApi(settings)
        return _apis[key]
