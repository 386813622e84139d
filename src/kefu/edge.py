"""What every HTTP request meets before any route (pure ASGI, so nothing is copied twice):

``RequestGuard`` refuses a body larger than its kind allows (413, decided from Content-Length
before anything is read, or counted while a chunked body streams in) and text holding a NUL
character in the path, the query string, a JSON body or a form field (400). Databases differ
here (PostgreSQL cannot store NUL in text, SQLite can), so the edge decides once, the same way
on both.

``SecurityHeaders`` adds the browser protections to every answer: Content-Security-Policy
without inline script, framing only by ourselves, HSTS when the request came over https
(directly or through a trusted proxy saying so).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# a ``\u0000`` escape in JSON text, not preceded by an escaping backslash
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
_BODYLESS = {b"GET", b"HEAD", b"OPTIONS", b"DELETE"}

Refusal = Callable[[Scope, int, str], ASGIApp]
"""Builds the answer for a refused request: (scope, status, reason code) -> an ASGI app."""


@dataclass(frozen=True)
class BodyLimits:
    """Largest body in bytes per kind; webhooks are the carriers' callbacks (by path)."""

    json: int
    form: int
    upload: int
    webhook: int
    webhook_prefixes: tuple[str, ...] = ()

    def for_request(self, path: str, content_type: str) -> int:
        if path.startswith(self.webhook_prefixes):
            return self.webhook
        if content_type.startswith("multipart/form-data"):
            return self.upload
        if content_type.startswith("application/x-www-form-urlencoded"):
            return self.form
        return self.json


class BodyTooLarge(Exception):
    """A streamed body passed its limit."""


def has_nul_text(content_type: str, body: bytes) -> bool:
    """Whether a JSON or urlencoded body carries a NUL character in its text."""
    if content_type.startswith("application/x-www-form-urlencoded"):
        return b"\x00" in body or b"%00" in body
    return b"\x00" in body or (b"\\u0000" in body and _JSON_NUL.search(body) is not None)


async def multipart_has_nul_field(headers: Headers, body: bytes) -> bool:
    """Whether a text field (not a file) of a multipart form holds a NUL character. Files
    may hold any bytes; only a body with a NUL byte somewhere is parsed to tell which."""
    if b"\x00" not in body and b"%00" not in body:
        return False

    async def stream() -> Iterable[bytes]:  # type: ignore[misc]
        yield body

    parser = MultiPartParser(headers, stream(), max_files=1000, max_fields=1000)  # type: ignore[arg-type]
    try:
        form = await parser.parse()
    except MultiPartException:
        return False  # malformed: the route's own parsing refuses it
    try:
        return any(isinstance(value, str) and "\x00" in value for _, value in form.multi_items())
    finally:
        await form.close()


class RequestGuard:
    def __init__(self, app: ASGIApp, limits: BodyLimits, refuse: Refusal) -> None:
        self.app = app
        self.limits = limits
        self.refuse = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"")
        if "\x00" in scope["path"] or b"%00" in query or b"\x00" in query:
            await self._refuse(scope, receive, send, 400, "nul_character")
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        length = headers.get("content-length")
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        if length is None and not chunked:
            await self.app(scope, receive, send)
            return
        if length is not None and not (length.isascii() and length.isdigit()):
            await self._refuse(scope, receive, send, 400, "bad_request")
            return
        content_type = headers.get("content-type", "").lower()
        limit = self.limits.for_request(scope["path"], content_type)
        if length is not None and int(length) > limit:
            await self._refuse(scope, receive, send, 413, "too_large")
            return
        if length == "0" or (scope["method"].encode() in _BODYLESS and length is None):
            await self.app(scope, receive, send)
            return
        try:
            body = await _read_body(receive, limit)
        except BodyTooLarge:
            await self._refuse(scope, receive, send, 413, "too_large")
            return
        if content_type.startswith("multipart/form-data"):
            refused = await multipart_has_nul_field(headers, body)
        else:
            refused = has_nul_text(content_type, body)
        if refused:
            await self._refuse(scope, receive, send, 400, "nul_character")
            return
        await self.app(scope, _replay(body, receive), send)

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, status: int, code: str
    ) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await self.refuse(scope, status, code)(scope, receive, send)


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge()
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body already read, handed to the app as one message; then the client's own
    messages (a disconnect) as they come."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


@dataclass(frozen=True)
class HeaderPolicy:
    frame_ancestors_extra: tuple[str, ...]  # other sites that may frame ``framed_paths``
    framed_paths: tuple[str, ...]
    hsts_seconds: int
    always_https: bool  # the public URL is https: every answer carries HSTS
    trusted_proxies: frozenset[str]


def content_security_policy(frame_ancestors: Iterable[str]) -> str:
    """No inline script and no eval anywhere; styles may be inline (``style=""`` in
    templates and set by scripts); sockets to ourselves; pictures pasted as data URLs."""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "media-src 'self' blob:",
            "connect-src 'self' ws: wss:",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors " + " ".join(["'self'", *frame_ancestors]),
        ]
    )


class SecurityHeaders:
    def __init__(self, app: ASGIApp, policy: HeaderPolicy) -> None:
        self.app = app
        self.policy = policy
        common = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin")]
        self.headers = [
            (b"content-security-policy", content_security_policy(()).encode()),
            (b"x-frame-options", b"SAMEORIGIN"),
            *common,
        ]
        framed_csp = content_security_policy(policy.frame_ancestors_extra).encode()
        self.framed_headers = [(b"content-security-policy", framed_csp), *common]
        self.hsts = f"max-age={policy.hsts_seconds}; includeSubDomains".encode()

    def came_over_https(self, scope: Scope) -> bool:
        if self.policy.always_https or scope.get("scheme") == "https":
            return True
        client = scope.get("client")
        if client is None or client[0] not in self.policy.trusted_proxies:
            return False
        forwarded = Headers(scope=scope).get("x-forwarded-proto", "")
        return forwarded.split(",")[0].strip().lower() == "https"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        framed = bool(self.policy.frame_ancestors_extra) and scope["path"].startswith(
            self.policy.framed_paths
        )
        https = self.came_over_https(scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                for name, value in self.framed_headers if framed else self.headers:
                    if name not in present:
                        headers.append((name, value))
                if https and b"strict-transport-security" not in present:
                    headers.append((b"strict-transport-security", self.hsts))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
