"""``POST /api/v1/bot/messages``: the contract, conversations that continue, bad input."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.factories import customer_token
from tests.integration.bot.test_flows import customer as demo_customer
from tests.statements import statements_sent

from kefu.app import create_app
from kefu.chat import service as chat
from kefu.chat.models import Conversation
from kefu.config import Settings, get_settings
from kefu.db import get_db
from kefu.quality import metrics, rebuild
from kefu.quality.models import QualityContact, QualityRollup

CONTRACT = {"conversation_id", "conversation_key", "intent", "confidence", "reply", "handoff"}
KEY = "X-Kefu-Conversation-Key"


@pytest.fixture
def api(demo_db: Session, settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings)

    def _db() -> Iterator[Session]:
        yield demo_db

    app.dependency_overrides[get_db] = _db
    app.dependency_overrides[get_settings] = lambda: settings
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_contract_and_a_conversation_that_continues(api: TestClient) -> None:
    first = api.post("/api/v1/bot/messages", json={"text": "充值没到账"})
    assert first.status_code == 200
    body = first.json()
    assert set(body) >= CONTRACT
    assert body["intent"] == "recharge_not_credited"
    assert 0 <= body["confidence"] <= 1
    assert body["handoff"] is False
    owner = {KEY: body["conversation_key"]}
    second = api.post(
        "/api/v1/bot/messages",
        json={"conversation_id": body["conversation_id"], "text": "500元"},
        headers=owner,
    )
    assert second.status_code == 200
    assert second.json()["conversation_id"] == body["conversation_id"]
    assert second.json()["conversation_key"] is None  # given once, when it started
    history = api.get(
        f"/api/v1/bot/conversations/{body['conversation_id']}/messages", headers=owner
    )
    assert [m["sender"] for m in history.json()] == ["customer", "bot", "customer", "bot"]
    said = [datetime.fromisoformat(m["created_at"]) for m in history.json()]
    assert said == sorted(said) and all(at.tzinfo is not None for at in said)


def test_language_follows_the_request(api: TestClient) -> None:
    body = api.post("/api/v1/bot/messages", json={"text": "hello", "lang": "en"}).json()
    assert body["intent"] == "greeting"
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in body["reply"])


def test_handoff_on_request(api: TestClient) -> None:
    body = api.post("/api/v1/bot/messages", json={"text": "转人工"}).json()
    assert body["handoff"] is True
    assert body["status"] == "queued"


@pytest.mark.parametrize(
    "payload",
    [
        {"text": ""},
        {"text": "   "},
        {},
        {"text": 5},
        {"text": "x" * 100_000},
        {"text": "\x00\x01\x02"},  # NUL is refused at the edge (kefu.edge)
    ],
)
def test_bad_messages_are_refused_clearly(api: TestClient, payload: dict[str, object]) -> None:
    response = api.post("/api/v1/bot/messages", json=payload)
    assert 400 <= response.status_code < 500
    assert "error" in response.json()


@pytest.mark.parametrize("text", ["😀😀😀", "\x01\x02 \x7f", "' OR 1=1; --", "<script>x</script>"])
def test_junk_gets_a_polite_reply(api: TestClient, text: str) -> None:
    response = api.post("/api/v1/bot/messages", json={"text": text})
    assert response.status_code == 200
    assert response.json()["reply"]


def test_a_first_turn_never_reads_its_new_conversation_back(
    api: TestClient, demo_db: Session
) -> None:
    """No other transaction sees a conversation before its commit, so the messages of the
    turn that starts it append without locking and reading it again (kefu.chat.start); the
    row goes in with the customer's message and is updated once, with the reply."""
    with statements_sent(demo_db.connection()) as said:
        response = api.post("/api/v1/bot/messages", json={"text": "我昨天充值了500块还没到账"})
    assert response.status_code == 200
    on_conversation = [s for s in said if re.search(r"\bconversation\b", s.split(" WHERE ")[0])]
    assert [s.split(" ")[0] for s in on_conversation] == ["INSERT", "UPDATE"]


def test_a_started_conversation_is_written_once_with_its_first_words_and_key(
    api: TestClient, demo_db: Session
) -> None:
    with statements_sent(demo_db.connection()) as said:
        response = api.post("/api/v1/bot/conversations", json={})
    assert response.status_code == 201
    on_conversation = [s for s in said if re.search(r"\bconversation\b", s.split(" WHERE ")[0])]
    assert [s.split(" ")[0] for s in on_conversation] == ["INSERT"]
    started = response.json()
    again = api.get(
        f"/api/v1/bot/conversations/{started['conversation_id']}/messages",
        headers={KEY: started["conversation_key"]},
    )
    assert [m["text"] for m in again.json()] == [started["reply"]]


