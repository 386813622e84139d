from kefu.antifraud.channel_view import channel_groups
from kefu.antifraud.schemas import ContactChannel


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
