"""Appending messages and starting conversations in a session that undid some before."""

from __future__ import annotations

import re

import pytest
from sqlalchemy.orm import Session
from tests.statements import statements_sent

from kefu.chat import service as chat
from kefu.chat.models import Conversation
from kefu.db import utcnow


def test_rows_undone_with_their_savepoint_leave_the_session_free_for_the_next(
    db: Session,
) -> None:
    # the writer thread runs each request in a savepoint of the group's transaction; SQLite
    # gives the next row the id of one a failed request's savepoint took back
    kept = chat.start(db, channel="web", language="zh-CN")
    chat.append(db, kept, sender="customer", text="first")
    with pytest.raises(RuntimeError), db.begin_nested():
        undone = chat.start(db, channel="web", language="zh-CN")
        chat.append(db, undone, sender="customer", text="undone")
        chat.append(db, kept, sender="bot", text="undone too")
        raise RuntimeError
    again = chat.start(db, channel="web", language="zh-CN", with_first_message=True)
    chat.append(db, again, sender="customer", text="again")
    chat.append(db, kept, sender="bot", text="answer")
    db.flush()
    assert [(m.seq, m.text) for m in chat.messages(db, kept)] == [(1, "first"), (2, "answer")]
    assert [(m.seq, m.text) for m in chat.messages(db, again)] == [(1, "again")]
    assert (kept.last_seq, again.last_seq) == (2, 1)


def test_a_message_with_a_client_id_is_one_statement_and_its_resend_writes_nothing(
    db: Session,
) -> None:
    conversation = chat.start(db, channel="web", language="zh-CN")
    bind = db.connection()
    with statements_sent(bind) as said:
        first = chat.append(db, conversation, sender="customer", text="在吗", client_msg_id="c-1")
    assert [s.split(" ")[0] for s in said] == ["INSERT"]  # no look-up before it
    db.flush()  # the conversation's new number
    with statements_sent(bind) as said:
        again = chat.append(db, conversation, sender="customer", text="在吗", client_msg_id="c-1")
    assert [s.split(" ")[0] for s in said] == ["INSERT", "SELECT"]  # refused, then read
    assert (again.id, again.seq) == (first.id, 1)
    later = chat.append(db, conversation, sender="customer", text="人呢", client_msg_id="c-2")
    db.flush()
    assert [(m.seq, m.client_msg_id) for m in chat.messages(db, conversation)] == [
        (1, "c-1"),
        (2, "c-2"),
    ]
    assert (later.seq, conversation.last_seq) == (2, 2)


def test_a_conversation_inserted_here_is_written_with_its_changes_and_left_clean(
    db: Session,
) -> None:
    now = utcnow()  # a turn's messages share its time
    conversation = chat.start(db, channel="web", language="zh-CN", with_first_message=True, now=now)
    chat.append(db, conversation, sender="customer", text="充值没到账", now=now)
    conversation.intent = "recharge_not_credited"
    conversation.bot_state = {"arrived": True}
    chat.append(db, conversation, sender="bot", text="请输入手机号", now=now)
    with statements_sent(db.connection()) as said:
        chat.write_inserted(db, conversation)
        db.flush()
    # one UPDATE of what changed
    assert [re.findall(r"(\w+)=", s.split(" WHERE ")[0]) for s in said] == [
        ["intent", "bot_state", "last_seq"]
    ]
    assert said[0].startswith("UPDATE conversation SET")
    assert conversation in db and not db.dirty
    db.expire_all()
    stored = db.get(Conversation, conversation.id)
    assert stored is not None
    assert (stored.intent, stored.bot_state, stored.last_seq) == (
        "recharge_not_credited",
        {"arrived": True},
        2,
    )


def test_a_change_of_status_is_left_to_the_flush_that_announces_it(db: Session) -> None:
    conversation = chat.start(db, channel="web", language="zh-CN", with_first_message=True)
    chat.append(db, conversation, sender="customer", text="转人工")
    conversation.status = "queued"
    with statements_sent(db.connection()) as said:
        chat.write_inserted(db, conversation)
    assert said == []
    assert conversation in db.dirty
