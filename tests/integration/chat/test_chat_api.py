"""The widget's HTTP side (start, identity, texts, screenshots, CORS) and the console's
live-chat pages (inbox, presence, chat, transfer, canned replies, supervisor view)."""

from __future__ import annotations

import hashlib
import struct
import time
import zlib
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import customer_token, make_customer, make_staff
from tests.integration.cases.case_helpers import make_case

from kefu import audit
from kefu.app import create_app
from kefu.channels.senders import build_senders
from kefu.chat import app_token, live, routing
from kefu.chat import service as chat
from kefu.chat.models import ChatMessage, Conversation
from kefu.chat.routing_models import WorkItemEvent
from kefu.config import Settings, get_settings
from kefu.db import get_db, utcnow
from kefu.i18n import catalogue
from kefu.identity import service as identity_service
from kefu.identity.models import StaffUser
from kefu.placeholders import UnfilledPlaceholder

SECRET = "wallet-backend-shared-secret-0123456789"


def png(size: int = 1) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * size for _ in range(size))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def tuned(db: Session, settings: Settings, tmp_path: object) -> Iterator[TestClient]:
    """A client whose app has app tokens on, a widget origin and a small start limit."""
    custom = settings.model_copy(
        update={
            "app_token_secret": SECRET,
            "chat_widget_origins": "https://wallet.example",
            "chat_starts_per_client_per_hour": 3,
            "storage_dir": str(tmp_path),
        }
    )
    application: FastAPI = create_app(custom)
    application.dependency_overrides[get_db] = lambda: db
    application.dependency_overrides[get_settings] = lambda: custom
    with TestClient(application, raise_server_exceptions=False) as test_client:
        yield test_client


# --- starting a chat, and who the customer is ---------------------------------------


def test_anonymous_start_is_a_conversation_with_the_assistant(
    client: TestClient, db: Session
) -> None:
    response = client.post("/api/v1/chat/conversations", json={"lang": "en"})
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "bot" and body["language"] == "en"
    assert body["known_customer"] is False
    conversation = chat.by_public_id(db, body["conversation_id"])
    assert conversation.customer_id is None and conversation.channel == "web"
    assert [m.sender for m in chat.messages(db, conversation)] == ["bot"]
    # the owner key is given once and kept only as its sha256
    key = body["conversation_key"]
    assert len(key) >= 40 and key != body["conversation_id"]
    assert conversation.owner_key_hash == hashlib.sha256(key.encode()).hexdigest()


def test_wallet_app_token_makes_the_customer_known(tuned: TestClient, db: Session) -> None:
    customer = make_customer(db, language="en")
    expires = int(time.time()) + 300
    token = app_token.sign(SECRET, customer.wallet_account_id, expires)
    response = tuned.post("/api/v1/chat/conversations", json={"app_token": token})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["known_customer"] is True and body["language"] == "en"
    conversation = chat.by_public_id(db, body["conversation_id"])
    assert conversation.customer_id == customer.id and conversation.channel == "app"


@pytest.mark.parametrize(
    "forge",
    [
        lambda account, now: app_token.sign("another-secret", account, now + 300),
        lambda account, now: app_token.sign(SECRET, account, now - 1),  # expired
        lambda account, now: app_token.sign(SECRET, account, now + 7200),  # lives too long
        lambda account, now: app_token.sign(SECRET, "NOBODY000", now + 300),
        lambda account, now: app_token.sign(SECRET, account, now + 300)[:-2],
        lambda account, now: "v2." + app_token.sign(SECRET, account, now + 300)[3:],
        lambda account, now: "garbage",
    ],
)
def test_bad_app_tokens_are_refused_alike(tuned: TestClient, db: Session, forge: object) -> None:
    customer = make_customer(db)
    token = forge(customer.wallet_account_id, int(time.time()))  # type: ignore[operator]
    response = tuned.post("/api/v1/chat/conversations", json={"app_token": token})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "app_token_refused"


def test_app_tokens_are_off_without_a_secret(client: TestClient, db: Session) -> None:
    customer = make_customer(db)
    token = app_token.sign(SECRET, customer.wallet_account_id, int(time.time()) + 60)
    response = client.post("/api/v1/chat/conversations", json={"app_token": token})
    assert response.status_code == 401


