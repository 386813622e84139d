"""No raw code in front of a person: the main pages (help center, case tracking, the console
as an agent and as a supervisor) and the texts sent to customers are walked in both
languages, and any intent id, message key, tier code, IANA zone, audit actor, doubled
title or +86 before a service number fails the test, so a new leak is caught."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.integration.web.web_helpers import code_from_outbox, csrf, hidden_fields

from kefu import audit, demo
from kefu.antifraud.models import RegistryEntry
from kefu.bot import service as bot_service
from kefu.cases import service as cases_service
from kefu.cases.transitions import Mover, Status
from kefu.channels.models import OutboxMessage
from kefu.channels.senders import build_senders
from kefu.chat.models import Conversation
from kefu.config import Settings
from kefu.db import utcnow
from kefu.identity import service as identity_service
from kefu.kb import service as kb_service
from kefu.wallet.port import build_wallet

DOMAINS = (
    "antifraud|approval|approvals|audit|bot|case|chat|console|email|error|faq|help|identity"
    "|quality|routing|sla|sms|survey|time|verification|voice|wallet|web"
)
RAW = {
    "enum or intent id": re.compile(r"(?<![\w@./:#=-])[a-z]+(?:_[a-z]+)+(?![\w@.-])"),
    "message key": re.compile(rf"(?<![\w@./-])(?:{DOMAINS})\.[a-z_]+(?:\.[a-z_]+)*(?![\w@-])"),
    "tier code": re.compile(r"\btier\d\b"),
    "time zone id": re.compile(r"\b(?:Asia|Europe|America|Etc)/[A-Z]"),
    "audit actor": re.compile(
        r"\b(?:staff|assistant|customer|system):[\w:]+"
        r"|\((?:assistant|agent|supervisor|specialist|admin|system|customer)\)"
    ),
    "title twice": re.compile(r"(客服|主管|专员|管理员)\s*(?:\S{1,8}\s*·\s*\S*)?\1"),
    "+86 before a service number": re.compile(r"\+86(?:95|400|800)\d+"),
}
# Latin words that are codes when they stand alone on a Chinese page
ZH_CODES = re.compile(r"(?<![\w@./:-])(?:web|app|wechat|voice|sms|email|phone|chat)(?![\w@.-])")
SEEN_ATTRIBUTES = re.compile(r'\b(?:title|aria-label|placeholder|alt)="([^"]*)"')


def visible_text(page: str) -> str:
    """What a person reads: the text and the attributes a browser shows or speaks."""
    shown = " ".join(html.unescape(value) for value in SEEN_ATTRIBUTES.findall(page))
    page = re.sub(r"<(script|style|template)\b[^>]*>.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<!--.*?-->", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page)) + " " + shown


def leaks(text: str, *, chinese: bool) -> list[str]:
    found = [f"{name}: {m.group(0)!r}" for name, rx in RAW.items() for m in rx.finditer(text)]
    if chinese:
        found += [f"code on a Chinese page: {m.group(0)!r}" for m in ZH_CODES.finditer(text)]
    return found


def check(client: TestClient, paths: Iterable[str], who: str) -> list[str]:
    problems = []
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, (who, path, response.status_code)
        chinese = "lang=en" not in path and '<html lang="en"' not in response.text
        problems += [
            f"{who} {path} {leak}" for leak in leaks(visible_text(response.text), chinese=chinese)
        ]
    return problems


def sign_in(client: TestClient, username: str, password: str) -> None:
    form = client.get("/console/login")
    response = client.post(
        "/console/login",
        data={"username": username, "password": password, "csrf_token": csrf(form.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


@pytest.fixture
def busy_day(db: Session, settings: Settings) -> dict[str, str]:
    """The demo, with what a working day leaves behind: a case opened by an agent and
    resolved, a chat the assistant handed over, articles and the official channels."""
    demo.seed(db, history=False)
    kb_service.load_shipped_articles(db)
    customer = identity_service.find_customer_by_contact(db, "13800000002")
    assert customer is not None and customer.phone
    agent = audit.Actor(name="staff:agent", role="agent")
    now = utcnow()
    case = cases_service.open_case(
        db,
        new=cases_service.NewCase(
            customer_id=customer.id,
            category="recharge_not_credited",
            channel="web",
            subject="充值没到账",
            description="充值500元没到账",
            priority="normal",
        ),
        actor=agent,
        settings=settings,
        now=now,
    )
    cases_service.acknowledge(db, case, settings=settings, senders=build_senders(settings), now=now)
    cases_service.assign(db, case, owner_username="agent", actor=agent, now=now)
    cases_service.move(
        db, case, target=Status.RESOLVED, mover=Mover.STAFF, actor=agent, settings=settings, now=now
    )
    senders, wallet = build_senders(settings), build_wallet(settings)(db)
    conversation, _ = bot_service.start_conversation(
        db,
        settings=settings,
        senders=senders,
        wallet=wallet,
        channel="web",
        language="zh-CN",
        customer_id=customer.id,
    )
    bot_service.respond(
        db, conversation, "转人工", settings=settings, senders=senders, wallet=wallet
    )
    db.commit()
    return {
        "customer": str(customer.id),
        "phone": customer.phone,
        "case": case.reference,
        "chat": str(conversation.id),
    }


def test_public_pages_and_case_tracking(
    client: TestClient, db: Session, busy_day: dict[str, str]
) -> None:
    public = [
        "/help",
        "/help?lang=en",
        "/help/search?q=退款没到",
        "/help/search?q=refund&lang=en",
        "/help/articles/account_stolen",
        "/help/articles/human_agent?lang=en",
        "/help/contact",
        "/help/contact?lang=en",
        "/help/track",
        "/help/report",
    ]
    problems = check(client, public, "visitor")
    form = client.get("/help/track")
    code_page = client.post(
        "/help/track",
        data={
            "reference": busy_day["case"],
            "contact": busy_day["phone"],
            "csrf_token": csrf(form.text),
        },
    )
    assert code_page.status_code == 200, code_page.text
    confirmed = client.post(
        "/help/track/confirm",
        data={**hidden_fields(code_page.text), "code": code_from_outbox(db, busy_day["phone"])},
        follow_redirects=False,
    )
    assert confirmed.status_code == 303, confirmed.text
    problems += check(client, [confirmed.headers["location"]], "customer")
    assert not problems, "\n".join(problems)


def test_texts_sent_to_customers(db: Session, busy_day: dict[str, str]) -> None:
    sent = db.scalars(select(OutboxMessage.body)).all()
    assert any("北京时间" in body for body in sent), sent
    problems = [leak for body in sent for leak in leaks(body, chinese=False)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("username", "password"),
    [("agent", "kefu-agent-demo"), ("supervisor", "kefu-supervisor-demo")],
)
def test_console_pages(
    client: TestClient, db: Session, busy_day: dict[str, str], username: str, password: str
) -> None:
    sign_in(client, username, password)
    conversation = db.get(Conversation, int(busy_day["chat"]))
    assert conversation is not None
    pages = [
        "/console",
        "/console/inbox",
        "/console/callbacks",
        f"/console/customers/{busy_day['customer']}",
        "/console/cases",
        f"/console/cases/{busy_day['case']}",
        f"/console/cases/{busy_day['case']}?lang=en",
        f"/console/customers/{busy_day['customer']}?lang=en",
        "/console/antifraud",
        "/console/antifraud/registry",
        *(f"/console/antifraud/registry/{entry}" for entry in db.scalars(select(RegistryEntry.id))),
    ]
    if username == "supervisor":
        pages += [
            "/console/queues",
            "/console/approvals",
            f"/console/chats/{busy_day['chat']}",
            "/console/quality",
            "/console/quality/trends",
            "/console/quality/reviews",
            "/console/quality/tasks",
            "/console/quality/staffing",
            f"/console/customers/{busy_day['customer']}/calls",
            "/help/verify?value=4008-123-456",  # a look-up, for the figures page next
            "/console/antifraud/lookups",
        ]
    problems = check(client, pages, username)
    assert not problems, "\n".join(problems)
