"""What the hotline's staff API reads and takes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from kefu.voice.models import VoiceCall, VoiceCallback, VoiceCallEvent, VoiceMenu


class CallRead(BaseModel):
    """A call as staff see it: the caller's number masked, never a code."""

    call_sid: str
    caller: str
    customer_id: int | None
    language: str | None
    identified_by: str | None
    verified_at: datetime | None
    menu_path: list[str]
    self_service: list[dict[str, Any]]
    status: str
    outcome: str | None
    category: str | None
    urgent: bool
    queue_wait_seconds: int | None
    agent_staff_id: int | None
    case_reference: str | None
    reference_told: str | None
    notes: str | None
    survey_score: int | None
    started_at: datetime
    ended_at: datetime | None
    duration_seconds: int | None

    @classmethod
    def of(cls, call: VoiceCall) -> CallRead:
        return cls(
            call_sid=call.call_sid,
            caller=call.caller_masked,
            customer_id=call.customer_id,
            language=call.language,
            identified_by=call.identified_by if call.verified_at else None,
            verified_at=call.verified_at,
            menu_path=list(call.path),
            self_service=list(call.results),
            status=call.status,
            outcome=call.outcome,
            category=call.category,
            urgent=call.urgent,
            queue_wait_seconds=call.queue_wait_seconds,
            agent_staff_id=call.agent_staff_id,
            case_reference=call.case_reference,
            reference_told=call.reference_told,
            notes=call.notes,
            survey_score=call.survey_score,
            started_at=call.started_at,
            ended_at=call.ended_at,
            duration_seconds=call.duration_seconds,
        )


class CallEventRead(BaseModel):
    kind: str
    data: dict[str, Any]
    created_at: datetime

    @classmethod
    def of(cls, event: VoiceCallEvent) -> CallEventRead:
        return cls(kind=event.kind, data=dict(event.data), created_at=event.created_at)


class CallDetail(CallRead):
    events: list[CallEventRead]


class CallUpdate(BaseModel):
    notes: str | None = Field(default=None, max_length=4000)
    outcome: (
        Literal["self_service", "agent", "callback", "abandoned", "hung_up", "failed"] | None
    ) = None
    case: str | None = Field(default=None, max_length=64)


class CallSummaryDrafts(BaseModel):
    """The summary the caller would receive, per outcome (solved, open, waiting)."""

    drafts: dict[str, str]


class CallSummarySend(BaseModel):
    outcome: Literal["solved", "open", "waiting"]
    # the agent's edit of the draft; empty or absent sends the draft
    text: str | None = Field(default=None, max_length=1000)


class CallSummarySent(BaseModel):
    case: str
    case_status: str
    text: str


class CallbackRead(BaseModel):
    id: int
    call_sid: str
    customer_id: int | None
    number: str  # masked
    language: str
    category: str
    urgent: bool
    status: str
    case_id: int | None
    requested_at: datetime
    done_at: datetime | None
    outcome: str | None
    notes: str | None

    @classmethod
    def of(cls, row: VoiceCallback, call_sid: str) -> CallbackRead:
        return cls(
            id=row.id,
            call_sid=call_sid,
            customer_id=row.customer_id,
            number=row.number_masked,
            language=row.language,
            category=row.category,
            urgent=row.urgent,
            status=row.status,
            case_id=row.case_id,
            requested_at=row.requested_at,
            done_at=row.done_at,
            outcome=row.outcome,
            notes=row.notes,
        )


class CallbackNumber(BaseModel):
    number: str


class CallbackDone(BaseModel):
    outcome: Literal["reached", "no_answer", "wrong_number"]
    notes: str | None = Field(default=None, max_length=2000)


class MenuRead(BaseModel):
    version: int
    tree: dict[str, Any]
    comment: str | None
    created_by: str
    created_at: datetime

    @classmethod
    def of(cls, row: VoiceMenu) -> MenuRead:
        return cls(
            version=row.version,
            tree=dict(row.tree),
            comment=row.comment,
            created_by=row.created_by,
            created_at=row.created_at,
        )


class MenuPublish(BaseModel):
    tree: dict[str, Any]
    comment: str | None = Field(default=None, max_length=200)


class MenuCheck(BaseModel):
    ok: bool
    problems: list[str]
