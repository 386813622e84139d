"""Anti-fraud service: what other domains call.

- ``verify`` — "is this number / site / address / account really yours?" in the asker's
  language, counted for the early-warning figures;
- ``detect_signals`` / ``detect_signals_with_links`` / ``warning_text`` — scam patterns in
  a customer's message and what to tell them at once;
- ``contact_channels`` — the official channels (Contact us, the assistant, the phone menu);
- ``register_outbound_call`` / ``outbound_calls_for`` / ``confirm_call`` — genuine calls;
- ``flag`` — put a scam flag on a conversation and its case for a specialist;
- reports and registry edits live in ``reports`` and ``registry`` and are re-exported here.

Functions flush and never commit: the route, CLI command or dialog step that called them
owns the transaction.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import phonenumbers
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from kefu import audit
from kefu.antifraud import lookalike, lookups, registry, signals, values
from kefu.antifraud.flags import flag, flags_for, handle_flag, open_flags
from kefu.antifraud.lookups import LookupTrend
from kefu.antifraud.models import RegistryEntry, RegistryVersion, ScamReport
from kefu.antifraud.outbound import (
    caller_numbers,
    cancel_outbound_call,
    confirm_call,
    list_outbound_calls,
    outbound_calls_for,
    register_outbound_call,
)
from kefu.antifraud.outbound import view as outbound_view
from kefu.antifraud.registry import EntryFilter, create_entry, get_entry, list_entries, update_entry
from kefu.antifraud.reports import (
    get_report,
    list_reports,
    report_items,
    review_report,
    submit_report,
)
from kefu.antifraud.reports import get_screenshot as report_screenshot
from kefu.antifraud.schemas import ContactChannel, EntryFields, VerifyResult
from kefu.antifraud.signals import ScamSignal, SignalKind, warning_text
from kefu.config import Settings, get_settings
from kefu.db import utcnow
from kefu.errors import InvalidInput
from kefu.i18n import Lang, translate

__all__ = [
    "ContactChannel",
    "EntryFields",
    "EntryFilter",
    "LookupTrend",
    "ScamSignal",
    "VerifyResult",
    "caller_numbers",
    "cancel_outbound_call",
    "check",
    "check_value",
    "confirm_call",
    "contact_channels",
    "create_entry",
    "detect_signals",
    "detect_signals_with_links",
    "entry_history",
    "flag",
    "flags_for",
    "get_entry",
    "get_report",
    "handle_flag",
    "list_entries",
    "list_outbound_calls",
    "list_reports",
    "load_registry_file",
    "lookup_trends",
    "open_flags",
    "outbound_calls_for",
    "outbound_view",
    "register_outbound_call",
    "report_items",
    "report_screenshot",
    "review_report",
    "seed_demo",
    "set_entry_active",
    "submit_report",
    "update_entry",
    "verify",
    "warning_text",
]

_QUERY_KINDS: dict[str, tuple[str, ...]] = {
    "phone": ("phone",),
    "domain": ("domain",),
    "email": ("email",),
    "app": ("app",),
    "account": ("wechat", "weibo", "account"),
}


def readable(kind: str, normalised: str) -> str:
    """A matching key (+8695188) as a person writes it (95188)."""
    return values.readable(kind, normalised)


def seed_demo(db: Session) -> int:
    """The demo wallet's official channels and a few known scams; idempotent."""
    return registry.seed_demo(db)


def load_registry_file(db: Session, path: Path, *, actor: audit.Actor) -> tuple[int, int]:
    """Add the entries of a JSON file; returns (added, already present)."""
    return registry.load_entries(db, registry.read_entries_file(path), actor=actor)


def set_entry_active(
    db: Session, entry_id: int, *, active: bool, actor: audit.Actor
) -> RegistryEntry:
    """Retire an entry (it stops deciding verdicts and leaves Contact us) or restore it."""
    return registry.set_active(db, entry_id, active=active, actor=actor)


def entry_history(db: Session, entry_id: int) -> list[RegistryVersion]:
    """Every version of an entry, oldest first: who changed it, how and when."""
    return registry.history(db, entry_id)


