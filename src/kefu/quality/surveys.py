"""Satisfaction surveys (满意度调查): offered after a resolution on the customer's channel.

A resolved contact gets one survey, due after the channel's delay: a chat card (the widget
asks for it with the conversation, answers with the token), an SMS answered by reply digits,
the keypad at the end of a call (``offer_for_call`` / ``answer_by_keypad``, called by the
voice menu), or an e-mail with a link to a public page. One reminder goes out if it stays
unanswered; an opted-out customer gets none.

Counting is per contact, so nothing is counted twice: the score is taken once (a second
answer is refused, a late one finds the survey closed), and the follow-up questions (was
it solved, why so low) only fill in the same answer. Digit replies and keypad presses that
fit no question get the question again, at most twice.
"""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.channels.message import OutgoingMessage
from kefu.channels.senders import Senders
from kefu.config import Settings
from kefu.db import utcnow
from kefu.errors import Conflict, InvalidInput, KefuError, NotFound
from kefu.i18n import Lang, normalise_lang, translate
from kefu.identity import service as identity_service
from kefu.quality import facts, survey_config, tasks
from kefu.quality.models import ContactEvent, QualityContact, QualitySurvey, SurveyOptOut
from kefu.sensitive import mask


class SurveyNotFound(NotFound):
    code = "survey_not_found"
    message_key = "quality.error.survey_not_found"


class SurveyAnswered(Conflict):
    code = "survey_answered"
    message_key = "quality.error.survey_answered"


class SurveyClosed(KefuError):
    status = 410
    code = "survey_closed"
    message_key = "quality.error.survey_closed"


CHAT_CHANNELS: Final = frozenset({"web", "app", "wechat", "weibo", "cli"})
OPT_OUT_WORDS: Final = frozenset({"td", "t", "退订", "stop", "unsubscribe", "n0"})
MAX_COMMENT: Final = 1000
MAX_JUNK_REPLIES: Final = 2  # after this many replies that fit no question, stop answering
_YES: Final = frozenset({"1", "y", "yes", "是", "是的", "解决了"})
_NO: Final = frozenset({"2", "n", "no", "否", "没有", "未解决"})


@dataclass(frozen=True)
class Answers:
    score: int
    solved: bool | None = None
    reasons: tuple[str, ...] = ()
    comment: str | None = None


# --- scheduling -------------------------------------------------------------------------


def _lang(db: Session, contact: QualityContact) -> Lang:
    if contact.customer_id is not None:
        customer = identity_service.get_customer(db, contact.customer_id)
        return normalise_lang(customer.language) or "zh-CN"
    return "zh-CN"


def opted_out(db: Session, customer_id: int | None) -> bool:
    return customer_id is not None and db.get(SurveyOptOut, customer_id) is not None


def _ref_value(refs: list[str], prefix: str) -> str | None:
    found = [ref.removeprefix(prefix) for ref in refs if ref.startswith(prefix)]
    return found[0] if found else None


def _channel_for(db: Session, contact: QualityContact, conversation_id: int | None) -> str | None:
    """How the customer is asked: the way they came, else how they can be reached."""
    if contact.channel == "phone":
        return "keypad"
    if contact.channel in CHAT_CHANNELS and conversation_id is not None:
        return "chat"
    if contact.customer_id is None:
        return None
    customer = identity_service.get_customer(db, contact.customer_id)
    if contact.channel == "email" and customer.email:
        return "email"
    if customer.phone:
        return "sms"
    return "email" if customer.email else None


