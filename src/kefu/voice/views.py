"""What agents see of the hotline in the console: a customer's calls for their timeline,
and the call-backs owed with the caller's context.

Everything comes out ready to show in the agent's language: menu steps by the label the
caller heard, self-service results as sentences. Numbers only ever masked; the full
number of a call-back is read through ``callbacks.reveal_number`` (audited).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from kefu.errors import NotFound
from kefu.i18n import Lang, translate
from kefu.identity import service as identity_service
from kefu.voice import callbacks, calls, menu
from kefu.voice.menu import MenuNode, MenuTree, text_of
from kefu.voice.models import VoiceCall, VoiceCallback

TIMELINE_LIMIT = 10


@dataclass(frozen=True)
class CallLine:
    call_sid: str
    started_at: datetime
    caller: str  # masked
    language: str | None
    path: list[str]
    verified: str
    results: list[str]
    wait_seconds: int | None
    agent: str | None
    duration_seconds: int | None
    outcome: str  # the outcome, or where a call still going is
    case_reference: str | None
    reference_told: str | None
    notes: str | None


@dataclass(frozen=True)
class CallHistory:
    calls: list[CallLine]
    total: int


@dataclass(frozen=True)
class CallbackLine:
    id: int
    number: str  # masked
    customer_id: int | None
    customer_name: str | None
    language: str
    category: str
    urgent: bool
    requested_at: datetime
    done_at: datetime | None
    done_by: str | None
    outcome: str | None
    notes: str | None
    call: CallLine


@dataclass(frozen=True)
class CallbackBoard:
    owed: list[CallbackLine]
    done: list[CallbackLine]


def _label(key: str, lang: Lang) -> str | None:
    text = translate(key, lang)
    return None if text == key else text


class _Namer:
    """Staff names, customers' names and menu labels, each looked up once per page."""

    def __init__(self, db: Session, lang: Lang) -> None:
        self.db = db
        self.lang = lang
        self._staff: dict[int, str] = {}
        self._customers: dict[int, str] = {}
        self._menus: dict[int, dict[str, str]] = {}

    def staff(self, staff_id: int | None) -> str | None:
        if staff_id is None:
            return None
        if staff_id not in self._staff:
            self._staff[staff_id] = identity_service.get_staff(self.db, staff_id).display_name
        return self._staff[staff_id]

    def customer(self, customer_id: int | None) -> str | None:
        if customer_id is None:
            return None
        if customer_id not in self._customers:
            found = identity_service.get_customer(self.db, customer_id)
            self._customers[customer_id] = found.name
        return self._customers[customer_id]

    def steps(self, version: int) -> dict[str, str]:
        if version not in self._menus:
            try:
                tree = menu.get(self.db, version)
            except NotFound:
                tree = None
            self._menus[version] = _step_labels(tree, self.lang) if tree is not None else {}
        return self._menus[version]


def _step_labels(tree: MenuTree, lang: Lang) -> dict[str, str]:
    """Each node by the option that leads to it ("back" options aside), the root as the
    main menu."""
    labels = {tree.root: translate("voice.console.path.root", lang)}
    for node in tree.nodes.values():
        if not isinstance(node, MenuNode):
            continue
        for option in node.options:
            if option.key != "*" and option.to not in labels:
                labels[option.to] = text_of(option.label, lang)
    return labels


def _verified(call: VoiceCall, lang: Lang) -> str:
    if call.identified_by is None:
        return translate("voice.console.verified.none", lang)
    if call.verified_at is None:
        return translate("voice.console.verified.matched_only", lang)
    return translate(f"voice.console.verified.{call.identified_by}", lang)


def _result(result: dict[str, Any], lang: Lang) -> str | None:
    action = str(result.get("action", ""))

    def say(key: str, **params: Any) -> str:
        return translate(f"voice.console.result.{key}", lang, **params)

    def code(prefix: str, value: Any) -> str:
        return _label(f"{prefix}.{value}", lang) or str(value)

    if action == "verified":
        return None  # shown as what was verified
    if action == "last_topup":
        if not result.get("found"):
            return say("last_topup_none")
        status = code("console.tx_status", result.get("status"))
        if result.get("reason"):
            return say(
                "last_topup_reason",
                status=status,
                reason=code("console.status_reason", result["reason"]),
            )
        return say("last_topup", status=status)
    if action == "freeze":
        if result.get("done"):
            return say("freeze", reference=result.get("reference", ""))
        return say("freeze_already")
    if action in ("topup_traced", "callback"):
        reference = result.get("reference") or ""
        return say(f"{action}_reference", reference=reference) if reference else say(action)
    if action == "case_progress":
        return say(
            "case_progress",
            reference=result.get("reference", ""),
            status=code("case.status", result.get("status")),
        )
    if action == "check_number":
        return say("check_number", verdict=code("antifraud.web.verdict", result.get("verdict")))
    return _label(f"voice.console.result.{action}", lang) or action


