"""Per-request context carried without threading it through every call (request id)."""

from __future__ import annotations

from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("kefu_request_id", default=None)