def schedule(db: Session, contact: QualityContact, *, now: datetime) -> QualitySurvey | None:
    """Plan the survey for a contact just resolved; None when it cannot or must not go."""
    survey = db.scalar(select(QualitySurvey).where(QualitySurvey.contact_id == contact.id))
    if survey is not None and survey.status not in ("scheduled", "cancelled"):
        return survey  # already offered: a resolution after a reopen does not ask again
    if opted_out(db, contact.customer_id):
        return None
    refs = facts.refs_of(db, contact)
    conversation = _ref_value(refs, "conv:")
    conversation_id = int(conversation) if conversation else None
    channel = _channel_for(db, contact, conversation_id)
    if channel is None:
        return None
    delay = survey_config.load(db).delay_minutes(channel)
    values = {
        "case_id": contact.case_id,
        "staff_id": contact.staff_id,
        "customer_id": contact.customer_id,
        "conversation_id": conversation_id,
        "call_sid": _ref_value(refs, "call:"),
        "channel": channel,
        "language": _lang(db, contact),
        "status": "scheduled",
        "due_at": now + timedelta(minutes=delay),
    }
    if survey is None:
        survey = QualitySurvey(
            token=secrets.token_urlsafe(24),
            contact_id=contact.id,
            junk_replies=0,
            reasons=[],
            created_at=now,
            **values,
        )
        db.add(survey)
    else:
        for name, value in values.items():
            setattr(survey, name, value)
    db.flush()
    return survey


def hold(db: Session, contact: QualityContact) -> None:
    """The problem came back before the survey went out: do not ask about it yet."""
    survey = db.scalar(select(QualitySurvey).where(QualitySurvey.contact_id == contact.id))
    if survey is not None and survey.status == "scheduled":
        survey.status = "cancelled"


def settle_history(db: Session, *, now: datetime) -> None:
    """Leave the surveys of history loaded after the fact (the demo) as the periodic send
    would have left them by ``now``: a reminder that fell due in the past was made then
    (sending it now would be late), and a survey past its time is closed."""
    config = survey_config.load(db)
    if config.reminder_hours:
        remind_after = timedelta(hours=config.reminder_hours)
        waiting = select(QualitySurvey).where(
            QualitySurvey.status == "sent",
            QualitySurvey.reminded_at.is_(None),
            QualitySurvey.sent_at <= now - remind_after,
        )
        for survey in db.scalars(waiting):
            assert survey.sent_at is not None and survey.expires_at is not None  # sent
            if survey.sent_at + remind_after < survey.expires_at:
                survey.reminded_at = survey.sent_at + remind_after
    _close_expired(db, now)
    db.flush()


def opt_out(db: Session, customer_id: int, *, via: str, now: datetime | None = None) -> None:
    """No more surveys for this customer; the ones waiting to go are cancelled."""
    if db.get(SurveyOptOut, customer_id) is None:
        db.add(SurveyOptOut(customer_id=customer_id, via=via, created_at=now or utcnow()))
    for survey in db.scalars(
        select(QualitySurvey).where(
            QualitySurvey.customer_id == customer_id, QualitySurvey.status == "scheduled"
        )
    ):
        survey.status = "cancelled"
    db.flush()


# --- sending ----------------------------------------------------------------------------


@dataclass
class SweepReport:
    sent: list[int] = field(default_factory=list)
    reminded: list[int] = field(default_factory=list)
    expired: list[int] = field(default_factory=list)


def _contact(db: Session, survey: QualitySurvey) -> QualityContact:
    contact = db.get(QualityContact, survey.contact_id)
    assert contact is not None  # a survey's contact is never deleted
    return contact


def _record(
    db: Session, survey: QualitySurvey, kind: str, now: datetime, data: dict[str, Any]
) -> None:
    contact = _contact(db, survey)
    event = ContactEvent(
        kind=kind,
        channel=contact.channel,
        at=now,
        case_id=contact.case_id,
        staff_id=survey.staff_id,
        customer_id=survey.customer_id,
        data=data,
        recorded_at=utcnow(),
    )
    facts.record_on(db, contact, event)


def reference_of(db: Session, survey: QualitySurvey) -> str:
    return _contact(db, survey).case_reference or ""


def lang_of(survey: QualitySurvey) -> Lang:
    return normalise_lang(survey.language) or "zh-CN"


def _sms_text(db: Session, survey: QualitySurvey, *, reminder: bool) -> str:
    lang = lang_of(survey)
    key = "quality.survey.sms_reminder" if reminder else "quality.survey.sms_score"
    return translate(key, lang, reference=reference_of(db, survey))


