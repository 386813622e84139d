from kefu.antifraud.schemas import ContactChannel
from kefu.kb import render
from kefu.web.help_view import channel_groups, excerpt


def _channel(kind: str, role: str, value: str, **extra: object) -> ContactChannel:
    return ContactChannel(
        kind=kind,
        role=role,
        value=value,
        normalised=value.lower(),
        toll_free=extra.get("toll_free"),  # type: ignore[arg-type]
        labels={"zh-CN": f"{kind}标签", "en": f"{kind} label"},
        notes_by_lang={},
        cost={},
        hours={"zh-CN": "7×24 小时", "en": "24/7"},
    )


def test_channels_are_grouped_as_customers_look_for_them() -> None:
    groups = channel_groups(
        [
            _channel("phone", "hotline", "400-800 9595", toll_free=False),
            _channel("phone", "outbound", "021-6080 9595"),
            _channel("email", "address", "help@kefu.example"),
            _channel("email", "domain", "@kefu.example"),
            _channel("wechat", "official_account", "KefuWallet"),
            _channel("domain", "website", "kefu.example"),
        ],
        "zh-CN",
    )
    assert [name for name, _ in groups] == ["hotline", "online", "web", "ours"]
    hotline = groups[0][1][0]
    assert hotline.href == "tel:4008009595"
    assert "7×24 小时" in hotline.notes
    online = {row.value: row.href for row in groups[1][1]}
    assert online == {"help@kefu.example": "mailto:help@kefu.example", "KefuWallet": None}
    web = {row.value: row.href for row in groups[2][1]}
    assert web == {"kefu.example": "https://kefu.example", "@kefu.example": None}
    assert groups[3][1][0].href is None  # a number we call from is not for calling us


def test_no_channels_no_groups() -> None:
    assert channel_groups([], "en") == []


def test_excerpts_skip_labels_and_list_numbers() -> None:
    assert excerpt("怎么做：\n1. 在“账单”中查看状态。") == "在“账单”中查看状态。"
    assert excerpt("What happened: the bank took it.") == "The bank took it."
    long = excerpt("发生了什么：" + "很长的一句话" * 20)
    assert len(long) == 44 and long.endswith("…")
    assert excerpt("\n\n") == ""


def test_an_article_sets_its_lead_in_apart() -> None:
    """The help center renders articles through ``kb.render`` (Markdown); a paragraph that
    opens with a label keeps the label in bold, as the plain-text articles were shown."""
    html = str(render.to_html("发生了什么：银行已扣款。\n\n普通的一段。"))
    assert html == "<p><strong>发生了什么：</strong> 银行已扣款。</p>\n<p>普通的一段。</p>\n"
