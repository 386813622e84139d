"""A demo wallet seeded once per module; each test works inside its own savepoint on it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kefu import demo
from kefu.bot import service
from kefu.bot.service import BotTurn
from kefu.channels.models import OutboxMessage
from kefu.chat.models import Conversation
from kefu.config import Settings
from kefu.db import utcnow


@pytest.fixture(scope="module")
def demo_connection(engine: Engine) -> Iterator[object]:
    connection = engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    demo.seed(session, history=False)
    session.close()
    try:
        yield connection
    finally:
        outer.rollback()
        connection.close()


@pytest.fixture
def demo_db(demo_connection: object) -> Iterator[Session]:
    """The seeded demo data; whatever a test does is rolled back after it."""
    from sqlalchemy import Connection

    assert isinstance(demo_connection, Connection)
    nested = demo_connection.begin_nested()
    session = Session(bind=demo_connection, join_transaction_mode="create_savepoint")
    try:
        yield session
    finally:
        session.close()
        if nested.is_active:
            nested.rollback()


def phone_of(index: int) -> str:
    """The registered phone of demo customer ``index`` (see kefu.wallet.demo.PROBLEMS)."""
    return f"138{index:08d}"


def last_code(db: Session, phone: str) -> str:
    body = db.scalars(
        select(OutboxMessage.body)
        .where(OutboxMessage.destination == "+86" + phone)
        .order_by(OutboxMessage.id.desc())
    ).first()
    assert body is not None, "no code was sent"
    found = re.search(r"\b\d{6}\b", body)
    assert found is not None
    return found.group()


@dataclass
class Chat:
    """A customer talking to the assistant, at a fixed clock that tests can move on."""

    db: Session
    settings: Settings
    lang: str = "zh-CN"
    customer_id: int | None = None
    now: datetime = field(default_factory=lambda: utcnow() + timedelta(hours=1))
    conversation: Conversation | None = None
    turns: list[BotTurn] = field(default_factory=list)

    def start(self) -> str:
        self.conversation, messages = service.start_conversation(
            self.db,
            settings=self.settings,
            language=self.lang,
            customer_id=self.customer_id,
            now=self.now,
        )
        return messages[0].text

    def say(self, text: str, *, client_msg_id: str | None = None) -> BotTurn:
        if self.conversation is None:
            from kefu.chat import service as chat

            self.conversation = chat.start(
                self.db,
                channel="web",
                language=self.lang,
                customer_id=self.customer_id,
                now=self.now,
            )
        self.now += timedelta(seconds=5)
        turn = service.respond(
            self.db,
            self.conversation,
            text,
            settings=self.settings,
            client_msg_id=client_msg_id,
            now=self.now,
        )
        self.db.commit()
        self.turns.append(turn)
        return turn

    def verify(self, index: int) -> BotTurn:
        """Answer the identity check as demo customer ``index`` would."""
        turn = self.turns[-1]
        if turn.input != "code":
            turn = self.say(phone_of(index))
            assert turn.input == "code", turn.reply
        return self.say(last_code(self.db, phone_of(index)))


@pytest.fixture
def chat(demo_db: Session, settings: Settings) -> Chat:
    return Chat(db=demo_db, settings=settings)
