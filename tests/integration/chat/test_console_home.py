"""The agent's console home counts the customers queued for their skills beside the chats
offered to them: an agent who is not online is offered nothing, and the home used to read
0 while a customer waited in the queue the inbox showed."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.factories import make_staff
from tests.integration.web.web_helpers import sign_in
from tests.statements import statements_sent

from kefu.chat import routing
from kefu.config import Settings
from kefu.identity.permissions import ROLE_ORDER, has_permission

_FIGURE = re.compile(
    r'<span class="figure-count">([^<]*)</span><span class="figure-label">([^<]*)</span>'
)
QUEUED = "我的队列中等待的客户"
OFFERED = "等我接入的客户"
SERVING = "我正在接待的客户"
NOT_ONLINE = "您现在是「离线」：排队的客户只分配给在线的客服"


def figures(html: str) -> dict[str, str]:
    return {label: count for count, label in _FIGURE.findall(html)}


def enqueue(db: Session, settings: Settings, **kwargs: str) -> routing.WorkItem:
    values = {"language": "zh-CN", "category": "recharge_not_credited", **kwargs}
    return routing.enqueue(db, kind="chat", settings=settings, **values)  # type: ignore[arg-type]


def test_an_offline_agent_sees_the_customers_queued_for_them(
    client: TestClient, db: Session, settings: Settings
) -> None:
    agent = make_staff(db, "agent")  # never opened the inbox: offline, default skills
    waiting = enqueue(db, settings)
    enqueue(db, settings, language="en")  # not their language
    enqueue(db, settings, tier="tier2")  # not their tier
    db.commit()
    sign_in(client, agent.username)

    home = client.get("/console").text
    assert figures(home)[QUEUED] == "1"
    assert figures(home)[OFFERED] == "0"
    assert NOT_ONLINE in home
    assert 'href="/console/inbox">到收件箱上线</a>' in home
    english = client.get("/console", params={"lang": "en"}).text
    assert figures(english)["customers waiting in my queues"] == "1"
    assert "Your status is Offline: waiting customers are offered only to agents" in english

    # another agent online is offered the chat: its customer still waits in this queue
    other = make_staff(db, "agent")
    routing.set_presence(db, other, "online", settings=settings)
    assert waiting.offered_to_id == other.id
    db.commit()
    # ?lang=en stays for the session; back to Chinese
    assert figures(client.get("/console", params={"lang": "zh-CN"}).text)[QUEUED] == "1"

    # the other goes away, this agent comes online: the chat is offered to them instead
    routing.set_presence(db, other, "offline", settings=settings)
    routing.set_presence(db, agent, "online", settings=settings)
    assert waiting.offered_to_id == agent.id
    db.commit()
    home = client.get("/console").text
    assert figures(home)[QUEUED] == "0"
    assert figures(home)[OFFERED] == "1"
    assert "排队的客户只分配给在线的客服" not in home


def test_a_chat_sent_to_an_agent_by_name_is_queued_for_them_alone(
    client: TestClient, db: Session, settings: Settings
) -> None:
    supervisor = make_staff(db, "supervisor")
    named = make_staff(db, "agent")
    bystander = make_staff(db, "agent")
    item = enqueue(db, settings)
    routing.transfer(
        db, item, by=supervisor, reason="老客户，请小陈接", to_staff=named, even_if_not_online=True
    )
    db.commit()
    assert routing.count_waiting_for(db, routing.profile_as_is(db, named)) == 1
    assert routing.count_waiting_for(db, routing.profile_as_is(db, bystander)) == 0
    sign_in(client, named.username)
    assert figures(client.get("/console").text)[QUEUED] == "1"


def test_the_inbox_names_its_offers_as_what_they_are(
    client: TestClient, db: Session, settings: Settings
) -> None:
    """The inbox's list of offers holds every channel's customers offered to the agent, to
    accept or pass: its heading said 待接入 (waiting to be taken), which beside the home's
    customers waiting in my queues read as the queue."""
    agent = make_staff(db, "agent")
    routing.set_presence(db, agent, "online", settings=settings)
    enqueue(db, settings)
    routing.enqueue(
        db,
        kind="call",
        language="zh-CN",
        category="recharge_not_credited",
        call_sid="CA-offer",
        settings=settings,
    )
    db.commit()
    sign_in(client, agent.username)
    inbox = client.get("/console/inbox").text
    offers = re.search(r'<h2 id="offers-h">([^<]*)</h2>(.*?)</section>', inbox, flags=re.S)
    assert offers is not None
    assert offers.group(1) == "等我接入的客户"
    assert offers.group(2).count('class="item offer') == 2
    english = client.get("/console/inbox", params={"lang": "en"}).text
    assert '<h2 id="offers-h">Customers offered to me</h2>' in english


def test_the_home_counts_customers_of_every_channel_under_the_inbox_words(
    client: TestClient, db: Session, settings: Settings
) -> None:
    """The tiles said chats offered to me and chats I hold while counting calls, call-backs
    and e-mails too: they name customers now, as the inbox lists they link to do, since an
    offered call left out of the count would ring unseen."""
    agent = make_staff(db, "agent")
    routing.set_skills(db, agent, languages=["zh-CN"], categories=[], tiers=["tier1"], capacity=5)
    routing.set_presence(db, agent, "online", settings=settings)
    for kind, sid in (("chat", None), ("callback", None), ("email", None)):
        held = routing.enqueue(
            db,
            kind=kind,
            language="zh-CN",
            category="recharge_not_credited",
            call_sid=sid,
            settings=settings,
        )
        routing.accept(db, held, agent, settings=settings)
    routing.enqueue(
        db,
        kind="call",
        language="zh-CN",
        category="recharge_not_credited",
        call_sid="CA-ring",
        settings=settings,
    )
    db.commit()
    sign_in(client, agent.username)
    home = figures(client.get("/console").text)
    assert (home[OFFERED], home[SERVING]) == ("1", "3")
    inbox = client.get("/console/inbox").text
    assert f'<h2 id="offers-h">{OFFERED}</h2>' in inbox
    assert f'<h2 id="mine-h">{SERVING}</h2>' in inbox
    english = figures(client.get("/console", params={"lang": "en"}).text)
    assert (english["customers offered to me"], english["customers I am serving"]) == ("1", "3")
    inbox = client.get("/console/inbox").text
    assert '<h2 id="mine-h">Customers I am serving</h2>' in inbox


@pytest.mark.parametrize("role", ROLE_ORDER)
def test_the_home_reads_the_routing_profile_only_of_staff_who_take_customers(
    client: TestClient, db: Session, role: str
) -> None:
    staff = make_staff(db, role)
    db.commit()
    sign_in(client, staff.username)
    with statements_sent(db.connection()) as sent:
        assert client.get("/console").status_code == 200
    read_profile = any("FROM agent_profile" in statement for statement in sent)
    assert read_profile == has_permission(role, "chat.work"), sent