def test_a_first_turn_writes_its_quality_figures_without_asking(
    api: TestClient, demo_db: Session
) -> None:
    """The arrival on a conversation the turn inserted looks up no contact, and the new
    contact waits for the turn's flush, so the answer goes into its INSERT: no SELECT and
    no UPDATE of the quality tables (kefu.quality.facts)."""
    with statements_sent(demo_db.connection()) as said:
        response = api.post("/api/v1/bot/messages", json={"text": "我昨天充值了500块还没到账"})
    assert response.status_code == 200
    on_quality = [
        " ".join(s.split(" ")[:3])
        for s in said
        if re.search(r"\b(quality_\w+|contact_event)\b", s.split(" WHERE ")[0])
    ]
    assert on_quality == [
        "INSERT INTO quality_contact",
        "INSERT INTO contact_event",
        "INSERT INTO quality_contact_ref",
        "INSERT INTO quality_rollup",
    ]


def test_the_figures_of_anonymous_turns_equal_a_rebuild_from_their_events(
    api: TestClient, demo_db: Session
) -> None:
    """A new anonymous conversation's contact is written with the turn's flush (its answer
    folded in before its INSERT), or before, when anything else could see it: the contacts
    and the rollups come out as folding their events from scratch makes them."""
    for text in (
        "我昨天充值了500块还没到账",
        "转人工",
        "How do I reset my payment password?",
        "你好",
    ):
        started = api.post("/api/v1/bot/messages", json={"text": text}).json()
        follow_up = api.post(
            "/api/v1/bot/messages",
            json={"conversation_id": started["conversation_id"], "text": "谢谢，解决了"},
            headers={KEY: started["conversation_key"]},
        )
        assert follow_up.status_code == 200

    def rows() -> list[tuple[object, ...]]:
        table = QualityRollup.__table__
        key = [table.c.grain, table.c.period_start, table.c.channel, table.c.category]
        counters = [table.c[name] for name in metrics.COUNTERS]
        found = demo_db.execute(
            select(*key, table.c.staff_id, *counters).order_by(*key, "staff_id")
        )
        # float sums added in another order may differ in the last bits
        return [
            tuple(round(v, 6) if isinstance(v, float) else v for v in row)
            for row in found
            if any(row[5:])
        ]

    def contacts() -> list[tuple[object, ...]]:
        table = QualityContact.__table__
        facts = [column for column in table.c if column.key != "updated_at"]
        return [tuple(row) for row in demo_db.execute(select(*facts).order_by(table.c.id))]

    kept = rows(), contacts()
    rebuild.rebuild_all(demo_db)
    assert (rows(), contacts()) == kept


