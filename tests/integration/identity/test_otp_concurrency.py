"""Parallel guesses against one verification: the lock holds however they interleave."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kefu.channels.senders import build_senders
from kefu.config import Settings
from kefu.errors import CodeInvalid, VerificationLocked
from kefu.identity import otp
from kefu.identity import secrets as kefu_secrets
from kefu.identity import service as identity_service
from kefu.identity.models import Verification

GUESSES = 12


def test_parallel_wrong_codes_are_counted_one_by_one(
    isolated_database: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kefu_secrets, "new_numeric_code", lambda: "999999")
    with Session(isolated_database) as db:
        identity_service.create_customer(
            db, wallet_account_id="W-1", name="张伟", phone="+8613800000001"
        )
        sent = otp.start_verification(
            db,
            contact="+8613800000001",
            channel="web",
            settings=settings,
            senders=build_senders(settings),
        )
        public_id = sent.verification.public_id
        db.commit()

    barrier = threading.Barrier(GUESSES)

    def guess(index: int) -> str:
        with Session(isolated_database) as db:
            barrier.wait()
            try:
                otp.confirm_code(
                    db, verification_public_id=public_id, code=f"{index:06d}", settings=settings
                )
            except (CodeInvalid, VerificationLocked) as exc:
                db.commit()
                return exc.code
            db.commit()
            return "verified"  # cannot happen: every guess is wrong

    with ThreadPoolExecutor(max_workers=GUESSES) as pool:
        outcomes = list(pool.map(guess, range(GUESSES)))

    with Session(isolated_database) as db:
        verification = db.scalars(
            select(Verification).where(Verification.public_id == public_id)
        ).one()
        assert verification.status == "locked"
        assert verification.failed_attempts == settings.otp_max_attempts
    assert outcomes.count("code_invalid") == settings.otp_max_attempts - 1
    assert outcomes.count("verification_locked") == GUESSES - settings.otp_max_attempts + 1
