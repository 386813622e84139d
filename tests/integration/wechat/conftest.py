"""A signed WeChat webhook client: requests signed with the account's token as WeChat signs
them, optionally encrypted (safe mode), and the passive reply read back."""

from __future__ import annotations

import hashlib
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import count

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from wechatpy.crypto import WeChatCrypto

from kefu.app import create_app
from kefu.config import Settings, get_settings
from kefu.db import get_db

TOKEN = "kefu-wechat-test-token"
APP_ID = "wx0123456789abcdef"
APP_SECRET = "test-app-secret-0123456789abcdef"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
ACCOUNT = "gh_kefu_wallet"
_ids = count(6_000_000_000_000_000_001)


def wechat_settings(settings: Settings, **overrides: object) -> Settings:
    return settings.model_copy(
        update={
            "wechat_token": TOKEN,
            "wechat_app_id": APP_ID,
            "wechat_app_secret": APP_SECRET,
            **overrides,
        }
    )


def signature(timestamp: str, nonce: str, *parts: str) -> str:
    """WeChat's signature: SHA-1 of the token, timestamp and nonce (and, for a safe-mode
    body, its Encrypt value), sorted and joined."""
    return hashlib.sha1("".join(sorted([TOKEN, timestamp, nonce, *parts])).encode()).hexdigest()  # noqa: S324


def text_xml(openid: str, content: str, msg_id: int | None = None) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id or next(_ids)}</MsgId></xml>"
    )


def event_xml(openid: str, event: str) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[{event}]]></Event></xml>"
    )


def image_xml(openid: str) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[image]]></MsgType>"
        f"<PicUrl><![CDATA[http://mmbiz.qpic.cn/x]]></PicUrl>"
        f"<MediaId><![CDATA[media1]]></MediaId><MsgId>{next(_ids)}</MsgId></xml>"
    )


@dataclass
class WeChat:
    """Posts as WeChat's servers do."""

    http: TestClient
    settings: Settings

    def query(self, *, nonce: str | None = None) -> dict[str, str]:
        """A fresh signed query string; WeChat draws a new nonce for every request."""
        nonce = nonce or uuid.uuid4().hex[:10]
        timestamp = str(int(time.time()))
        return {
            "signature": signature(timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
        }

    def post(self, xml: str, **query: str) -> tuple[int, str]:
        params = {**self.query(), **query}
        response = self.http.post("/wechat", params=params, content=xml.encode())
        return response.status_code, response.text

    def say(self, openid: str, content: str, msg_id: int | None = None) -> str:
        """The text of the passive reply to a text message ("" when there is none)."""
        status, body = self.post(text_xml(openid, content, msg_id))
        assert status == 200, body
        return reply_text(body, openid)


def reply_text(body: str, openid: str) -> str:
    if body == "success":
        return ""
    root = ET.fromstring(body)  # noqa: S314 - our own server's reply
    assert root.findtext("ToUserName") == openid
    assert root.findtext("FromUserName") == ACCOUNT
    assert root.findtext("MsgType") == "text"
    return root.findtext("Content") or ""


def crypto() -> WeChatCrypto:
    return WeChatCrypto(TOKEN, AES_KEY, APP_ID)


@contextmanager
def client_for(db: Session, served: Settings) -> Iterator[TestClient]:
    application = create_app(served)

    def _db() -> Iterator[Session]:
        yield db

    application.dependency_overrides[get_db] = _db
    application.dependency_overrides[get_settings] = lambda: served
    with TestClient(application, raise_server_exceptions=False) as http:
        yield http


@pytest.fixture
def wechat(db: Session, settings: Settings) -> Iterator[WeChat]:
    served = wechat_settings(settings)
    with client_for(db, served) as http:
        yield WeChat(http, served)


@pytest.fixture
def safe_wechat(db: Session, settings: Settings) -> Iterator[WeChat]:
    served = wechat_settings(settings, wechat_aes_key=AES_KEY)
    with client_for(db, served) as http:
        yield WeChat(http, served)
