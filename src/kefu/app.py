"""The FastAPI application factory: routers, middleware and error handlers; no rules."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kefu import __version__, jobs
from kefu.config import Settings, get_settings
from kefu.context import request_id_var
from kefu.edge import BodyLimits, HeaderPolicy, Refusal, RequestGuard, SecurityHeaders
from kefu.errors import DatabaseBusy, InvalidInput, KefuError
from kefu.i18n import Lang, negotiate, normalise_lang, translate

log = logging.getLogger("kefu")

LANG_COOKIE = "kefu_lang"
PAGE_PREFIXES = ("/console", "/dev", "/help")

_HTTP_CODES = {
    400: ("bad_request", "error.bad_request"),
    401: ("not_authenticated", "error.not_authenticated"),
    403: ("permission_denied", "error.permission_denied"),
    404: ("not_found", "error.not_found"),
    405: ("method_not_allowed", "error.method_not_allowed"),
    413: ("too_large", "error.too_large"),
    429: ("too_many_requests", "error.too_many_requests"),
}


BUSY_RETRY_AFTER = 5  # seconds; a writer holds SQLite's lock for milliseconds at a time
_BUSY_MESSAGES = ("database is locked", "database table is locked", "database is busy")


def _is_busy(exc: OperationalError) -> bool:
    return any(text in str(exc.orig) for text in _BUSY_MESSAGES)


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    error.update(extra)
    return {"error": error}


def _lang_of(request: Request) -> Lang:
    lang: Lang = getattr(request.state, "lang", get_settings().default_language)
    return lang


def _wants_page(request: Request) -> bool:
    """Errors on the console and other pages are shown as pages, not JSON."""
    return request.url.path.startswith(PAGE_PREFIXES)


def _page_error(request: Request, status: int, message: str) -> Response:
    from kefu.web.templating import render

    in_console = request.url.path.startswith("/console")
    if status == 401 and in_console:
        return RedirectResponse("/console/login", status_code=303)
    context = {"message": message, "status": status, "back": "/console" if in_console else "/help"}
    return render(request, "error.html", context, status_code=status)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(KefuError)
    async def _kefu_error(request: Request, exc: KefuError) -> Response:
        if exc.code == "two_factor_setup_required" and request.url.path.startswith("/console"):
            return RedirectResponse("/console/two-factor", status_code=303)
        if _wants_page(request):
            message = translate(exc.message_key, _lang_of(request), **exc.params)
            return _page_error(request, exc.status, message)
        extra: dict[str, Any] = {}
        if "field" in exc.params:
            extra["field"] = exc.params["field"]
        body = error_body(exc.code, translate(exc.message_key, _lang_of(request), **exc.params))
        body["error"].update(extra)
        headers = {}
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        if exc.status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        return JSONResponse(body, status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        if _wants_page(request):
            return _page_error(request, 400, translate("error.validation", _lang_of(request)))
        problems = [
            {"field": ".".join(str(part) for part in err.get("loc", ())[1:]), "problem": err["msg"]}
            for err in exc.errors()
        ]
        body = error_body(
            "validation_error",
            translate("error.validation", _lang_of(request)),
            details=problems,
        )
        return JSONResponse(body, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code, key = _HTTP_CODES.get(exc.status_code, ("http_error", "error.bad_request"))
        if _wants_page(request):
            return _page_error(request, exc.status_code, translate(key, _lang_of(request)))
        return JSONResponse(
            error_body(code, translate(key, _lang_of(request))),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(OverflowError)
    @app.exception_handler(DataError)
    async def _out_of_range(request: Request, exc: Exception) -> Response:
        """A number or text the database cannot hold that slipped past the route's types
        (``kefu.numbers``): the caller's input, so 400, never 500."""
        log.warning("value out of the database's range on %s %s", request.method, request.url.path)
        return await _kefu_error(request, InvalidInput("out of range"))

    @app.exception_handler(PoolTimeout)
    @app.exception_handler(OperationalError)
    async def _database_busy(request: Request, exc: Exception) -> Response:
        """Waited past ``KEFU_DATABASE_BUSY_TIMEOUT`` for SQLite's one writer ("database is
        locked") or for a pooled connection: the transaction was rolled back, so the client
        may simply try again; 503 with Retry-After says so. Other operational errors (a
        lost server) stay 500."""
        if isinstance(exc, OperationalError) and not _is_busy(exc):
            return await _unexpected(request, exc)
        log.warning("database busy on %s %s", request.method, request.url.path)
        return await _kefu_error(request, DatabaseBusy(retry_after=BUSY_RETRY_AFTER))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        message = translate("error.internal", _lang_of(request))
        if _wants_page(request):
            return _page_error(request, 500, message)
        return JSONResponse(error_body("internal_error", message), status_code=500)


