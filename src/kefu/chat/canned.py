"""Canned replies for agents: a few phrases of our own and the FAQ, with placeholders
filled for the chat or case at hand.

Placeholders: ``{customer_name}``, ``{agent_name}``, ``{case_reference}``. One the chat
cannot fill (no case yet) stays as written, so the agent sees it and edits it before
sending — nothing is sent without the agent pressing send.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from kefu.bot import service as bot_service
from kefu.cases.models import Case
from kefu.chat.models import Conversation
from kefu.i18n import Lang, normalise_lang, translate
from kefu.identity import service as identity_service
from kefu.identity.models import StaffUser
from kefu.kb import service as kb

PHRASES = ("greeting", "verify", "hold", "checking", "closing")
PLACEHOLDER = re.compile(r"\{(customer_name|agent_name|case_reference)\}")
MAX_QUERY = 100
MAX_BODY = 1500


@dataclass(frozen=True)
class CannedReply:
    source: str  # phrase | faq
    title: str
    text: str


def _values(db: Session, conversation: Conversation, staff: StaffUser) -> dict[str, str]:
    values = {"agent_name": staff.display_name}
    if conversation.customer_id is not None:
        values["customer_name"] = identity_service.get_customer(db, conversation.customer_id).name
    if conversation.case_id is not None:
        case = db.get(Case, conversation.case_id)
        if case is not None:
            values["case_reference"] = case.reference
    return values


def fill(text: str, values: dict[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def suggest(
    db: Session, conversation: Conversation, staff: StaffUser, *, query: str = "", limit: int = 6
) -> list[CannedReply]:
    """Our phrases matching the query (all of them without one), then FAQ answers: found
    by the query, or the article for the conversation's topic."""
    return matching(
        db,
        lang=normalise_lang(conversation.language) or "zh-CN",
        values=_values(db, conversation, staff),
        query=query,
        topic=conversation.intent,
        limit=limit,
    )


def matching(
    db: Session,
    *,
    lang: Lang,
    values: dict[str, str],
    query: str = "",
    topic: str | None = None,
    limit: int = 6,
) -> list[CannedReply]:
    """Canned replies in ``lang`` with ``values`` filled in, for a chat or a case page."""
    query = query.strip()[:MAX_QUERY]
    found: list[CannedReply] = []
    for phrase in PHRASES:
        title = translate(f"chat.canned.{phrase}.title", lang)
        text = translate(f"chat.canned.{phrase}.text", lang)
        if not query or query.lower() in (title + text).lower():
            found.append(CannedReply("phrase", title, fill(text, values)))
    if query:
        articles = kb.search(
            db, query=query, lang=lang, limit=limit, intents=bot_service.guess_intents(query)
        )
    else:
        articles = [a for a in kb.list_articles(db, lang=lang) if topic and a.intent == topic]
    for article in articles[:limit]:
        body = article.body if len(article.body) <= MAX_BODY else article.body[:MAX_BODY] + "…"
        found.append(CannedReply("faq", article.title, fill(body, values)))
    return found