def _deliver(
    db: Session,
    survey: QualitySurvey,
    *,
    channel: str,
    senders: Senders,
    settings: Settings,
    reminder: bool,
) -> bool:
    """Put the survey in front of the customer; False when they cannot be reached."""
    if channel == "chat":
        return True  # the widget shows the card for the conversation when it asks
    if survey.customer_id is None:
        return False
    customer = identity_service.get_customer(db, survey.customer_id)
    lang = lang_of(survey)
    if channel == "sms":
        if not customer.phone:
            return False
        senders.sms.send(
            db,
            OutgoingMessage(
                to=customer.phone, purpose="survey", body=_sms_text(db, survey, reminder=reminder)
            ),
        )
        survey.step = survey.step or "score"
        return True
    if channel == "email":
        if not customer.email:
            return False
        link = f"{settings.public_url.rstrip('/')}/help/survey/{survey.token}"
        key = "quality.survey.mail_reminder" if reminder else "quality.survey.mail_body"
        senders.email.send(
            db,
            OutgoingMessage(
                to=customer.email,
                purpose="survey",
                subject=translate("quality.survey.mail_subject", lang),
                body=translate(key, lang, link=link, reference=reference_of(db, survey)),
            ),
        )
        return True
    return False


def _reminder_channel(db: Session, survey: QualitySurvey) -> str | None:
    """A chat card or a finished call cannot be shown again: remind by SMS or e-mail."""
    if survey.channel in ("sms", "email"):
        return survey.channel
    if survey.customer_id is None:
        return None
    customer = identity_service.get_customer(db, survey.customer_id)
    if customer.phone:
        return "sms"
    return "email" if customer.email else None


def send_due(
    db: Session, *, senders: Senders, settings: Settings, now: datetime | None = None
) -> SweepReport:
    """Send surveys that are due, remind once, and close the ones past their time."""
    now = now or utcnow()
    config = survey_config.load(db)
    report = SweepReport()
    due = select(QualitySurvey).where(
        QualitySurvey.status == "scheduled", QualitySurvey.due_at <= now
    )
    for survey in db.scalars(due.order_by(QualitySurvey.id).limit(500)).all():
        if opted_out(db, survey.customer_id):
            survey.status = "cancelled"
            continue
        if survey.channel == "keypad":  # the call ended without the keypad survey
            fallback = _reminder_channel(db, survey)
            if fallback is None:
                survey.status = "cancelled"
                continue
            survey.channel = fallback
        if not _deliver(
            db, survey, channel=survey.channel, senders=senders, settings=settings, reminder=False
        ):
            survey.status = "cancelled"
            continue
        _mark_sent(db, survey, now, config)
        report.sent.append(survey.id)
    if config.reminder_hours:
        remind_before = now - timedelta(hours=config.reminder_hours)
        waiting = select(QualitySurvey).where(
            QualitySurvey.status == "sent",
            QualitySurvey.reminded_at.is_(None),
            QualitySurvey.sent_at <= remind_before,
            QualitySurvey.expires_at > now,
        )
        for survey in db.scalars(waiting.order_by(QualitySurvey.id).limit(500)).all():
            survey.reminded_at = now
            channel = _reminder_channel(db, survey)
            if channel is None or opted_out(db, survey.customer_id):
                continue
            if channel == "sms" and survey.channel != "sms":
                survey.channel, survey.step = "sms", "score"
            if _deliver(
                db, survey, channel=channel, senders=senders, settings=settings, reminder=True
            ):
                report.reminded.append(survey.id)
    report.expired.extend(_close_expired(db, now, limit=2000))
    db.flush()
    return report


def _close_expired(db: Session, now: datetime, *, limit: int | None = None) -> list[int]:
    """Surveys past their time take no more answers; the unanswered ones are expired
    (their ids returned)."""
    closing = select(QualitySurvey).where(
        QualitySurvey.status.in_(("sent", "answered")),
        QualitySurvey.expires_at <= now,
    )
    expired = []
    for survey in db.scalars(closing.order_by(QualitySurvey.id).limit(limit)).all():
        if survey.status == "sent":
            survey.status = "expired"
            expired.append(survey.id)
        survey.step = None
    return expired


def _mark_sent(
    db: Session, survey: QualitySurvey, now: datetime, config: survey_config.SurveyConfig
) -> None:
    survey.status = "sent"
    survey.sent_at = now
    survey.expires_at = now + timedelta(hours=config.expiry_hours)
    _record(db, survey, "survey_sent", now, {"channel": survey.channel})


