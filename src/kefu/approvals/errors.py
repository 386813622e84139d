"""Approval errors, each with a catalogue text in both languages."""

from __future__ import annotations

from kefu.errors import Conflict, NotFound, PermissionDenied


class ApprovalNotFound(NotFound):
    code = "approval_not_found"
    message_key = "error.approval.not_found"


class OwnRequest(PermissionDenied):
    """Four eyes: whoever asked for an action cannot be the one who approves it."""

    code = "approval_own_request"
    message_key = "error.approval.own_request"


class AlreadyDecided(Conflict):
    code = "approval_already_decided"
    message_key = "error.approval.already_decided"


# what a person reads names the decision in words, never the stored status
class AlreadyApproved(AlreadyDecided):
    message_key = "error.approval.already_approved"


class AlreadyRejected(AlreadyDecided):
    message_key = "error.approval.already_rejected"


class RejectedBefore(Conflict):
    """A supervisor said no; the same person asks again only with new facts."""

    code = "approval_rejected_before"
    message_key = "error.approval.rejected_before"
