"""Trace a top-up that has not arrived, or a transfer or withdrawal that has not reached
its payee: the movement is linked to the case in hand, or to the customer's open trace of
it, or to a new traced case whose committed time the customer is told. Whatever surface
asks (the console, the staff API, the assistant, the phone), the layer checks the
permission and the verification (a light one is enough: a trace moves no money), writes
the audit row and notes the trace on the case, once per idempotency key."""

from __future__ import annotations

from dataclasses import dataclass

from kefu import audit
from kefu.cases import service as cases_service
from kefu.channels.senders import Senders
from kefu.errors import InvalidInput
from kefu.i18n import normalise_lang, translate
from kefu.identity import service as identity_service
from kefu.identity.models import Customer
from kefu.support import notes
from kefu.support.money import Asked, Money, command
from kefu.support.notes import Told
from kefu.wallet.errors import WalletNotFound
from kefu.wallet.schemas import TransactionView


@dataclass(frozen=True)
class _Kind:
    link: str  # the case link kind
    category: str  # the category of a traced case the layer opens
    subject: str  # its subject's catalogue key
    note: str  # the case note's action
    audit: str  # the audit row's action
    told: str  # what the customer reads on the case


_TOP_UP = _Kind(
    "topup",
    "recharge_not_credited",
    "support.trace.subject",
    "wallet.trace_topup",
    "wallet.topup.trace",
    "support.told.trace_topup",
)
_MOVE_OUT = _Kind(
    "transaction",
    "transfer_not_arrived",
    "support.trace.subject_transfer",
    "wallet.trace_transfer",
    "wallet.transfer.trace",
    "support.told.trace_transfer",
)
KINDS = {"topup": _TOP_UP, "transfer": _MOVE_OUT, "withdrawal": _MOVE_OUT}


@command
def trace(
    m: Money,
    asked: Asked,
    *,
    transaction_id: str,
    senders: Senders,
    channel: str = "console",
) -> str:
    """The reference of the case the movement is traced on. ``asked.customer_id`` names
    the customer (the account's holder when not given); another account's movement
    answers as unknown. A new case is opened on ``channel``."""
    asked.requester.require(m.db, "case.write", "trace")
    moved = m.wallet.get_transaction(transaction_id.strip())
    kind = KINDS.get(moved.kind)
    if kind is None or (moved.kind != "topup" and moved.direction != "out"):
        raise InvalidInput(
            "only top-ups, transfers and withdrawals are traced", field="transaction_id"
        )
    customer = _holder(m, asked, moved)
    asked = Asked(
        requester=asked.requester,
        key=asked.key,
        reason=asked.reason,
        customer_id=customer.id,
        case_reference=asked.case_reference
        or _open_trace(m, customer.id, kind, moved.id)
        or _new_case(m, asked, customer, kind, moved, senders, channel),
    )
    assert asked.case_reference is not None
    case = cases_service.get_customer_case(
        m.db, customer_id=customer.id, reference=asked.case_reference
    )
    cases_service.link(
        m.db, case, kind=kind.link, external_id=moved.id, actor=asked.requester.actor, now=m.at
    )
    if not cases_service.noted(m.db, case, once=asked.key):  # a replay audits nothing
        audit.record(
            m.db,
            actor=asked.requester.actor,
            action=kind.audit,
            customer_id=customer.id,
            case_reference=case.reference,
            after={
                "transaction": moved.id,
                "kind": moved.kind,
                "status": moved.status,
                "status_reason": moved.status_reason,
                "amount": f"{moved.amount:.2f}",
                "staff_reason": asked.reason,
            },
        )
    told = Told(kind.told, amount=f"{moved.amount:.2f}")
    notes.note(
        m,
        asked,
        action=kind.note,
        account_id=moved.account_id,
        told=told,
        transaction=moved.id,
    )
    return case.reference


def _holder(m: Money, asked: Asked, moved: TransactionView) -> Customer:
    holder = identity_service.find_customer_by_account(m.db, moved.account_id)
    if holder is None or (asked.customer_id is not None and holder.id != asked.customer_id):
        raise WalletNotFound("no such transaction", what="transaction", ref=moved.id)
    return holder


def _open_trace(m: Money, customer_id: int, kind: _Kind, moved_id: str) -> str | None:
    for case in cases_service.cases_linked_to(m.db, kind=kind.link, external_id=moved_id):
        if case.customer_id == customer_id and case.status not in ("resolved", "closed"):
            return case.reference
    return None


def _new_case(
    m: Money,
    asked: Asked,
    customer: Customer,
    kind: _Kind,
    moved: TransactionView,
    senders: Senders,
    channel: str,
) -> str:
    lang = normalise_lang(customer.language) or m.settings.default_language
    case = cases_service.open_case(
        m.db,
        new=cases_service.NewCase(
            customer_id=customer.id,
            category=kind.category,
            channel=channel,
            subject=translate(
                kind.subject,
                lang,
                amount=f"{moved.amount:.2f}",
                time=moved.created_at.astimezone(m.settings.tz).strftime("%Y-%m-%d %H:%M"),
            ),
            links=((kind.link, moved.id),),
        ),
        actor=asked.requester.actor,
        settings=m.settings,
        now=m.at,
        senders=senders,
    )
    return case.reference