# --- answering --------------------------------------------------------------------------


def by_token(db: Session, token: str, *, customer_id: int | None = None) -> QualitySurvey:
    """The survey a token names. A signed-in customer gets only their own: another
    customer's survey answers exactly like an unknown token."""
    survey = db.scalar(select(QualitySurvey).where(QualitySurvey.token == token))
    if survey is None or survey.status in ("scheduled", "cancelled"):
        raise SurveyNotFound("no such survey")
    if customer_id is not None and survey.customer_id != customer_id:
        raise SurveyNotFound("no such survey")
    return survey


def chat_card(db: Session, conversation_id: int, *, now: datetime) -> QualitySurvey | None:
    """The chat card planned for a conversation, for the widget that asks for it: a card that
    is due is offered right then (showing it is all that sending a chat card means, so it
    need not wait for the periodic send); one not yet due comes back still ``scheduled``
    so the widget knows when to ask again. None when no card is coming."""
    survey = db.scalar(
        select(QualitySurvey).where(
            QualitySurvey.conversation_id == conversation_id,
            QualitySurvey.channel == "chat",
            QualitySurvey.status.in_(("scheduled", "sent")),
        )
    )
    if survey is None or survey.status == "sent" or survey.due_at > now:
        return survey
    if opted_out(db, survey.customer_id):
        survey.status = "cancelled"
        return None
    _mark_sent(db, survey, now, survey_config.load(db))
    db.flush()
    return survey


def for_conversation(db: Session, conversation_id: int) -> QualitySurvey | None:
    """The chat card waiting for this conversation, if any."""
    return db.scalar(
        select(QualitySurvey).where(
            QualitySurvey.conversation_id == conversation_id,
            QualitySurvey.channel == "chat",
            QualitySurvey.status == "sent",
        )
    )


def questions(db: Session, survey: QualitySurvey, lang: Lang) -> dict[str, Any]:
    """What the card and the e-mail page ask, in the customer's language."""
    config = survey_config.load(db)
    return {
        "score": {
            "label": translate("quality.survey.q_score", lang),
            "choices": [
                {"value": n, "label": translate(f"quality.survey.score_{n}", lang)}
                for n in range(1, 6)
            ],
        },
        "solved": (
            {"label": translate("quality.survey.q_solved", lang)} if config.ask_solved else None
        ),
        "reasons": (
            {
                "label": translate("quality.survey.q_reasons", lang),
                "when_score_at_most": config.low_score_max,
                "choices": [
                    {"value": r, "label": translate(f"quality.reason.{r}", lang)}
                    for r in config.reasons
                ],
            }
            if config.ask_reasons and config.reasons
            else None
        ),
        "comment": (
            {"label": translate("quality.survey.q_comment", lang), "max_length": MAX_COMMENT}
            if config.ask_comment
            else None
        ),
    }


def _check_open(survey: QualitySurvey, now: datetime) -> None:
    if survey.status == "answered":
        raise SurveyAnswered("this survey was already answered")
    if survey.status == "expired" or (survey.expires_at is not None and survey.expires_at <= now):
        raise SurveyClosed("this survey is closed")


def answer(
    db: Session,
    token: str,
    answers: Answers,
    *,
    via: str,
    customer_id: int | None = None,
    now: datetime | None = None,
) -> QualitySurvey:
    """A whole answer from the chat card or the e-mail page."""
    now = now or utcnow()
    survey = by_token(db, token, customer_id=customer_id)
    _check_open(survey, now)
    config = survey_config.load(db)
    if not 1 <= answers.score <= 5:
        raise InvalidInput("the score is 1 to 5", field="score")
    if answers.solved is not None and not config.ask_solved:
        raise InvalidInput("this survey does not ask whether it was solved", field="solved")
    reasons = tuple(dict.fromkeys(answers.reasons))
    if reasons:
        if not config.asks_reasons(answers.score):
            raise InvalidInput("reasons are asked only for a low score", field="reasons")
        unknown = sorted(set(reasons) - set(config.reasons))
        if unknown:
            raise InvalidInput(f"unknown reasons {unknown}", field="reasons")
    comment = (answers.comment or "").strip()
    if comment and not config.ask_comment:
        raise InvalidInput("this survey takes no comment", field="comment")
    if len(comment) > MAX_COMMENT:
        raise InvalidInput("the comment is too long", field="comment", max=MAX_COMMENT)
    survey.solved = answers.solved
    survey.reasons = list(reasons)
    survey.comment = mask(comment) if comment else None
    survey.step = None
    _take_score(db, survey, answers.score, via=via, now=now, config=config)
    return survey


