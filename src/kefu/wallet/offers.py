"""Which support actions a wallet's states allow, as the console pages offer them: a
succeeded payment is refunded (a deducted-but-failed one returned), a succeeded one
disputed, a top-up, an outgoing transfer or a withdrawal traced. The support layer
(``kefu.support``) still decides whether the person may and whether the action waits for
a supervisor; these only say what to offer."""

from __future__ import annotations

from dataclasses import dataclass

from kefu.masking import mask_card
from kefu.wallet.schemas import TransactionView

FREEZE_REASONS = ("customer_request", "stolen", "risk")
# the movement kind → the support action that traces it
TRACES = {"topup": "trace_topup", "transfer": "trace_transfer", "withdrawal": "trace_withdrawal"}


@dataclass(frozen=True)
class TransactionRow:
    view: TransactionView
    card: str | None
    refundable: bool  # a succeeded payment (refund) or one deducted but failed (reversal)
    disputable: bool
    trace: str | None  # the trace action offered: a top-up, an outgoing transfer or withdrawal


def row(view: TransactionView) -> TransactionRow:
    payment = view.kind == "payment"
    return TransactionRow(
        view=view,
        # a top-up's counterparty already names the bank and the card's last four
        card=(
            mask_card(view.card_last4)
            if view.card_last4 and view.card_last4 not in view.counterparty
            else None
        ),
        refundable=payment and view.status in ("succeeded", "deducted_failed"),
        disputable=payment and view.status == "succeeded",
        trace=TRACES.get(view.kind) if view.kind == "topup" or view.direction == "out" else None,
    )