def lookup_trends(
    db: Session, *, today: date, days: int = 7, kind: str | None = None, limit: int = 50
) -> list[LookupTrend]:
    """The most-checked values of the last ``days`` days, surging ones first."""
    return lookups.trends(db, today=today, days=days, kind=kind, limit=limit)


def contact_channels(db: Session) -> list[ContactChannel]:
    """The official channels to show or say, phones first (hotlines, then the numbers we
    call and text from), then e-mail, WeChat, Weibo, web and apps."""
    return registry.contact_channels(db)


def _label(entry: RegistryEntry, lang: Lang) -> str:
    text = entry.label_zh if lang == "zh-CN" else entry.label_en
    return text or entry.label_en or entry.label_zh or entry.value


# Built once with bound parameters: every look-up runs these, and building a statement
# costs more than running it on an index.
_MATCH = select(RegistryEntry).where(
    RegistryEntry.kind.in_(bindparam("kinds", expanding=True)),
    RegistryEntry.normalised.in_(bindparam("keys", expanding=True)),
    RegistryEntry.active.is_(True),
)
_PENDING = select(ScamReport.report_count).where(
    ScamReport.kind == bindparam("kind"),
    ScamReport.normalised == bindparam("key"),
    ScamReport.status == "pending",
)


def _match(db: Session, parsed: values.Parsed) -> RegistryEntry | None:
    """The active entry that claims the value; the most specific key wins, so a scam page
    on a sub-domain is not hidden by its parent, nor ours by a scam parent."""
    params = {"kinds": list(_QUERY_KINDS[parsed.kind]), "keys": list(parsed.candidates)}
    rows = list(db.scalars(_MATCH, params))
    if not rows:
        return None
    rank = {key: index for index, key in enumerate(parsed.candidates)}
    return min(rows, key=lambda e: (rank[e.normalised], e.status != "official", e.id))


def _pending_reports(db: Session, parsed: values.Parsed) -> int:
    count = db.scalar(_PENDING, {"kind": parsed.kind, "key": parsed.normalised})
    return int(count or 0)


def _result(
    parsed: values.Parsed,
    verdict: str,
    reason_key: str,
    advice_key: str,
    lang: Lang,
    *,
    kind: str | None = None,
    label: str | None = None,
    imitation_of: str | None = None,
    reported_on: date | None = None,
    **params: object,
) -> VerifyResult:
    return VerifyResult(
        value=parsed.display,
        kind=kind or parsed.kind,
        verdict=verdict,  # type: ignore[arg-type]
        reason=translate(reason_key, lang, value=parsed.display, **params),
        advice=translate(advice_key, lang),
        normalised=parsed.normalised,
        label=label,
        imitation_of=imitation_of,
        reported_on=reported_on,
    )


def _not_ours(db: Session, parsed: values.Parsed, lang: Lang) -> VerifyResult:
    """Not in the registry: name an imitation when it is one, else say plainly it is not
    ours, with what is known (others reported it, it is a mobile number...)."""
    if parsed.kind in ("domain", "email") and parsed.is_ip:
        return _result(
            parsed, "not_official", "antifraud.reason.ip_address", "antifraud.advice.site", lang
        )
    if parsed.kind in ("domain", "email") and parsed.unicode_host:
        shown = f"{parsed.decoy}.{parsed.unicode_host}" if parsed.decoy else parsed.unicode_host
        copied = lookalike.domain_imitation(shown, registry.official_hosts(db))
        if copied is not None:
            return _result(
                parsed,
                "not_official",
                f"antifraud.reason.imitation.{copied.how}",
                "antifraud.advice.imitation",
                lang,
                imitation_of=copied.of,
                official=copied.of,
            )
    if parsed.kind == "account":
        officials = [(e.normalised, e.value) for e in registry.official(db, ("wechat", "weibo"))]
        copied = lookalike.account_imitation(parsed.normalised, officials)
        if copied is not None:
            return _result(
                parsed,
                "not_official",
                "antifraud.reason.imitation.account",
                "antifraud.advice.imitation",
                lang,
                imitation_of=copied.of,
                official=copied.of,
            )
    reports = _pending_reports(db, parsed)
    if reports:
        return _result(
            parsed,
            "not_official",
            "antifraud.reason.reported_pending",
            f"antifraud.advice.not_official.{parsed.kind}",
            lang,
            count=reports,
        )
    reason = f"antifraud.reason.not_official.{parsed.kind}"
    if parsed.kind == "phone":
        number = phonenumbers.parse(parsed.normalised)
        if number.country_code != 86:
            reason = "antifraud.reason.not_official.phone_abroad"
        elif phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE:
            reason = "antifraud.reason.not_official.phone_mobile"
    return _result(
        parsed, "not_official", reason, f"antifraud.advice.not_official.{parsed.kind}", lang
    )


