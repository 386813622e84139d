"""The menu tree as data: the shipped one holds, and every broken shape is refused with a
reason an admin can act on."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kefu.voice import menu
from kefu.voice.default_menu import DEFAULT_TREE


def tree(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(DEFAULT_TREE)
    data.update(changes)
    return data


def problems_of(data: dict[str, Any]) -> list[str]:
    _tree, found = menu.check(data)
    return found


def test_the_shipped_menu_holds_and_covers_every_problem() -> None:
    parsed = menu.parse(DEFAULT_TREE)
    actions = {n.action for n in parsed.nodes.values() if isinstance(n, menu.ActionNode)}
    assert actions == set(menu.ACTIONS) - {"callback"}
    categories = {n.category for n in parsed.nodes.values() if isinstance(n, menu.QueueNode)}
    assert {"account_stolen", "complaint", "recharge_not_credited", "login_failed"} <= categories
    main = parsed.nodes["main"]
    assert isinstance(main, menu.MenuNode)
    assert {"0": "agent"}.items() <= {o.key: o.to for o in main.options}.items()


def test_a_dead_end_is_refused() -> None:
    data = tree()
    data["nodes"]["island"] = {
        "kind": "menu",
        "options": [{"key": "1", "label": "voice.option.back", "to": "island"}],
    }
    data["nodes"]["main"]["options"].append(
        {"key": "9", "label": "voice.option.back", "to": "island"}
    )
    assert problems_of(data) == ["Node “island” is a dead end: no way from it reaches a person."]


def test_unreachable_nodes_missing_targets_and_texts_are_named() -> None:
    data = tree()
    data["nodes"]["orphan"] = {"kind": "queue", "category": "other"}
    assert "Node “orphan” cannot be reached from the start node “main”." in problems_of(data)
    data = tree()
    data["nodes"]["main"]["options"][0]["to"] = "nowhere"
    assert (
        "Menu “main”: key 1 leads to “nowhere”, which does not exist, so the key goes nowhere."
        in problems_of(data)
    )
    data = tree()
    data["nodes"]["main"]["intro"] = "voice.menu.does_not_exist"
    assert any("missing in a language" in p for p in problems_of(data))


def test_operator_and_escalation_must_be_people() -> None:
    assert "The fallback “main” must be a queue node (a person)." in problems_of(
        tree(operator="main")
    )
    data = tree()
    data["nodes"]["freeze"]["escalate"] = "main"
    assert (
        "Node “freeze” hands over to “main”, which is not a queue node (a person)."
        in problems_of(data)
    )


def test_messages_may_not_loop_without_waiting_for_a_key() -> None:
    data = tree()
    data["nodes"]["a"] = {"kind": "message", "text": {"zh-CN": "甲", "en": "a"}, "next": "b"}
    data["nodes"]["b"] = {"kind": "message", "text": {"zh-CN": "乙", "en": "b"}, "next": "a"}
    data["nodes"]["main"]["options"].append({"key": "8", "label": "voice.option.back", "to": "a"})
    found = problems_of(data)
    assert "Node “a” loops through messages without waiting for a key." in found
    assert "Node “a” is a dead end: no way from it reaches a person." in found


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("nodes", "main", "options", 0, "key"), "12"),
        (("nodes", "agent", "category"), "nonsense"),
        (("nodes", "balance", "action"), "transfer_money"),
        (("nodes", "agent", "tier"), "tier9"),
    ],
)
def test_malformed_values_are_refused(path: tuple[Any, ...], value: Any) -> None:
    data = tree()
    target: Any = data
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    with pytest.raises(menu.MenuInvalid):
        menu.parse(data)


def test_a_key_used_twice_in_one_menu() -> None:
    data = tree()
    data["nodes"]["main"]["options"].append(
        {"key": "1", "label": "voice.option.back", "to": "main"}
    )
    assert "Menu “main” uses key 1 twice." in problems_of(data)


def test_inline_texts_need_both_languages_and_have_figures_spelled() -> None:
    data = tree()
    data["nodes"]["main"]["intro"] = {"zh-CN": "服务时间 08:00–22:00"}
    with pytest.raises(menu.MenuInvalid):
        menu.parse(data)
    text = menu.LocalText.model_validate({"zh-CN": "服务时间 08:00–22:00", "en": "call 95099"})
    assert menu.text_of(text, "zh-CN") == "服务时间 八点到二十二点"
    assert menu.text_of(text, "en") == "call nine five zero nine nine"


def test_every_action_a_tree_may_name_has_its_flow() -> None:
    from kefu.voice import engine, flow  # noqa: F401 - flow registers every step and action

    assert set(engine.ACTIONS) == set(menu.ACTIONS)
    assert {"lang", "menu", "id.code", "queue.wait", "survey", "closed"} <= set(engine.STEPS)
