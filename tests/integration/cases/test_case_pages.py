"""The agent's case workspace through the real app: views, the search box, the case page
and its forms, stale edits, bad references."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.factories import make_customer, make_staff, staff_token
from tests.integration.cases.case_helpers import make_case
from tests.integration.wallet.wallet_helpers import card_of, ctx, funded_account
from tests.integration.web.web_helpers import sign_in

from kefu.audit import AuditEvent
from kefu.cases import refs
from kefu.cases.models import Case, CaseEvent, CaseNotification
from kefu.config import Settings
from kefu.identity import service as identity_service
from kefu.wallet import flows

_VERSION = re.compile(r'name="version" value="([^"]+)"')
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _tokens(html: str) -> dict[str, str]:
    version = _VERSION.search(html)
    csrf = _CSRF.search(html)
    assert version and csrf, html[:2000]
    return {"version": version.group(1), "csrf_token": csrf.group(1)}


def _signed_in(client: TestClient, db: Session, role: str = "agent") -> str:
    user = make_staff(db, role)
    db.commit()
    sign_in(client, user.username)
    return user.username


def test_views_list_cases_with_counts_and_keyset_pages(
    client: TestClient, db: Session, settings: Settings
) -> None:
    me = _signed_in(client, db)
    customer = make_customer(db)
    made = [make_case(db, settings, customer_id=customer.id) for _ in range(5)]
    db.commit()
    page = client.get("/console/cases?view=unassigned&limit=2")
    assert page.status_code == 200
    shown = re.findall(r'href="/console/cases/(KF-[^"]+)"', page.text)
    assert len(dict.fromkeys(shown)) == 2
    assert "下一页" in page.text
    assert customer.name not in page.text  # masked in the list
    next_url = re.search(r'href="(/console/cases\?[^"]*after=[^"]+)" rel="next"', page.text)
    assert next_url
    second = client.get(next_url.group(1).replace("&amp;", "&"))
    shown_next = dict.fromkeys(re.findall(r'href="/console/cases/(KF-[^"]+)"', second.text))
    assert not set(shown_next) & set(shown)
    third = client.get("/console/cases?view=unassigned&limit=50")
    listed = set(re.findall(r'href="/console/cases/(KF-[^"]+)"', third.text))
    assert {c.reference for c in made} <= listed
    counts = client.get("/console/cases/counts").json()
    assert counts["unassigned"] >= 5 and counts["mine"] == 0
    bad = client.get("/console/cases?view=nonsense")
    assert bad.status_code == 400 and "alert" in bad.text
    assert me


def test_search_box_finds_by_reference_spelling_contact_and_words(
    client: TestClient, db: Session, settings: Settings
) -> None:
    _signed_in(client, db)
    customer = make_customer(db)
    case = make_case(db, settings, customer_id=customer.id, description="余额提现一直没有到账")
    db.commit()
    compact = case.reference.replace("-", "").lower()
    for typed in (case.reference, compact, refs.parse(case.reference).digits):
        found = client.get("/console/cases", params={"q": typed})
        assert f"/console/cases/{case.reference}" in found.text, typed
    assert customer.phone is not None and customer.email is not None
    by_phone = client.get("/console/cases", params={"q": customer.phone.removeprefix("+86")})
    assert f"/console/cases/{case.reference}" in by_phone.text
    by_mail = client.get("/console/cases", params={"q": customer.email.upper()})
    assert f"/console/cases/{case.reference}" in by_mail.text
    by_words = client.get("/console/cases", params={"q": "提现"})
    assert f"/console/cases/{case.reference}" in by_words.text
    assert "<mark>提现</mark>" in by_words.text
    wrong = case.reference[:-1] + ("X" if case.reference[-1] != "X" else "Y")
    mistyped = client.get("/console/cases", params={"q": wrong})
    assert "校验" in mistyped.text or "核对" in mistyped.text


def test_the_consoles_own_search_box_finds_a_case_by_reference(
    client: TestClient, db: Session, settings: Settings
) -> None:
    _signed_in(client, db)
    case = make_case(db, settings)
    db.commit()
    home = client.get("/console", params={"q": case.reference.replace("-", " ")})
    assert f'href="/console/cases/{case.reference}"' in home.text
    assert "没有找到匹配的客户" not in home.text


def test_unknown_and_mistyped_references_answer_a_page_in_the_persons_language(
    client: TestClient, db: Session, settings: Settings
) -> None:
    _signed_in(client, db)
    unknown = client.get("/console/cases/KF-2611-00000-0")
    assert unknown.status_code == 404
    assert "找不到这个工单" in unknown.text
    english = client.get("/console/cases/not-a-reference?lang=en")
    assert english.status_code == 404 and "Case not found" in english.text


def test_reply_note_with_mention_assign_and_stale_form(
    client: TestClient, db: Session, settings: Settings
) -> None:
    me = _signed_in(client, db)
    colleague = make_staff(db, "specialist")
    case = make_case(db, settings)
    db.commit()
    url = f"/console/cases/{case.reference}"
    page = client.get(url)
    assert page.status_code == 200 and case.subject in page.text
    tokens = _tokens(page.text)
    sent = client.post(
        f"{url}/reply",
        data={**tokens, "body": "您好，我们正在核查这笔充值。", "via": "app"},
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    # the form drawn before the reply is now stale: the note is kept, nothing saved
    stale = client.post(f"{url}/note", data={**tokens, "body": f"请 @{colleague.username} 看一下"})
    assert stale.status_code == 409
    assert "其他人修改了这个工单" in stale.text
    assert f"请 @{colleague.username} 看一下" in stale.text
    fresh = _tokens(client.get(url).text)
    noted = client.post(
        f"{url}/note",
        data={**fresh, "body": f"请 @{colleague.username} 看一下"},
        follow_redirects=False,
    )
    assert noted.status_code == 303
    told = db.scalars(
        select(CaseNotification).where(
            CaseNotification.staff_user_id == colleague.id, CaseNotification.kind == "mention"
        )
    ).all()
    assert len(told) == 1
    fresh = _tokens(client.get(url).text)
    claimed = client.post(f"{url}/claim", data=fresh, follow_redirects=False)
    assert claimed.status_code == 303
    db.expire_all()
    refreshed = db.scalar(select(Case).where(Case.reference == case.reference))
    assert refreshed is not None and refreshed.first_responded_at is not None
    assert refreshed.owner_id is not None
    mine = client.get("/console/cases?view=mine")
    assert case.reference in mine.text
    assert me


def test_too_long_reply_says_why_and_keeps_the_text(
    client: TestClient, db: Session, settings: Settings
) -> None:
    _signed_in(client, db)
    case = make_case(db, settings)
    db.commit()
    url = f"/console/cases/{case.reference}"
    text = "长" * 20_001
    refused = client.post(
        f"{url}/reply", data={**_tokens(client.get(url).text), "body": text, "via": "app"}
    )
    assert refused.status_code == 400
    assert "最多 20000 个字" in refused.text
    assert text in refused.text
    sms = client.post(
        f"{url}/reply", data={**_tokens(client.get(url).text), "body": "短" * 501, "via": "sms"}
    )
    assert sms.status_code == 400 and "最多 500 个字" in sms.text


def test_merge_keeps_both_timelines_and_one_reference(
    client: TestClient, db: Session, settings: Settings
) -> None:
    _signed_in(client, db)
    customer = make_customer(db)
    kept = make_case(db, settings, customer_id=customer.id, description="第一次反映")
    duplicate = make_case(db, settings, customer_id=customer.id, description="又来问同一件事")
    stranger = make_case(db, settings, description="别人的工单")
    db.commit()
    url = f"/console/cases/{kept.reference}"
    refused = client.post(
        f"{url}/merge", data={**_tokens(client.get(url).text), "duplicate": stranger.reference}
    )
    assert refused.status_code == 409
    merged = client.post(
        f"{url}/merge",
        data={**_tokens(client.get(url).text), "duplicate": duplicate.reference},
        follow_redirects=False,
    )
    assert merged.status_code == 303
    page = client.get(url)
    assert "第一次反映" in page.text and "又来问同一件事" in page.text
    old = client.get(f"/console/cases/{duplicate.reference}", follow_redirects=False)
    assert old.status_code == 307 and old.headers["location"] == url
    assert db.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "case.merge")
    )
    events = db.scalar(
        select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == duplicate.id)
    )
    assert events == 0


def test_bulk_changes_write_one_audit_row_per_case(
    client: TestClient, db: Session, settings: Settings
) -> None:
    _signed_in(client, db)
    cases = [make_case(db, settings) for _ in range(3)]
    db.commit()
    page = client.get("/console/cases?view=unassigned")
    csrf = _CSRF.search(page.text)
    assert csrf
    before = db.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "case.update")
    )
    done = client.post(
        "/console/cases/bulk",
        data={
            "csrf_token": csrf.group(1),
            "change": "priority",
            "priority": "urgent",
            "cases": [c.reference for c in cases],
            "back": "view=unassigned",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303 and "done=3" in done.headers["location"]
    after = db.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "case.update")
    )
    assert after == before + 3


def test_bulk_form_without_cases_or_value_comes_back_saying_which(
    client: TestClient, db: Session, settings: Settings
) -> None:
    me = _signed_in(client, db)
    case = make_case(db, settings)
    db.commit()
    page = client.get("/console/cases?view=all")
    csrf = _CSRF.search(page.text)
    assert csrf
    assert '<option value="" selected>请选择…</option>' in page.text  # no stray change

    def post(**fields: object) -> str:
        answer = client.post(
            "/console/cases/bulk",
            data={"csrf_token": csrf.group(1), "back": "view=all", **fields},
            follow_redirects=True,
        )
        assert answer.status_code == 200
        return answer.text

    assert "请先在列表中勾选要处理的工单" in post(change="priority", priority="high")
    assert "请先在所按按钮旁选择新的值" in post(change="priority", cases=[case.reference])
    assert "请先在所按按钮旁选择新的值" in post(
        change="priority", priority="soon", cases=[case.reference]
    )
    db.expire_all()
    assert db.get(Case, case.id).priority == case.priority  # nothing changed
    assert "已处理 1 个工单" in post(change="assign", owner=me, cases=[case.reference])
    db.expire_all()
    assert db.get(Case, case.id).owner_id is not None
    assert "已处理 1 个工单" in post(change="assign", owner="none", cases=[case.reference])
    db.expire_all()
    assert db.get(Case, case.id).owner_id is None


def test_case_page_acts_on_the_account_through_the_support_layer(
    client: TestClient, db: Session, settings: Settings
) -> None:
    _signed_in(client, db)
    account = funded_account(db, "3000.00")
    customer = identity_service.create_customer(
        db, wallet_account_id=account.id, name="王芳", phone="+8613912345670"
    )
    case = make_case(db, settings, customer_id=customer.id)
    db.commit()
    page = client.get(f"/console/cases/{case.reference}")
    assert "¥ 3,000.00" in page.text
    assert f"/console/customers/{customer.id}?case={case.reference}" in page.text
    assert "13912345670" not in page.text and "139****5670" in page.text
    form = re.search(r'<form[^>]*id="account-freeze-account".*?</form>', page.text, re.S)
    assert form, "the freeze form is on the case page"
    key = re.search(r'name="key" value="([^"]+)"', form.group(0))
    assert key
    fields = {**_tokens(page.text), "action": "freeze", "key": key.group(1)}

    refused = client.post(
        f"/console/cases/{case.reference}/account",
        data={**fields, "freeze_reason": "stolen", "reason": "  "},
    )
    assert refused.status_code == 400
    assert "请写明操作原因" in refused.text
    assert 'id="problem-account-freeze-account"' in refused.text  # beside its own form
    assert key.group(1) in refused.text  # the same form, the same key
    assert account.status == "active"

    for _ in range(2):  # a resent form acts once
        done = client.post(
            f"/console/cases/{case.reference}/account",
            data={**fields, "freeze_reason": "stolen", "reason": "客户来电说手机被偷"},
            follow_redirects=False,
        )
        assert done.status_code == 303
        assert done.headers["location"].startswith(
            f"/console/cases/{case.reference}?done=account&action=freeze"
        )
    db.refresh(account)
    assert account.status == "frozen"
    rows = db.scalars(select(AuditEvent).where(AuditEvent.action == "wallet.freeze")).all()
    assert [row.case_reference for row in rows] == [case.reference]
    notes = db.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "action")
    ).all()
    assert len(notes) == 1
    shown = client.get(done.headers["location"])
    assert "已完成：冻结账户" in shown.text
    assert 'id="account-unfreeze-account"' in shown.text  # frozen: the unfreeze request


def test_case_page_traces_an_outgoing_transfer_and_offers_a_withdrawals_trace(
    client: TestClient, db: Session, settings: Settings
) -> None:
    """Top-ups, outgoing transfers and withdrawals are traced from the case page, each
    under its own name; a transfer someone else sent the customer is not theirs to trace."""
    _signed_in(client, db)
    account = funded_account(db, "3000.00")
    payee = funded_account(db, "10.00")
    customer = identity_service.create_customer(
        db, wallet_account_id=account.id, name="王芳", phone="+8613912345672"
    )
    case = make_case(db, settings, customer_id=customer.id)
    sent = flows.transfer(
        db,
        account_id=account.id,
        to_account_id=payee.id,
        amount_fen=500_00,
        currency="CNY",
        ctx=ctx(),
        hold=True,
    )
    taken = flows.withdraw(
        db,
        account_id=account.id,
        card_id=card_of(db, account.id).id,
        amount_fen=200_00,
        currency="CNY",
        ctx=ctx(),
    )
    received = flows.transfer(
        db,
        account_id=payee.id,
        to_account_id=account.id,
        amount_fen=5_00,
        currency="CNY",
        ctx=ctx(),
    )
    db.commit()
    page = client.get(f"/console/cases/{case.reference}?lang=zh-CN")
    assert f'id="account-trace_withdrawal-{taken.id}"' in page.text
    assert "追查提现" in page.text and "追查转账" in page.text
    assert f'id="account-trace_transfer-{received.id}"' not in page.text
    assert "Trace transfer" in client.get(f"/console/cases/{case.reference}?lang=en").text
    form = re.search(rf'<form[^>]*id="account-trace_transfer-{sent.id}".*?</form>', page.text, re.S)
    assert form, "the transfer's trace form is on the case page"
    key = re.search(r'name="key" value="([^"]+)"', form.group(0))
    assert key
    fields = {
        **_tokens(page.text),
        "action": "trace_transfer",
        "key": key.group(1),
        "transaction_id": str(sent.id),
        "reason": "客户说转账两天未到",
    }
    for _ in range(2):  # a resent form traces once
        done = client.post(
            f"/console/cases/{case.reference}/account", data=fields, follow_redirects=False
        )
        assert done.status_code == 303
        assert done.headers["location"].startswith(
            f"/console/cases/{case.reference}?done=account&action=trace_transfer"
        )
    rows = db.scalars(select(AuditEvent).where(AuditEvent.action == "wallet.transfer.trace")).all()
    assert [row.case_reference for row in rows] == [case.reference]
    notes = db.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "action")
    ).all()
    assert len(notes) == 1
    assert "Done: Trace transfer" in client.get(done.headers["location"]).text  # en since ?lang=en
    wrong = client.post(
        f"/console/cases/{case.reference}/account",
        data={**fields, "key": "another-form", "transaction_id": str(received.id)},
    )
    assert wrong.status_code == 404  # an incoming transfer is the sender's: unknown here


def test_the_case_pages_account_api_twin_waits_for_a_supervisor(
    client: TestClient, db: Session, settings: Settings
) -> None:
    token = staff_token(client, db, "agent")
    account = funded_account(db, "100.00")
    customer = identity_service.create_customer(
        db, wallet_account_id=account.id, name="李雷", phone="+8613912345671"
    )
    case = make_case(db, settings, customer_id=customer.id)
    db.commit()
    url = f"/api/v1/cases/{case.reference}/account-actions"
    auth = {"Authorization": f"Bearer {token}"}
    frozen = client.post(
        url,
        json={"action": "freeze", "reason": "客户要求", "freeze_reason": "customer_request"},
        headers={**auth, "Idempotency-Key": "api-freeze-1"},
    )
    assert frozen.status_code == 201, frozen.text
    assert frozen.json() == {
        "action": "freeze",
        "waiting": False,
        "approval_id": None,
        "case_reference": case.reference,
    }
    asked = client.post(
        url,
        json={"action": "unfreeze", "reason": "客户已找回手机"},
        headers={**auth, "Idempotency-Key": "api-unfreeze-1"},
    )
    assert asked.status_code == 202 and asked.json()["waiting"] is True
    db.refresh(account)
    assert account.status == "frozen"  # until a supervisor approves
    no_reason = client.post(
        url, json={"action": "unlock", "reason": ""}, headers={**auth, "Idempotency-Key": "k3"}
    )
    assert no_reason.status_code == 400


def test_canned_replies_are_filled_from_the_case_in_the_customers_language(
    client: TestClient, db: Session, settings: Settings
) -> None:
    _signed_in(client, db)
    chinese = make_customer(db)
    english = make_customer(db, language="en")
    zh_case = make_case(db, settings, customer_id=chinese.id)
    en_case = make_case(db, settings, customer_id=english.id)
    en_case.language = "en"
    db.commit()
    zh_page = client.get(f"/console/cases/{zh_case.reference}")
    assert f'data-insert="{chinese.name}您好' in zh_page.text
    en_page = client.get(f"/console/cases/{en_case.reference}", params={"canned": "Hello"})
    assert f'data-insert="Hello {english.name}, this is' in en_page.text
    assert "{customer_name}" not in en_page.text


def test_an_agent_saves_a_view_and_only_sees_their_own(
    client: TestClient, db: Session, settings: Settings
) -> None:
    _signed_in(client, db)
    page = client.get("/console/cases?view=all&priority=urgent")
    csrf = _CSRF.search(page.text)
    assert csrf
    saved = client.post(
        "/console/cases/views",
        data={"csrf_token": csrf.group(1), "name": "紧急的", "query": "view=all&priority=urgent"},
        follow_redirects=False,
    )
    assert saved.status_code == 303 and "priority=urgent" in saved.headers["location"]
    assert "★ 紧急的" in client.get("/console/cases").text
    again = client.post(
        "/console/cases/views",
        data={"csrf_token": csrf.group(1), "name": "紧急的", "query": "view=mine"},
    )
    assert again.status_code == 409
    bad = client.post(
        "/console/cases/views",
        data={"csrf_token": csrf.group(1), "name": "坏的", "query": "view=nonsense"},
    )
    assert bad.status_code == 400


def test_a_reply_with_a_part_to_fill_in_says_why_and_keeps_the_text(
    client: TestClient, db: Session, settings: Settings
) -> None:
    _signed_in(client, db)
    case = make_case(db, settings)
    db.commit()
    url = f"/console/cases/{case.reference}"
    body = "我们会在【请填写：承诺答复时间】前答复您。"
    refused = client.post(
        f"{url}/reply", data={**_tokens(client.get(url).text), "body": body, "via": "app"}
    )
    assert refused.status_code == 400
    assert "消息中还有待填写的部分：【请填写：承诺答复时间】。请您补全后再发送。" in refused.text
    assert body in refused.text
