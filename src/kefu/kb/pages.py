"""Knowledge-base administration in the console: the article list with "did this help?"
figures, the side-by-side zh/en editor with a live preview, drafts and publishing, version
history with diffs and restore, and the help-center searches that found nothing.

A refused form is drawn again with what was typed and the reason, with the error's HTTP
status; nothing is saved. Forms carry the session's CSRF token (``kefu.identity.deps``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from kefu import audit
from kefu.db import DbSession
from kefu.errors import KefuError
from kefu.i18n import LANGUAGES, Lang, translate
from kefu.identity.deps import CSRF_FIELD, StaffPrincipal, require
from kefu.kb import admin, render
from kefu.kb.models import SLUG_LENGTH
from kefu.numbers import Count, RowId
from kefu.web.forms import error_text, form_errors
from kefu.web.templating import render as render_page

router = APIRouter(prefix="/console/kb", include_in_schema=False)
Manager = Annotated[StaffPrincipal, Depends(require("kb.manage"))]
Slug = Annotated[str, Path(max_length=SLUG_LENGTH)]
PREVIEW_MAX = 20_000


def _actor(staff: StaffPrincipal) -> audit.Actor:
    return staff.actor


def _base(staff: StaffPrincipal) -> dict[str, Any]:
    return {
        "staff": staff.user,
        "may": staff.may,
        "csrf_token": staff.token.csrf_token,
        "csrf_field": CSRF_FIELD,
        "nav_active": "kb",
        "languages": LANGUAGES,
    }


def _reason(exc: KefuError, lang: Lang) -> str:
    """What the editor says about a refusal (beside the field it names)."""
    if isinstance(exc, admin.StaleArticle):  # its params name the article's language
        return translate("kb.admin.error.stale", lang)
    field = str(exc.params.get("field") or "")
    if exc.code == "invalid_input" and field:
        return translate(f"kb.admin.invalid.{field.rsplit('_', 1)[0]}", lang)
    if exc.code == "conflict" and field == "slug":
        return translate("kb.admin.invalid.slug_taken", lang)
    return error_text(exc, lang)


@router.get("")
def article_list(request: Request, staff: Manager, db: DbSession) -> Response:
    return render_page(
        request,
        "kb/list.html",
        {**_base(staff), "articles": admin.list_articles(db), "misses": admin.misses(db, limit=5)},
    )


@router.get("/misses")
def missed_searches(request: Request, staff: Manager, db: DbSession) -> Response:
    return render_page(request, "kb/misses.html", {**_base(staff), "misses": admin.misses(db)})


def _editor(
    request: Request,
    staff: StaffPrincipal,
    *,
    slug: str | None,
    form: dict[str, str],
    status: str | None = None,
    error: tuple[str | None, str] | None = None,
    saved_now: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    previews = {lang: render.to_html(form.get(f"body_{lang}", "")) for lang in LANGUAGES}
    return render_page(
        request,
        "kb/edit.html",
        {
            **_base(staff),
            "slug": slug,
            "form": form,
            "status": status,
            "previews": previews,
            "error_field": error[0] if error else None,
            "error": error[1] if error else None,
            "saved_now": saved_now,
            "notice": request.query_params.get("saved"),
        },
        status_code=status_code,
    )


@router.get("/new")
def new_article(
    request: Request,
    staff: Manager,
    q: Annotated[str, Query(max_length=100)] = "",
    lang: Annotated[str, Query(max_length=8)] = "",
) -> Response:
    """The editor for a new article; from a missed search, the words customers used."""
    form = {"query": q, "query_lang": lang if lang in LANGUAGES else ""}
    if q and lang in LANGUAGES:
        form[f"title_{lang}"] = q
    return _editor(request, staff, slug=None, form=form)


def _texts(form: dict[str, str]) -> dict[str, admin.Text]:
    return {
        lang: admin.Text(form.get(f"title_{lang}", ""), form.get(f"body_{lang}", ""))
        for lang in LANGUAGES
    }


async def form_data(request: Request) -> dict[str, str]:
    form = await request.form()
    return {name: value for name, value in form.items() if isinstance(value, str)}


FormData = Annotated[dict[str, str], Depends(form_data)]


@router.post("/preview")
def preview(staff: Manager, form: FormData) -> Response:
    """The live preview: the help center's own renderer, so the admin sees what customers
    will see."""
    return HTMLResponse(render.to_html(form.get("body", "")[:PREVIEW_MAX]))


@router.post("")
def create_article(request: Request, staff: Manager, db: DbSession, form: FormData) -> Response:
    slug = form.get("slug", "")
    with form_errors(db, request.state.lang, reason=_reason) as refused:
        article = admin.create(db, slug=slug, texts=_texts(form), actor=_actor(staff))
        if form.get("query") and form.get("query_lang") in LANGUAGES:
            admin.mark_answered(db, query=form["query"], lang=form["query_lang"], slug=article.slug)
    if refused:
        error = (refused.field, refused.text)
        return _editor(
            request, staff, slug=None, form=form, error=error, status_code=refused.status
        )
    db.commit()
    return RedirectResponse(f"/console/kb/{article.slug}?saved=created", status_code=303)


def _form_of(db: Session, slug: str) -> tuple[dict[str, str], str]:
    article, latest = admin.current(db, slug)
    form: dict[str, str] = {"slug": slug}
    for lang, version in latest.items():
        form[f"title_{lang}"] = version.title if version else ""
        form[f"body_{lang}"] = version.body if version else ""
        form[f"version_{lang}"] = str(version.version if version else 0)
    return form, article.status


@router.get("/{slug}")
def edit_article(request: Request, slug: Slug, staff: Manager, db: DbSession) -> Response:
    form, status = _form_of(db, slug)
    return _editor(request, staff, slug=slug, form=form, status=status)


def _expected(form: dict[str, str]) -> dict[str, int]:
    return {
        lang: int(form[f"version_{lang}"]) if form.get(f"version_{lang}", "").isdigit() else -1
        for lang in LANGUAGES
    }


@router.post("/{slug}")
def save_article(
    request: Request, slug: Slug, staff: Manager, db: DbSession, form: FormData
) -> Response:
    with form_errors(db, request.state.lang, reason=_reason) as refused:
        admin.save(db, slug=slug, texts=_texts(form), expected=_expected(form), actor=_actor(staff))
    if isinstance(refused.error, admin.StaleArticle):
        return _stale(request, staff, db, slug, form)
    if refused:
        _current, status = _form_of(db, slug)
        error = (refused.field, refused.text)
        return _editor(
            request,
            staff,
            slug=slug,
            form=form,
            status=status,
            error=error,
            status_code=refused.status,
        )
    db.commit()
    return RedirectResponse(f"/console/kb/{slug}?saved=saved", status_code=303)


def _stale(
    request: Request, staff: StaffPrincipal, db: Session, slug: str, form: dict[str, str]
) -> Response:
    """Someone saved the article after this form was drawn: keep what was typed, show what
    is saved now beside it, and take the new versions, so saving again is a choice made
    with both in view."""
    now, status = _form_of(db, slug)
    versions = {k: v for k, v in now.items() if k.startswith("version_")}
    message = translate("kb.admin.error.stale", request.state.lang)
    return _editor(
        request,
        staff,
        slug=slug,
        form={**form, **versions},
        status=status,
        error=("version", message),
        saved_now=now,
        status_code=409,
    )


@router.post("/{slug}/publish")
def publish(slug: Slug, staff: Manager, db: DbSession) -> Response:
    admin.set_published(db, slug=slug, published=True, actor=_actor(staff))
    db.commit()
    return RedirectResponse(f"/console/kb/{slug}?saved=published", status_code=303)


@router.post("/{slug}/unpublish")
def unpublish(slug: Slug, staff: Manager, db: DbSession) -> Response:
    admin.set_published(db, slug=slug, published=False, actor=_actor(staff))
    db.commit()
    return RedirectResponse(f"/console/kb/{slug}?saved=unpublished", status_code=303)


@router.get("/{slug}/history/{lang}")
def history(
    request: Request,
    slug: Slug,
    lang: Annotated[str, Path(max_length=8)],
    staff: Manager,
    db: DbSession,
    v: Annotated[RowId | None, Query()] = None,
    error: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    if lang not in LANGUAGES:
        return RedirectResponse(f"/console/kb/{slug}", status_code=303)
    versions = admin.versions(db, slug=slug, lang=lang)
    chosen = next((x for x in versions if x.version == v), versions[0] if versions else None)
    older = next((x for x in versions if chosen and x.version == chosen.version - 1), None)
    return render_page(
        request,
        "kb/history.html",
        {
            **_base(staff),
            "slug": slug,
            "lang": lang,
            "versions": versions,
            "chosen": chosen,
            "lines": admin.diff(older, chosen) if chosen else [],
            "latest": versions[0].version if versions else 0,
            "error": translate("kb.admin.error.stale", request.state.lang) if error else None,
        },
    )


@router.post("/{slug}/history/{lang}/restore")
def restore(
    slug: Slug,
    lang: Annotated[str, Path(max_length=8)],
    staff: Manager,
    db: DbSession,
    version: Annotated[RowId, Form()],
    latest: Annotated[Count, Form()],
) -> Response:
    try:
        admin.restore(
            db, slug=slug, lang=lang, number=version, expected=latest, actor=_actor(staff)
        )
    except admin.StaleArticle:
        db.rollback()
        return RedirectResponse(
            f"/console/kb/{slug}/history/{lang}?v={version}&error=stale", status_code=303
        )
    db.commit()
    return RedirectResponse(f"/console/kb/{slug}?saved=restored", status_code=303)
