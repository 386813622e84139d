"""Demo data: one staff user per role and wallet customers for every problem in SPEC §3.

Only ``kefu demo seed`` calls this; the passwords below are listed in docs/demo.md and
exist nowhere else, so a deployment that never runs the demo has no default password.
"""

from __future__ import annotations

from rich.console import Console
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.antifraud import service as antifraud_service
from kefu.cases import demo as cases_demo
from kefu.config import get_settings
from kefu.db import utcnow
from kefu.identity import questions as security_questions
from kefu.identity import service as identity_service
from kefu.identity.models import StaffUser
from kefu.kb import service as kb_service
from kefu.quality import demo as quality_demo
from kefu.voice import menu as voice_menu

DEMO_STAFF: tuple[tuple[str, str, str, str], ...] = (
    # username, role, display name, password
    # names only: the console shows each role beside the name; none is a demo customer's
    ("admin", "admin", "孙浩", "kefu-admin-demo"),
    ("supervisor", "supervisor", "林慧", "kefu-supervisor-demo"),
    ("specialist", "specialist", "王强", "kefu-specialist-demo"),
    ("agent", "agent", "张敏", "kefu-agent-demo"),
)

# the demo's problem customers (13800000001 to 13800000011) answer security questions
DEMO_WITH_ANSWERS = 11


def demo_security_answers(index: int) -> dict[str, str]:
    """Demo customer ``index``'s security answers, listed in docs/demo.md."""
    return {
        "birth_date": f"199003{index:02d}",
        "id_last6": f"{index:05d}X",
        "own_number": f"{index:02d}5858",
    }


def already_seeded(db: Session) -> bool:
    return db.scalar(select(StaffUser.id).where(StaffUser.username == "admin")) is not None


def seed(
    db: Session,
    *,
    extra_customers: int = 0,
    console: Console | None = None,
    history: bool = True,
) -> str:
    """Create the demo staff and the wallet's demo customers; commits in batches.

    The wallet decides which accounts exist and what is wrong with each; identity links a
    customer to every account so that one-time codes reach its phone and e-mail.
    ``history`` adds two weeks of past contacts for the quality dashboard (most of the
    time the seed takes; tests that do not look at the dashboard leave it out) and a few
    open cases for the agent's case workspace.
    """
    from kefu.wallet import demo as wallet_demo

    for username, role, display_name, password in DEMO_STAFF:
        if identity_service.get_staff_by_username(db, username) is None:
            identity_service.create_staff(
                db, username=username, password=password, role=role, display_name=display_name
            )
    db.commit()
    holders = wallet_demo.seed_accounts(db, extra_customers=extra_customers, console=console)
    for index, holder in enumerate(holders, start=1):
        customer = identity_service.create_customer(
            db,
            wallet_account_id=holder.account_id,
            name=holder.name,
            phone=holder.phone,
            email=holder.email,
            language=holder.language,
        )
        if index <= DEMO_WITH_ANSWERS:
            security_questions.seed_answers(
                db, customer_id=customer.id, answers=demo_security_answers(index)
            )
        if index % 5000 == 0:
            db.commit()
    db.commit()
    kb_service.load_shipped_articles(db)
    db.commit()
    antifraud_service.seed_demo(db)
    db.commit()
    voice_menu.ensure_default(db)  # the hotline's shipped menu, version 1
    db.commit()
    if history:
        quality_demo.seed_history(db, settings=get_settings(), now=utcnow())
        db.commit()
        cases_demo.seed_cases(db, settings=get_settings(), now=utcnow())
        db.commit()
    return f"demo data loaded: {len(DEMO_STAFF)} staff users, {len(holders)} customers"