def _line(call: VoiceCall, names: _Namer) -> CallLine:
    lang = names.lang
    steps = names.steps(call.menu_version)
    if call.outcome:
        outcome = translate(f"voice.outcome.{call.outcome}", lang)
    else:
        outcome = translate(f"voice.console.status.{call.status}", lang)
    return CallLine(
        call_sid=call.call_sid,
        started_at=call.started_at,
        caller=call.caller_masked,
        language=call.language,
        path=[steps.get(node, node) for node in call.path],
        verified=_verified(call, lang),
        results=[text for r in call.results if (text := _result(r, lang)) is not None],
        wait_seconds=call.queue_wait_seconds,
        agent=names.staff(call.agent_staff_id),
        duration_seconds=call.duration_seconds,
        outcome=outcome,
        case_reference=call.case_reference,
        reference_told=call.reference_told,
        notes=call.notes,
    )


def customer_calls(
    db: Session, customer_id: int, lang: Lang, *, limit: int = TIMELINE_LIMIT
) -> CallHistory:
    """The customer's calls, newest first, and how many there are in all."""
    flt = calls.CallFilter(customer_id=customer_id)
    names = _Namer(db, lang)
    return CallHistory(
        calls=[_line(call, names) for call in calls.list_calls(db, flt, limit=limit)],
        total=calls.count_calls(db, flt),
    )


@dataclass(frozen=True)
class CallStep:
    at: datetime
    text: str


@dataclass(frozen=True)
class CallRecord:
    """One call as a reviewer reads it: the summary line and every step it went through."""

    call: CallLine
    steps: list[CallStep]


def call_record(db: Session, call_sid: str, lang: Lang) -> CallRecord | None:
    """The call's line and its events in order, in ``lang`` (menus by the label the caller
    heard; keys pressed, never a code)."""
    found = calls.get(db, call_sid)
    if found is None:
        return None
    names = _Namer(db, lang)
    labels = names.steps(found.menu_version)
    steps = []
    for event in calls.events(db, found):
        text = translate(f"voice.event.{event.kind}", lang)
        if text == f"voice.event.{event.kind}":
            text = translate("voice.event.other", lang)
        node = event.data.get("node")
        if event.kind in ("node", "option") and isinstance(node, str):
            text += f" · {labels.get(node, node)}"
        key = event.data.get("key")
        if event.kind == "option" and isinstance(key, str) and key.isdigit() and len(key) <= 2:
            text += f" · {key}"
        if event.kind == "result" and (said := _result(event.data, lang)) is not None:
            text += f" · {said}"
        steps.append(CallStep(at=event.created_at, text=text))
    return CallRecord(call=_line(found, names), steps=steps)


def _callback_line(row: VoiceCallback, names: _Namer, db: Session) -> CallbackLine:
    return CallbackLine(
        id=row.id,
        number=row.number_masked,
        customer_id=row.customer_id,
        customer_name=names.customer(row.customer_id),
        language=row.language,
        category=row.category,
        urgent=row.urgent,
        requested_at=row.requested_at,
        done_at=row.done_at,
        done_by=names.staff(row.done_by_id),
        outcome=(
            translate(f"voice.console.callback_outcome.{row.outcome}", names.lang)
            if row.outcome
            else None
        ),
        notes=row.notes,
        call=_line(callbacks.call_of(db, row), names),
    )


def callback_board(db: Session, lang: Lang, *, limit: int = 50) -> CallbackBoard:
    """Call-backs owed (urgent first, then oldest) and the latest ones done."""
    names = _Namer(db, lang)
    return CallbackBoard(
        owed=[
            _callback_line(row, names, db)
            for row in callbacks.list_callbacks(db, status="requested", limit=limit)
        ],
        done=[_callback_line(row, names, db) for row in callbacks.recently_done(db, limit=10)],
    )
