"""API shapes for cases: one staff read shape, one customer read shape, and the inputs."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from kefu.cases import timeline
from kefu.cases.categories import Category
from kefu.cases.models import Case, CaseEvent, CaseLink, SlaPolicy
from kefu.config import Settings
from kefu.i18n import Lang, translate
from kefu.numbers import RowId

StatusName = Literal["new", "open", "pending_customer", "pending_third_party", "resolved", "closed"]


class Versioned(BaseModel):
    """``version`` is the case's ``version`` as last read: when given, a case changed since
    answers 409 instead of taking a change made against an old state."""

    version: str | None = Field(default=None, max_length=64)


class DeviceIn(BaseModel):
    model: str | None = Field(default=None, max_length=80)
    os: str | None = Field(default=None, max_length=80)
    app_version: str | None = Field(default=None, max_length=40)


class LinkIn(BaseModel):
    kind: Literal["transaction", "topup", "refund", "dispute", "call", "case"]
    external_id: str = Field(min_length=1, max_length=64)


class LinkAddIn(LinkIn, Versioned):
    pass


class CaseCreate(BaseModel):
    customer_id: RowId
    category: str = Field(max_length=40)
    channel: str = Field(default="console", max_length=16)
    subject: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=20_000)
    priority: str | None = Field(default=None, max_length=10)
    language: Literal["zh-CN", "en"] | None = None
    device: DeviceIn = Field(default_factory=DeviceIn)
    links: list[LinkIn] = Field(default_factory=list, max_length=20)


class CaseUpdate(Versioned):
    subject: str | None = Field(default=None, min_length=1, max_length=200)
    category: str | None = Field(default=None, max_length=40)
    priority: str | None = Field(default=None, max_length=10)
    device_model: str | None = Field(default=None, max_length=80)
    device_os: str | None = Field(default=None, max_length=80)
    app_version: str | None = Field(default=None, max_length=40)
    status: StatusName | None = None
    reason: str | None = Field(default=None, max_length=2000)


class AssignIn(Versioned):
    owner: str | None = Field(max_length=64)


class EscalateIn(Versioned):
    tier: Literal["tier2", "supervisor"]
    reason: str = Field(min_length=1, max_length=2000)
    owner: str | None = Field(default=None, max_length=64)


class MessageIn(Versioned):
    # the length limit is checked by the service, so the API and the console say the same
    body: str = Field(min_length=1, max_length=40_000)
    then: Literal["pending_customer", "pending_third_party"] | None = None
    via: Literal["email", "sms", "app"] | None = None  # default: by the case's channel


class NoteIn(Versioned):
    body: str = Field(min_length=1, max_length=20_000)


class ResolveIn(Versioned):
    summary: str = Field(min_length=1, max_length=20_000)
    resolution_code: str | None = Field(default=None, max_length=24)


class TransferIn(Versioned):
    tier: Literal["tier1", "tier2", "supervisor"]
    owner: str | None = Field(default=None, max_length=64)


class MergeIn(Versioned):
    duplicate: str = Field(min_length=1, max_length=64)


class ReopenIn(Versioned):
    reason: str = Field(min_length=1, max_length=2000)


class BulkIn(BaseModel):
    cases: list[str] = Field(min_length=1, max_length=200)
    change: Literal["assign", "status", "priority"]
    value: str | None = Field(default=None, max_length=64)


class BulkOut(BaseModel):
    changed: list[str]
    refused: dict[str, str]


class SavedViewIn(BaseModel):
    name: str = Field(min_length=1, max_length=60)
    query: str = Field(max_length=1000)


class SavedViewRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    query: str


class CustomerMessageIn(BaseModel):
    body: str = Field(min_length=1, max_length=20_000)


class EventRead(BaseModel):
    id: int
    kind: str
    visibility: str
    actor: str
    actor_role: str
    body: str | None
    data: dict[str, object]
    created_at: datetime

    @classmethod
    def of(cls, event: CaseEvent) -> EventRead:
        return cls(
            id=event.id,
            kind=event.kind,
            visibility=event.visibility,
            actor=event.actor,
            actor_role=event.actor_role,
            body=event.body,
            data=timeline.event_data(event),
            created_at=event.created_at,
        )


class LinkRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: str
    external_id: str


class CaseRead(BaseModel):
    """The staff view: everything, internal notes included when asked for the timeline."""

    model_config = ConfigDict(from_attributes=True)

    reference: str
    customer_id: int
    category: str
    priority: str
    channel: str
    status: str
    subject: str
    language: str
    tier: str
    owner_id: int | None
    device_model: str | None
    device_os: str | None
    app_version: str | None
    sla_calendar: str
    first_response_due_at: datetime | None
    resolution_due_at: datetime | None
    committed_at: datetime
    first_responded_at: datetime | None
    first_response_breached_at: datetime | None
    resolution_breached_at: datetime | None
    escalation_count: int
    resolved_at: datetime | None
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    merged_into_id: int | None = None
    resolution_code: str | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def version(self) -> str:
        """Send it back with a change to refuse one made against an old state."""
        return self.updated_at.isoformat()


class CaseViewPage(BaseModel):
    cases: list[CaseRead]
    next_cursor: str | None


class CaseFound(BaseModel):
    reference: str
    subject: str
    status: str
    matched: str  # reference | email | phone | account | text
    # the text in pieces, true where the query's words were found (to mark them)
    title: list[tuple[str, bool]]
    snippet: list[tuple[str, bool]]


class CaseFinding(BaseModel):
    query: str
    mistyped: bool
    hits: list[CaseFound]


class CaseDetail(CaseRead):
    links: list[LinkRead]
    timeline: list[EventRead]
    # a mail thread's open case: the summary resolving it would send, to edit first
    summary_draft: str | None = None


class PublicEvent(BaseModel):
    kind: str
    author: Literal["you", "staff", "assistant", "system"]
    body: str | None
    created_at: datetime


class CaseTracking(BaseModel):
    """What a verified customer sees: status, committed time, the public timeline."""

    reference: str
    category: str
    category_name: str
    status: str
    status_name: str
    committed_at: datetime
    committed_text: str
    created_at: datetime
    regulator_route: str | None
    timeline: list[PublicEvent]

    @classmethod
    def of(
        cls, case: Case, events: list[CaseEvent], settings: Settings, lang: Lang, committed: str
    ) -> CaseTracking:
        def author(event: CaseEvent) -> Literal["you", "staff", "assistant", "system"]:
            if event.actor_role == "customer":
                return "you"
            if event.actor_role == "assistant":
                return "assistant"
            return "system" if event.actor_role == "system" else "staff"

        finished = case.status in ("resolved", "closed")
        return cls(
            reference=case.reference,
            category=case.category,
            category_name=translate(f"case.category.{case.category}", lang),
            status=case.status,
            status_name=translate(f"case.status.{case.status}", lang),
            committed_at=case.committed_at,
            committed_text=committed,
            created_at=case.created_at,
            regulator_route=(
                translate("case.regulator_route", lang)
                if case.category == Category.COMPLAINT and finished
                else None
            ),
            # in the order things happened: a chat's messages join the timeline when the
            # chat changes, after events of the same moments
            timeline=[
                PublicEvent(kind=e.kind, author=author(e), body=e.body, created_at=e.created_at)
                for e in sorted(events, key=lambda e: (e.created_at, e.id))
            ],
        )


class CaseSummary(BaseModel):
    reference: str
    category_name: str
    status_name: str
    committed_at: datetime
    created_at: datetime


class SlaPolicyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    category: str
    priority: str
    first_response_minutes: int
    resolution_minutes: int
    calendar: str
    pause_on_customer: bool
    progress_every_hours: int | None
    updated_at: datetime
    updated_by: str


class SlaPolicyUpdate(BaseModel):
    first_response_minutes: int | None = Field(default=None, ge=1, le=365 * 24 * 60)
    resolution_minutes: int | None = Field(default=None, ge=1, le=365 * 24 * 60)
    calendar: Literal["24x7", "business"] | None = None
    pause_on_customer: bool | None = None
    progress_every_hours: int | None = Field(default=None, ge=1, le=24 * 30)


class AttachmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    public_id: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    created_at: datetime


def link_reads(rows: list[CaseLink]) -> list[LinkRead]:
    return [LinkRead.model_validate(row) for row in rows]


def policy_read(row: SlaPolicy) -> SlaPolicyRead:
    return SlaPolicyRead.model_validate(row)
