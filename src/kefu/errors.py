"""Domain errors. Services raise these; each surface (API, pages, CLI, voice) maps them once.

``message_key`` names a catalogue entry so the text follows the customer's language;
``params`` fill its placeholders.
"""

from __future__ import annotations

from typing import Any, ClassVar


class KefuError(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    message_key: ClassVar[str] = "error.bad_request"

    def __init__(self, detail: str | None = None, **params: Any) -> None:
        self.detail = detail
        self.params = params
        super().__init__(detail or self.code)


class InvalidInput(KefuError):
    code = "invalid_input"
    message_key = "error.invalid_input"


class NotAuthenticated(KefuError):
    status = 401
    code = "not_authenticated"
    message_key = "error.not_authenticated"


class InvalidCredentials(KefuError):
    status = 401
    code = "invalid_credentials"
    message_key = "error.invalid_credentials"


class PermissionDenied(KefuError):
    status = 403
    code = "permission_denied"
    message_key = "error.permission_denied"


class CsrfFailed(KefuError):
    status = 403
    code = "csrf_failed"
    message_key = "error.csrf_failed"


class NotFound(KefuError):
    status = 404
    code = "not_found"
    message_key = "error.not_found"


class Conflict(KefuError):
    status = 409
    code = "conflict"
    message_key = "error.conflict"


class TooManyRequests(KefuError):
    status = 429
    code = "too_many_requests"
    message_key = "error.too_many_requests"

    def __init__(self, detail: str | None = None, *, retry_after: int = 60, **params: Any):
        super().__init__(detail, retry_after=retry_after, **params)
        self.retry_after = retry_after


class DatabaseBusy(KefuError):
    """The request waited longer than ``KEFU_DATABASE_BUSY_TIMEOUT`` for the database
    (SQLite's single writer, or a free pooled connection): nothing was changed, try again."""

    status = 503
    code = "database_busy"
    message_key = "error.database_busy"

    def __init__(self, detail: str | None = None, *, retry_after: int = 5, **params: Any):
        super().__init__(detail, retry_after=retry_after, **params)
        self.retry_after = retry_after


class ConfigError(Exception):
    """A setting names something that does not exist; raised at startup, never per request."""


class DeliveryFailed(KefuError):
    """An SMS or e-mail backend could not hand the message over."""

    status = 503
    code = "delivery_failed"
    message_key = "error.delivery_failed"


class CodeInvalid(KefuError):
    """A wrong one-time code; ``remaining`` tries are left before the verification locks."""

    code = "code_invalid"
    message_key = "error.code_invalid"


class CodeExpired(KefuError):
    status = 410
    code = "code_expired"
    message_key = "error.code_expired"


class VerificationLocked(KefuError):
    """Too many wrong codes: this verification is closed; a new one can be started."""

    status = 423
    code = "verification_locked"
    message_key = "error.verification_locked"


class VerificationExpired(KefuError):
    """The verification was already used, or its time is up."""

    status = 410
    code = "verification_expired"
    message_key = "error.verification_expired"


class CodeResendTooSoon(TooManyRequests):
    code = "code_resend_too_soon"
    message_key = "error.code_resend_too_soon"


class CodeLimitReached(TooManyRequests):
    code = "code_limit_reached"
    message_key = "error.code_limit_reached"
