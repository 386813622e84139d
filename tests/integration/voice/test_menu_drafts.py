"""The phone menu's draft: saved only when it holds (every problem named in both
languages, nothing saved), texts edited per node, stale edits refused, published as the
next version and rolled back, each change audited with before and after."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu import audit
from kefu.audit import AuditEvent
from kefu.voice import menu, menu_drafts
from kefu.voice.default_menu import DEFAULT_TREE
from kefu.voice.models import VoiceMenuDraft, VoiceMenuTrial

ADMIN = audit.Actor("staff:boss", "admin")
OTHER = audit.Actor("staff:chen", "admin")


def tree() -> dict[str, Any]:
    return copy.deepcopy(DEFAULT_TREE)


def audited(db: Session, action: str) -> list[AuditEvent]:
    db.commit()  # audit rows are written when their transaction commits
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def refusal(exc: pytest.ExceptionInfo[menu_drafts.MenuRefused], lang: str = "en") -> list[str]:
    return [finding.text("zh-CN" if lang == "zh-CN" else "en") for finding in exc.value.findings]


def test_before_any_save_the_draft_is_the_live_menu(db: Session) -> None:
    draft = menu_drafts.current(db)
    live = menu.live(db)
    assert draft.tree == live.tree and draft.lock_version == 0 and draft.based_on == live.version
    assert not menu_drafts.changed(db, draft)
    assert db.get(VoiceMenuDraft, menu_drafts.DRAFT_ID) is None


def test_a_saved_draft_is_audited_node_by_node_and_leaves_the_live_menu(db: Session) -> None:
    draft = menu_drafts.current(db)
    edited = tree()
    edited["nodes"]["main"]["intro"] = {"zh-CN": "您好，请选择。", "en": "Hello, please choose."}
    saved = menu_drafts.save(db, edited, expected=draft.token, actor=ADMIN)
    assert saved.lock_version == 1 and saved.updated_by == "staff:boss"
    assert menu.live(db).tree["nodes"]["main"]["intro"] == "voice.menu.main"
    assert menu_drafts.changed(db, menu_drafts.current(db))
    (event,) = audited(db, "voice.menu.draft")
    before, after = json.loads(event.before or "{}"), json.loads(event.after or "{}")
    assert set(before["nodes"]) == {"main"} == set(after["nodes"])
    assert before["nodes"]["main"]["intro"] == "voice.menu.main"
    assert after["nodes"]["main"]["intro"]["en"] == "Hello, please choose."


@pytest.mark.parametrize(
    ("change", "english", "chinese"),
    [
        (
            lambda t: t["nodes"]["password_help"].update(next="password_help"),
            "Node “password_help” is a dead end: no way from it reaches a person.",
            "节点「password_help」在提示语之间循环，从不等待按键。",
        ),
        (
            lambda t: t["nodes"]["main"]["options"].append(
                {"key": "7", "label": "voice.option.back", "to": "nowhere"}
            ),
            "Menu “main”: key 7 leads to “nowhere”, which does not exist, so the key goes nowhere.",
            "菜单「main」：按键 7 指向的节点「nowhere」不存在，来电者按下后无处可去。",
        ),
        (
            lambda t: t["nodes"]["main"]["options"].append(
                {"key": "1", "label": "voice.option.back", "to": "main"}
            ),
            "Menu “main” uses key 1 twice.",
            "菜单「main」中按键 1 用了两次。",
        ),
        (
            lambda t: t["nodes"]["main"].update(intro={"zh-CN": "", "en": "Hello"}),
            "nodes › main › intro › zh-CN: must not be empty.",
            "nodes › main › intro › zh-CN：不能为空。",
        ),
        (
            lambda t: t["nodes"]["balance"].update(kind="robot"),
            "nodes › balance: the kind must be menu, action, message or queue.",
            "nodes › balance：节点类型必须是 menu、action、message 或 queue。",
        ),
    ],
)
def test_a_draft_that_does_not_hold_is_refused_with_the_reason_and_nothing_saved(
    db: Session, change: Any, english: str, chinese: str
) -> None:
    broken = tree()
    change(broken)
    with pytest.raises(menu_drafts.MenuRefused) as refused:
        menu_drafts.save(db, broken, expected=menu_drafts.current(db).token, actor=ADMIN)
    assert english in refusal(refused)
    assert chinese in refusal(refused, "zh-CN")
    assert db.get(VoiceMenuDraft, menu_drafts.DRAFT_ID) is None
    assert audited(db, "voice.menu.draft") == []


def test_a_menu_looping_between_menus_without_a_person_is_a_dead_end(db: Session) -> None:
    looped = tree()
    looped["nodes"]["official"]["options"] = [
        {"key": "1", "label": "voice.option.check_number", "to": "check_number"},
        {"key": "*", "label": "voice.option.back", "to": "main"},
    ]
    looped["nodes"]["main"]["options"] = [
        {"key": "1", "label": "voice.option.account", "to": "official"},
    ]
    looped["operator"] = "agent"
    with pytest.raises(menu_drafts.MenuRefused) as refused:
        menu_drafts.save(db, looped, expected=menu_drafts.current(db).token, actor=ADMIN)
    texts = refusal(refused)
    assert "Node “main” is a dead end: no way from it reaches a person." in texts
    assert "Node “official” is a dead end: no way from it reaches a person." in texts
    assert "Node “agent_login” cannot be reached from the start node “main”." in texts


def test_texts_of_a_node_are_saved_in_both_languages_or_refused(db: Session) -> None:
    slots = {slot.name: slot for slot in menu_drafts.text_slots(tree()["nodes"]["account"])}
    assert slots["intro"].catalogue_key == "voice.menu.account"
    assert slots["option.0"].key == "1" and slots["option.0"].texts["zh-CN"]
    form = {
        f"{name}.{lang}": slot.texts[lang] for name, slot in slots.items() for lang in slot.texts
    }
    form["option.0.en"] = "  Locked   account "
    token = menu_drafts.current(db).token
    menu_drafts.edit_node(db, "account", form, expected=token, actor=ADMIN)
    node = menu_drafts.current(db).tree["nodes"]["account"]
    assert node["options"][0]["label"] == {
        "zh-CN": slots["option.0"].texts["zh-CN"],
        "en": "Locked account",
    }
    assert node["intro"] == "voice.menu.account"  # unchanged: still the shared text
    assert node["options"][1]["label"] == "voice.option.password"

    form["option.1.zh-CN"] = " "
    with pytest.raises(menu_drafts.MenuRefused) as refused:
        menu_drafts.edit_node(
            db, "account", form, expected=menu_drafts.current(db).token, actor=ADMIN
        )
    assert refusal(refused) == ["Menu “account”: the label of key 2 in Chinese is empty."]
    assert refusal(refused, "zh-CN") == ["菜单「account」：按键 2 的说明（中文）为空。"]
    assert menu_drafts.current(db).lock_version == 1


def test_an_edit_on_a_stale_copy_is_refused_naming_who_changed_it(db: Session) -> None:
    seen = menu_drafts.current(db).token
    first = tree()
    first["nodes"]["main"]["intro"] = {"zh-CN": "第一版", "en": "First"}
    menu_drafts.save(db, first, expected=seen, actor=OTHER)
    second = tree()
    second["nodes"]["main"]["intro"] = {"zh-CN": "第二版", "en": "Second"}
    with pytest.raises(menu_drafts.StaleMenu) as stale:
        menu_drafts.save(db, second, expected=seen, actor=ADMIN)
    assert stale.value.params["who"] == "staff:chen" and stale.value.status == 409
    assert menu_drafts.current(db).tree["nodes"]["main"]["intro"]["en"] == "First"
    with pytest.raises(menu_drafts.StaleMenu):
        menu_drafts.publish(db, expected=seen, comment="", actor=ADMIN)


def test_a_version_published_elsewhere_makes_an_untouched_draft_stale(db: Session) -> None:
    seen = menu_drafts.current(db).token
    elsewhere = tree()
    elsewhere["nodes"]["main"]["intro"] = {"zh-CN": "命令行发布", "en": "From the CLI"}
    menu.publish(db, elsewhere, actor=OTHER, comment="cli")
    with pytest.raises(menu_drafts.StaleMenu):
        menu_drafts.save(db, tree(), expected=seen, actor=ADMIN)


def test_publish_and_roll_back_are_new_versions_audited_before_and_after(db: Session) -> None:
    first = menu.live(db)
    edited = tree()
    edited["nodes"]["main"]["intro"] = {"zh-CN": "春节快乐", "en": "Happy new year"}
    menu_drafts.save(db, edited, expected=menu_drafts.current(db).token, actor=ADMIN)
    with pytest.raises(menu_drafts.NothingToPublish):
        menu_drafts.roll_back(
            db, first.version, expected_live=first.version, comment="", actor=ADMIN
        )
    published = menu_drafts.publish(
        db, expected=menu_drafts.current(db).token, comment="春节", actor=ADMIN
    )
    assert published.version == first.version + 1 and menu.live(db).digest == published.digest
    draft = menu_drafts.current(db)
    assert draft.based_on == published.version and not menu_drafts.changed(db, draft)
    with pytest.raises(menu_drafts.NothingToPublish):
        menu_drafts.publish(db, expected=draft.token, comment="", actor=ADMIN)
    with pytest.raises(menu_drafts.StaleMenu):
        menu_drafts.roll_back(
            db, first.version, expected_live=first.version, comment="", actor=ADMIN
        )

    restored = menu_drafts.roll_back(
        db, first.version, expected_live=published.version, comment="", actor=ADMIN
    )
    assert restored.version == published.version + 1
    assert restored.tree == first.tree and menu.live(db).version == restored.version
    assert restored.comment == f"回滚到第 {first.version} 版"
    assert menu_drafts.current(db).digest == first.digest  # an untouched draft follows
    (publish_event,) = [e for e in audited(db, "voice.menu.publish") if e.actor == "staff:boss"]
    assert json.loads(publish_event.before or "{}") == {"version": first.version}
    assert json.loads(publish_event.after or "{}")["comment"] == "春节"
    (rollback,) = audited(db, "voice.menu.rollback")
    assert json.loads(rollback.before or "{}") == {"version": published.version}
    assert json.loads(rollback.after or "{}")["restores"] == first.version


def test_a_draft_with_changes_is_kept_through_a_roll_back(db: Session) -> None:
    first = menu.live(db)
    published = tree()
    published["nodes"]["main"]["intro"] = {"zh-CN": "第二版", "en": "Second"}
    second = menu.publish(db, published, actor=OTHER)
    mine = tree()
    mine["nodes"]["main"]["intro"] = {"zh-CN": "我的草稿", "en": "My draft"}
    menu_drafts.save(db, mine, expected=menu_drafts.current(db).token, actor=ADMIN)
    menu_drafts.roll_back(db, first.version, expected_live=second.version, comment="x", actor=OTHER)
    assert menu_drafts.current(db).tree["nodes"]["main"]["intro"]["en"] == "My draft"


def test_discarding_the_draft_brings_back_the_live_menu(db: Session) -> None:
    edited = tree()
    edited["nodes"]["main"]["intro"] = {"zh-CN": "试一试", "en": "Trying"}
    menu_drafts.save(db, edited, expected=menu_drafts.current(db).token, actor=ADMIN)
    menu_drafts.discard(db, expected=menu_drafts.current(db).token, actor=ADMIN)
    assert not menu_drafts.changed(db, menu_drafts.current(db))
    (event,) = audited(db, "voice.menu.draft.discard")
    assert json.loads(event.before or "{}")["nodes"]["main"]["intro"]["en"] == "Trying"


def test_a_trial_runs_a_snapshot_of_the_draft_for_its_call_only(db: Session) -> None:
    edited = tree()
    edited["nodes"]["main"]["intro"] = {"zh-CN": "草稿菜单", "en": "Draft menu"}
    menu_drafts.save(db, edited, expected=menu_drafts.current(db).token, actor=ADMIN)
    sid = "CASIM" + "a" * 32
    trial = menu_drafts.start_trial(db, sid, actor=ADMIN)
    assert trial.digest == menu_drafts.current(db).digest and menu_drafts.is_trial(db, sid)
    assert menu_drafts.is_trial(db, sid, started_by="staff:boss")
    assert not menu_drafts.is_trial(db, sid, started_by="staff:chen")
    assert not menu_drafts.is_trial(db, "CASIM" + "b" * 32)
    assert db.scalar(select(VoiceMenuTrial.started_by)) == "staff:boss"


def node_form(node_id: str) -> dict[str, str]:
    """A node's form as the page draws it."""
    node = tree()["nodes"][node_id]
    form = {}
    for slot in menu_drafts.text_slots(node):
        form |= {f"{slot.name}.{lang}": text for lang, text in slot.texts.items()}
    for index, option in enumerate(node.get("options", [])):
        form |= {f"option.{index}.key": option["key"], f"option.{index}.to": option["to"]}
    for name in ("next", "escalate"):
        if name in node:
            form[name] = node[name]
    return form


