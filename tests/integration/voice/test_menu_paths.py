"""Every branch of the shipped menu walked to its end, as the carrier would: language,
menus, silence and wrong keys, and each leaf (a person, a message, a self-service)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.integration.voice.carrier import CarrierCall
from tests.integration.voice.conftest import STUCK_TOPUP, last_code, phone_of

from kefu.chat.routing_models import WorkItem
from kefu.voice import menu
from kefu.voice.default_menu import DEFAULT_TREE
from kefu.voice.models import VoiceCall

Ring = Callable[[str], CarrierCall]
UNKNOWN = "+8613912345678"


def record(db: Session, call: CarrierCall) -> VoiceCall:
    found = db.scalar(select(VoiceCall).where(VoiceCall.call_sid == call.sid))
    assert found is not None
    db.refresh(found)
    return found


def queued_item(db: Session, call: CarrierCall) -> WorkItem:
    item = db.scalar(select(WorkItem).where(WorkItem.call_sid == call.sid, WorkItem.kind == "call"))
    assert item is not None
    return item


def test_language_first_then_the_main_menu_in_that_language(ring: Ring) -> None:
    call = ring(UNKNOWN)
    assert call.last == [
        "您好，欢迎致电Kefu钱包客服热线。普通话服务请按一。",
        "Welcome to Kefu Wallet customer service. For English, press two.",
    ]
    call.press("2")
    assert call.said("Please choose a service.")
    assert call.said("For a stolen account that must be frozen now, press three.")
    assert call.said("For a person, press zero.")


def test_silence_repeats_once_then_a_person_takes_the_call(ring: Ring, demo_db: Session) -> None:
    call = ring(UNKNOWN).press("1")
    call.silence()
    assert call.last[0] == "抱歉，没有听到您的按键。"
    assert call.said("请选择您需要的服务。")
    call.silence()
    assert call.said("仍然没有听到您的按键，现在为您转接人工客服。")
    assert call.state == "queue"
    assert queued_item(demo_db, call).category == "other"


def test_three_wrong_keys_and_a_person_takes_the_call(ring: Ring, demo_db: Session) -> None:
    call = ring(UNKNOWN).press("1")
    call.press("9")
    assert call.said("抱歉，这个按键无效。")
    call.press("*")
    call.press("#")
    assert call.said("按键多次无效，现在为您转接人工客服。")
    assert call.state == "queue"


def test_a_right_key_resets_the_count_of_wrong_ones(ring: Ring) -> None:
    call = ring(UNKNOWN).press("1")
    call.press("9").press("9").press("1")  # two wrong, then the account menu
    assert call.said("账户与密码。")
    call.press("9")
    assert call.state == "menu" and call.said("抱歉，这个按键无效。")


@pytest.mark.parametrize(
    ("keys", "category", "heard"),
    [
        (("0",), "other", "正在为您转接人工客服。"),
        (("5",), "complaint", "正在为您转接人工客服。"),
        (("1", "0"), "login_failed", "正在为您转接人工客服。"),
        (("1", "1"), "account_locked", "客服可以为您解锁"),
        (("2", "3"), "payment_failed", "正在为您转接人工客服。"),
        (("2", "4"), "transfer_not_arrived", "正在为您转接人工客服。"),
        (("2", "5"), "refund", "正在为您转接人工客服。"),
        (("2", "0"), "recharge_not_credited", "正在为您转接人工客服。"),
        (("6", "0"), "other", "正在为您转接人工客服。"),
    ],
)
def test_every_branch_to_a_person_queues_with_its_category(
    ring: Ring, demo_db: Session, keys: tuple[str, ...], category: str, heard: str
) -> None:
    call = ring(UNKNOWN).press("1")
    for key in keys:
        call.press(key)
    assert any(heard in line for line in call.heard)
    assert call.state == "queue"
    item = queued_item(demo_db, call)
    assert (item.category, item.language, item.tier, item.status) == (
        category,
        "zh-CN",
        "tier1",
        "waiting",
    )
    assert call.said("您是下一位") or call.said("您前面还有")


def test_a_message_leads_back_to_its_menu_and_star_goes_up(ring: Ring, demo_db: Session) -> None:
    call = ring(UNKNOWN).press("1").press("1")  # account menu
    call.press("2")
    assert call.said("忘记密码时") and call.said("账户与密码。")
    call.press("*")
    assert call.said("请选择您需要的服务。")
    assert record(demo_db, call).path == ["main", "account", "password_help", "account", "main"]


def test_official_channels_are_read_with_their_hours_and_costs(ring: Ring) -> None:
    call = ring(UNKNOWN).press("2").press("6").press("2")
    spoken = " ".join(call.last)
    assert "nine five zero nine nine" in spoken
    assert "twenty-four hours a day" in spoken
    assert not any(char.isdigit() for char in spoken)
    assert call.said("Checking our official numbers and hours.")  # back in its menu


def test_checking_a_number(ring: Ring) -> None:
    call = ring(UNKNOWN).press("1").press("6").press("1")
    assert call.gather is not None and call.gather.finish == "#"
    call.press("95099#")
    assert call.said("号码九五零九九是我们的官方号码。")
    call.press("1").press("13912345678#")
    assert call.said("不是我们的官方号码")
    call.press("1").press("12#")
    assert call.said("这不像是一个电话号码。")


def test_every_option_of_every_menu_leads_somewhere(ring: Ring, demo_db: Session) -> None:
    """A generic walk: from each menu, each key ends in a question, the queue, or goodbye;
    never in silence (a verified caller, so self-service answers too)."""
    tree = menu.parse(DEFAULT_TREE)
    routes: dict[str, list[str]] = {"main": []}
    for node_id, node in tree.nodes.items():
        if isinstance(node, menu.MenuNode) and node_id != "main":
            parent = next(
                (pid, o.key)
                for pid, n in tree.nodes.items()
                if isinstance(n, menu.MenuNode)
                for o in n.options
                if o.to == node_id
            )
            routes[node_id] = [*routes.get(parent[0], []), parent[1]]
    for node_id, path in routes.items():
        node = tree.nodes[node_id]
        assert isinstance(node, menu.MenuNode)
        for option in node.options:
            call = ring(phone_of(STUCK_TOPUP)).press("1")
            for key in path:
                call.press(key)
            call.press(option.key)
            if call.said("获取验证码请按一"):
                call.press("1").press(last_code(demo_db, phone_of(STUCK_TOPUP)))
            assert call.last, (node_id, option.key)
            assert call.state in ("menu", "queue"), (node_id, option.key, call.state)
            call.hang_up()
