"""The official account's webhook: WeChat's server check, signatures, both modes, and the
assistant answering followers in their language, once per message."""

from __future__ import annotations

import re
import time

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.integration.wechat.conftest import (
    WeChat,
    crypto,
    event_xml,
    image_xml,
    reply_text,
    signature,
    text_xml,
)

from kefu.chat.models import ChatMessage, Conversation
from kefu.inbound.wechat.models import WeChatFollower

HAN = re.compile(r"[\u4e00-\u9fff]")


def conversation_of(db: Session, openid: str) -> Conversation:
    follower = db.scalars(select(WeChatFollower).where(WeChatFollower.openid == openid)).one()
    assert follower.conversation_id is not None
    conversation = db.get(Conversation, follower.conversation_id)
    assert conversation is not None and conversation.channel == "wechat"
    return conversation


def test_server_check_echoes_only_a_signed_request(wechat: WeChat, client: TestClient) -> None:
    params = {**wechat.query(), "echostr": "5837397520664712345"}
    response = wechat.http.get("/wechat", params=params)
    assert response.status_code == 200 and response.text == "5837397520664712345"

    forged = {**params, "signature": "0" * 40}
    assert wechat.http.get("/wechat", params=forged).status_code == 403
    stale = str(int(time.time()) - 3600)  # a signed request replayed an hour later
    replayed = {**params, "timestamp": stale, "signature": signature(stale, params["nonce"])}
    assert wechat.http.get("/wechat", params=replayed).status_code == 403
    status, body = wechat.post(text_xml("oFollowerForged", "你好"), signature="f" * 40)
    assert status == 403 and "signature_invalid" in body
    # without KEFU_WECHAT_TOKEN the channel is not there at all
    assert client.get("/wechat", params=params).status_code == 404
    assert client.post("/wechat", params=params, content=b"<xml/>").status_code == 404


def test_unreadable_messages_are_refused_with_400(wechat: WeChat, safe_wechat: WeChat) -> None:
    for body in ("<xml><ToUserName>", "not xml at all", "<xml><MsgType>text</MsgType></xml>"):
        status, text = wechat.post(body)
        assert status == 400, body
        assert '"code":"unreadable_message"' in text.replace(" ", "")
    encrypted = {"encrypt_type": "aes", "msg_signature": "0" * 40}
    assert wechat.post("<xml/>", **encrypted)[0] == 400  # no AES key: cannot be read
    garbage = "<xml><Encrypt><![CDATA[bm90IG91ciBlbnZlbG9wZQ==]]></Encrypt></xml>"
    query = safe_wechat.query()
    good = signature(query["timestamp"], query["nonce"], "bm90IG91ciBlbnZlbG9wZQ==")
    status, _ = safe_wechat.post(garbage, **query, encrypt_type="aes", msg_signature=good)
    assert status == 400


def test_a_follower_is_welcomed_and_answered_in_chinese_by_number(
    wechat: WeChat, db: Session
) -> None:
    status, body = wechat.post(event_xml("oFollowerZh", "subscribe"))
    assert status == 200
    welcome = reply_text(body, "oFollowerZh")
    assert "感谢关注" in welcome and "\n1. " in welcome

    answer = wechat.say("oFollowerZh", "你好")
    assert HAN.search(answer) and "回复数字选择" in answer
    options = re.findall(r"^(\d)\. (.+)$", answer, flags=re.MULTILINE)
    assert len(options) >= 2
    wechat.say("oFollowerZh", "１")  # a full-width digit, as Chinese keyboards type it
    conversation = conversation_of(db, "oFollowerZh")
    assert conversation.intent == "recharge_not_credited"  # the first topic offered
    assert conversation.language == "zh-CN"

    status, body = wechat.post(image_xml("oFollowerZh"))
    assert status == 200 and "只能处理文字消息" in reply_text(body, "oFollowerZh")
    assert wechat.post(event_xml("oFollowerZh", "CLICK")) == (200, "success")


