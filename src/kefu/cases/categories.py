"""Case categories (one per customer problem in SPEC §3), priorities, channels and tiers.

Category ids are the intent ids of intents.md where an intent names the problem, so the
assistant can open a case of the category it recognised; ``CATEGORY_FOR_INTENT`` maps the
intents that share a problem (``password_reset`` and ``login_failed``) to one category.
Display names are catalogue entries ``case.category.<id>``.
"""

from __future__ import annotations

from enum import StrEnum


class Category(StrEnum):
    ACCOUNT_LOCKED = "account_locked"
    LOGIN_FAILED = "login_failed"  # forgot password / login failure
    RECHARGE_NOT_CREDITED = "recharge_not_credited"
    RECHARGE_FAILED = "recharge_failed"
    PAYMENT_FAILED = "payment_failed"
    TRANSFER_NOT_ARRIVED = "transfer_not_arrived"
    UNAUTHORIZED_TRANSACTION = "unauthorized_transaction"  # transaction records and disputes
    REFUND = "refund"
    ACCOUNT_STOLEN = "account_stolen"
    SUSPICIOUS_LOGIN = "suspicious_login"  # and security advice
    FEATURE_HOWTO = "feature_howto"
    APP_TECHNICAL = "app_technical"
    PROMOTIONS = "promotions"  # and notifications
    COMPLAINT = "complaint"
    VERIFY_OFFICIAL = "verify_official"  # is this number really yours?
    OTHER = "other"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Channel(StrEnum):
    WEB = "web"
    APP = "app"
    CHAT = "chat"
    VOICE = "voice"
    EMAIL = "email"
    WECHAT = "wechat"
    WEIBO = "weibo"
    SMS = "sms"
    CONSOLE = "console"  # opened by an agent on the customer's behalf


class Tier(StrEnum):
    """Who works the case: tier 1 agents, tier 2 / technical specialists, supervisors."""

    TIER1 = "tier1"
    TIER2 = "tier2"
    SUPERVISOR = "supervisor"


# Which staff role works each tier; escalating to a tier assigns to someone holding it.
ROLE_FOR_TIER: dict[Tier, str] = {
    Tier.TIER1: "agent",
    Tier.TIER2: "specialist",
    Tier.SUPERVISOR: "supervisor",
}
TIER_ORDER: tuple[Tier, ...] = (Tier.TIER1, Tier.TIER2, Tier.SUPERVISOR)

CATEGORY_FOR_INTENT: dict[str, Category] = {
    **{c.value: c for c in Category if c is not Category.OTHER},
    "password_reset": Category.LOGIN_FAILED,
    "transaction_query": Category.UNAUTHORIZED_TRANSACTION,
    "security_advice": Category.SUSPICIOUS_LOGIN,
    "bind_card": Category.FEATURE_HOWTO,
    "limits": Category.FEATURE_HOWTO,
    "notifications": Category.PROMOTIONS,
    "scam_report": Category.VERIFY_OFFICIAL,
    "escalate": Category.COMPLAINT,
}

# Problems where minutes matter: the priority a new case gets unless told otherwise.
DEFAULT_PRIORITY: dict[Category, Priority] = {
    Category.ACCOUNT_STOLEN: Priority.URGENT,
    Category.ACCOUNT_LOCKED: Priority.HIGH,
    Category.LOGIN_FAILED: Priority.HIGH,
    Category.UNAUTHORIZED_TRANSACTION: Priority.HIGH,
}

# wallet items by their id in the wallet, calls by their id, other cases by reference
LINK_KINDS = ("transaction", "topup", "refund", "dispute", "call", "case")


def category_for_intent(intent: str) -> Category:
    return CATEGORY_FOR_INTENT.get(intent, Category.OTHER)


def default_priority(category: Category) -> Priority:
    return DEFAULT_PRIORITY.get(category, Priority.NORMAL)
