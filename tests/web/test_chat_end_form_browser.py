"""The end-of-chat form in the agent's chat page: each outcome's radio button sits with its
label, at the start of its own line, in zh-CN and en at the console's usual widths (the
third one sat at the end of the second's line, its label wrapped below)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser
from tests.web.conftest import SCREENSHOTS, LiveServer, an_agents_chat
from tests.web.staff_login import sign_in

WIDTHS = (1280, 1024, 390)


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_each_outcome_radio_sits_with_its_label(
    live_server: LiveServer, browser: Browser, lang: str
) -> None:
    chat_url = an_agents_chat(live_server, language=lang) + f"?lang={lang}"
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    sign_in(live_server, page, "xiaoli")
    page.goto(chat_url)
    outcomes = page.locator(".end-chat fieldset")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    measured = {}
    for width in WIDTHS:  # every width shot first, then judged
        page.set_viewport_size({"width": width, "height": 900})
        outcomes.scroll_into_view_if_needed()
        outcomes.screenshot(path=str(SCREENSHOTS / f"console-chat-end-outcomes-{lang}-{width}.png"))
        labels = outcomes.locator("label")
        assert labels.count() == 3
        measured[width] = [
            (labels.nth(i).bounding_box(), labels.nth(i).locator("input").bounding_box())
            for i in range(3)
        ]
    for width, boxes in measured.items():
        lefts = {round(radio["x"]) for _, radio in boxes if radio}
        assert len(lefts) == 1, (width, boxes)  # every radio starts its own line
        for label, radio in boxes:
            assert label is not None and radio is not None
            # the radio at the label's start and on its first line, beside the words
            assert abs(radio["x"] - label["x"]) <= 2, (width, label, radio)
            assert radio["y"] < label["y"] + 24, (width, label, radio)
        tops = [label["y"] for label, _ in boxes if label]
        assert tops == sorted(tops) and len(set(tops)) == 3, (width, boxes)
    context.close()
