"""Roles and the permission table that decides every staff route.

A route declares the permission it needs (``require("customer.read")``); this table is the
one place that says which role holds it. Higher roles hold everything lower roles do, so
granting is written once per permission at the lowest role that should have it.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    AGENT = "agent"  # tier 1
    SPECIALIST = "specialist"  # tier 2 / technical support
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


# Each role inherits the permissions of the roles before it in this order.
ROLE_ORDER: tuple[Role, ...] = (Role.AGENT, Role.SPECIALIST, Role.SUPERVISOR, Role.ADMIN)

LOWEST_ROLE_FOR: dict[str, Role] = {
    "console.use": Role.AGENT,
    "customer.read": Role.AGENT,
    "verification.read": Role.AGENT,
    "verification.start": Role.AGENT,
    "audit.read_customer": Role.AGENT,
    "audit.read": Role.SUPERVISOR,
    "staff.read": Role.SUPERVISOR,
    "staff.manage": Role.ADMIN,
    "system.health": Role.ADMIN,
    "settings.read": Role.ADMIN,
    "wallet.read": Role.AGENT,
    "wallet.act": Role.AGENT,
    "wallet.refund.decide": Role.AGENT,
    "wallet.limits": Role.SPECIALIST,
    "wallet.dispute.decide": Role.SPECIALIST,
    "wallet.unfreeze": Role.SUPERVISOR,
    "wallet.refund.decide_large": Role.SUPERVISOR,
    "approval.decide": Role.SUPERVISOR,
    "case.read": Role.AGENT,
    "case.write": Role.AGENT,
    "case.escalate": Role.AGENT,
    "sla.read": Role.AGENT,
    "sla.manage": Role.ADMIN,
    "kb.read": Role.AGENT,
    "kb.manage": Role.ADMIN,
    "canned.manage": Role.ADMIN,
    "quality.own_reviews": Role.AGENT,
    "quality.read": Role.SUPERVISOR,
    "quality.review": Role.SUPERVISOR,
    "quality.manage": Role.ADMIN,
    "antifraud.read": Role.AGENT,
    "antifraud.outbound": Role.AGENT,
    "antifraud.review": Role.SPECIALIST,
    "antifraud.lookups": Role.SUPERVISOR,
    "antifraud.manage": Role.ADMIN,
    "chat.work": Role.AGENT,
    "routing.supervise": Role.SUPERVISOR,
    "voice.read": Role.AGENT,
    "voice.write": Role.AGENT,
    "voice.menu.manage": Role.ADMIN,
}


# The assistant acts for a customer who has just proved who they are, through the same
# wallet port and checks as an agent, but only with what protects or restores the
# customer's own account: never unfreezing, deciding refunds or changing limits.
ASSISTANT = "assistant"
ASSISTANT_PERMISSIONS: frozenset[str] = frozenset(
    {"wallet.read", "wallet.act", "case.read", "case.write"}
)


def permissions_of(role: str) -> frozenset[str]:
    if role == ASSISTANT:
        return ASSISTANT_PERMISSIONS
    try:
        rank = ROLE_ORDER.index(Role(role))
    except ValueError:
        return frozenset()
    return frozenset(
        permission
        for permission, lowest in LOWEST_ROLE_FOR.items()
        if ROLE_ORDER.index(lowest) <= rank
    )


def has_permission(role: str, permission: str) -> bool:
    if permission not in LOWEST_ROLE_FOR:
        raise KeyError(f"unknown permission {permission!r}")
    return permission in permissions_of(role)