def test_keys_and_targets_are_edited_in_the_node_form(db: Session) -> None:
    form = node_form("official")
    form["option.0.key"] = "7"  # check_number moves from 1 to 7
    form["option.1.remove"] = "1"  # channels is no longer offered here
    form |= {"new.key": "9", "new.to": "agent", "new.zh-CN": "转人工", "new.en": "a person"}
    with pytest.raises(menu_drafts.MenuRefused) as refused:
        menu_drafts.edit_node(
            db, "official", form, expected=menu_drafts.current(db).token, actor=ADMIN
        )
    # channels is reached from nowhere else now: named, nothing saved
    assert refusal(refused) == ["Node “channels” cannot be reached from the start node “main”."]
    assert db.get(VoiceMenuDraft, menu_drafts.DRAFT_ID) is None

    del form["option.1.remove"]
    menu_drafts.edit_node(db, "official", form, expected=menu_drafts.current(db).token, actor=ADMIN)
    options = menu_drafts.current(db).tree["nodes"]["official"]["options"]
    assert [(o["key"], o["to"]) for o in options] == [
        ("7", "check_number"),
        ("2", "channels"),
        ("0", "agent"),
        ("*", "main"),
        ("9", "agent"),
    ]
    assert options[-1]["label"] == {"zh-CN": "转人工", "en": "a person"}
    assert options[0]["label"] == "voice.option.check_number"


