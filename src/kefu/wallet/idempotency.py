"""Idempotency keys: the same key returns the first result and moves money once; the same
key with other arguments is refused.

The key is claimed *before* any work, in the operation's own transaction. A concurrent
request with the same key blocks on the primary key until the first one commits (then
reads its result) or rolls back (then does the work itself), so no check-then-insert race
can move money twice.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kefu import audit
from kefu.db import utcnow
from kefu.errors import InvalidInput
from kefu.wallet.errors import IdempotencyConflict
from kefu.wallet.models import IdempotencyKey

MAX_KEY_LENGTH = 100


@dataclass(frozen=True)
class ActionContext:
    """Who asks for a wallet action, under which idempotency key, for which case.

    ``customer_id`` is the identity customer, which the wallet itself does not know; the
    caller passes it so the audit row is found from the customer's page. ``reason`` is why
    the person acted, in their own words (already masked); it is kept on the audit row.
    """

    key: str
    actor: audit.Actor
    case_reference: str | None = None
    customer_id: int | None = None
    reason: str | None = None


def _digest(operation: str, args: dict[str, Any]) -> str:
    payload = json.dumps([operation, args], sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def _check_key(key: str) -> None:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise InvalidInput(
            f"an idempotency key is 1 to {MAX_KEY_LENGTH} printable ASCII characters",
            field="idempotency_key",
        )


def _replay(existing: IdempotencyKey, digest: str) -> str:
    if existing.request_hash != digest:
        raise IdempotencyConflict(
            "this idempotency key was used for a different request",
            idempotency_key=existing.key,
        )
    return existing.result_ref


def claim(db: Session, ctx: ActionContext, operation: str, args: dict[str, Any]) -> str | None:
    """Reserve ``ctx.key``; returns the first result's reference when the key was used."""
    _check_key(ctx.key)
    digest = _digest(operation, args)
    query = select(IdempotencyKey).where(IdempotencyKey.key == ctx.key)
    existing = db.scalar(query.execution_options(populate_existing=True))
    if existing is not None:
        return _replay(existing, digest)
    try:
        with db.begin_nested():
            db.add(
                IdempotencyKey(
                    key=ctx.key,
                    operation=operation,
                    request_hash=digest,
                    result_ref="",
                    created_at=utcnow(),
                )
            )
            db.flush()
    except IntegrityError:
        existing = db.scalar(query.execution_options(populate_existing=True))
        if existing is None:
            raise
        return _replay(existing, digest)
    return None


def complete(db: Session, ctx: ActionContext, result_ref: str | int) -> None:
    record = db.get(IdempotencyKey, ctx.key)
    assert record is not None, "complete() without claim()"
    record.result_ref = str(result_ref)
    db.flush()
