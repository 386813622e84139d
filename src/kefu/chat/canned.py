"""Canned replies for agents, with placeholders filled for the chat or case at hand: the
replies staff wrote (shared ones and the agent's own, ``chat.saved_replies``), a few
phrases of our own, and the FAQ. This is the one function every console reply box asks.

Placeholders: ``{customer_name}``, ``{reference}`` (the case's reference number),
``{committed_time}`` (when the case is due), ``{agent_name}``; ``{case_reference}`` is the
older name of ``{reference}``. ``kefu.placeholders`` fills them: one the chat cannot fill
(an anonymous visitor's name, no case yet) takes a neutral form or is marked for the agent
to complete, and a reply still holding a mark is refused when sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from kefu.bot import service as bot_service
from kefu.cases.models import Case
from kefu.chat import saved_replies
from kefu.chat.models import Conversation
from kefu.config import get_settings
from kefu.i18n import Lang, normalise_lang, translate
from kefu.identity import service as identity_service
from kefu.identity.models import StaffUser
from kefu.kb import service as kb
from kefu.placeholders import fill, unfilled

PHRASES = ("greeting", "verify", "hold", "checking", "closing")
MAX_QUERY = 100
MAX_BODY = 1500


@dataclass(frozen=True)
class CannedReply:
    source: str  # saved | phrase | faq
    title: str
    text: str
    reply_id: int | None = None  # a saved reply, whose uses are counted
    to_fill: str | None = None  # the first part marked for the agent to complete


def case_values(case: Case, lang: Lang) -> dict[str, str]:
    """What a case fills in: its reference and, while it runs, the committed time."""
    values = {"case_reference": case.reference, "reference": case.reference}
    if case.resolution_due_at is not None:
        fmt = "%Y-%m-%d %H:%M" if lang == "zh-CN" else "%d %b %Y %H:%M"
        values["committed_time"] = case.resolution_due_at.astimezone(get_settings().tz).strftime(
            fmt
        )
    return values


def _values(
    db: Session, conversation: Conversation, staff: StaffUser, lang: Lang
) -> dict[str, str]:
    values = {"agent_name": staff.display_name}
    if conversation.customer_id is not None:
        values["customer_name"] = identity_service.get_customer(db, conversation.customer_id).name
    if conversation.case_id is not None:
        case = db.get(Case, conversation.case_id)
        if case is not None:
            values.update(case_values(case, lang))
    return values


def suggest(
    db: Session, conversation: Conversation, staff: StaffUser, *, query: str = "", limit: int = 6
) -> list[CannedReply]:
    """Our phrases matching the query (all of them without one), then FAQ answers: found
    by the query, or the article for the conversation's topic."""
    lang: Lang = normalise_lang(conversation.language) or "zh-CN"
    return matching(
        db,
        lang=lang,
        values=_values(db, conversation, staff, lang),
        query=query,
        topic=conversation.intent,
        limit=limit,
        staff_id=staff.id,
    )


def _reply(
    source: str, title: str, text: str, *, reply_id: int | None = None, lang: Lang
) -> CannedReply:
    return CannedReply(source, title, text, reply_id=reply_id, to_fill=unfilled(text, lang))


def matching(
    db: Session,
    *,
    lang: Lang,
    values: dict[str, str],
    query: str = "",
    topic: str | None = None,
    limit: int = 6,
    staff_id: int | None = None,
    category: str | None = None,
) -> list[CannedReply]:
    """Canned replies in ``lang`` with ``values`` filled in, for a chat or a case page:
    the replies staff wrote first (shared, and ``staff_id``'s own; those of ``category``
    and general ones), then our phrases, then FAQ answers."""
    query = query.strip()[:MAX_QUERY]
    found: list[CannedReply] = []
    if staff_id is not None:
        english = lang == "en"
        for saved in saved_replies.visible(db, staff_id=staff_id, category=category, query=query):
            title = saved.title_en if english else saved.title_zh
            text = saved.body_en if english else saved.body_zh
            found.append(
                _reply("saved", title, fill(text, values, lang), reply_id=saved.id, lang=lang)
            )
    for phrase in PHRASES:
        title = translate(f"chat.canned.{phrase}.title", lang)
        text = translate(f"chat.canned.{phrase}.text", lang)
        if not query or query.lower() in (title + text).lower():
            found.append(_reply("phrase", title, fill(text, values, lang), lang=lang))
    if query:
        articles = kb.search(
            db, query=query, lang=lang, limit=limit, intents=bot_service.guess_intents(query)
        )
    else:
        articles = [a for a in kb.list_articles(db, lang=lang) if topic and a.intent == topic]
    for article in articles[:limit]:
        body = article.body if len(article.body) <= MAX_BODY else article.body[:MAX_BODY] + "…"
        found.append(_reply("faq", article.title, fill(body, values, lang), lang=lang))
    return found