def test_an_address_over_its_limit_is_refused_and_nothing_is_kept(
    demo_db: Session, settings: Settings
) -> None:
    """The rate limit runs in the turn's own unit of work (on SQLite the writer thread's
    savepoint): the refused turn is 429 with Retry-After and leaves no conversation."""
    app = create_app(settings.model_copy(update={"bot_messages_per_minute": 2}))

    def _db() -> Iterator[Session]:
        yield demo_db

    app.dependency_overrides[get_db] = _db
    before = demo_db.scalar(select(func.count()).select_from(Conversation))
    with TestClient(app, raise_server_exceptions=False) as client:
        answers = [client.post("/api/v1/bot/messages", json={"text": "你好"}) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert int(answers[-1].headers["Retry-After"]) > 0
    assert demo_db.scalar(select(func.count()).select_from(Conversation)) == before + 2


def test_unknown_conversation_is_404(api: TestClient) -> None:
    response = api.post(
        "/api/v1/bot/messages", json={"conversation_id": "nosuchconversation", "text": "你好"}
    )
    assert response.status_code == 404


def test_another_customers_conversation_is_not_found(api: TestClient, demo_db: Session) -> None:
    alice, bob = demo_customer(demo_db, 15), demo_customer(demo_db, 16)
    started = api.post(
        "/api/v1/bot/conversations",
        json={},
        headers={"Authorization": f"Bearer {customer_token(demo_db, alice)}"},
    ).json()
    for key in (None, started["conversation_key"]):  # with the key or without it
        response = api.post(
            "/api/v1/bot/messages",
            json={"conversation_id": started["conversation_id"], "text": "你好"},
            headers={
                "Authorization": f"Bearer {customer_token(demo_db, bob)}",
                **({KEY: key} if key else {}),
            },
        )
        assert response.status_code == 404
    # alice herself, signed in, needs no key
    history = api.get(
        f"/api/v1/bot/conversations/{started['conversation_id']}/messages",
        headers={"Authorization": f"Bearer {customer_token(demo_db, alice)}"},
    )
    assert history.status_code == 200 and [m["sender"] for m in history.json()] == ["bot"]


def _said(db: Session, public_id: str) -> list[str]:
    db.expire_all()
    conversation = chat.by_public_id(db, public_id)
    return [m.text for m in chat.messages(db, conversation) if m.sender == "customer"]


def test_a_conversation_answers_only_its_owner(api: TestClient, demo_db: Session) -> None:
    """The id alone opens nothing, once the conversation holds a verification or nothing
    yet: a stranger without the key, with a wrong one or with another conversation's, or
    signed in as someone else, meets the same 404 as for an unknown id, and nothing is
    written. The owner (the key, or later the signed-in customer it belongs to) goes on."""
    first = api.post("/api/v1/bot/messages", json={"text": "充值没到账"}).json()
    public_id, owner = first["conversation_id"], {KEY: first["conversation_key"]}
    other = api.post("/api/v1/bot/conversations", json={}).json()
    stranger = demo_customer(demo_db, 17)
    unknown = api.post(
        "/api/v1/bot/messages", json={"conversation_id": "nosuchconversation", "text": "你好"}
    )
    attempts: list[dict[str, str]] = [
        {},
        {KEY: ""},
        {KEY: "x" * 43},
        {KEY: owner[KEY][:-1]},
        {KEY: owner[KEY] + owner[KEY]},
        {KEY: other["conversation_key"]},
        {"Authorization": f"Bearer {customer_token(demo_db, stranger)}"},
    ]
    for headers in attempts:
        said = api.post(
            "/api/v1/bot/messages",
            json={"conversation_id": public_id, "text": "我是别人"},
            headers=headers,
        )
        assert said.status_code == 404 and said.json() == unknown.json(), headers
        read = api.get(f"/api/v1/bot/conversations/{public_id}/messages", headers=headers)
        assert read.status_code == 404 and read.json() == unknown.json(), headers
    assert _said(demo_db, public_id) == ["充值没到账"]

    # verified in the chat: the conversation now holds a customer, and still answers the
    # key (the widget is not signed in), the customer themself, and nobody else
    verified = demo_customer(demo_db, 18)
    conversation = chat.by_public_id(demo_db, public_id)
    conversation.customer_id = verified.id
    demo_db.commit()
    again = api.post(
        "/api/v1/bot/messages", json={"conversation_id": public_id, "text": "500元"}, headers=owner
    )
    assert again.status_code == 200, again.text
    by_token = api.get(
        f"/api/v1/bot/conversations/{public_id}/messages",
        headers={"Authorization": f"Bearer {customer_token(demo_db, verified)}"},
    )
    assert by_token.status_code == 200
    assert [m["text"] for m in by_token.json() if m["sender"] == "customer"] == [
        "充值没到账",
        "500元",
    ]
    for headers in attempts:
        assert (
            api.get(f"/api/v1/bot/conversations/{public_id}/messages", headers=headers).status_code
            == 404
        )
    assert _said(demo_db, public_id) == ["充值没到账", "500元"]


def test_a_token_does_not_open_an_anonymous_conversation(api: TestClient, demo_db: Session) -> None:
    """A signed-in customer without the key cannot claim an anonymous conversation by its
    id; with the key (their own widget, signing in later) they can, and it becomes theirs."""
    started = api.post("/api/v1/bot/conversations", json={}).json()
    public_id = started["conversation_id"]
    someone = demo_customer(demo_db, 19)
    signed_in = {"Authorization": f"Bearer {customer_token(demo_db, someone)}"}
    claim = api.post(
        "/api/v1/bot/messages",
        json={"conversation_id": public_id, "text": "你好"},
        headers=signed_in,
    )
    assert claim.status_code == 404
    assert chat.by_public_id(demo_db, public_id).customer_id is None
    mine = api.post(
        "/api/v1/bot/messages",
        json={"conversation_id": public_id, "text": "你好"},
        headers={**signed_in, KEY: started["conversation_key"]},
    )
    assert mine.status_code == 200
    demo_db.expire_all()
    assert chat.by_public_id(demo_db, public_id).customer_id == someone.id


def test_channel_conversations_are_out_of_the_webs_reach(api: TestClient, demo_db: Session) -> None:
    """A WeChat conversation is known by the follower's identity and has no owner key: the
    web API does not reach it, not even as the customer it belongs to."""
    customer = demo_customer(demo_db, 20)
    conversation = chat.start(demo_db, channel="wechat", language="zh-CN", customer_id=customer.id)
    demo_db.commit()
    headers = {"Authorization": f"Bearer {customer_token(demo_db, customer)}"}
    said = api.post(
        "/api/v1/bot/messages",
        json={"conversation_id": conversation.public_id, "text": "你好"},
        headers=headers,
    )
    assert said.status_code == 404
    read = api.get(f"/api/v1/bot/conversations/{conversation.public_id}/messages", headers=headers)
    assert read.status_code == 404
    assert _said(demo_db, conversation.public_id) == []
