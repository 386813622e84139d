"""Staff notifications: raised by the domains (assignment, mention, a customer's reply, SLA,
an approval waiting), listed and marked read through the staff API by their recipient
only. Live delivery over the console socket: tests/integration/chat/test_notifications_live.py."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.factories import make_staff, staff_token
from tests.integration.cases.case_helpers import AGENT, T0, make_case

from kefu import audit
from kefu.cases import conversation, escalation, service, work
from kefu.config import Settings
from kefu.identity import service as identity_service
from kefu.notifications import service as notifications
from kefu.notifications.models import StaffNotification


def kinds_of(db: Session, staff_id: int) -> list[str]:
    return [n.kind for n in reversed(notifications.recent(db, staff_id))]


def test_case_work_notifies_the_people_concerned(db: Session, settings: Settings) -> None:
    owner = make_staff(db, "agent")
    colleague = make_staff(db, "agent")
    boss = make_staff(db, "supervisor")
    case = make_case(db, settings)
    service.assign(db, case, owner_username=owner.username, actor=AGENT, now=T0)
    assert kinds_of(db, owner.id) == ["assignment"]
    mine = audit.Actor(name=f"staff:{owner.username}", role="agent")
    service.assign(db, case, owner_username=None, actor=mine, now=T0)
    service.assign(db, case, owner_username=owner.username, actor=mine, now=T0)
    assert kinds_of(db, owner.id) == ["assignment"]  # taking it oneself tells no one

    work.note(
        db,
        case,
        body=f"@{colleague.username} 请帮忙看下银行流水，@{owner.username} 已知；@nobody",
        actor=mine,
        now=T0,
    )
    assert kinds_of(db, colleague.id) == ["mention"]
    assert kinds_of(db, owner.id) == ["assignment"]  # the author is not told of themself
    told = notifications.recent(db, colleague.id)[0]
    assert told.link == f"/console/cases/{case.reference}"
    assert case.reference in told.body and owner.display_name in told.body

    conversation.customer_message(
        db, case, body="还没到账，请尽快", channel="sms", settings=settings, now=T0
    )
    reply = notifications.recent(db, owner.id)[0]
    assert reply.kind == "customer_reply" and "短信" in reply.body and "还没到账" in reply.body

    escalation.run_scan(db, settings=settings, now=T0 + timedelta(minutes=48))
    assert "sla" in kinds_of(db, owner.id) and "sla" in kinds_of(db, boss.id)
    assert notifications.unread(db, owner.id) == 3


def test_the_api_lists_and_marks_only_ones_own(
    client: TestClient, db: Session, settings: Settings
) -> None:
    token = staff_token(client, db, "agent")
    me = identity_service.resolve_token(db, token, kinds={"api"})
    assert me is not None and me.staff_user_id is not None
    other = make_staff(db, "agent")
    for n in range(35):
        notifications.notify(db, staff_id=me.staff_user_id, kind="sla", body=f"第{n}条")
    theirs = notifications.notify(db, staff_id=other.id, kind="mention", body="别人的")
    db.commit()
    auth = {"Authorization": f"Bearer {token}"}

    first = client.get("/api/v1/notifications", headers=auth).json()
    assert first["unread"] == 35 and len(first["items"]) == 30
    assert first["items"][0]["body"] == "第34条"
    rest = client.get(f"/api/v1/notifications?before={first['next_before']}", headers=auth).json()
    assert [i["body"] for i in rest["items"]] == [f"第{n}条" for n in range(4, -1, -1)]
    assert rest["next_before"] is None

    newest = first["items"][0]["id"]
    marked = client.post(
        "/api/v1/notifications/read", json={"ids": [newest, theirs.id]}, headers=auth
    )
    assert marked.status_code == 200 and marked.json() == {"marked": 1, "unread": 34}
    db.expire_all()
    assert db.get(StaffNotification, theirs.id).read_at is None  # type: ignore[union-attr]
    unread = client.get("/api/v1/notifications?unread=true", headers=auth).json()
    assert newest not in [i["id"] for i in unread["items"]]

    for bad in ({"ids": [1], "all": True}, {}, {"ids": ["x"]}, {"ids": list(range(1, 300))}):
        refused = client.post("/api/v1/notifications/read", json=bad, headers=auth)
        assert 400 <= refused.status_code < 500, bad
    assert client.get("/api/v1/notifications?before=0", headers=auth).status_code == 422
    assert client.get("/api/v1/notifications").status_code == 401
    everything = client.post("/api/v1/notifications/read", json={"all": True}, headers=auth)
    assert everything.json() == {"marked": 34, "unread": 0}


def test_an_approval_waiting_tells_those_who_may_decide(db: Session, settings: Settings) -> None:
    """Filing is the support layer's (``support.approval.file_request``): a new request
    tells everyone who may decide it, once; the same key again tells nobody again."""
    from decimal import Decimal

    from kefu.support import approval
    from kefu.support.base import Asked, Money
    from kefu.support.requester import Requester
    from kefu.wallet.port import build_wallet

    agent = make_staff(db, "agent")
    boss = make_staff(db, "supervisor")
    desk = Money(db, build_wallet(settings)(db), settings)
    asked = Asked(
        requester=Requester.of_staff(agent), key="notif-approval-1", reason="商户重复扣款"
    )
    for _ in range(2):
        approval.file_request(
            desk,
            asked,
            action="refund",
            wallet_account_id="W1",
            target_id="R1",
            amount=Decimal("2000"),
            customer_id=None,
        )
    waiting = notifications.recent(db, boss.id)
    assert [n.kind for n in waiting] == ["approval"]
    assert agent.display_name in waiting[0].body and waiting[0].link == "/console/approvals"
    assert notifications.recent(db, agent.id) == []
