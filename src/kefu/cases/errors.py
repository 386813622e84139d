"""Case errors, each with a catalogue text in both languages."""

from __future__ import annotations

from kefu.errors import Conflict, InvalidInput, KefuError, NotFound


class CaseNotFound(NotFound):
    """Unknown reference, or a case the caller may not see: the answer is the same."""

    code = "case_not_found"
    message_key = "error.case.not_found"


class CaseFinished(Conflict):
    """The case is resolved or closed; this change needs an open case."""

    code = "case_finished"
    message_key = "error.case.finished"


class UnknownValue(InvalidInput):
    """A category, priority, channel, tier or link kind that does not exist."""

    code = "case_unknown_value"
    message_key = "error.case.unknown_value"


class EscalationNotPossible(Conflict):
    code = "case_escalation_not_possible"
    message_key = "error.case.escalation_not_possible"


class AttachmentTooLarge(KefuError):
    status = 413
    code = "attachment_too_large"
    message_key = "error.case.attachment_too_large"


class AttachmentTypeRefused(KefuError):
    status = 415
    code = "attachment_type_refused"
    message_key = "error.case.attachment_type_refused"


class SlaPolicyNotFound(NotFound):
    code = "sla_policy_not_found"
    message_key = "error.case.sla_policy_not_found"