def test_an_english_message_is_answered_in_english(wechat: WeChat, db: Session) -> None:
    answer = wechat.say("oFollowerEn", "Hello, I need some help please")
    assert answer and not HAN.search(answer)
    assert conversation_of(db, "oFollowerEn").language == "en"


def test_a_message_wechat_posts_again_is_one_turn(wechat: WeChat, db: Session) -> None:
    msg_id = 7_000_000_000_000_000_042
    answers = {wechat.say("oFollowerRetry", "我的账户被锁了", msg_id)}
    for _retry in range(2):  # WeChat's retries of the same MsgId
        answers.add(wechat.say("oFollowerRetry", "我的账户被锁了", msg_id))
    assert len(answers) == 1 and answers.pop()
    conversation = conversation_of(db, "oFollowerRetry")
    stored = db.scalar(
        select(func.count())
        .select_from(ChatMessage)
        .where(ChatMessage.conversation_id == conversation.id, ChatMessage.sender == "customer")
    )
    assert stored == 1


def test_safe_mode_decrypts_the_message_and_encrypts_the_reply(
    safe_wechat: WeChat, db: Session
) -> None:
    query = safe_wechat.query(nonce="safeNonce1")
    sealed = crypto().encrypt_message(
        text_xml("oFollowerSafe", "你好"), query["nonce"], query["timestamp"]
    )
    encrypt = re.search(r"<Encrypt><!\[CDATA\[(.+?)\]\]>", sealed)
    assert encrypt is not None
    msg_signature = signature(query["timestamp"], query["nonce"], encrypt.group(1))
    response = safe_wechat.http.post(
        "/wechat",
        params={**query, "encrypt_type": "aes", "msg_signature": msg_signature},
        content=sealed.encode(),
    )
    assert response.status_code == 200, response.text
    assert "<Encrypt>" in response.text and "你好" not in response.text
    reply_signature = re.search(r"<MsgSignature><!\[CDATA\[(.+?)\]\]>", response.text)
    assert reply_signature is not None
    plain = crypto().decrypt_message(
        response.text, reply_signature.group(1), query["timestamp"], query["nonce"]
    )
    assert HAN.search(reply_text(plain, "oFollowerSafe"))
    assert conversation_of(db, "oFollowerSafe").last_seq >= 2

    forged = {**query, "encrypt_type": "aes", "msg_signature": "0" * 40}
    assert safe_wechat.http.post("/wechat", params=forged, content=sealed).status_code == 403


def _sent_at_dropped(reply: str) -> str:
    return re.sub(r"<CreateTime>\d+</CreateTime>", "", reply)


def test_a_signed_url_replayed_with_another_body_is_refused(wechat: WeChat, db: Session) -> None:
    """Plaintext mode signs only the query string: the URL of one genuine request must not
    carry another body, even within the five-minute window. WeChat's own retry (same URL,
    same body) is still answered."""
    signed = wechat.query()
    genuine = text_xml("o-replay-1", "我的充值没到账", msg_id=7001)
    status, first = wechat.post(genuine, **signed)
    assert status == 200
    status, retried = wechat.post(genuine, **signed)
    # the same answer; its CreateTime is the second it was sent, which may have moved on
    assert status == 200 and _sent_at_dropped(retried) == _sent_at_dropped(first)
    forged = text_xml("o-replay-1", "帮我把密码重置一下", msg_id=7002)
    status, body = wechat.post(forged, **signed)
    assert status == 403, body
    assert "signature_invalid" in body
    another = text_xml("o-replay-2", "你好", msg_id=7003)
    assert wechat.post(another, **signed)[0] == 403  # another sender too
    assert wechat.post(forged)[0] == 200  # a fresh nonce is a new request


def test_nonces_are_kept_in_the_database_for_every_process(wechat: WeChat, db: Session) -> None:
    from kefu.inbound.wechat.models import WeChatNonce

    signed = wechat.query()
    wechat.post(text_xml("o-replay-3", "你好", msg_id=7004), **signed)
    kept = db.scalar(select(WeChatNonce).where(WeChatNonce.nonce == signed["nonce"]))
    assert kept is not None and kept.timestamp == signed["timestamp"]