def check(db: Session, parsed: values.Parsed, *, lang: Lang) -> VerifyResult:
    """The verdict on an already parsed value, without counting the look-up."""
    entry = _match(db, parsed)
    if entry is None:
        return _not_ours(db, parsed, lang)
    label = _label(entry, lang)
    if entry.status == "scam":
        reported_on = entry.reported_on or entry.created_at.date()
        return _result(
            parsed,
            "reported_scam",
            "antifraud.reason.reported_scam",
            "antifraud.advice.reported_scam",
            lang,
            kind=entry.kind,
            label=label,
            reported_on=reported_on,
            label_text=label,
            date=reported_on.isoformat(),
        )
    reason = f"antifraud.reason.official.{entry.kind}"
    if entry.kind == "phone":
        reason = f"antifraud.reason.official.phone_{entry.role}"
    elif entry.kind == "email" and entry.role == "domain":
        reason = "antifraud.reason.official.email_domain"
    return _result(
        parsed,
        "official",
        reason,
        f"antifraud.advice.official.{entry.kind}",
        lang,
        kind=entry.kind,
        label=label,
        label_text=label,
    )


def check_value(db: Session, value: str, *, lang: Lang) -> VerifyResult:
    """The verdict on ``value`` as typed, not counted as a look-up (a specialist reading a
    report). Raises InvalidInput like ``verify``."""
    return check(db, values.parse(value), lang=lang)


def verify(
    db: Session,
    value: str,
    *,
    lang: Lang,
    client_key: str | None = None,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> VerifyResult:
    """Check ``value`` against the registry and count the look-up.

    ``client_key`` (the asker's address, customer id or caller number) lets the figures
    count people as well as look-ups; only its HMAC is stored. Raises InvalidInput for a
    value that is no phone number, address, e-mail or account.
    """
    settings = settings or get_settings()
    now = now or utcnow()
    parsed = values.parse(value)
    result = check(db, parsed, lang=lang)
    lookups.count(
        db,
        kind=result.kind,
        normalised=parsed.normalised,
        verdict=result.verdict,
        day=now.astimezone(settings.tz).date(),
        now=now,
        client_hash=lookups.client_digest(settings.secret_key, client_key) if client_key else None,
    )
    return result


def detect_signals(text: str) -> list[ScamSignal]:
    """Scam patterns in a customer's message (no database; under a millisecond)."""
    return signals.detect(text)


def detect_signals_with_links(db: Session, text: str, *, lang: Lang = "zh-CN") -> list[ScamSignal]:
    """``detect_signals`` plus the links and numbers in the text that the registry knows
    are not ours: ``unofficial_link`` (``detail`` names the site a look-alike copies) and
    ``reported_scam_contact``. Not counted as look-ups."""
    found = signals.detect(text)
    for mention in signals.links(text):
        try:
            parsed = values.parse(mention.text)
        except InvalidInput:
            continue
        result = check(db, parsed, lang=lang)
        if result.verdict != "official":
            kind: SignalKind = (
                "reported_scam_contact" if result.verdict == "reported_scam" else "unofficial_link"
            )
            found.append(
                ScamSignal(kind, mention.start, mention.end, parsed.display, result.imitation_of)
            )
            break
    for mention in signals.phone_numbers(text):
        if any(signal.kind == "reported_scam_contact" for signal in found):
            break
        try:
            parsed = values.parse(mention.text)
        except InvalidInput:
            continue
        if parsed.kind == "phone" and check(db, parsed, lang=lang).verdict == "reported_scam":
            found.append(
                ScamSignal("reported_scam_contact", mention.start, mention.end, parsed.display)
            )
            break
    found.sort(key=lambda signal: signal.start)
    return found
