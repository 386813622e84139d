"""The patterns of wallet fraud in what a customer writes, Chinese and English.

Pure functions, no database: ``detect`` runs on every customer message of every channel, so
it is a handful of precompiled expressions over NFKC-normalised text (well under a
millisecond for a chat message). Each pattern needs the *act* (someone asked for, told me
to, wants), not just the word: "我想修改密码" and "how do I reset my password" mention a
password and are not scams. Links are only found here; whether a link is ours needs the
registry (``kefu.antifraud.service.detect_signals_with_links``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from kefu.i18n import Lang, translate

SignalKind = Literal[
    "asked_for_code",
    "safe_account_transfer",
    "remote_control",
    "fee_for_refund",
    "private_messenger_contact",
    "unofficial_link",
    "reported_scam_contact",
]
SIGNAL_KINDS: tuple[SignalKind, ...] = (
    "asked_for_code",
    "safe_account_transfer",
    "remote_control",
    "fee_for_refund",
    "private_messenger_contact",
    "unofficial_link",
    "reported_scam_contact",
)
MAX_SCAN = 8000  # longer texts are scanned up to here: a message, not a book


@dataclass(frozen=True)
class ScamSignal:
    kind: SignalKind
    start: int  # span in the text as given
    end: int
    matched: str  # the words that matched (links: the host)
    detail: str | None = None  # for links: the official site it imitates, if any


def _any(*words: str) -> str:
    return "(?:" + "|".join(words) + ")"


# Within one sentence: no 。！？.!? between the parts.
_ZH_GAP = r"[^。！？!?\n]"
_EN_GAP = r"[^.!?\n]"

# What must never be given away (pattern fragments, not secrets themselves).
_ZH_CODE_WORDS = "(?:短信)?" + _any(
    "验证码", "校验码", "动态码", "短信码", "确认码", "动态密码", "支付密码", "登录密码", "密码",
    "口令", "PIN码?",
)  # fmt: skip
_EN_CODE_WORDS = (
    r"(?:(?:verification|sms|security|one[- ]time|login|confirmation|auth(?:entication)?)\s+)?"
    r"(?:code|codes|otp|password|passcode|pin)\b"
)
# Someone other than the writer: the writer asking for a new code is not a scam.
_EN_SOMEONE = (
    r"(?:he|she|they|someone|somebody|a man|a woman|a guy|the caller|caller|an? agent|"
    r"the agent|a stranger|customer service|support|the person|this person|the scammer|"
    r"a person|staff|an officer|the bank|police)"
)
_EN_PRIVATE_APP = (
    r"(?:whats\s?app|telegram|wechat|we\s?chat|qq|signal|line|viber|messenger|facebook|"
    r"instagram|tiktok|douyin|private\s+(?:chat|message|account|number|group))\b"
)
_ZH_PRIVATE_APP = _any(
    "微信", "QQ", "qq", "WhatsApp", "whatsapp", "Telegram", "telegram", "电报", "飞机", "钉钉",
    "企业微信", "私人号", "私聊", "私信", "QQ群", "微信群", "群聊", "群",
)  # fmt: skip
_ZH_THIRD = _any(
    "客服", "工作人员", "专员", "理赔员", "经理", "有人", "有个人", "有个", "陌生人", "对方", "他",
    "她", "他们", "骗子", r"自称\S{0,8}?的人",
)  # fmt: skip
_ZH_FEE = _any(
    "手续费", "保证金", "押金", "解冻费", "服务费", "激活费", "工本费", "税费?", "会员费", "费用",
    "钱", "流水", "一笔", "款",
)  # fmt: skip
_ZH_PAYOUT = _any(
    "退款", "理赔", "赔偿", "补偿", "赔付", "返还", "退还", "退费", "解冻", "提现", "返现", "中奖",
    "领奖", "贷款", "放款", "到账",
)  # fmt: skip

_PATTERNS: dict[SignalKind, tuple[str, ...]] = {
    "asked_for_code": (
        rf"(?:让我|叫我|要我|要求我?|请我|逼我|催我|骗我){_ZH_GAP}{{0,8}}?"
        rf"(?:提供|告诉|报|念|读|发|给|说|输入|填|截图){_ZH_GAP}{{0,8}}?{_ZH_CODE_WORDS}",
        rf"(?:索要|索取|问我要|向我要|跟我要|找我要|要了我?的?|要走了|骗走了?|骗取|套取){_ZH_GAP}{{0,8}}?{_ZH_CODE_WORDS}",
        rf"{_ZH_CODE_WORDS}{_ZH_GAP}{{0,8}}?(?:发给|告诉|报给|念给|读给|提供给|给|截图给)了?"
        rf"(?:他|她|对方|客服|他们|那个人|骗子|陌生人|工作人员)",
        rf"(?<!\bi )\b(?:asked|asks|asking|wants|wanted|requested|requests|requesting|demanded|"
        rf"demands|insisted on)\b{_EN_GAP}{{0,40}}?\b{_EN_CODE_WORDS}",
        rf"\b(?:give|gave|send|sent|share|shared|read|tell|told|forward|forwarded|text|texted)\b"
        rf"(?:\s+(?:out|over))?\s+(?:him|her|them|the caller|the agent|someone|a stranger|"
        rf"customer service|support|the person){_EN_GAP}{{0,20}}?\b{_EN_CODE_WORDS}",
        rf"\b{_EN_SOMEONE}\b{_EN_GAP}{{0,20}}?\btold me to\b{_EN_GAP}{{0,30}}?\b{_EN_CODE_WORDS}",
    ),
    "safe_account_transfer": (
        r"(?:安全|保险|国家|监管|清查|核查|专用|备用)(?:账户|帐户|账号|帐号|卡)",
        rf"(?:转|汇|存|打)(?:到|入|进){_ZH_GAP}{{0,10}}?(?:安全|监管|公安|法院|国家)",
        r"资金(?:清查|核查|审查)|验资|证明(?:资金|清白)",
        rf"\b(?:transfer|move|send|deposit|wire|put)\w*\b{_EN_GAP}{{0,40}}?\b(?:safe|secure|"
        r"safety|protected|holding|verification|escrow|government|police)\s+(?:bank\s+)?account",
        rf"\b(?:safe|secure|safety|protected|holding)\s+(?:bank\s+)?account\b{_EN_GAP}{{0,40}}?"
        r"\b(?:transfer|move|send|deposit|wire)",
    ),
    "remote_control": (
        r"(?:屏幕|桌面)共享|共享(?:屏幕|桌面)|开(?:启|通)?共享|远程(?:控制|协助|操作|桌面|软件)",
        r"(?:下载|安装|打开)" + _ZH_GAP + r"{0,6}?(?:向日葵|ToDesk|todesk|TeamViewer|teamviewer|"
        r"AnyDesk|anydesk|会议(?:软件|app|APP)?|腾讯会议|钉钉会议|Zoom|zoom)",
        r"向日葵(?:远程|软件|app|APP)",
        r"\bscreen\s*-?\s*shar(?:e|ing)\b|\bshar(?:e|ing)\s+(?:my|your|the|his|her)\s+screen\b",
        r"\bremote\s+(?:control|access|desktop|assistance|support app)\b",
        r"\b(?:teamviewer|anydesk|rustdesk|todesk|quick\s?support|ultraviewer|airdroid)\b",
    ),
    "fee_for_refund": (
        _ZH_PAYOUT
        + _ZH_GAP
        + r"{0,15}?(?:先|需要|需|要|得|必须|才能)"
        + _ZH_GAP
        + r"{0,10}?(?:交|付|缴|支付|转|充|垫|刷)"
        + _ZH_GAP
        + r"{0,6}?"
        + _ZH_FEE,
        r"(?:交|付|缴|支付|转|充|垫)"
        + _ZH_GAP
        + r"{0,10}?"
        + _ZH_FEE
        + _ZH_GAP
        + r"{0,6}?(?:才能|才可以|后才|之后才|才会|才给)"
        + _ZH_GAP
        + r"{0,10}?"
        + _ZH_PAYOUT,
        r"刷流水|激活(?:账户|额度)费",
        rf"\b(?:refund|compensation|claim|reimbursement|payout|prize|loan|unfreez\w*|"
        rf"withdrawal)\b{_EN_GAP}{{0,40}}?\b(?:requires?|needs?|need to|must|have to|has to|"
        rf"only after|first)\b{_EN_GAP}{{0,30}}?\b(?:pay|paying|deposit|transfer|fee|charge|tax)",
        rf"\b(?:pay|paying|deposit|transfer|send)\b{_EN_GAP}{{0,30}}?\b(?:fee|deposit|charge|"
        rf"tax|margin|first)\b{_EN_GAP}{{0,30}}?\b(?:to|before|so|in order to|for)\b"
        rf"{_EN_GAP}{{0,20}}?\b(?:get|receive|release|unlock|process|claim)\b{_EN_GAP}{{0,20}}?"
        r"\b(?:refund|compensation|payout|money|funds|prize|loan)",
    ),
    "private_messenger_contact": (
        rf"{_ZH_THIRD}{_ZH_GAP}{{0,12}}?(?:让我|叫我|要我|要求我?|请我)(?:加|添加|下载|进|联系|扫码加)"
        rf"{_ZH_GAP}{{0,6}}?{_ZH_PRIVATE_APP}",
        rf"{_ZH_THIRD}{_ZH_GAP}{{0,12}}?(?:加了?我|拉我进?|邀请我进?|私聊我|私信我|通过)"
        rf"{_ZH_GAP}{{0,6}}?{_ZH_PRIVATE_APP}",
        rf"{_ZH_PRIVATE_APP}{_ZH_GAP}{{0,8}}?(?:上|里)?{_ZH_GAP}{{0,6}}?(?:自称|冒充|假冒|假装)"
        rf"{_ZH_GAP}{{0,4}}?(?:客服|工作人员|官方)",
        rf"\b{_EN_SOMEONE}\b{_EN_GAP}{{0,30}}?\b(?:added me|messaged me|contacted me|texted me|"
        rf"(?:told|asked) me to (?:add|message|contact|chat|join|download|install))\b"
        rf"{_EN_GAP}{{0,30}}?\b{_EN_PRIVATE_APP}",
        rf"\b(?:fake|so-called|a|an)\s+(?:customer service|support|agent)\b{_EN_GAP}{{0,20}}?"
        rf"\b(?:on|via|through|over)\s+{_EN_PRIVATE_APP}",
    ),
}
_COMPILED: dict[SignalKind, re.Pattern[str]] = {
    kind: re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)
    for kind, patterns in _PATTERNS.items()
}
# Words every match of the kind contains (lower case). Most messages hold none, and a
# substring test is far cheaper than trying every pattern at every position.
_ANCHORS: dict[SignalKind, tuple[str, ...]] = {
    "asked_for_code": (
        "验证码", "校验码", "动态码", "短信码", "确认码", "密码", "口令", "pin", "code", "otp",
        "password",
    ),
    "safe_account_transfer": (
        "账户", "帐户", "账号", "帐号", "卡", "安全", "监管", "公安", "法院", "国家", "资金",
        "验资", "清白", "account",
    ),
    "remote_control": (
        "共享", "远程", "向日葵", "desk", "viewer", "会议", "zoom", "screen", "remote", "support",
        "airdroid",
    ),
    "fee_for_refund": (
        "费", "金", "税", "钱", "流水", "一笔", "款", "激活", "refund", "compensation", "claim",
        "reimburse", "payout", "prize", "loan", "unfreez", "withdraw", "money", "funds",
    ),
    "private_messenger_contact": (
        "微信", "qq", "whatsapp", "telegram", "电报", "飞机", "钉钉", "私人号", "私聊", "私信",
        "群", "wechat", "we chat", "signal", "line", "viber", "messenger", "facebook", "instagram",
        "tiktok", "douyin", "private",
    ),
}  # fmt: skip
# Links and bare host names in running text, also written with Chinese punctuation around.
# Labels may hold Latin, Greek and Cyrillic letters (the look-alike alphabets) but not Han
# characters, which in running Chinese text are the words around the link.
_LABEL_CHAR = "a-z0-9\u00c0-\u024f\u0370-\u04ff"
_LINK = re.compile(
    r"(?:https?://|www\.)[^\s<>\"'，。！？、；）)]+"
    rf"|(?<![{_LABEL_CHAR}_@.-])(?:[{_LABEL_CHAR}](?:[{_LABEL_CHAR}-]{{0,61}}[{_LABEL_CHAR}])?\.)+"
    r"(?:[a-z]{2,24}|xn--[a-z0-9-]{2,59})(?![\w.-]*@)(?::\d{1,5})?(?:/[^\s<>\"'，。！？、；）)]*)?",
    re.IGNORECASE,
)
# Phone numbers in running text: 95xxx, 400/800 numbers, landlines and mobiles.
_PHONE = re.compile(r"(?<![0-9A-Za-z+])(?:\+?86[ -]?)?(?:\d[ -]?){4,13}\d(?![0-9A-Za-z])")


def _prepare(text: str) -> str:
    """NFKC keeps the length of nearly all text, so spans map back; where it would not
    (rare ligatures), the text is scanned as given."""
    text = text[:MAX_SCAN]
    folded = unicodedata.normalize("NFKC", text)
    return folded if len(folded) == len(text) else text


def detect(text: str) -> list[ScamSignal]:
    """Scam patterns in ``text``: at most one signal per kind, the first place it occurs.
    ``unofficial_link`` and ``reported_scam_contact`` need the registry and are not found
    here."""
    if not text:
        return []
    scanned = _prepare(text)
    lowered = scanned.lower()
    found: list[ScamSignal] = []
    for kind, pattern in _COMPILED.items():
        if not any(word in lowered for word in _ANCHORS[kind]):
            continue
        match = pattern.search(scanned)
        if match is not None:
            found.append(
                ScamSignal(kind, match.start(), match.end(), text[match.start() : match.end()])
            )
    found.sort(key=lambda signal: signal.start)
    return found


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    text: str


def links(text: str) -> list[Mention]:
    """Links and host names written in ``text`` (``kefu-wallet.com.cn/x``, ``http://…``)."""
    if not text:
        return []
    scanned = _prepare(text)
    return [
        Mention(m.start(), m.end(), text[m.start() : m.end()].rstrip(".,;:"))
        for m in _LINK.finditer(scanned)
    ]


def phone_numbers(text: str) -> list[Mention]:
    if not text:
        return []
    scanned = _prepare(text)
    return [Mention(m.start(), m.end(), m.group(0)) for m in _PHONE.finditer(scanned)]


_WARNING_ORDER: tuple[SignalKind, ...] = (
    "asked_for_code",
    "safe_account_transfer",
    "remote_control",
    "fee_for_refund",
    "private_messenger_contact",
    "unofficial_link",
    "reported_scam_contact",
)


def warning_text(signals: list[ScamSignal], lang: Lang) -> str:
    """What the assistant says at once: this is how scams look, what we never do, and what
    to do now. Empty when there is no signal."""
    if not signals:
        return ""
    kinds = {signal.kind for signal in signals}
    lines = [translate("antifraud.warning.intro", lang)]
    for kind in _WARNING_ORDER:
        if kind in kinds:
            lines.append(translate(f"antifraud.warning.{kind}", lang))
    lines.append(translate("antifraud.warning.act_now", lang))
    return "\n".join(lines)
