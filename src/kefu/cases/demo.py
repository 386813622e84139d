"""Demo cases, so that the agent's case workspace has work in every view right after
``make run``: the ordinary demo customers (13800000012 onwards) wrote in on several
channels over the last two days. The customers with a scripted problem (13800000001–11)
get none, so the assistant meets their problems as a customer would first describe them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu import audit
from kefu.cases import conversation, service, work
from kefu.cases.models import Case
from kefu.cases.transitions import Mover, Status
from kefu.config import Settings
from kefu.identity import service as identity_service


@dataclass(frozen=True)
class DemoCase:
    phone: str
    category: str
    channel: str
    priority: str | None
    subject: str
    words: str
    age: timedelta
    owner: str | None = None
    status: Status | None = None
    reply: str | None = None
    note: str | None = None


DEMO_CASES = (
    DemoCase(
        phone="13800000012",
        category="app_technical",
        channel="email",
        priority=None,
        subject="App 更新后扫码付款一直闪退",
        words="昨天更新到最新版本以后，一打开扫码付款就闪退，重装了也没用，手机是华为 Mate 60。",
        age=timedelta(hours=5),
    ),
    DemoCase(
        phone="13800000013",
        category="refund",
        channel="email",
        priority=None,
        subject="京东退款七天了还没到钱包",
        words="上周在京东退了一件衣服 ¥329.00，商家显示已退款，可是钱包里一直没看到。",
        age=timedelta(hours=20),
        owner="agent",
        status=Status.OPEN,
        reply="您好，我们已联系商户核实这笔 ¥329.00 的退款，查到结果后会第一时间回复您。",
        note="商户已提供退款流水号，等待清算回执。",
    ),
    DemoCase(
        phone="13800000014",
        category="complaint",
        channel="voice",
        priority="high",
        subject="投诉：客服电话排队四十分钟没人接",
        words="打了三次客服电话，每次排队四十多分钟都没人接，太耽误事了。",
        age=timedelta(hours=30),
        owner="agent",
        status=Status.OPEN,
    ),
    DemoCase(
        phone="13800000015",
        category="feature_howto",
        channel="chat",
        priority="low",
        subject="怎么设置小额免密支付的额度",
        words="想把小额免密支付的额度从 200 改成 500，在哪里设置？",
        age=timedelta(hours=26),
        owner="agent",
        status=Status.PENDING_CUSTOMER,
        reply="您好，在 App 中打开「我的 → 支付设置 → 小额免密支付」即可修改额度，"
        "改好后请回复我们是否成功。",
    ),
    DemoCase(
        phone="13800000016",
        category="promotions",
        channel="wechat",
        priority=None,
        subject="双十二满减券没有到账",
        words="参加了双十二活动，说好的满 100 减 20 的券没有发到我的账户里。",
        age=timedelta(hours=2),
    ),
    DemoCase(
        phone="13800000020",
        category="refund",
        channel="email",
        priority=None,
        subject="Refund for a cancelled hotel booking",
        words="I cancelled a hotel booking on 1 December and was promised a refund of "
        "¥860.00 within five days. Nothing has arrived yet.",
        age=timedelta(hours=8),
    ),
    DemoCase(
        phone="13800000017",
        category="login_failed",
        channel="app",
        priority=None,
        subject="换手机后登录收不到验证码",
        words="换了新手机以后登录一直收不到短信验证码，号码没变。",
        age=timedelta(days=2),
        owner="agent",
        status=Status.RESOLVED,
    ),
)


def seed_cases(db: Session, *, settings: Settings, now: datetime) -> int:
    """Open the demo cases (once: a customer who already has a case is left alone);
    returns how many were opened."""
    agent = identity_service.get_staff_by_username(db, "agent")
    if agent is None:
        return 0
    actor = identity_service.staff_actor(agent)
    opened = 0
    for demo in DEMO_CASES:
        customer = identity_service.find_customer_by_contact(db, demo.phone)
        if customer is None:
            continue
        if db.scalar(select(Case.id).where(Case.customer_id == customer.id).limit(1)):
            continue
        at = now - demo.age
        case = service.open_case(
            db,
            new=service.NewCase(
                customer_id=customer.id,
                category=demo.category,
                channel=demo.channel,
                subject=demo.subject,
                description=demo.words,
                priority=demo.priority,
            ),
            actor=audit.Actor(name=f"customer:{customer.id}", role="customer"),
            settings=settings,
            now=at,
        )
        if demo.owner is not None:
            service.assign(db, case, owner_username=demo.owner, actor=actor, now=at)
        if demo.reply is not None:  # history: it reached the customer then, nothing is sent now
            conversation.staff_reply(
                db,
                case,
                body=demo.reply,
                actor=actor,
                settings=settings,
                then=demo.status,
                now=at + timedelta(minutes=15),
                channel="email" if demo.channel == "email" else "app",
            )
        if demo.note is not None:
            work.note(db, case, body=demo.note, actor=actor, now=at + timedelta(minutes=20))
        if demo.status is Status.RESOLVED:
            service.move(
                db,
                case,
                target=Status.OPEN,
                mover=Mover.STAFF,
                actor=actor,
                settings=settings,
                now=at + timedelta(minutes=10),
            )
            case.resolution_code = "answered"  # history: the customer was told then
            conversation.resolve(
                db,
                case,
                summary="已指导客户在新手机上重新绑定设备，验证码可以正常收到了。",
                actor=actor,
                settings=settings,
            )
        elif demo.status is not None and demo.reply is None:
            service.move(
                db,
                case,
                target=demo.status,
                mover=Mover.STAFF,
                actor=actor,
                settings=settings,
                now=at + timedelta(minutes=10),
            )
        opened += 1
    return opened
