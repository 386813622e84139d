"""The anti-fraud console pages through the real app: the registry editor (with its
history and stale-edit guard), the report review queue and its screenshots, scam flags,
outbound calls and the look-up figures. Refused forms come back as pages with the reason
and the HTTP status of the refusal, never a traceback."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import make_customer, make_staff
from tests.integration.cases.case_helpers import make_case
from tests.integration.web.web_helpers import csrf, sign_in

from kefu import audit
from kefu.antifraud import service
from kefu.antifraud.models import RegistryEntry
from kefu.antifraud.reports import Screenshot
from kefu.config import Settings
from kefu.db import utcnow
from kefu.identity.models import StaffUser
from kefu.storage import LocalStorage
from kefu.web.templating import templates

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
SYSTEM = audit.Actor.system()


@pytest.fixture
def seeded(db: Session) -> Session:
    assert service.seed_demo(db) > 0
    db.commit()
    return db


@pytest.fixture
def store(client: TestClient, tmp_path: Path) -> LocalStorage:
    local = LocalStorage(tmp_path)
    client.app.state.storage = local  # type: ignore[attr-defined]
    return local


def _staff(db: Session, role: str) -> StaffUser:
    user = make_staff(db, role)
    db.commit()
    return user


def _as(client: TestClient, db: Session, role: str) -> StaffUser:
    user = _staff(db, role)
    sign_in(client, user.username)
    return user


def _token(client: TestClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return csrf(page.text)


def _entry_form(**fields: str) -> dict[str, str]:
    form = {"kind": "phone", "status": "official", "role": "hotline", "position": "100"}
    form.update(fields)
    return form


def _alert(html: str) -> str:
    match = re.search(r'<p class="alert" role="alert"[^>]*>(.*?)</p>', html, flags=re.S)
    assert match, html
    return match.group(1).strip()


# --- registry ------------------------------------------------------------------------------


def test_agents_read_the_registry_and_check_values_admins_edit(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    _as(client, seeded, "agent")
    page = client.get("/console/antifraud/registry")
    assert page.status_code == 200
    assert "95099" in page.text and "kefu-wallet-refund.com" in page.text
    assert "/console/antifraud/registry/new" not in page.text
    assert client.get("/console/antifraud/registry/new").status_code == 403
    scams = client.get("/console/antifraud/registry", params={"status": "scam", "kind": "phone"})
    assert "170 1234 5678" in scams.text and "95099" not in scams.text

    checked = client.get("/console/antifraud/registry", params={"check": "+86 400 800 9596"})
    assert checked.status_code == 200
    assert 'class="af-verdict af-verdict-reported_scam"' in checked.text
    today = utcnow().astimezone(settings.tz).date()
    figures = service.lookup_trends(seeded, today=today, days=1)
    assert [(t.value, t.today) for t in figures] == [("+864008009596", 1)]
    refused = client.get(
        "/console/antifraud/registry", params={"check": "<script>alert(1)</script>"}
    )
    assert refused.status_code == 400
    assert "<script>" not in refused.text and "&lt;script&gt;" in refused.text
    assert _alert(refused.text)


def test_admin_creates_edits_retires_and_reads_history(client: TestClient, seeded: Session) -> None:
    admin = _as(client, seeded, "admin")
    token = _token(client, "/console/antifraud/registry/new")
    created = client.post(
        "/console/antifraud/registry",
        data=_entry_form(
            csrf_token=token,
            value="４００－８２０－１２３４",
            label_zh="企业客户热线",
            label_en="Business hotline",
            toll_free="no",
            public="on",
        ),
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    entry = seeded.scalar(select(RegistryEntry).where(RegistryEntry.label_en == "Business hotline"))
    assert entry is not None and entry.normalised == "+864008201234"
    assert created.headers["location"] == f"/console/antifraud/registry/{entry.id}?saved=1"

    edit = client.get(f"/console/antifraud/registry/{entry.id}/edit")
    assert 'name="version" value="1"' in edit.text
    saved = client.post(
        f"/console/antifraud/registry/{entry.id}",
        data=_entry_form(
            csrf_token=csrf(edit.text),
            version="1",
            value="400-820-1234",
            label_zh="企业客户服务热线",
            label_en="Business hotline",
            hours_zh="工作日 9:00–18:00",
            public="on",
        ),
        follow_redirects=False,
    )
    assert saved.status_code == 303
    retired = client.post(
        f"/console/antifraud/registry/{entry.id}/retire",
        data={"csrf_token": csrf(edit.text)},
        follow_redirects=False,
    )
    assert retired.status_code == 303
    seeded.refresh(entry)
    assert (entry.active, entry.version) == (False, 3)
    assert "400 820 1234" not in client.get("/console/antifraud/registry").text
    assert "400 820 1234" in client.get("/console/antifraud/registry?state=retired").text

    page = client.get(f"/console/antifraud/registry/{entry.id}")
    history = page.text.split('id="history-title"', 1)[1]
    assert history.count(admin.username) == 3
    assert "企业客户热线</del> → <ins>企业客户服务热线" in history
    assert "工作日 9:00–18:00" in history
    for change in ("新建", "修改", "停用"):
        assert change in history


def test_registry_form_errors_are_shown_on_the_page(client: TestClient, seeded: Session) -> None:
    _as(client, seeded, "admin")
    token = _token(client, "/console/antifraud/registry/new")

    empty = client.post(
        "/console/antifraud/registry",
        data=_entry_form(csrf_token=token, value="", label_en="x" * 121),
    )
    assert empty.status_code == 400
    assert 'id="e-value"' in empty.text and 'id="e-label_en"' in empty.text
    assert "120" in empty.text  # the limit is named

    duplicate = client.post(
        "/console/antifraud/registry",
        data=_entry_form(csrf_token=token, value="+86 95099", label_zh="重复"),
    )
    assert duplicate.status_code == 409
    assert "已在登记簿中" in _alert(duplicate.text)
    assert 'value="+86 95099"' in duplicate.text  # what was typed stays

    wrong_kind = client.post(
        "/console/antifraud/registry",
        data=_entry_form(csrf_token=token, value="example-shop.com"),
    )
    assert wrong_kind.status_code == 400
    assert 'id="e-value"' in wrong_kind.text

    bad_role = client.post(
        "/console/antifraud/registry",
        data=_entry_form(csrf_token=token, kind="domain", role="hotline", value="kefu-pay.cn"),
    )
    assert bad_role.status_code == 400
    assert "用途与类型不符" in _alert(bad_role.text)

    no_kind = client.post(
        "/console/antifraud/registry", data=_entry_form(csrf_token=token, kind="fax", value="1")
    )
    assert no_kind.status_code == 400 and _alert(no_kind.text)

    forged = client.post(
        "/console/antifraud/registry",
        data=_entry_form(value="400-820-5555"),
        follow_redirects=False,
    )
    assert forged.status_code == 403
    assert service.list_entries(seeded, service.EntryFilter(query="4008205555"))[1] == 0


def test_a_stale_edit_is_refused_with_both_versions_shown(
    client: TestClient, seeded: Session
) -> None:
    entry = service.list_entries(seeded, service.EntryFilter(query="95099"))[0][0]
    first = _as(client, seeded, "admin")
    mine = client.get(f"/console/antifraud/registry/{entry.id}/edit").text
    drawn = entry.version
    # another admin saves the entry while this form is open
    service.update_entry(
        seeded,
        entry.id,
        service.EntryFields(kind="phone", value="95099", role="hotline", label_zh="客服电话"),
        actor=audit.Actor(name="staff:colleague", role="admin"),
        expected_version=entry.version,
    )
    seeded.commit()
    form = _entry_form(
        csrf_token=csrf(mine),
        version=str(drawn),
        value="95099",
        label_zh="客服热线（全国）",
        public="on",
    )
    stale = client.post(f"/console/antifraud/registry/{entry.id}", data=form)
    assert stale.status_code == 409
    assert "colleague" in _alert(stale.text)
    assert "客服电话" in stale.text and 'value="客服热线（全国）"' in stale.text
    assert f'name="version" value="{entry.version}"' in stale.text
    seeded.refresh(entry)
    assert entry.label_zh == "客服电话"

    again = client.post(
        f"/console/antifraud/registry/{entry.id}",
        data={**form, "version": str(entry.version)},
        follow_redirects=False,
    )
    assert again.status_code == 303
    seeded.refresh(entry)
    assert entry.label_zh == "客服热线（全国）"
    assert service.entry_history(seeded, entry.id)[-1].edited_by == f"staff:{first.username}"


# --- reports -------------------------------------------------------------------------------


def _report(db: Session, settings: Settings, store: LocalStorage, value: str, who: str) -> int:
    receipt = service.submit_report(
        db,
        value=value,
        description="自称客服，让我报卡号 6222021234567890128 和验证码",
        lang="zh-CN",
        settings=settings,
        storage=store,
        client_hash=who,
        screenshots=[Screenshot("call.png", PNG)] if who == "a" else [],
    )
    db.commit()
    return receipt.report_id


def test_specialist_reviews_reports_with_screenshots(
    client: TestClient, seeded: Session, settings: Settings, store: LocalStorage
) -> None:
    report_id = _report(seeded, settings, store, "171 0000 2222", "a")
    _report(seeded, settings, store, "+8617100002222", "b")
    _report(seeded, settings, store, "17100002222", "b")  # a same-day repeat: not counted

    _as(client, seeded, "agent")
    assert client.get("/console/antifraud/reports").status_code == 403
    _as(client, seeded, "specialist")
    queue = client.get("/console/antifraud/reports")
    assert "171 0000 2222" in queue.text
    assert re.search(r'<span class="af-count">2</span>', queue.text)
    detail = client.get(f"/console/antifraud/reports/{report_id}")
    assert "6222021234567890128" not in detail.text, "card numbers are masked"
    assert detail.text.count('class="af-item"') == 3
    shot = re.search(r'src="(/console/antifraud/reports/\d+/screenshots/\w+)"', detail.text)
    assert shot
    image = client.get(shot.group(1))
    assert image.status_code == 200 and image.content == PNG
    assert image.headers["content-type"] == "image/png"
    assert image.headers["cache-control"] == "private, no-store"

    token = csrf(detail.text)
    no_reason = client.post(
        f"/console/antifraud/reports/{report_id}/review",
        data={"csrf_token": token, "decision": "reject", "note": "  "},
    )
    assert no_reason.status_code == 400 and "原因" in _alert(no_reason.text)
    confirmed = client.post(
        f"/console/antifraud/reports/{report_id}/review",
        data={"csrf_token": token, "decision": "confirm", "label_zh": "冒充客服退款"},
        follow_redirects=False,
    )
    assert confirmed.status_code == 303
    assert service.check_value(seeded, "17100002222", lang="zh-CN").verdict == "reported_scam"
    twice = client.post(
        f"/console/antifraud/reports/{report_id}/review",
        data={"csrf_token": token, "decision": "reject", "note": "重复"},
    )
    assert twice.status_code == 409 and "已由" in _alert(twice.text)
    done = client.get("/console/antifraud/reports?status=confirmed")
    assert "171 0000 2222" in done.text


def test_an_official_number_cannot_be_confirmed_as_a_scam(
    client: TestClient, seeded: Session, settings: Settings, store: LocalStorage
) -> None:
    report_id = _report(seeded, settings, store, "021 6080 9595", "c")
    _as(client, seeded, "specialist")
    page = client.get(f"/console/antifraud/reports/{report_id}")
    assert "af-verdict-official" in page.text and "disabled" in page.text
    refused = client.post(
        f"/console/antifraud/reports/{report_id}/review",
        data={"csrf_token": csrf(page.text), "decision": "confirm"},
    )
    assert refused.status_code == 409 and "官方渠道" in _alert(refused.text)
    assert service.get_report(seeded, report_id).status == "pending"


# --- flags ---------------------------------------------------------------------------------


def test_agents_see_flags_specialists_handle_them(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    customer = make_customer(seeded)
    case = make_case(seeded, settings, customer_id=customer.id)
    text = "客服让我把验证码 483920 告诉他，还要我下载向日葵远程"
    flag = service.flag(
        seeded,
        service.detect_signals(text),
        channel="web",
        actor=SYSTEM,
        text=text,
        customer_id=customer.id,
        case_reference=case.reference,
    )
    seeded.commit()

    _as(client, seeded, "agent")
    mine = client.get("/console/antifraud/flags", params={"customer_id": customer.id})
    assert f'id="flag-{flag.id}"' in mine.text
    assert "被索要验证码" in mine.text and "远程控制" in mine.text
    assert "483920" not in mine.text, "codes in the excerpt are masked"
    assert "/handle" not in mine.text
    assert (
        client.post(
            f"/console/antifraud/flags/{flag.id}/handle", data={"csrf_token": csrf(mine.text)}
        ).status_code
        == 403
    )

    _as(client, seeded, "specialist")
    queue = client.get("/console/antifraud/flags")
    assert f'id="flag-{flag.id}"' in queue.text
    handled = client.post(
        f"/console/antifraud/flags/{flag.id}/handle",
        data={"csrf_token": csrf(queue.text), "note": "已致电客户，已冻结账户"},
        follow_redirects=False,
    )
    assert handled.status_code == 303
    assert f'id="flag-{flag.id}"' not in client.get("/console/antifraud/flags").text
    again = client.post(
        f"/console/antifraud/flags/{flag.id}/handle", data={"csrf_token": csrf(queue.text)}
    )
    assert again.status_code == 409 and _alert(again.text)
    assert (
        client.post(
            "/console/antifraud/flags/999999/handle", data={"csrf_token": csrf(queue.text)}
        ).status_code
        == 404
    )


def test_the_flag_badge_partial(seeded: Session) -> None:
    customer = make_customer(seeded)
    flag = service.flag(
        seeded,
        service.detect_signals("把钱转到安全账户"),
        channel="app",
        actor=SYSTEM,
        customer_id=customer.id,
    )
    badge = templates().get_template("antifraud/_flag_badge.html")

    def t(key: str, **params: object) -> str:
        return f"{key}{sorted(params.items())}"

    html = badge.render(t=t, scam_flags=service.flags_for(seeded, customer_id=customer.id))
    assert "af-badge-open" in html
    assert f"/console/antifraud/flags?customer_id={customer.id}#flag-{flag.id}" in html
    assert "antifraud.web.signal.safe_account_transfer" in html
    assert badge.render(t=t, scam_flags=[]).strip() == ""


# --- outbound calls ------------------------------------------------------------------------


def test_agent_records_and_cancels_a_call_the_customer_can_confirm(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    customer = make_customer(seeded)
    case = make_case(seeded, settings, customer_id=customer.id)
    seeded.commit()
    agent = _as(client, seeded, "agent")
    page = client.get("/console/antifraud/calls", params={"customer_id": customer.id})
    assert f'value="{customer.wallet_account_id}"' in page.text
    first = re.search(r'name="caller_number">\s*<option value="([^"]+)"', page.text)
    assert first and first.group(1) == "021 6080 9595"  # the outbound number, then hotlines
    token = csrf(page.text)

    unknown = client.post(
        "/console/antifraud/calls",
        data={"csrf_token": token, "customer": "W000000000", "reason": "核实充值", "minutes": "30"},
    )
    assert unknown.status_code == 404 and "找不到这位客户" in _alert(unknown.text)
    assert 'value="核实充值"' in unknown.text
    too_long = client.post(
        "/console/antifraud/calls",
        data={
            "csrf_token": token,
            "customer": customer.wallet_account_id,
            "reason": "核实充值",
            "minutes": "600",
        },
    )
    assert too_long.status_code == 400 and "5 到 480" in _alert(too_long.text)
    late = client.post(
        "/console/antifraud/calls",
        data={
            "csrf_token": token,
            "customer": str(customer.id),
            "reason": "核实充值",
            "minutes": "30",
            "starts_at": "2099-01-01T10:00",
        },
    )
    assert late.status_code == 400 and "7 天" in _alert(late.text)

    recorded = client.post(
        "/console/antifraud/calls",
        data={
            "csrf_token": token,
            "customer": customer.wallet_account_id,
            "case_reference": case.reference,
            "reason": "核实您 100 元充值未到账",
            "minutes": "30",
        },
        follow_redirects=False,
    )
    assert recorded.status_code == 303
    answer = service.confirm_call(seeded, customer.id, lang="zh-CN")
    assert answer.calling and case.reference in answer.message
    listing = client.get(recorded.headers["location"])
    assert 'class="notice"' in listing.text and customer.name in listing.text
    call = service.list_outbound_calls(seeded, staff_id=agent.id)[0]
    assert call.customer_id == customer.id

    cancelled = client.post(
        f"/console/antifraud/calls/{call.public_id}/cancel",
        data={"csrf_token": csrf(listing.text)},
        follow_redirects=False,
    )
    assert cancelled.status_code == 303
    assert not service.confirm_call(seeded, customer.id, lang="zh-CN").calling


def test_the_outbound_form_partial_posts_to_the_calls_page(seeded: Session) -> None:
    customer = make_customer(seeded)
    partial = templates().get_template("antifraud/_outbound_form.html")

    def t(key: str, **params: object) -> str:
        return key

    class Case:
        reference = "KF-2611-7Q4MB-X"

    html = partial.render(
        t=t,
        may=lambda permission: permission == "antifraud.outbound",
        customer=customer,
        open_cases=[Case()],
        csrf_token="tok",
        csrf_field="csrf_token",
    )
    assert 'action="/console/antifraud/calls"' in html
    assert f'name="customer" value="{customer.wallet_account_id}"' in html
    assert 'name="csrf_token" value="tok"' in html and "KF-2611-7Q4MB-X" in html
    assert partial.render(t=t, may=lambda permission: False, customer=customer).strip() == ""


# --- look-up figures -----------------------------------------------------------------------


def test_supervisors_see_lookup_figures_and_export_them(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    now = utcnow()
    for n in range(12):
        service.verify(seeded, "400 800 9596", lang="zh-CN", client_key=f"ip:{n}", now=now)
    service.verify(seeded, "95099", lang="zh-CN", client_key="ip:1", now=now - timedelta(days=2))
    seeded.commit()
    today = now.astimezone(settings.tz).date()

    _as(client, seeded, "specialist")
    assert client.get("/console/antifraud/lookups").status_code == 403
    assert client.get("/console/antifraud/lookups.csv").status_code == 403
    _as(client, seeded, "supervisor")
    page = client.get("/console/antifraud/lookups", params={"day": today.isoformat()})
    assert page.status_code == 200
    assert 'class="af-surging"' in page.text and "400 800 9596" in page.text
    assert "<code>95099</code>" in page.text and "+8695099" not in page.text  # as people write it

    export = client.get(
        "/console/antifraud/lookups.csv", params={"day": today.isoformat(), "days": "7"}
    )
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    assert "attachment" in export.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert rows[0][4] == (today - timedelta(days=6)).isoformat()
    assert rows[0][10] == today.isoformat()
    wave = rows[1]
    assert wave[:4] == ["phone", "'+864008009596", "reported_scam", "1"]
    assert wave[10:14] == ["12", "12", "12", "12"]

    bad = client.get("/console/antifraud/lookups", params={"days": "500"})
    assert bad.status_code == 400 and "90" in _alert(bad.text)
    bad_day = client.get("/console/antifraud/lookups", params={"day": "2026-02-31"})
    assert bad_day.status_code == 400 and _alert(bad_day.text)
    assert client.get("/console/antifraud/lookups.csv", params={"days": "0"}).status_code == 400


def test_the_start_page_follows_the_role(client: TestClient, seeded: Session) -> None:
    _as(client, seeded, "agent")
    start = client.get("/console/antifraud", follow_redirects=False)
    assert start.headers["location"] == "/console/antifraud/registry"
    home = client.get("/console/antifraud/registry").text
    tabs = home.split('class="af-tabs"', 1)[1].split("</nav>", 1)[0]
    assert "/console/antifraud/calls" in tabs and "/console/antifraud/reports" not in tabs
    assert 'href="/console/antifraud" aria-current="page"' in home


def test_flag_filters_that_are_not_numbers_are_refused_on_the_page(
    client: TestClient, seeded: Session
) -> None:
    _as(client, seeded, "agent")
    empty = client.get("/console/antifraud/flags?customer_id=&conversation_id=&case_reference=")
    assert empty.status_code == 200
    refused = client.get("/console/antifraud/flags", params={"customer_id": "abc"})
    assert refused.status_code == 400 and "正整数" in _alert(refused.text)


def test_the_registry_page_pages_by_cursor(
    client: TestClient, seeded: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Next-page links carry the cursor after the last entry shown (filters kept); walking
    them shows every entry once, in the order of one long page, and the last page has no
    link to an empty page even when it is exactly full."""
    from kefu.antifraud.pages import registry as pages

    _as(client, seeded, "agent")
    total = service.list_entries(seeded, service.EntryFilter(active=True))[1]
    whole = [
        entry.id for entry in service.list_entries(seeded, service.EntryFilter(active=True))[0]
    ]
    for size in (3, total):
        monkeypatch.setattr(pages, "PAGE_SIZE", size)
        url: str | None = "/console/antifraud/registry?state=active"
        seen: list[int] = []
        while url:
            page = client.get(url)
            assert page.status_code == 200
            shown = [
                int(n) for n in re.findall(r'href="/console/antifraud/registry/(\d+)"', page.text)
            ]
            assert shown, "a link led to an empty page"
            seen += list(dict.fromkeys(shown))
            following = re.search(r'href="([^"]+)" rel="next"', page.text)
            url = following.group(1).replace("&amp;", "&") if following else None
            if url:
                assert "state=active" in url and "after=" in url
        assert seen == whole
    assert client.get("/console/antifraud/registry?after=not-a-cursor").status_code == 400
