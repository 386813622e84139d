"""The phone menu page in the console: admins only (an agent gets the 403 page), bad input
re-drawn with the reason and nothing saved, stale edits refused, publish and roll back;
trying the draft in the simulator runs the draft while a carrier's call runs the published
menu."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import make_staff
from tests.integration.voice.carrier import CarrierCall
from tests.integration.voice.conftest import BASE, TOKEN, phone_of
from tests.integration.web.web_helpers import csrf, sign_in

from kefu.audit import AuditEvent
from kefu.voice import menu, menu_drafts
from kefu.voice.default_menu import DEFAULT_TREE
from kefu.voice.models import VoiceCall, VoiceMenuDraft

Ring = Callable[[str], CarrierCall]
DRAFT_INTRO = {"zh-CN": "这是草稿菜单，请选择。", "en": "This is the draft menu."}


@pytest.fixture
def admin(voice_app: FastAPI, demo_db: Session) -> Iterator[TestClient]:
    with TestClient(voice_app, raise_server_exceptions=False) as client:
        make_staff(demo_db, "admin", username="menu_admin")
        demo_db.commit()
        sign_in(client, "menu_admin")
        yield client


def page(client: TestClient) -> tuple[str, str, str]:
    """The page, its CSRF token and the draft's version."""
    response = client.get("/console/phone-menu")
    assert response.status_code == 200, response.text
    token = re.search(r'name="draft" value="([^"]+)"', response.text)
    assert token is not None
    return response.text, csrf(response.text), token.group(1)


def post(client: TestClient, url: str, **fields: str) -> Any:
    return client.post(url, data=fields, follow_redirects=False)


def edited() -> dict[str, Any]:
    tree = copy.deepcopy(DEFAULT_TREE)
    tree["nodes"]["main"]["intro"] = DRAFT_INTRO
    return tree


def test_an_agent_gets_the_403_page_and_no_menu_link(voice_app: FastAPI, demo_db: Session) -> None:
    with TestClient(voice_app, raise_server_exceptions=False) as client:
        make_staff(demo_db, "agent", username="menu_agent")
        demo_db.commit()
        sign_in(client, "menu_agent")
        refused = client.get("/console/phone-menu")
        assert refused.status_code == 403 and "没有权限" in refused.text
        assert client.get("/console/phone-menu/try").status_code == 403
        home = client.get("/console")
        assert "/console/phone-menu" not in home.text


def test_the_page_shows_the_live_version_the_versions_and_the_draft(
    admin: TestClient, demo_db: Session
) -> None:
    html, _, token = page(admin)
    live = menu.live(demo_db)
    assert f"第 {live.version} 版，由 系统 于" in html and "随产品提供的默认菜单" in html
    assert "staff:" not in html and "shipped default" not in html
    assert 'href="/console/phone-menu" aria-current="page"' in html
    assert "草稿与第 1 版相同。" in html
    assert 'id="node-main"' in html and "按 1：" in html
    assert token == "0-1"
    english = admin.get("/console/phone-menu?lang=en")
    assert "Version 1, published by System on" in english.text
    assert "Press 1:" in english.text and "The draft is the same as version 1." in english.text


def test_bad_json_and_a_dead_end_are_refused_in_the_form_and_nothing_saved(
    admin: TestClient, demo_db: Session
) -> None:
    _, token, draft = page(admin)
    typed = '{"root": "main",'
    refused = post(admin, "/console/phone-menu/draft", csrf_token=token, draft=draft, tree=typed)
    assert refused.status_code == 400
    assert "菜单不是有效的 JSON（第 1 行第 17 列）。" in refused.text
    assert "{&#34;root&#34;: &#34;main&#34;,</textarea>" in refused.text  # kept as typed
    dead = edited()
    dead["nodes"]["password_help"]["next"] = "password_help"
    refused = post(
        admin,
        "/console/phone-menu/draft",
        csrf_token=token,
        draft=draft,
        tree=json.dumps(dead),
    )
    assert refused.status_code == 400
    assert "节点「password_help」是死路：从它出发无法转到人工。" in refused.text
    missing = edited()
    missing["nodes"]["money"]["options"][0]["to"] = "balanse"
    refused = post(
        admin, "/console/phone-menu/draft", csrf_token=token, draft=draft, tree=json.dumps(missing)
    )
    assert "菜单「money」：按键 1 指向的节点「balanse」不存在" in refused.text
    for unreadable in ("[" * 50_000 + "]" * 50_000, '{"root": ' + "9" * 5000 + "}"):
        refused = post(
            admin, "/console/phone-menu/draft", csrf_token=token, draft=draft, tree=unreadable
        )
        assert refused.status_code == 400 and "菜单无法读取" in refused.text
    too_big = post(
        admin, "/console/phone-menu/draft", csrf_token=token, draft=draft, tree=" " * 200_001
    )
    assert too_big.status_code == 400 and "菜单太大" in too_big.text
    assert demo_db.get(VoiceMenuDraft, menu_drafts.DRAFT_ID) is None
    assert demo_db.scalar(select(AuditEvent).where(AuditEvent.action == "voice.menu.draft")) is None


