"""Imports every domain's models so metadata is complete for Alembic and tests."""

from __future__ import annotations

import importlib

_MODEL_MODULES = (
    "kefu.audit",
    "kefu.deferred",
    "kefu.jobs",
    "kefu.ratelimit",
    "kefu.identity.models",
    "kefu.channels.models",
    "kefu.channels.email.models",
    "kefu.inbound.email.models",
    "kefu.inbound.wechat.models",
    "kefu.wallet.models",
    "kefu.search.models",
    "kefu.cases.models",
    "kefu.kb.models",
    "kefu.chat.models",
    "kefu.chat.canned_models",
    "kefu.antifraud.models",
    "kefu.approvals.models",
    "kefu.support.models",
    "kefu.chat.routing_models",
    "kefu.chat.attachments",
    "kefu.quality.models",
    "kefu.voice.models",
    "kefu.notifications.models",
)


def import_all_models() -> None:
    for name in _MODEL_MODULES:
        importlib.import_module(name)
