"""Refusals of staff sign-in and staff administration, each with its catalogue text."""

from __future__ import annotations

from kefu.errors import Conflict, InvalidInput, KefuError


class TwoFactorWrong(KefuError):
    status = 401
    code = "two_factor_wrong"
    message_key = "staff.error.two_factor_wrong"


class TwoFactorLocked(KefuError):
    status = 423
    code = "two_factor_locked"
    message_key = "staff.error.two_factor_locked"


class TwoFactorSetupRequired(KefuError):
    """The role must sign in with two factors and this person has not set them up yet."""

    status = 403
    code = "two_factor_setup_required"
    message_key = "staff.error.two_factor_setup_required"


class TwoFactorNeeded(KefuError):
    """A token was asked for without the code from the authenticator app."""

    status = 401
    code = "two_factor_needed"
    message_key = "staff.error.two_factor_needed"


class LinkUnusable(KefuError):
    status = 410
    code = "link_unusable"
    message_key = "staff.error.link_unusable"


class EmailTaken(Conflict):
    code = "email_taken"
    message_key = "staff.error.email_taken"


class StaleEdit(Conflict):
    code = "stale_edit"
    message_key = "staff.error.stale"


class WeakPassword(InvalidInput):
    code = "weak_password"
    message_key = "staff.error.weak_password"