def test_texts_are_saved_per_node_and_an_empty_language_is_refused(
    admin: TestClient, demo_db: Session
) -> None:
    _, token, draft = page(admin)
    fields = {
        "csrf_token": token,
        "draft": draft,
        "text.zh-CN": "密码请到 App 重置。",
        "text.en": "",
    }
    refused = post(admin, "/console/phone-menu/draft/nodes/password_help", **fields)
    assert refused.status_code == 400
    assert "节点「password_help」的提示语（英文）为空。" in refused.text
    assert 'value="密码请到 App 重置。"' in refused.text  # what was typed is kept
    assert demo_db.get(VoiceMenuDraft, menu_drafts.DRAFT_ID) is None
    fields["text.en"] = "Reset your password in the app."
    saved = post(admin, "/console/phone-menu/draft/nodes/password_help", **fields)
    assert saved.status_code == 303
    assert saved.headers["location"] == "/console/phone-menu?saved=texts#node-password_help"
    html = admin.get(saved.headers["location"]).text
    assert "此节点已保存到草稿。" in html and 'value="Reset your password in the app."' in html
    assert "草稿有未发布的改动" in html
    stale = post(admin, "/console/phone-menu/draft/nodes/password_help", **fields)
    assert stale.status_code == 409 and "在您编辑期间" in stale.text
    assert post(admin, "/console/phone-menu/draft/nodes/nobody", **fields).status_code == 404


def test_publish_then_roll_back_from_the_page(admin: TestClient, demo_db: Session) -> None:
    _, token, draft = page(admin)
    assert (
        post(
            admin,
            "/console/phone-menu/draft",
            csrf_token=token,
            draft=draft,
            tree=json.dumps(edited()),
        ).status_code
        == 303
    )
    _, token, draft = page(admin)
    published = post(
        admin, "/console/phone-menu/publish", csrf_token=token, draft=draft, comment="新菜单"
    )
    assert published.status_code == 303
    assert menu.live(demo_db).version == 2 and menu.live(demo_db).comment == "新菜单"
    assert "已发布，新来电将使用新版本。" in admin.get(published.headers["location"]).text
    _, token, draft = page(admin)
    again = post(admin, "/console/phone-menu/publish", csrf_token=token, draft=draft, comment="")
    assert again.status_code == 409 and "没有可发布的改动" in again.text
    stale = post(admin, "/console/phone-menu/versions/1/restore", csrf_token=token, live="1")
    assert stale.status_code == 409 and menu.live(demo_db).version == 2
    restored = post(admin, "/console/phone-menu/versions/1/restore", csrf_token=token, live="2")
    assert restored.status_code == 303
    live = menu.live(demo_db)
    assert live.version == 3 and live.tree == DEFAULT_TREE and live.comment == "回滚到第 1 版"
    html, _, _ = page(admin)
    assert 'id="version-3"' in html and "回滚到第 2 版" in html


def start_trial(admin: TestClient, token: str) -> dict[str, Any]:
    response = admin.post(
        "/console/phone-menu/try/calls",
        json={"caller": "13800000002"},
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == 200, response.text
    view: dict[str, Any] = response.json()
    return view


def trial_step(admin: TestClient, token: str, view: dict[str, Any], keys: str) -> dict[str, Any]:
    response = admin.post(
        "/console/phone-menu/try/steps",
        json={"state": view["state"], "event": "keys", "keys": keys},
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def heard(view: dict[str, Any]) -> str:
    return " ".join(said["text"] or "" for said in view["said"])


def test_the_simulator_runs_the_draft_while_carrier_calls_run_the_published_menu(
    admin: TestClient, ring: Ring, demo_db: Session, voice_app: FastAPI
) -> None:
    _, token, draft = page(admin)
    saved = post(
        admin, "/console/phone-menu/draft", csrf_token=token, draft=draft, tree=json.dumps(edited())
    )
    assert saved.status_code == 303
    trying = admin.get("/console/phone-menu/try")
    assert trying.status_code == 200 and "您正在试用草稿" in trying.text
    assert 'data-steps-url="/console/phone-menu/try/steps"' in trying.text
    view = start_trial(admin, token)
    view = trial_step(admin, token, view, "1")
    assert DRAFT_INTRO["zh-CN"] in heard(view)
    trial_call = demo_db.scalar(select(VoiceCall).where(VoiceCall.call_sid == view["state"]["sid"]))
    assert trial_call is not None and trial_call.menu_version == 1

    carrier = ring(phone_of(2)).press("1")
    assert DRAFT_INTRO["zh-CN"] not in " ".join(carrier.last)
    assert carrier.last, "the published menu speaks"
    # a carrier call cannot borrow the simulator's prefix to reach the draft
    with TestClient(voice_app, raise_server_exceptions=False) as client:
        forged = CarrierCall(
            client=client, token=TOKEN, base=BASE, caller=phone_of(3), sid="CASIM" + "f" * 32
        ).dial()
        forged.press("1")
    assert DRAFT_INTRO["zh-CN"] not in " ".join(forged.last)
    # nor can the try page drive a call it did not place
    steered = admin.post(
        "/console/phone-menu/try/steps",
        json={"state": {**view["state"], "sid": forged.sid}, "event": "keys", "keys": "1"},
        headers={"X-CSRF-Token": token},
    )
    assert steered.status_code == 404
    # after publishing, carrier calls run the new version
    _, token, draft = page(admin)
    post(admin, "/console/phone-menu/publish", csrf_token=token, draft=draft, comment="上线")
    after = ring(phone_of(2)).press("1")
    assert DRAFT_INTRO["zh-CN"] in " ".join(after.last)


def test_an_agent_cannot_place_a_trial_call(voice_app: FastAPI, demo_db: Session) -> None:
    with TestClient(voice_app, raise_server_exceptions=False) as client:
        make_staff(demo_db, "agent", username="menu_agent2")
        demo_db.commit()
        sign_in(client, "menu_agent2")
        token = csrf(client.get("/console").text)
        response = client.post(
            "/console/phone-menu/try/calls",
            json={"caller": "13800000002"},
            headers={"X-CSRF-Token": token},
        )
        assert response.status_code == 403