def _take_score(
    db: Session,
    survey: QualitySurvey,
    score: int,
    *,
    via: str,
    now: datetime,
    config: survey_config.SurveyConfig,
) -> None:
    survey.score = score
    survey.status = "answered"
    survey.answered_at = now
    survey.answered_via = via
    if survey.sent_at is None:  # answered on the spot (keypad)
        survey.sent_at = now
    _record(db, survey, "survey_answered", now, _answer_data(survey))
    if score <= config.low_score_max:
        tasks.open_for_low_score(db, survey, now=now, due_hours=config.followup_hours)


def _answer_data(survey: QualitySurvey) -> dict[str, Any]:
    return {"score": survey.score, "solved": survey.solved, "via": survey.answered_via}


def _update_details(db: Session, survey: QualitySurvey, now: datetime) -> None:
    """A follow-up question answered after the score: the same answer, filled in."""
    _record(db, survey, "survey_answered", now, _answer_data(survey))


# --- digits: SMS replies and the keypad -------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """What to say back: ``text`` in the survey's language (None: say nothing), and the
    question now waiting (None when the survey is done)."""

    outcome: str  # asked | answered | done | junk | already | closed | opted_out | ignored
    text: str | None
    expects: str | None = None
    key: str | None = None


def _prompt(db: Session, survey: QualitySurvey, step: str | None, via: str) -> tuple[str, str]:
    lang = lang_of(survey)
    if step is None:
        return "quality.survey.thanks", translate("quality.survey.thanks", lang)
    if step == "reasons":
        config = survey_config.load(db)
        options = " ".join(
            f"{n}={translate(f'quality.reason.{r}', lang)}"
            for n, r in enumerate(config.reasons, start=1)
        )
        key = f"quality.survey.{via}_reasons"
        return key, translate(key, lang, options=options)
    key = f"quality.survey.{via}_{step}"
    return key, translate(key, lang, reference=reference_of(db, survey))


def _next_step(config: survey_config.SurveyConfig, survey: QualitySurvey, step: str) -> str | None:
    order = ["score"]
    if config.ask_solved:
        order.append("solved")
    if config.asks_reasons(survey.score):
        order.append("reasons")
    position = order.index(step) if step in order else len(order) - 1
    return order[position + 1] if position + 1 < len(order) else None


def _clean(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().lower()


def _take_digit(db: Session, survey: QualitySurvey, text: str, *, via: str, now: datetime) -> Reply:
    """Apply one reply to the question waiting; the shared step machine of SMS and keypad."""
    config = survey_config.load(db)
    step = survey.step or "score"
    value = _clean(text)
    accepted = False
    if step == "score" and value in {"1", "2", "3", "4", "5"}:
        if survey.status != "answered":
            _take_score(db, survey, int(value), via=via, now=now, config=config)
        accepted = True
    elif step == "solved" and value in _YES | _NO:
        survey.solved = value in _YES
        accepted = True
    elif step == "reasons":
        digits = [c for c in value if not c.isspace() and c not in ",，、"]
        if digits == ["0"]:
            accepted = True
        elif digits and all(c.isdigit() and 1 <= int(c) <= len(config.reasons) for c in digits):
            survey.reasons = [config.reasons[int(c) - 1] for c in dict.fromkeys(digits)]
            accepted = True
    if not accepted:
        survey.junk_replies += 1
        if survey.junk_replies > MAX_JUNK_REPLIES:
            return Reply("ignored", None)
        key, prompt = _prompt(db, survey, step, via)
        help_text = translate("quality.survey.not_understood", lang_of(survey))
        return Reply("junk", f"{help_text} {prompt}", expects=step, key=key)
    survey.junk_replies = 0
    if step != "score":
        _update_details(db, survey, now)
    survey.step = _next_step(config, survey, step)
    key, prompt = _prompt(db, survey, survey.step, via)
    return Reply("answered" if survey.step else "done", prompt, expects=survey.step, key=key)


def answer_sms(
    db: Session,
    phone: str,
    text: str,
    *,
    senders: Senders,
    now: datetime | None = None,
) -> Reply:
    """An inbound SMS that may answer a survey. ``ignored`` means it is not a survey reply
    and belongs to whatever handles other inbound texts; any reply text is sent back."""
    now = now or utcnow()
    try:
        customer = identity_service.find_customer_by_contact(db, phone)
    except InvalidInput:
        return Reply("ignored", None)
    if customer is None:
        return Reply("ignored", None)
    value = _clean(text)
    latest = db.scalar(
        select(QualitySurvey)
        .where(
            QualitySurvey.customer_id == customer.id,
            QualitySurvey.channel == "sms",
            QualitySurvey.status.in_(("sent", "answered", "expired")),
        )
        .order_by(QualitySurvey.sent_at.desc(), QualitySurvey.id.desc())
        .limit(1)
    )
    lang = normalise_lang(customer.language) or "zh-CN"
    if value in OPT_OUT_WORDS:
        opt_out(db, customer.id, via="sms", now=now)
        reply = Reply("opted_out", translate("quality.survey.opted_out", lang))
    elif latest is None:
        return Reply("ignored", None)
    elif latest.status == "expired" or (latest.expires_at is not None and latest.expires_at <= now):
        reply = Reply("closed", translate("quality.survey.closed", lang))
    elif latest.status == "answered" and latest.step is None:
        if not value.isdigit():
            return Reply("ignored", None)  # a text after the survey: not ours to answer
        reply = Reply("already", translate("quality.survey.already", lang))
    else:
        reply = _take_digit(db, latest, text, via="sms", now=now)
    db.flush()
    if reply.text is not None:
        senders.sms.send(
            db, OutgoingMessage(to=customer.phone or phone, purpose="survey", body=reply.text)
        )
    return reply


def offer_for_call(db: Session, *, call_sid: str, now: datetime | None = None) -> Reply | None:
    """The keypad survey at the end of a call that reached a person: the first question,
    or None when there is nothing to ask (no person, opted out, already answered)."""
    now = now or utcnow()
    contact = facts.contact_by_ref(db, f"call:{call_sid}")
    if contact is None or contact.staff_id is None or opted_out(db, contact.customer_id):
        return None
    survey = db.scalar(select(QualitySurvey).where(QualitySurvey.contact_id == contact.id))
    if survey is not None and survey.status in ("answered", "expired"):
        return None
    if survey is None or survey.status == "cancelled":
        survey = schedule(db, contact, now=now) if survey is None else survey
        if survey is None:
            return None
    survey.channel = "keypad"
    survey.call_sid = call_sid
    survey.step = "score"
    survey.due_at = min(survey.due_at, now)
    if survey.status != "sent":
        _mark_sent(db, survey, now, survey_config.load(db))
    db.flush()
    key, text = _prompt(db, survey, "score", "keypad")
    return Reply("asked", text, expects="score", key=key)


def answer_by_keypad(
    db: Session, *, call_sid: str, digit: str, now: datetime | None = None
) -> Reply:
    """One keypad press for the call's survey; the reply says what to play next."""
    now = now or utcnow()
    survey = db.scalar(
        select(QualitySurvey).where(
            QualitySurvey.call_sid == call_sid, QualitySurvey.channel == "keypad"
        )
    )
    if survey is None:
        raise SurveyNotFound("no keypad survey for this call")
    if len(digit) > 8:
        raise InvalidInput("one key press at a time", field="digit")
    if survey.step is None:
        key = "quality.survey.already"
        return Reply("already", translate(key, lang_of(survey)), key=key)
    reply = _take_digit(db, survey, digit, via="keypad", now=now)
    db.flush()
    return reply
