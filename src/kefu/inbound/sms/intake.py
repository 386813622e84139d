"""Texts customers send to our SMS number.

The number sends codes, notices and surveys. A survey reply or an opt-out (退订 / STOP) goes
to the quality service. A customer's reply about their case (we invite one: "直接回复即可重新
打开") joins that case and reopens it if it was resolved (``kefu.cases.replies``). Anything
else gets one answer a day per number: here is where to get help — the hotline as the
official channel registry has it — so a customer who texts for help is not left in silence, and an
auto-responder on the other end cannot start an endless exchange.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy.orm import Session

from kefu import ratelimit
from kefu.antifraud import service as antifraud
from kefu.cases import replies as case_replies
from kefu.cases.models import Case
from kefu.channels.message import OutgoingMessage
from kefu.channels.senders import Senders
from kefu.config import Settings
from kefu.contacts import normalise_phone
from kefu.db import utcnow
from kefu.errors import InvalidInput, TooManyRequests
from kefu.i18n import Lang, normalise_lang, translate
from kefu.identity import service as identity
from kefu.quality import surveys

MAX_BODY = 1600  # ten concatenated SMS parts; anything longer is not a customer's text
_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")


def _language(db: Session, number: str, body: str, settings: Settings) -> Lang:
    customer = identity.find_customer_by_contact(db, number)
    if customer is not None:
        return normalise_lang(customer.language) or settings.default_language
    if _CJK.search(body):
        return "zh-CN"
    if _LATIN.search(body):
        return "en"
    return settings.default_language


def _hotline(db: Session, lang: Lang) -> str:
    for channel in antifraud.contact_channels(db):
        if channel.kind == "phone" and channel.role == "hotline":
            return channel.value
    return translate("sms.inbound.no_hotline", lang)


def receive(
    db: Session,
    *,
    sender: str,
    body: str,
    settings: Settings,
    senders: Senders,
    now: datetime | None = None,
) -> str:
    """Handle one inbound text; returns what became of it: a survey outcome (``answered``,
    ``opted_out``…), ``pointed_elsewhere`` or ``ignored``."""
    now = now or utcnow()
    try:
        number = normalise_phone(sender)
    except InvalidInput as exc:
        raise InvalidInput("the sender is not a phone number", field="From") from exc
    body = body[:MAX_BODY]
    reply = surveys.answer_sms(db, number, body, senders=senders, now=now)
    if reply.outcome != "ignored":
        return reply.outcome
    if body.strip():
        joined = case_replies.by_sms(db, number=number, body=body, settings=settings, now=now)
        if joined is not None:
            _acknowledge(db, number, joined, settings=settings, senders=senders, now=now)
            return "joined_case"
    try:
        ratelimit.hit(
            db,
            bucket="sms.unattended",
            key=number,
            limit=1,
            window_seconds=86_400,
            secret=settings.secret_key,
            now=now,
        )
    except TooManyRequests:
        return "ignored"
    lang = _language(db, number, body, settings)
    text = translate("sms.inbound.unattended", lang, hotline=_hotline(db, lang))
    senders.sms.send(db, OutgoingMessage(to=number, purpose="sms_unattended", body=text))
    return "pointed_elsewhere"


def _acknowledge(
    db: Session,
    number: str,
    case: Case,
    *,
    settings: Settings,
    senders: Senders,
    now: datetime,
) -> None:
    """Tell the customer their text reached the case, at most once an hour per number, so
    an auto-responder on the other end cannot start an endless exchange."""
    try:
        ratelimit.hit(
            db,
            bucket="sms.case_reply",
            key=number,
            limit=1,
            window_seconds=3600,
            secret=settings.secret_key,
            now=now,
        )
    except TooManyRequests:
        return
    text = translate(
        "sms.inbound.joined_case",
        normalise_lang(case.language) or "zh-CN",
        reference=case.reference,
    )
    senders.sms.send(db, OutgoingMessage(to=number, purpose="case_update", body=text))
