"""The public help center (帮助中心): FAQ search, top problems, articles, contact us from
the official-channel registry, and "is this number really yours?".

Pages work without JavaScript; ``static/help.js`` adds results as you type, voting and
inline verification on top of the public APIs (``/api/v1/faq``, ``/api/v1/verify``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from kefu import ratelimit
from kefu.antifraud import service as antifraud_service
from kefu.antifraud.channel_view import channel_groups
from kefu.config import Settings
from kefu.db import DbSession
from kefu.deps import LangDep, SettingsDep
from kefu.errors import InvalidInput, NotFound
from kefu.i18n import Lang
from kefu.kb import admin as kb_admin
from kefu.kb import render as kb_render
from kefu.kb import service as kb_service
from kefu.web.forms import render_help
from kefu.web.help_view import excerpt

router = APIRouter(prefix="/help", include_in_schema=False)
HOME_CHANNEL_GROUPS = ("hotline", "online")  # the rest is one tap away on Contact us


def _top_articles(db: DbSession, settings: Settings, lang: Lang) -> list[kb_service.ArticleText]:
    found = []
    for slug in filter(None, (part.strip() for part in settings.help_top_articles.split(","))):
        try:
            found.append(kb_service.get_article(db, slug=slug, lang=lang))
        except NotFound:
            continue  # an article an admin unpublished drops out of the list
    return found


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("")
def home(request: Request, db: DbSession, settings: SettingsDep, lang: LangDep) -> Response:
    return render_help(
        request,
        "help/home.html",
        {
            "top": [(a, excerpt(a.body)) for a in _top_articles(db, settings, lang)],
            "channels": [
                group
                for group in channel_groups(antifraud_service.contact_channels(db), lang)
                if group[0] in HOME_CHANNEL_GROUPS
            ],
        },
    )


@router.get("/search")
def search(
    request: Request,
    db: DbSession,
    lang: LangDep,
    q: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    query = q.strip()
    guess: kb_service.IntentGuesser = request.app.state.guess_intents
    scored = (
        kb_service.ranked(db, query=query, lang=lang, limit=10, intents=guess(query))
        if query
        else []
    )
    if query:  # what customers looked for and did not find, for the knowledge base's admins
        best = scored[0][1] if scored else None
        kb_admin.record_search(db, query=query, lang=lang, best_score=best)
        db.commit()
    return render_help(
        request,
        "help/search.html",
        {"query": query, "hits": [(a, excerpt(a.body)) for a, _score in scored]},
    )


@router.get("/articles/{slug}")
def article(
    request: Request,
    db: DbSession,
    lang: LangDep,
    slug: Annotated[str, Path(max_length=60)],
) -> Response:
    text = kb_service.get_article(db, slug=slug, lang=lang)
    return render_help(
        request,
        "help/article.html",
        {"article": text, "body_html": kb_render.to_html(text.body)},
    )


@router.get("/contact")
def contact(request: Request, db: DbSession, lang: LangDep) -> Response:
    return render_help(
        request,
        "help/contact.html",
        {"channels": channel_groups(antifraud_service.contact_channels(db), lang)},
    )


@router.get("/verify")
def verify(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    lang: LangDep,
    value: Annotated[str, Query(max_length=300)] = "",
) -> Response:
    """The answer without JavaScript: the same service, limit and counting as
    ``GET /api/v1/verify``, so neither path gets around the other's limit."""
    if not value.strip():
        return RedirectResponse("/help#verify", status_code=303)
    client = _client(request)
    ratelimit.hit(
        db,
        bucket="antifraud.verify",
        key=client,
        limit=settings.antifraud_verify_per_minute,
        window_seconds=60,
        secret=settings.secret_key,
    )
    db.commit()  # the look-up counts against the limit even when the value is refused
    try:
        result = antifraud_service.verify(
            db, value, lang=lang, client_key=f"ip:{client}", settings=settings
        )
    except InvalidInput:
        return render_help(
            request, "help/verify.html", {"value": value, "result": None}, status_code=422
        )
    db.commit()
    return render_help(request, "help/verify.html", {"value": value, "result": result})
