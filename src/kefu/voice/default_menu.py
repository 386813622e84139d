"""The menu Kefu ships: one branch per problem callers bring (SPEC §3), 0 for a person
everywhere, * back. Published as version 1 the first time the hotline is used; an admin
changes it through ``PUT /api/v1/voice/menu`` or ``kefu voice menu publish``."""

from __future__ import annotations

from typing import Any


def _option(key: str, label: str, to: str) -> dict[str, str]:
    return {"key": key, "label": f"voice.option.{label}", "to": to}


def _queue(category: str, *, tier: str = "tier1", urgent: bool = False) -> dict[str, Any]:
    return {"kind": "queue", "category": category, "tier": tier, "urgent": urgent}


DEFAULT_TREE: dict[str, Any] = {
    "root": "main",
    "operator": "agent",
    "nodes": {
        "main": {
            "kind": "menu",
            "intro": "voice.menu.main",
            "options": [
                _option("1", "account", "account"),
                _option("2", "money", "money"),
                _option("3", "stolen", "freeze"),
                _option("4", "case_progress", "case_progress"),
                _option("5", "complaint", "complaint"),
                _option("6", "official", "official"),
                _option("0", "agent", "agent"),
            ],
        },
        "account": {
            "kind": "menu",
            "intro": "voice.menu.account",
            "options": [
                _option("1", "account_locked", "account_locked"),
                _option("2", "password", "password_help"),
                _option("0", "agent", "agent_login"),
                _option("*", "back", "main"),
            ],
        },
        "account_locked": {
            "kind": "message",
            "text": "voice.message.account_locked",
            "next": "agent_locked",
        },
        "password_help": {
            "kind": "message",
            "text": "voice.message.password_reset",
            "next": "account",
        },
        "money": {
            "kind": "menu",
            "intro": "voice.menu.money",
            "options": [
                _option("1", "balance", "balance"),
                _option("2", "last_topup", "last_topup"),
                _option("3", "payment", "agent_payment"),
                _option("4", "transfer", "agent_transfer"),
                _option("5", "refund", "agent_refund"),
                _option("0", "agent", "agent_recharge"),
                _option("*", "back", "main"),
            ],
        },
        "official": {
            "kind": "menu",
            "intro": "voice.menu.official",
            "options": [
                _option("1", "check_number", "check_number"),
                _option("2", "channels", "channels"),
                _option("0", "agent", "agent"),
                _option("*", "back", "main"),
            ],
        },
        "balance": {"kind": "action", "action": "balance", "next": "money"},
        "last_topup": {
            "kind": "action",
            "action": "last_topup",
            "next": "money",
            "escalate": "agent_recharge",
        },
        "freeze": {
            "kind": "action",
            "action": "freeze",
            "next": "main",
            "escalate": "agent_stolen",
        },
        "case_progress": {"kind": "action", "action": "case_progress", "next": "main"},
        "check_number": {"kind": "action", "action": "check_number", "next": "official"},
        "channels": {"kind": "action", "action": "channels", "next": "official"},
        "complaint": _queue("complaint"),
        "agent": _queue("other"),
        "agent_login": _queue("login_failed"),
        "agent_locked": _queue("account_locked"),
        "agent_payment": _queue("payment_failed"),
        "agent_transfer": _queue("transfer_not_arrived"),
        "agent_refund": _queue("refund"),
        "agent_recharge": _queue("recharge_not_credited"),
        "agent_stolen": _queue("account_stolen", urgent=True),
    },
}
