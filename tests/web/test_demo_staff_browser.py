"""The demo's staff, in a browser: a name is a name, and the console shows each person's
role beside it, once (the top bar; the live queues' agents; the transfer list)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect
from tests.web.conftest import LiveServer, screenshot
from tests.web.staff_login import sign_in

from kefu import demo
from kefu.i18n import translate


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_demo_staff_go_by_their_names_with_the_role_beside(
    live_server: LiveServer, browser: Browser, lang: str
) -> None:
    with live_server.sessions() as db:
        demo.seed(db, history=False)
        db.commit()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    sign_in(live_server, page, "supervisor", "kefu-supervisor-demo")
    page.goto(f"{live_server.url}/console/queues?lang={lang}")
    role = translate("role.supervisor", lang)
    expect(page.locator(".topbar .who span").first).to_have_text(f"林慧 · {role}")
    agents = page.get_by_role("region", name=translate("chat.console.queues.agents", lang))
    names = agents.locator("tbody tr td:first-child")
    expect(names).to_have_count(4)  # every demo colleague, none of them online yet
    for name, username in (("孙浩", "admin"), ("林慧", "supervisor"), ("王强", "specialist")):
        expect(agents.get_by_role("row", name=name)).to_contain_text(username)
    expect(agents).to_contain_text("张敏")
    for title in ("主管", "客服", "专员", "管理员"):
        expect(names.filter(has_text=title)).to_have_count(0)
    screenshot(page, f"console-queues-demo-staff-{lang}")
    context.close()
