"""Canned replies staff write: an agent's own stay theirs, shared ones are an admin's,
both languages, the variables filled from the case in the reply box, uses counted, bad
input refused in the form with nothing saved, and edits on a stale copy refused."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.factories import make_staff
from tests.integration.cases.case_helpers import AGENT, make_case
from tests.integration.identity.test_staff_admin import sign_in

from kefu.cases import service as cases_service
from kefu.chat.canned_models import SavedReply
from kefu.config import Settings


def _reply(csrf: str, **fields: str) -> dict[str, str]:
    return {
        "category": "recharge_not_credited",
        "scope": "shared",
        "title_zh": "充值核查中",
        "body_zh": "{customer_name}您好，您的工单 {reference} 我们会在 {committed_time} 前答复。",
        "title_en": "Top-up being traced",
        "body_en": "Hello {customer_name}, we will answer case {reference} by {committed_time}.",
        "csrf_token": csrf,
        **fields,
    }


def _count(db: Session) -> int:
    return int(db.scalar(select(func.count(SavedReply.id))) or 0)


def test_a_shared_reply_is_offered_filled_on_the_case_page_and_counted(
    client: TestClient, db: Session, settings: Settings
) -> None:
    admin, agent = make_staff(db, "admin"), make_staff(db, "agent")
    case = make_case(db, settings)
    cases_service.assign(db, case, owner_username=agent.username, actor=AGENT)
    db.commit()
    csrf = sign_in(client, admin.username)
    assert client.post("/console/canned", data=_reply(csrf)).status_code == 200
    reply = db.scalars(select(SavedReply)).one()
    assert reply.owner_id is None
    client.cookies.clear()
    agent_csrf = sign_in(client, agent.username)
    page = client.get(f"/console/cases/{case.reference}").text
    button = re.search(r'data-insert="([^"]*)"[^>]*data-canned-id="(\d+)"', page)
    assert button, "the shared reply is offered in the case's reply box"
    assert case.reference in button.group(1)
    assert "{committed_time}" not in button.group(1) and "{customer_name}" not in button.group(1)
    used = client.post(
        f"/console/canned/{button.group(2)}/used", headers={"X-CSRF-Token": agent_csrf}
    )
    assert used.status_code == 204
    db.refresh(reply)
    assert reply.uses == 1
    # agents may not write shared replies; their own stay their own
    refused = client.post("/console/canned", data=_reply(agent_csrf, title_zh="我的"))
    assert refused.status_code == 403
    mine = client.post("/console/canned", data=_reply(agent_csrf, scope="mine"))
    assert mine.status_code == 200
    assert db.scalar(select(func.count(SavedReply.id)).where(SavedReply.owner_id == agent.id)) == 1


def test_bad_input_is_refused_in_the_form(client: TestClient, db: Session) -> None:
    admin = make_staff(db, "admin")
    db.commit()
    csrf = sign_in(client, admin.username)
    before = _count(db)
    unknown = client.post("/console/canned", data=_reply(csrf, body_en="Hi {name}"))
    assert unknown.status_code == 400
    assert "{name} 不是可用的变量" in unknown.text and "{customer_name}" in unknown.text
    assert "Hi {name}" in unknown.text  # what was typed stays
    empty = client.post("/console/canned", data=_reply(csrf, title_en=""))
    assert empty.status_code == 400 and "请填写中英文标题" in empty.text
    assert _count(db) == before


def test_an_edit_on_a_stale_copy_is_refused(client: TestClient, db: Session) -> None:
    agent = make_staff(db, "agent")
    db.commit()
    csrf = sign_in(client, agent.username)
    client.post("/console/canned", data=_reply(csrf, scope="mine"))
    reply = db.scalars(select(SavedReply)).one()
    edit = {**_reply(csrf), "version": "1", "title_zh": "第一次修改"}
    assert client.post(f"/console/canned/{reply.id}", data=edit).status_code == 200
    stale = client.post(f"/console/canned/{reply.id}", data={**edit, "title_zh": "过期的修改"})
    assert stale.status_code == 409 and "已被修改" in stale.text
    db.refresh(reply)
    assert (reply.title_zh, reply.version) == ("第一次修改", 2)


def test_another_agents_own_reply_stays_hidden(client: TestClient, db: Session) -> None:
    owner, other = make_staff(db, "agent"), make_staff(db, "agent")
    db.commit()
    csrf = sign_in(client, owner.username)
    client.post("/console/canned", data=_reply(csrf, scope="mine"))
    reply = db.scalars(select(SavedReply)).one()
    client.cookies.clear()
    sign_in(client, other.username)
    assert "充值核查中" not in client.get("/console/canned").text
    assert client.get(f"/console/canned?edit={reply.id}").status_code == 404


def test_chinese_punctuation_is_kept_and_full_width_braces_still_name_a_variable(
    client: TestClient, db: Session
) -> None:
    """A reply is stored as written: NFKC folding turned 您好，…：…！ into ASCII
    punctuation. Only a variable typed with a Chinese keyboard's braces is folded."""
    admin = make_staff(db, "admin")
    db.commit()
    csrf = sign_in(client, admin.username)
    body = "｛customer_name｝您好：您的工单 {reference} 已受理，我们会在 {committed_time} 前答复！"
    form = _reply(csrf, title_zh="充值核查中（受理）", body_zh=body)
    assert client.post("/console/canned", data=form).status_code == 200
    reply = db.scalars(select(SavedReply)).one()
    assert reply.title_zh == "充值核查中（受理）"
    assert reply.body_zh == (
        "{customer_name}您好：您的工单 {reference} 已受理，我们会在 {committed_time} 前答复！"
    )