def test_a_verified_customer_token_also_makes_them_known(client: TestClient, db: Session) -> None:
    customer = make_customer(db)
    token = customer_token(db, customer)
    response = client.post(
        "/api/v1/chat/conversations",
        json={},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201
    conversation = chat.by_public_id(db, response.json()["conversation_id"])
    assert conversation.customer_id == customer.id
    wrong = client.post(
        "/api/v1/chat/conversations", json={}, headers={"Authorization": "Bearer nope"}
    )
    assert wrong.status_code == 401


def test_starting_chats_is_rate_limited_per_client(tuned: TestClient) -> None:
    codes = [tuned.post("/api/v1/chat/conversations", json={}).status_code for _ in range(4)]
    assert codes == [201, 201, 201, 429]


def test_widget_texts_in_both_languages(client: TestClient) -> None:
    zh = client.get("/api/v1/chat/widget-texts?lang=zh-CN").json()
    en = client.get("/api/v1/chat/widget-texts?lang=en").json()
    assert zh["lang"] == "zh-CN" and en["lang"] == "en"
    assert set(zh["texts"]) == set(en["texts"]) and "queue" in zh["texts"]
    assert "{position}" in zh["texts"]["queue"] and "{minutes}" in en["texts"]["queue"]
    # waiting for a colleague not online: her name, and no minutes to fill in
    for texts in (zh["texts"], en["texts"]):
        assert "{name}" in texts["queue_named"] and "{minutes}" not in texts["queue_named"]
    assert zh["texts"]["send"] != en["texts"]["send"]
    assert set(zh["texts"]) == {
        k.removeprefix("chat.widget.") for k in catalogue("zh-CN") if k.startswith("chat.widget.")
    }


def test_widget_cors_answers_listed_sites_only(tuned: TestClient, client: TestClient) -> None:
    preflight = {
        "Origin": "https://wallet.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    allowed = tuned.options("/api/v1/chat/conversations", headers=preflight)
    assert allowed.headers["access-control-allow-origin"] == "https://wallet.example"
    # the embedded widget sends the owner key with its screenshots and survey
    keyed = tuned.options(
        "/api/v1/chat/conversations/abcdefgh/attachments/x",
        headers={
            **preflight,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "x-kefu-conversation-key",
        },
    )
    assert keyed.status_code == 200
    assert "x-kefu-conversation-key" in keyed.headers["access-control-allow-headers"].lower()
    other = tuned.options(
        "/api/v1/chat/conversations", headers={**preflight, "Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in other.headers
    staff_route = tuned.options("/api/v1/cases", headers=preflight)
    assert "access-control-allow-origin" not in staff_route.headers
    assert (
        "access-control-allow-origin"
        not in client.options("/api/v1/chat/conversations", headers=preflight).headers
    )


# --- screenshots -------------------------------------------------------------------------


KEY = "X-Kefu-Conversation-Key"


def started(client: TestClient, **headers: str) -> tuple[str, dict[str, str]]:
    """A new widget conversation: its id and the header with its owner key."""
    body = client.post("/api/v1/chat/conversations", json={}, headers=headers).json()
    return body["conversation_id"], {KEY: body["conversation_key"]}


def test_screenshot_upload_posts_it_in_the_chat(tuned: TestClient, db: Session) -> None:
    public_id, owner = started(tuned)
    response = tuned.post(
        f"/api/v1/chat/conversations/{public_id}/attachments",
        files={"file": ("付款失败 验证码 123456.png", png(), "image/png")},
        data={"client_msg_id": "u-1"},
        headers=owner,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["content_type"] == "image/png" and "123456" not in body["filename"]
    again = tuned.post(
        f"/api/v1/chat/conversations/{public_id}/attachments",
        files={"file": ("x.png", png(), "image/png")},
        data={"client_msg_id": "u-1"},
        headers=owner,
    )
    assert again.json()["seq"] == body["seq"]  # a resend is one message
    conversation = chat.by_public_id(db, public_id)
    stored = db.scalars(
        select(ChatMessage).where(
            ChatMessage.conversation_id == conversation.id, ChatMessage.sender == "customer"
        )
    ).all()
    assert len(stored) == 1 and stored[0].data["attachment"]["id"] == body["attachment_id"]
    got = tuned.get(
        f"/api/v1/chat/conversations/{public_id}/attachments/{body['attachment_id']}",
        headers=owner,
    )
    assert got.status_code == 200 and got.content == png()
    assert got.headers["content-disposition"].startswith("inline")
    assert "sandbox" in got.headers["content-security-policy"]
    assert "x-kefu-conversation-key" in got.headers["vary"].lower()
    other, other_owner = started(tuned)
    assert (
        tuned.get(
            f"/api/v1/chat/conversations/{other}/attachments/{body['attachment_id']}",
            headers=other_owner,
        ).status_code
        == 404
    )


def _customer_messages(db: Session, public_id: str) -> list[ChatMessage]:
    db.expire_all()
    conversation = chat.by_public_id(db, public_id)
    return list(
        db.scalars(
            select(ChatMessage).where(
                ChatMessage.conversation_id == conversation.id, ChatMessage.sender == "customer"
            )
        )
    )


def test_screenshots_answer_only_the_conversations_owner(tuned: TestClient, db: Session) -> None:
    """The id alone opens nothing: a stranger who has it (no key, a wrong key, another
    conversation's key, another signed-in customer) meets "not found" both ways, exactly as
    for an id that never existed, and nothing is written."""
    public_id, owner = started(tuned)
    url = f"/api/v1/chat/conversations/{public_id}/attachments"
    posted = tuned.post(url, files={"file": ("a.png", png(), "image/png")}, headers=owner)
    assert posted.status_code == 201, posted.text
    attachment_id = posted.json()["attachment_id"]
    _other_id, other_owner = started(tuned)
    someone = make_customer(db)
    db.commit()
    strangers: list[dict[str, str]] = [
        {},
        {KEY: "wrong-" + owner[KEY][6:]},
        {KEY: owner[KEY] + "x"},
        {KEY: ""},
        other_owner,
        {"Authorization": f"Bearer {customer_token(db, someone)}"},
    ]
    db.commit()
    unknown = tuned.get(
        f"/api/v1/chat/conversations/no-such-conversation/attachments/{attachment_id}",
        headers=owner,
    )
    assert unknown.status_code == 404
    for headers in strangers:
        down = tuned.get(f"{url}/{attachment_id}", headers=headers)
        assert down.status_code == 404 and down.json() == unknown.json(), headers
        up = tuned.post(url, files={"file": ("b.png", png(2), "image/png")}, headers=headers)
        assert up.status_code == 404 and up.json() == unknown.json(), headers
    assert len(_customer_messages(db, public_id)) == 1  # only the owner's screenshot

    # a signed-in customer reaches their own conversation without the key, and the key
    # still works after the conversation became theirs; another customer's key does not
    mine = make_customer(db)
    token = customer_token(db, mine)
    db.commit()
    signed_in = {"Authorization": f"Bearer {token}"}
    my_id, my_owner = started(tuned, **signed_in)
    my_url = f"/api/v1/chat/conversations/{my_id}/attachments"
    by_token = tuned.post(my_url, files={"file": ("c.png", png(3), "image/png")}, headers=signed_in)
    assert by_token.status_code == 201, by_token.text
    my_file = by_token.json()["attachment_id"]
    assert tuned.get(f"{my_url}/{my_file}", headers=signed_in).content == png(3)
    assert tuned.get(f"{my_url}/{my_file}", headers=my_owner).content == png(3)
    theirs = {"Authorization": f"Bearer {customer_token(db, someone)}", **my_owner}
    db.commit()
    assert tuned.get(f"{my_url}/{my_file}", headers=theirs).status_code == 404
    # a token does not open an anonymous conversation: that takes its key
    assert tuned.get(f"{url}/{attachment_id}", headers=signed_in).status_code == 404


def test_screenshots_never_reach_a_conversation_the_web_did_not_start(
    tuned: TestClient, db: Session
) -> None:
    """WeChat, SMS and phone conversations are known by their channel's identity and have
    no owner key: the web cannot reach them, even as the customer they belong to."""
    customer = make_customer(db)
    token = customer_token(db, customer)
    conversation = chat.start(db, channel="wechat", language="zh-CN", customer_id=customer.id)
    db.commit()
    response = tuned.post(
        f"/api/v1/chat/conversations/{conversation.public_id}/attachments",
        files={"file": ("a.png", png(), "image/png")},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 404
    assert _customer_messages(db, conversation.public_id) == []


def test_screenshots_are_checked(client: TestClient, db: Session) -> None:
    public_id, owner = started(client)
    url = f"/api/v1/chat/conversations/{public_id}/attachments"
    script = client.post(
        url, files={"file": ("a.png", b"<script>alert(1)</script>", "image/png")}, headers=owner
    )
    assert script.status_code == 415 or script.status_code == 400
    empty = client.post(url, files={"file": ("a.png", b"", "image/png")}, headers=owner)
    assert empty.status_code in (400, 422)
    huge = client.post(
        url,
        files={"file": ("a.png", png() + b"0" * (11 * 1024 * 1024), "image/png")},
        headers=owner,
    )
    assert huge.status_code == 413
    missing = client.post(
        "/api/v1/chat/conversations/unknown-conversation/attachments",
        files={"file": ("a.png", png(), "image/png")},
    )
    assert missing.status_code == 404


# --- the console ---------------------------------------------------------------------


def signed_in(client: TestClient, db: Session, role: str = "agent") -> tuple[StaffUser, str]:
    user = make_staff(db, role)
    issued = identity_service.issue_token(
        db, kind="session", ttl_seconds=3600, staff_user_id=user.id
    )
    client.cookies.set("kefu_session", issued.token)
    assert issued.csrf_token is not None
    return user, issued.csrf_token


def handed_over(db: Session, settings: Settings, *, customer: bool = True) -> Conversation:
    conversation = chat.start(
        db,
        channel="web",
        language="zh-CN",
        customer_id=make_customer(db).id if customer else None,
    )
    chat.append(db, conversation, sender="customer", text="充值没到账")
    conversation.status = "queued"
    conversation.intent = "recharge_not_credited"
    routing.enqueue(
        db,
        kind="chat",
        language="zh-CN",
        category="recharge_not_credited",
        conversation_id=conversation.id,
        customer_id=conversation.customer_id,
        context={"intent": "recharge_not_credited", "reason": "human_agent", "facts": {}},
        settings=settings,
    )
    db.flush()
    return conversation


def test_inbox_presence_accept_and_chat_page(
    client: TestClient, db: Session, settings: Settings
) -> None:
    user, csrf = signed_in(client, db)
    page = client.get("/console/inbox")
    assert page.status_code == 200 and "收件箱" in page.text
    refused = client.post("/console/presence", data={"presence": "online"})
    assert refused.status_code == 403  # no CSRF token
    online = client.post(
        "/console/presence",
        data={"presence": "online", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert online.status_code == 303
    assert routing.profile(db, user).presence == "online"
    conversation = handed_over(db, settings)
    item = routing.open_item(db, conversation_id=conversation.id)
    assert item is not None and item.offered_to_id == user.id
    panel = client.get("/console/inbox/panel")
    assert f"/console/work/{item.id}/accept" in panel.text
    accepted = client.post(
        f"/console/work/{item.id}/accept",
        headers={"X-CSRF-Token": csrf},
        follow_redirects=False,
    )
    assert accepted.headers["location"] == f"/console/chats/{conversation.id}"
    chat_page = client.get(f"/console/chats/{conversation.id}")
    assert chat_page.status_code == 200
    assert "充值没到账" in chat_page.text and 'data-holder="true"' in chat_page.text
    assert conversation.status == "active"


def test_transfer_needs_a_reason_and_resolve_closes(
    client: TestClient, db: Session, settings: Settings
) -> None:
    user, csrf = signed_in(client, db)
    routing.set_presence(db, user, "online", settings=settings)
    conversation = handed_over(db, settings)
    item = routing.open_item(db, conversation_id=conversation.id)
    assert item is not None
    live.accept(db, item, user, settings=settings)
    url = f"/console/chats/{conversation.id}/transfer"
    no_reason = client.post(url, data={"to": "tier:tier2", "reason": "", "csrf_token": csrf})
    assert no_reason.status_code == 400
    moved = client.post(
        url,
        data={"to": "tier:tier2", "reason": "需要技术排查", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert moved.status_code == 303
    assert conversation.status == "queued" and item.tier == "tier2"
    event = db.scalars(
        select(WorkItemEvent).where(
            WorkItemEvent.item_id == item.id, WorkItemEvent.kind == "transferred"
        )
    ).one()
    assert event.reason == "需要技术排查"
    notes = [m for m in chat.messages(db, conversation, include_internal=True) if m.internal]
    assert "需要技术排查" in notes[0].text
    public = [m.text for m in chat.messages(db, conversation)]
    assert not any("需要技术排查" in text for text in public)  # the reason stays inside
    # the chat is no longer the transferring agent's
    assert client.get(f"/console/chats/{conversation.id}").status_code == 404

    specialist = make_staff(db, "specialist")
    routing.set_presence(db, specialist, "online", settings=settings)
    assert item.offered_to_id == specialist.id
    live.accept(db, item, specialist, settings=settings)
    live.end_chat(
        db,
        conversation,
        specialist,
        outcome="solved",
        settings=settings,
        senders=build_senders(settings),
    )
    assert conversation.status == "closed" and item.status == "finished"


def test_ending_a_chat_solved_resolves_its_case_and_open_keeps_it(
    client: TestClient, db: Session, settings: Settings
) -> None:
    from tests.integration.cases.case_helpers import make_case

    user, csrf = signed_in(client, db)
    routing.set_presence(db, user, "online", settings=settings)
    outcomes = {}
    for outcome in ("open", "waiting", "solved"):
        conversation = handed_over(db, settings)
        case = make_case(db, settings, customer_id=conversation.customer_id, now=utcnow())
        conversation.case_id = case.id
        item = routing.open_item(db, conversation_id=conversation.id)
        assert item is not None
        live.accept(db, item, user, settings=settings)
        page = client.get(f"/console/chats/{conversation.id}")
        assert case.reference in page.text
        ended = client.post(
            f"/console/chats/{conversation.id}/end",
            data={"outcome": outcome, "csrf_token": csrf, "summary": ""},
            follow_redirects=False,
        )
        assert ended.status_code == 303
        assert conversation.status == "closed" and item.status == "finished"
        outcomes[outcome] = case.status
        said = chat.messages(db, conversation)
        assert said[-2].data["key"] == (
            "chat.system.resolved" if outcome == "solved" else "chat.system.ended_open"
        )
        # an emptied summary box sends the draft: reference, next step, how to follow up
        assert said[-1].data["key"] == "chat.system.summary"
        assert case.reference in said[-1].text and "如需跟进" in said[-1].text
    assert outcomes == {"open": "open", "waiting": "pending_customer", "solved": "resolved"}
    conversation = handed_over(db, settings)
    item = routing.open_item(db, conversation_id=conversation.id)
    assert item is not None
    live.accept(db, item, user, settings=settings)
    for bad in ({"outcome": "maybe"}, {"outcome": "open", "summary": "长" * 1001}):
        refused = client.post(
            f"/console/chats/{conversation.id}/end",
            data={**bad, "csrf_token": csrf},
            follow_redirects=False,
        )
        assert refused.status_code == 400, refused.text
        assert conversation.status == "active"


def test_canned_replies_fill_placeholders(
    client: TestClient, db: Session, settings: Settings
) -> None:
    from kefu.kb import service as kb

    kb.load_shipped_articles(db)
    user, _csrf = signed_in(client, db)
    routing.set_presence(db, user, "online", settings=settings)
    conversation = handed_over(db, settings)
    item = routing.open_item(db, conversation_id=conversation.id)
    assert item is not None
    live.accept(db, item, user, settings=settings)
    found = client.get(f"/console/chats/{conversation.id}/canned").json()
    greeting = next(c for c in found if c["source"] == "phrase")
    customer = identity_service.get_customer(db, conversation.customer_id or 0)
    assert customer.name in greeting["text"] and user.display_name in greeting["text"]
    assert "{customer_name}" not in greeting["text"]
    assert any(c["source"] == "faq" for c in found)  # the article for the chat's topic
    searched = client.get(f"/console/chats/{conversation.id}/canned", params={"q": "退款"}).json()
    assert any(c["source"] == "faq" for c in searched)
    # no case yet: marked for the agent to fill in, never the raw placeholder
    checking = next(c for c in found if "【请填写：工单编号】" in c["text"])
    assert checking["to_fill"] == "【请填写：工单编号】"
    assert greeting["to_fill"] is None
    assert not any("{" in c["text"] for c in found)


def test_an_anonymous_visitors_canned_replies_read_neutrally_and_unfilled_ones_are_refused(
    client: TestClient, db: Session, settings: Settings
) -> None:
    user, _csrf = signed_in(client, db)
    routing.set_presence(db, user, "online", settings=settings)
    conversation = handed_over(db, settings, customer=False)
    item = routing.open_item(db, conversation_id=conversation.id)
    assert item is not None
    live.accept(db, item, user, settings=settings)
    found = client.get(f"/console/chats/{conversation.id}/canned").json()
    greeting = next(c for c in found if c["source"] == "phrase")
    assert greeting["text"].startswith(f"您好，我是{user.display_name}")
    checking = next(c for c in found if c["to_fill"])
    for text in (checking["text"], "您的工单 {case_reference} 已登记"):
        with pytest.raises(UnfilledPlaceholder) as refused:
            live.agent_says(db, conversation, user, text)
        assert refused.value.params == {"part": "【请填写：工单编号】"}
    assert not db.scalars(select(ChatMessage).where(ChatMessage.sender == "agent")).all()
    # a note to colleagues may quote a canned reply as it stands
    live.agent_says(db, conversation, user, checking["text"], internal=True)
    filled = checking["text"].replace("【请填写：工单编号】", "KF-2612-A1B2C-3")
    assert live.agent_says(db, conversation, user, filled).text == filled


def test_other_agents_cannot_see_a_chat_and_supervisors_see_the_queues(
    client: TestClient, db: Session, settings: Settings
) -> None:
    holder = make_staff(db)
    routing.set_presence(db, holder, "online", settings=settings)
    conversation = handed_over(db, settings, customer=False)
    _user, _csrf = signed_in(client, db)
    assert client.get(f"/console/chats/{conversation.id}").status_code == 404
    assert client.get("/console/queues").status_code == 403
    supervisor, csrf = signed_in(client, db, "supervisor")
    page = client.get("/console/queues")
    assert page.status_code == 200 and holder.username in page.text
    assert "1/3" in page.text or "1/" in page.text
    saved = client.post(
        f"/console/agents/{holder.id}/skills",
        data={
            "languages": ["zh-CN", "en"],
            "tiers": ["tier1"],
            "categories": ["refund"],
            "capacity": "5",
            "csrf_token": csrf,
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    profile = routing.profile(db, holder)
    assert profile.capacity == 5 and profile.categories == ["refund"]
    logged = audit.list_events(db, limit=1)[0]
    assert logged.action == "routing.skills" and logged.actor == f"staff:{supervisor.username}"
    assert client.get(f"/console/chats/{conversation.id}").status_code == 200
    assert supervisor.id != holder.id


def test_inbox_cases_read_as_the_agent_reads_them(
    client: TestClient, db: Session, settings: Settings
) -> None:
    """The inbox's case rows carry the console's words: a case waiting on the customer
    reads 等待客户回复, not the customer's own "waiting for your reply", and a late row
    names the promise it broke."""
    user, _csrf = signed_in(client, db)
    waiting = make_case(db, settings)
    waiting.owner_id, waiting.status = user.id, "pending_customer"
    late = make_case(db, settings)
    late.owner_id = user.id
    db.flush()
    panel = client.get("/console/inbox/panel").text
    assert waiting.reference in panel and late.reference in panel
    assert "等待客户回复" in panel and "等待您的回复" not in panel
    assert "解决已超时" in panel  # opened at T0, weeks before today
    english = client.get("/console/inbox/panel?lang=en").text
    assert "Waiting for your reply" not in english and "Resolution overdue" in english
