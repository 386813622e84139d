"""The survey's questions and timing, as a manager set them in the console.

The question kinds are fixed so every text has a catalogue entry in both languages; what is
configurable is which are asked, which low-score reasons are offered, what counts as low,
and the delays. Defaults apply until someone saves a change.
"""

from __future__ import annotations

from typing import Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy.orm import Session

from kefu import audit
from kefu.db import utcnow
from kefu.errors import InvalidInput
from kefu.quality.models import QualitySetting

NAME: Final = "survey"
REASONS: Final = ("long_wait", "not_solved", "attitude", "knowledge", "process", "other")


class SurveyConfig(BaseModel):
    model_config = ConfigDict(frozen=True)  # one per transaction, shared by its readers

    ask_solved: bool = True  # "was your problem solved?"
    ask_comment: bool = True  # an optional comment (card and e-mail page)
    ask_reasons: bool = True  # reason choices when the score is low
    reasons: list[str] = Field(default_factory=lambda: list(REASONS))
    low_score_max: int = Field(default=2, ge=1, le=4)
    chat_delay_minutes: int = Field(default=1, ge=0, le=24 * 60)
    sms_delay_minutes: int = Field(default=30, ge=0, le=7 * 24 * 60)
    email_delay_minutes: int = Field(default=60, ge=0, le=7 * 24 * 60)
    reminder_hours: int = Field(default=24, ge=0, le=14 * 24)  # 0: no reminder
    expiry_hours: int = Field(default=72, ge=1, le=30 * 24)
    followup_hours: int = Field(default=24, ge=1, le=14 * 24)

    @field_validator("reasons")
    @classmethod
    def _known_reasons(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(REASONS))
        if unknown:
            raise ValueError(f"unknown reasons {unknown}; expected some of {list(REASONS)}")
        return [reason for reason in REASONS if reason in value]

    def delay_minutes(self, channel: str) -> int:
        if channel == "chat":
            return self.chat_delay_minutes
        if channel == "email":
            return self.email_delay_minutes
        return self.sms_delay_minutes  # sms, and keypad's SMS fallback

    def asks_reasons(self, score: int | None) -> bool:
        return (
            self.ask_reasons
            and bool(self.reasons)
            and score is not None
            and score <= self.low_score_max
        )


_LOADED = "kefu.quality.survey_config"


def _transaction(db: Session) -> object | None:
    """The transaction a loaded config holds for: the innermost, so a save in a savepoint
    rolled back is not seen after it."""
    return db.get_nested_transaction() or db.get_transaction()


def load(db: Session) -> SurveyConfig:
    """The config, read once per transaction (a survey asks it at every step: the demo's
    history asked it 1,222 times, each a query while no manager had saved a change, since
    the session keeps no row that is not there). Another process's save is seen from the
    next transaction on, as the row was."""
    loaded: tuple[object, SurveyConfig] | None = db.info.get(_LOADED)
    if loaded is not None and loaded[0] is _transaction(db):
        return loaded[1]
    row = db.get(QualitySetting, NAME)
    config = SurveyConfig() if row is None else SurveyConfig.model_validate(row.value)
    db.info[_LOADED] = (_transaction(db), config)
    return config


def save(db: Session, changes: dict[str, object], *, actor: audit.Actor) -> SurveyConfig:
    before = load(db)
    try:
        after = SurveyConfig.model_validate({**before.model_dump(), **changes})
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "config"
        raise InvalidInput(f"{field}: {first['msg']}", field=field) from None
    row = db.get(QualitySetting, NAME)
    now = utcnow()
    if row is None:
        db.add(
            QualitySetting(
                name=NAME, value=after.model_dump(), updated_at=now, updated_by=actor.name
            )
        )
    else:
        row.value, row.updated_at, row.updated_by = after.model_dump(), now, actor.name
    db.flush()
    db.info[_LOADED] = (_transaction(db), after)
    audit.record(
        db,
        actor=actor,
        action="quality.survey_config",
        before=before.model_dump(),
        after=after.model_dump(),
    )
    return after
