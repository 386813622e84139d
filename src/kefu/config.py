"""Settings: every one is a ``KEFU_*`` environment variable (see docs/configuration.md).

Nothing is read at import time; ``get_settings()`` builds and caches the settings on first
use, and ``get_settings.cache_clear()`` lets tests and the CLI change them.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRET = "change-me-development-only"  # noqa: S105 - refused outside development


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KEFU_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    demo: bool = False
    database_url: str = "sqlite:///var/kefu.db"
    secret_key: str = PLACEHOLDER_SECRET
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    public_url: str = "http://127.0.0.1:8000"
    default_language: Literal["zh-CN", "en"] = "zh-CN"
    timezone: str = "Asia/Shanghai"
    log_level: str = "INFO"

    # staff authentication
    token_ttl_seconds: int = Field(default=8 * 3600, ge=60)
    session_ttl_seconds: int = Field(default=12 * 3600, ge=60)
    cookie_secure: bool = False
    login_max_failures: int = Field(default=5, ge=1)
    login_failure_window_seconds: int = Field(default=15 * 60, ge=1)

    # one-time codes (验证码)
    otp_ttl_seconds: int = Field(default=300, ge=30)
    otp_max_attempts: int = Field(default=5, ge=1)
    otp_resend_after_seconds: int = Field(default=60, ge=0)
    otp_max_per_hour: int = Field(default=5, ge=1)
    otp_max_per_client_per_hour: int = Field(default=20, ge=1)
    verification_ttl_seconds: int = Field(default=30 * 60, ge=60)
    customer_token_ttl_seconds: int = Field(default=30 * 60, ge=60)

    # outgoing messages
    sms_backend: str = "outbox"
    email_backend: str = "outbox"
    smtp_relay_host: str = ""
    smtp_relay_port: int = Field(default=25, ge=1, le=65535)
    email_from: str = ""

    # the wallet core behind the port (kefu.wallet.port)
    wallet_backend: str = "builtin"

    # cases (工单): SLA clock, follow-up, attachments
    business_hours: str = "mon-fri 09:00-18:00"
    business_holidays: str = ""
    case_sla_warn_percent: int = Field(default=80, ge=1, le=99)
    case_reopen_days: int = Field(default=7, ge=0)
    case_autoclose_days: int = Field(default=7, ge=1)
    case_reminder_hours: int = Field(default=24, ge=1)
    storage_backend: str = "local"
    storage_dir: str = "var/attachments"
    attachment_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)

    # e-mail channel, inbound (docs/email.md)
    smtp_enabled: bool | None = None  # None: on unless KEFU_ENV=production
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=2525, ge=1, le=65535)
    smtp_recipients: str = "support@kefu.example"
    smtp_max_bytes: int = Field(default=25 * 1024 * 1024, ge=1024)
    imap_host: str = ""
    imap_port: int = Field(default=993, ge=1, le=65535)
    imap_ssl: bool = True
    imap_user: str = ""
    imap_password: str = ""
    imap_folder: str = "INBOX"

    # background jobs (huey)
    jobs_backend: str = "sqlite"
    jobs_sqlite_path: str = ""  # empty: jobs.db next to a SQLite database, else var/jobs.db
    jobs_inline: bool = True
    jobs_workers: int = Field(default=2, ge=1, le=64)
    redis_url: str = "redis://127.0.0.1:6379/0"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("business_hours")
    @classmethod
    def _readable_hours(cls, value: str) -> str:
        from kefu.cases.sla import parse_hours

        parse_hours(value)
        return value

    @field_validator("business_holidays")
    @classmethod
    def _readable_holidays(cls, value: str) -> str:
        for part in filter(None, (p.strip() for p in value.split(","))):
            try:
                date.fromisoformat(part)
            except ValueError as exc:
                raise ValueError(f"holiday {part!r} is not a YYYY-MM-DD date") from exc
        return value

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        if self.env == "production" and (
            self.secret_key == PLACEHOLDER_SECRET or len(self.secret_key) < 32
        ):
            raise ValueError(
                "KEFU_SECRET_KEY must be set to a random value of at least 32 characters "
                "when KEFU_ENV=production"
            )
        if self.env == "production" and self.demo:
            raise ValueError("KEFU_DEMO=true is refused when KEFU_ENV=production")
        return self

    @property
    def smtp_server_enabled(self) -> bool:
        return self.smtp_enabled if self.smtp_enabled is not None else self.env != "production"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def sqlite_path(self) -> Path | None:
        """The database file for a file-backed SQLite URL, so its folder can be created."""
        prefix = "sqlite:///"
        if self.database_url.startswith(prefix) and ":memory:" not in self.database_url:
            return Path(self.database_url[len(prefix) :])
        return None


@lru_cache
def get_settings() -> Settings:
    return Settings()