class RequestContext:
    """Every HTTP request's id (``X-Request-ID``, echoed or made) and language (``?lang=``,
    then the language cookie, then ``Accept-Language``); the headers every response
    carries are ``kefu.edge.SecurityHeaders``'.

    Plain ASGI rather than ``@app.middleware("http")``: Starlette's BaseHTTPMiddleware
    runs the rest of the app in a task of its own behind a stream, which cost a request
    with no work of its own (``/healthz``) half its rate."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.default_language = settings.default_language
        self.cookie_secure = "; Secure" if settings.secure_cookies else ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = accept = cookie = ""
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
            elif name == b"accept-language":
                accept = value.decode("latin-1")
            elif name == b"cookie":
                cookie = value.decode("latin-1")
        request_id = incoming if 0 < len(incoming) <= 64 and incoming.isascii() else None
        request_id = request_id or uuid.uuid4().hex
        query = scope.get("query_string", b"")
        chosen = normalise_lang(_query_value(query, "lang")) if b"lang=" in query else None
        explicit = chosen
        if explicit is None and LANG_COOKIE in cookie:
            explicit = normalise_lang(cookie_parser(cookie).get(LANG_COOKIE))
        state = scope.setdefault("state", {})
        state["lang_explicit"] = explicit is not None
        state["lang"] = explicit or negotiate(accept or None, self.default_language)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = request_id
                if chosen is not None:  # a language picked on a page sticks for later pages
                    headers.append(
                        "set-cookie",
                        f"{LANG_COOKIE}={chosen}; Max-Age={365 * 86400}; Path=/; SameSite=lax"
                        + self.cookie_secure,
                    )
            await send(message)

        token = request_id_var.set(request_id)
        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            request_id_var.reset(token)


def _query_value(query: bytes, name: str) -> str | None:
    values = parse_qs(query.decode("latin-1")).get(name)
    return values[-1] if values else None


def _refusal(settings: Settings) -> Refusal:
    """The answer to a request the edge refuses (``kefu.edge``), in the caller's language:
    a page for the console and help center, JSON elsewhere."""
    messages = {"too_large": "error.too_large", "nul_character": "error.nul_character"}

    def refuse(scope: Scope, status: int, code: str) -> ASGIApp:
        request = Request(scope)
        explicit = normalise_lang(request.query_params.get("lang")) or normalise_lang(
            request.cookies.get(LANG_COOKIE)
        )
        lang = explicit or negotiate(
            request.headers.get("accept-language"), settings.default_language
        )
        message = translate(messages.get(code, "error.bad_request"), lang)
        if _wants_page(request):
            request.state.lang = lang
            return _page_error(request, status, message)
        return JSONResponse(error_body(code, message), status_code=status)

    return refuse


def _install_edge(app: FastAPI, settings: Settings, webhook_prefixes: tuple[str, ...]) -> None:
    """Outermost, so a refused request costs nothing further (see ``kefu.edge``)."""
    limits = BodyLimits(
        json=settings.max_json_bytes,
        form=settings.max_form_bytes,
        upload=settings.upload_limit_bytes,
        webhook=settings.max_webhook_bytes,
        webhook_prefixes=webhook_prefixes,
    )
    app.add_middleware(RequestGuard, limits=limits, refuse=_refusal(settings))
    policy = HeaderPolicy(
        frame_ancestors_extra=tuple(settings.widget_origins),
        framed_paths=("/chat",),
        hsts_seconds=settings.hsts_seconds,
        always_https=settings.public_url.lower().startswith("https://"),
        trusted_proxies=settings.trusted_proxy_addresses,
    )
    app.add_middleware(SecurityHeaders, policy=policy)


ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "field": {"type": "string"},
                "details": {"type": "array", "items": {"type": "object"}},
            },
        }
    },
}


def _guarded(dependant: Any) -> bool:
    """Whether a route (through its dependencies) asks who the caller is."""
    from kefu.identity.deps import current_customer, current_staff

    for sub in dependant.dependencies:
        call = sub.call
        if call in (current_staff, current_customer) or getattr(call, "kefu_permission", None):
            return True
        if getattr(call, "kefu_customer_page", False) or _guarded(sub):
            return True
    return False


def _document_errors(app: FastAPI) -> None:
    """Every API operation's error answers in the OpenAPI document, decided once from what
    the operation is rather than written on each route: bad input (400: a NUL character, a
    malformed body; 422: the schema), limits (413 on bodies, 429), 401, 404, 403 where the
    route checks a permission, 409 where it changes something. A route's own ``responses=``
    (410, 423, 503...) are kept."""
    from fastapi.openapi.utils import get_openapi
    from fastapi.routing import APIRoute, iter_route_contexts

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        guarded = {
            (method.lower(), context.path)
            for context in iter_route_contexts(app.routes)
            if isinstance(context.route, APIRoute) and _guarded(context.route.dependant)
            for method in context.route.methods or ()
        }
        for path, operations in document.get("paths", {}).items():
            for method, operation in operations.items():
                codes = {
                    400: "error.bad_request",
                    # a bearer token that is no longer valid is refused wherever one is read
                    401: "error.not_authenticated",
                    # a path names something, a body may name it, a channel may be off
                    404: "error.not_found",
                    422: "error.validation",
                    429: "error.too_many_requests",
                }
                if (method, path) in guarded:
                    codes[403] = "error.permission_denied"
                if method != "get":
                    codes[409] = "error.conflict"
                if "requestBody" in operation:
                    codes[413] = "error.too_large"
                responses = operation.setdefault("responses", {})
                for code, key in codes.items():
                    responses.setdefault(
                        str(code),
                        {
                            "description": translate(key, "en"),
                            "content": {"application/json": {"schema": ERROR_SCHEMA}},
                        },
                    )
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    from kefu import dbwork

    await dbwork.close_for_app(app)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="Kefu",
        version=__version__,
        description="Customer service for digital wallets (客服)",
        lifespan=_lifespan,
    )
    app.state.settings = settings
    app.add_middleware(RequestContext, settings=settings)
    _install_error_handlers(app)

    from kefu.channels.senders import build_senders
    from kefu.health import router as health_router
    from kefu.identity.question_routes import router as security_questions_router
    from kefu.identity.routes import router as identity_router
    from kefu.identity.verification_routes import router as verification_router
    from kefu.web.routes import mount_web

    app.include_router(health_router)
    # the assistant's turns first: a request walks the routes in order, and reaching these
    # behind every other router's took ~0.2 ms of each turn
    from kefu.bot.routes import router as bot_router

    app.include_router(bot_router, prefix="/api/v1")
    # then the staff's case API: the routers between held ~40 routes a new case was matched
    # against first (~3 % of its CPU); no path of theirs begins with /cases, so none is
    # matched differently
    from kefu.cases.routes import router as cases_router
    from kefu.cases.workspace_routes import router as case_workspace_router
    from kefu.support.case_forms import api_router as case_account_api_router

    app.include_router(case_workspace_router, prefix="/api/v1")  # before /cases/{reference}
    app.include_router(case_account_api_router, prefix="/api/v1")
    app.include_router(cases_router, prefix="/api/v1")
    app.include_router(identity_router, prefix="/api/v1")
    app.state.senders = build_senders(settings)  # a bad KEFU_*_BACKEND stops startup here
    jobs.share_adapter(build_senders, app.state.senders, settings)  # jobs run beside the app
    app.include_router(verification_router, prefix="/api/v1")
    app.include_router(security_questions_router, prefix="/api/v1")
    from kefu.support.case_forms import router as case_account_router
    from kefu.support.lookups import router as wallet_router
    from kefu.support.routes import router as support_router
    from kefu.wallet.port import build_wallet

    # the wallet adapter, built once; a bad KEFU_WALLET_BACKEND stops startup here
    app.state.wallet = build_wallet(settings)
    app.include_router(wallet_router, prefix="/api/v1")
    app.include_router(support_router, prefix="/api/v1")
    from kefu.cases.customer_routes import router as case_customer_router
    from kefu.cases.pages import router as case_pages_router
    from kefu.cases.sla_routes import router as sla_router

    app.include_router(case_customer_router, prefix="/api/v1")
    app.include_router(sla_router, prefix="/api/v1")
    app.include_router(case_pages_router)
    app.include_router(case_account_router)  # the case page's account actions
    from kefu.cases.attachment_routes import router as case_attachment_router
    from kefu.storage import build_storage

    app.state.storage = build_storage(settings)  # a bad KEFU_STORAGE_BACKEND stops startup
    app.include_router(case_attachment_router, prefix="/api/v1")
    from kefu.bot.service import guess_intents
    from kefu.kb.routes import router as kb_router

    app.state.guess_intents = guess_intents  # the help center's search reads the assistant
    app.include_router(kb_router, prefix="/api/v1")
    from kefu.antifraud.routes import router as antifraud_router
    from kefu.antifraud.staff_routes import router as antifraud_staff_router

    app.include_router(antifraud_router, prefix="/api/v1")
    app.include_router(antifraud_staff_router, prefix="/api/v1")
    from kefu.chat.bus import backend_of
    from kefu.chat.console import router as chat_console_router
    from kefu.chat.pages import WidgetCors
    from kefu.chat.pages import router as chat_pages_router
    from kefu.chat.routes import router as chat_router
    from kefu.chat.ws import Sockets

    backend_of(settings)  # a bad KEFU_CHAT_BUS stops startup here
    app.include_router(chat_router, prefix="/api/v1")
    app.add_middleware(Sockets)
    app.include_router(chat_console_router)
    app.include_router(chat_pages_router)
    from kefu.notifications.routes import api as notifications_router
    from kefu.notifications.routes import console as notifications_console_router

    app.include_router(notifications_router, prefix="/api/v1")
    app.include_router(notifications_console_router)
    if settings.widget_origins:
        app.add_middleware(WidgetCors, origins=settings.widget_origins)
    from kefu.voice.aftercall import router as voice_aftercall_router
    from kefu.voice.console import router as voice_console_router
    from kefu.voice.menu_pages import router as voice_menu_pages_router
    from kefu.voice.prompts import check_tools
    from kefu.voice.routes import router as voice_router
    from kefu.voice.signatures import check_provider
    from kefu.voice.staff_routes import router as voice_staff_router

    check_provider(settings)  # a bad KEFU_VOICE_PROVIDER stops startup here
    check_tools(settings)  # KEFU_VOICE_PROMPTS=play without espeak-ng stops startup
    app.include_router(voice_router)
    from kefu.inbound.sms.routes import router as sms_router

    app.include_router(sms_router)
    from kefu.inbound.wechat import check_settings as check_wechat
    from kefu.inbound.wechat.routes import router as wechat_router

    check_wechat(settings)  # KEFU_WECHAT_TOKEN without the AppID and secret stops startup
    app.include_router(wechat_router)
    app.include_router(voice_staff_router, prefix="/api/v1")
    app.include_router(voice_console_router)
    app.include_router(voice_menu_pages_router)
    app.include_router(voice_aftercall_router)
    if settings.demo:
        from kefu.voice.simulator_routes import router as voice_simulator_router
        from kefu.web.dev import router as dev_router

        app.include_router(dev_router)
        app.include_router(voice_simulator_router)
    from kefu.quality.pages import mount_vendor
    from kefu.quality.pages import router as quality_pages_router
    from kefu.quality.review_pages import router as quality_review_router
    from kefu.quality.routes import router as quality_router
    from kefu.quality.routes import survey_router
    from kefu.quality.survey_pages import router as survey_pages_router

    app.include_router(quality_router, prefix="/api/v1")
    app.include_router(survey_router, prefix="/api/v1")
    app.include_router(quality_pages_router)
    app.include_router(quality_review_router)
    app.include_router(survey_pages_router)
    mount_vendor(app, settings)
    mount_web(app, settings)
    _document_errors(app)
    # the carriers' callbacks: their own, smaller body limit
    _install_edge(app, settings, webhook_prefixes=("/voice/", "/sms/", "/wechat"))
    return app


def create_served_app() -> FastAPI:
    """The app as each ``kefu serve`` process runs it: the assistant's model trained before
    the first customer's message, what the first requests would build lazily built, and
    what start-up left alive frozen out of the garbage collector's walks (``kefu.heap``)."""
    from sqlalchemy.orm import configure_mappers

    from kefu import heap
    from kefu.bot.nlu.model import get_model
    from kefu.i18n import LANGUAGES, catalogue

    application = create_app()
    # what the first requests would otherwise build, each in whichever thread serves it:
    # built here, it is frozen with the rest and the first customer does not wait for it
    get_model().probability("充值没到账")  # the segmenter's and the pinyin table's first use
    for lang in LANGUAGES:
        catalogue(lang)
    configure_mappers()
    heap.settle()
    return application
