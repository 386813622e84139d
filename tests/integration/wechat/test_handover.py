"""转人工 on WeChat: the follower's messages join the live chat, and what the agent writes
reaches the follower through the customer-service API — here a real HTTP server on
loopback standing in for api.weixin.qq.com, which hands out access tokens and refuses
messages without a valid one."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from tests.factories import make_staff
from tests.integration.wechat.conftest import (
    APP_ID,
    APP_SECRET,
    WeChat,
    client_for,
    wechat_settings,
)

from kefu import jobs
from kefu.chat import live, routing
from kefu.chat.models import ChatMessage, Conversation
from kefu.config import Settings
from kefu.db import utcnow
from kefu.identity.models import StaffUser
from kefu.inbound.wechat import jobs as wechat_jobs
from kefu.inbound.wechat.models import WeChatFollower, WeChatOutgoing


@dataclass
class ApiState:
    tokens: list[str] = field(default_factory=list)
    sent: list[tuple[str, str]] = field(default_factory=list)
    down: bool = False


def api_server(state: ApiState) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: Any) -> None:
            return None

        def answer(self, payload: dict[str, Any], status: int = 200) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path != "/cgi-bin/token" or query.get("grant_type") != "client_credential":
                return self.answer({"errcode": 40002, "errmsg": "invalid grant_type"})
            if query.get("appid") != APP_ID or query.get("secret") != APP_SECRET:
                return self.answer({"errcode": 40125, "errmsg": "invalid appsecret"})
            token = f"ACCESS_TOKEN_{len(state.tokens) + 1}"
            state.tokens.append(token)
            return self.answer({"access_token": token, "expires_in": 7200})

        def do_POST(self) -> None:
            url = urlsplit(self.path)
            token = parse_qs(url.query).get("access_token", [""])[0]
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if state.down:
                return self.answer({"errmsg": "busy"}, status=503)
            if url.path != "/cgi-bin/message/custom/send":
                return self.answer({"errcode": 404, "errmsg": "no such API"})
            if token not in state.tokens:
                return self.answer({"errcode": 40001, "errmsg": "invalid credential"})
            if body.get("msgtype") != "text":
                return self.answer({"errcode": 40008, "errmsg": "invalid message type"})
            state.sent.append((body["touser"], body["text"]["content"]))
            return self.answer({"errcode": 0, "errmsg": "ok"})

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler)


@pytest.fixture
def weixin_api() -> Iterator[tuple[str, ApiState]]:
    state = ApiState()
    server = api_server(state)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def sessions(
    isolated_database: Engine,
    settings: Settings,
    weixin_api: tuple[str, ApiState],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[sessionmaker[Session], Settings]]:
    """Real commits on a database of its own, and jobs that run as they are queued, with
    that database and the WeChat settings."""
    served = wechat_settings(settings, wechat_api_base_url=weixin_api[0])
    made = sessionmaker(bind=isolated_database, expire_on_commit=False)
    monkeypatch.setattr(wechat_jobs, "get_sessionmaker", lambda: made)
    monkeypatch.setattr(wechat_jobs, "get_settings", lambda: served)
    queue = jobs.build_queue(served.model_copy(update={"jobs_backend": "immediate"}))
    monkeypatch.setattr(jobs, "_current", [queue])
    yield made, served


def test_an_agent_reply_reaches_the_follower_through_the_api(
    sessions: tuple[sessionmaker[Session], Settings], weixin_api: tuple[str, ApiState]
) -> None:
    made, served = sessions
    state = weixin_api[1]
    openid = "oFollowerHandover01234567890"
    with made() as setup:
        agent = make_staff(setup, "agent")
        routing.set_skills(
            setup, agent, languages=["zh-CN"], categories=[], tiers=["tier1"], capacity=3
        )
        routing.set_presence(setup, agent, "online", settings=served)
        setup.commit()
        agent_id = agent.id

    with made() as db, client_for(db, served) as http:
        wechat = WeChat(http, served)
        assert "转接人工客服" in wechat.say(openid, "转人工")
        follower = db.scalars(select(WeChatFollower).where(WeChatFollower.openid == openid)).one()
        conversation = db.get(Conversation, follower.conversation_id)
        assert conversation is not None and conversation.status == "queued"
        item = routing.open_item(db, conversation_id=conversation.id)
        staff = db.get(StaffUser, agent_id)
        assert item is not None and staff is not None
        live.accept(db, item, staff, settings=served)
        db.commit()  # the job sends "agent joined" once this commits

        # the follower's next message joins the live chat; WeChat shows no automatic answer
        assert wechat.say(openid, "我充值的100元还没到账") == ""
        db.refresh(conversation)
        latest = db.scalars(
            select(ChatMessage)
            .where(ChatMessage.conversation_id == conversation.id)
            .order_by(ChatMessage.seq.desc())
        ).first()
        assert latest is not None and latest.sender == "customer" and "100" in latest.text

        live.agent_says(db, conversation, staff, "您好，我来帮您查这笔充值。")
        live.agent_says(db, conversation, staff, "客户很着急", internal=True)
        db.commit()
        assert state.sent == [
            (openid, f"客服 {staff.display_name} 已接入会话，为您服务。"),
            (openid, "您好，我来帮您查这笔充值。"),
        ]
        assert state.tokens == ["ACCESS_TOKEN_1"]  # fetched once, then reused

        # the API is down: the reply waits, and goes out when the resume job runs again
        state.down = True
        live.agent_says(db, conversation, staff, "已查到，正在为您处理。")
        db.commit()
        waiting = db.scalars(select(WeChatOutgoing).where(WeChatOutgoing.status != "sent")).one()
        assert waiting.status == "queued" and waiting.attempts == 1 and waiting.last_error
        db.commit()  # the job needs the connection back
        state.down = False
        assert wechat_jobs.resume(now=utcnow() + timedelta(minutes=5)) == [follower.id]
        db.expire_all()
        assert db.get(WeChatOutgoing, waiting.id).status == "sent"  # type: ignore[union-attr]
        assert state.sent[-1] == (openid, "已查到，正在为您处理。")
