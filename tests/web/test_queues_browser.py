"""The supervisor's live queues, in a browser: the agents' table lists every colleague who
can work chats, one who has never been online among them (offline), so the supervisor sees
who is missing, not only who came."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect
from tests.factories import STAFF_PASSWORD
from tests.web.conftest import LiveServer, screenshot
from tests.web.staff_login import sign_in

from kefu.chat import routing
from kefu.config import Settings
from kefu.i18n import translate
from kefu.identity import service as identity_service


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_a_colleague_never_online_is_listed_offline(
    live_server: LiveServer, browser: Browser, live_settings: Settings, lang: str
) -> None:
    with live_server.sessions() as db:
        supervisor = identity_service.create_staff(
            db, username="lin", password=STAFF_PASSWORD, role="supervisor", display_name="林慧"
        )
        routing.set_presence(db, supervisor, "online", settings=live_settings)
        identity_service.create_staff(
            db, username="zhaolei", password=STAFF_PASSWORD, role="agent", display_name="赵磊"
        )
        db.commit()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    sign_in(live_server, page, "lin")
    page.goto(f"{live_server.url}/console/queues?lang={lang}")
    agents = page.get_by_role("region", name=translate("chat.console.queues.agents", lang))
    rows = agents.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("林慧")
    expect(rows.nth(0).locator("td").nth(1)).to_have_text(translate("chat.presence.online", lang))
    # a supervisor works every tier, listed in the language's punctuation (、 in Chinese)
    separator = {"zh-CN": "、", "en": ", "}[lang]
    tiers = separator.join(translate(f"chat.tier.{tier}", lang) for tier in ("tier1", "tier2"))
    expect(rows.nth(0).locator("summary")).to_contain_text(tiers)
    expect(rows.nth(1)).to_contain_text("赵磊")
    expect(rows.nth(1).locator("td").nth(1)).to_have_text(translate("chat.presence.offline", lang))
    screenshot(page, f"console-queues-agent-never-online-{lang}")
    context.close()
