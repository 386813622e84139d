"""In-app identity: a short-lived token the wallet's backend signs, so a customer signed
in to the wallet app is known to the chat from the first message.

Format (docs/chat.md)::

    v1.<account>.<expires>.<signature>

``account`` is the wallet account id (letters, digits, ``-`` and ``_``, up to 40),
``expires`` the expiry as Unix seconds, and ``signature`` the unpadded base64url
HMAC-SHA256 of ``v1.<account>.<expires>`` under the secret shared with Kefu
(``KEFU_APP_TOKEN_SECRET``). Kefu refuses a token that has expired or that lives longer
than ``KEFU_APP_TOKEN_MAX_TTL_SECONDS`` from now, so a leaked token is of little use.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import datetime

from sqlalchemy.orm import Session

from kefu.config import Settings
from kefu.db import utcnow
from kefu.errors import KefuError
from kefu.identity import service as identity_service
from kefu.identity.models import Customer

VERSION = "v1"
_ACCOUNT = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
MAX_TOKEN = 200


class AppTokenRefused(KefuError):
    status = 401
    code = "app_token_refused"
    message_key = "error.chat.app_token_refused"


def _signature(secret: str, account: str, expires: int) -> str:
    digest = hmac.new(
        secret.encode(), f"{VERSION}.{account}.{expires}".encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign(secret: str, account: str, expires: int) -> str:
    """What the wallet's backend does (here for tests, the CLI and the reference)."""
    if not _ACCOUNT.match(account):
        raise ValueError("account id: letters, digits, - and _, up to 40")
    return f"{VERSION}.{account}.{expires}.{_signature(secret, account, expires)}"


def verify(db: Session, token: str, *, settings: Settings, now: datetime | None = None) -> Customer:
    """The customer the token names; ``AppTokenRefused`` for anything else, without
    saying which check failed."""
    secret = settings.app_token_secret
    if not secret or not token or len(token) > MAX_TOKEN:
        raise AppTokenRefused("app tokens are off or the token is malformed")
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != VERSION or not _ACCOUNT.match(parts[1]):
        raise AppTokenRefused("malformed token")
    account, raw_expires, signature = parts[1], parts[2], parts[3]
    if not raw_expires.isdigit() or len(raw_expires) > 12:
        raise AppTokenRefused("malformed expiry")
    expires = int(raw_expires)
    if not hmac.compare_digest(signature, _signature(secret, account, expires)):
        raise AppTokenRefused("bad signature")
    now_s = int((now or utcnow()).timestamp())
    if expires <= now_s or expires > now_s + settings.app_token_max_ttl_seconds:
        raise AppTokenRefused("expired or too long-lived")
    customer = identity_service.find_customer_by_account(db, account)
    if customer is None:
        raise AppTokenRefused("unknown account")
    return customer
