"""The guided flows: one module per problem that needs the customer's account or a case,
the steps they share in :mod:`kefu.bot.flows.common`, and here the registry by intent.

A flow has a start (the first message that named the problem), steps (each answers the
customer's next message, or returns None when the message does not fit, so the dialog can
treat it as a change of mind), and the point it resumes at once the customer is verified.
"""

from __future__ import annotations

from kefu.bot.flows import (
    case_tracking,
    complaint,
    locked,
    official,
    payment,
    refund,
    stolen,
    suspicious_login,
    topup,
    transactions,
    transfer,
    unauthorised,
)
from kefu.bot.flows.common import Flow, explain_error
from kefu.bot.flows.official import official_candidates

FLOWS: dict[str, Flow] = {
    **official.FLOWS,
    **topup.FLOWS,
    **payment.FLOWS,
    **transfer.FLOWS,
    **refund.FLOWS,
    **transactions.FLOWS,
    **unauthorised.FLOWS,
    **stolen.FLOWS,
    **locked.FLOWS,
    **suspicious_login.FLOWS,
    **case_tracking.FLOWS,
    **complaint.FLOWS,
}

__all__ = ["FLOWS", "Flow", "explain_error", "official_candidates"]
