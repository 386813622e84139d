"""The intent ids: a contract shared with the API, the CLI and the evaluation
(/work/shared/intents.md). The classifier may only ever answer one of these."""

from __future__ import annotations

INTENTS: tuple[str, ...] = (
    "account_locked",
    "password_reset",
    "login_failed",
    "recharge_not_credited",
    "recharge_failed",
    "payment_failed",
    "transfer_not_arrived",
    "refund",
    "transaction_query",
    "unauthorized_transaction",
    "account_stolen",
    "suspicious_login",
    "security_advice",
    "bind_card",
    "feature_howto",
    "limits",
    "app_technical",
    "promotions",
    "notifications",
    "complaint",
    "case_status",
    "contact_channels",
    "call_fees",
    "verify_official",
    "scam_report",
    "human_agent",
    "escalate",
    "greeting",
    "thanks_goodbye",
    "out_of_scope",
)

OUT_OF_SCOPE = "out_of_scope"
