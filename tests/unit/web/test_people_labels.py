"""Labels that replace codes in front of people: who did something and what (audit rows),
and the name of the service's time zone."""

from __future__ import annotations

import re

import pytest

from kefu.i18n import zone_label
from kefu.web.audit_view import action_label, actor_label


@pytest.mark.parametrize(
    ("actor", "role", "zh", "en"),
    [
        ("staff:agent", "agent", "客服 张敏", "客服 张敏"),
        ("staff:gone", "supervisor", "主管 gone", "Supervisor gone"),
        ("assistant:conversation:320", "assistant", "智能助手", "Assistant"),
        ("assistant:call:CA123", "assistant", "智能助手", "Assistant"),
        ("customer:17", "customer", "客户", "Customer"),
        ("system", "system", "系统", "System"),
        ("public", "unverified", "未验证的访客", "Unverified visitor"),
        ("robot:x", "robot", "系统", "System"),
    ],
)
def test_who_did_it(actor: str, role: str, zh: str, en: str) -> None:
    names = {"agent": "客服 张敏"}
    assert actor_label(actor, role, "zh-CN", names) == zh
    assert actor_label(actor, role, "en", names) == en


@pytest.mark.parametrize(
    ("action", "zh", "en"),
    [
        ("wallet.freeze", "冻结账户", "Account frozen"),
        ("case.status.resolved", "工单状态改为：已解决", "Case status set to: Resolved"),
        # staff read the status as staff say it, not the customer's "waiting for your reply"
        (
            "case.status.pending_customer",
            "工单状态改为：等待客户回复",
            "Case status set to: Waiting for the customer",
        ),
        ("case.status.unheard_of", "工单状态改为：其他操作", "Case status set to: Other action"),
        ("wallet.something_new", "钱包操作", "Wallet action"),
        ("nothing.known", "其他操作", "Other action"),
    ],
)
def test_what_was_done(action: str, zh: str, en: str) -> None:
    assert action_label(action, "zh-CN") == zh
    assert action_label(action, "en") == en


def test_every_audited_action_has_a_label() -> None:
    """Each action the code records (a literal action="…") reads as words."""
    from pathlib import Path

    source = Path(__file__).resolve().parents[3] / "src" / "kefu"
    actions = {
        found
        for path in source.rglob("*.py")
        for found in re.findall(r'action="([a-z_]+\.[a-z_.]+)"', path.read_text("utf-8"))
    }
    assert actions
    generic = {action_label("x.unknown", "zh-CN")}
    unlabelled = [a for a in sorted(actions) if action_label(a, "zh-CN") in generic]
    assert unlabelled == []


def test_time_zones_by_their_names() -> None:
    assert zone_label("Asia/Shanghai", "zh-CN") == "北京时间"
    assert zone_label("Asia/Shanghai", "en") == "Beijing time"
    assert zone_label("Asia/Kolkata", "zh-CN") == "UTC+05:30 时间"
    assert zone_label("America/Bogota", "en") == "UTC-05:00 time"