@pytest.mark.parametrize(
    ("node_id", "change", "english"),
    [
        (
            "password_help",
            {"next": "password_help"},
            "Node “password_help” is a dead end: no way from it reaches a person.",
        ),
        (
            "freeze",
            {"escalate": "main"},
            "Node “freeze” hands over to “main”, which is not a queue node (a person).",
        ),
        ("official", {"option.1.key": "1"}, "Menu “official” uses key 1 twice."),
        (
            "official",
            {"option.1.to": "nowhere"},
            "Menu “official”: key 2 leads to “nowhere”, which does not exist, so the key goes"
            " nowhere.",
        ),
        (
            "official",
            {"new.key": "8"},
            "Menu “official”: a new option needs a key and where it leads.",
        ),
        (
            "official",
            {"option.0.key": "x"},
            "nodes › official › options › 1 › key: not in the expected form (keys are 0–9, * or #;",
        ),
    ],
)
def test_a_node_form_that_breaks_the_tree_is_refused(
    db: Session, node_id: str, change: dict[str, str], english: str
) -> None:
    form = node_form(node_id) | change
    with pytest.raises(menu_drafts.MenuRefused) as refused:
        menu_drafts.edit_node(
            db, node_id, form, expected=menu_drafts.current(db).token, actor=ADMIN
        )
    assert any(text.startswith(english) for text in refusal(refused)), refusal(refused)
    assert db.get(VoiceMenuDraft, menu_drafts.DRAFT_ID) is None
