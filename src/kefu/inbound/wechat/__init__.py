"""The WeChat official account channel (微信公众号), docs/wechat.md.

Followers' messages arrive by webhook (``routes``), each runs one assistant turn
(``inbound``) answered in the webhook's reply; what agents write once a person has the chat
goes out by the customer-service API (``outgoing``, ``api``, ``jobs``): importing this
package registers ``outgoing.queue`` as live chat's relay for WeChat conversations
(``kefu.chat.delivery``).
"""

from __future__ import annotations

from kefu.chat import delivery
from kefu.config import Settings
from kefu.inbound.wechat import outgoing

delivery.register("wechat", outgoing.queue)


def check_settings(settings: Settings) -> None:
    """With a token set, the AppID and AppSecret must be there too (``ConfigError``)."""
    if settings.wechat_token:
        from kefu.inbound.wechat.api import get_api

        get_api(settings)
