"""What a value someone wants checked is, and its one normal form.

People paste numbers, links and accounts in every shape: ``+86 400-800-9595``,
``４００８００９５９５``, ``HTTPS://WWW.Kefu-Wallet.com.cn/login?x=1``, ``xn--…`` punycode,
``mailto:Support@…``, ``@KefuWallet``. ``parse`` finds the kind and reduces the value to the
form the registry stores (``normalised``), so every way of writing the same thing meets the
same row. Phone numbers go through ``phonenumbers``; host names through ``idna`` (UTS #46)
and the Public Suffix List bundled with ``publicsuffixlist``.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Literal
from urllib.parse import parse_qs, urlsplit

import idna
import phonenumbers
from phonenumbers import shortnumberinfo
from publicsuffixlist import PublicSuffixList

from kefu.antifraud.errors import (
    BadEmail,
    BadWebAddress,
    EmptyValue,
    UnrecognisedValue,
    ValueTooLong,
    WrongKind,
)

Kind = Literal["phone", "domain", "email", "wechat", "weibo", "app", "account"]
KINDS: tuple[Kind, ...] = ("phone", "domain", "email", "wechat", "weibo", "app", "account")
ACCOUNT_KINDS: tuple[Kind, ...] = ("wechat", "weibo", "account")
MAX_VALUE = 2048
MAX_NORMALISED = 300

# Zero-width and direction marks hide inside pasted links; they never belong to a value.
_INVISIBLE = dict.fromkeys(
    [0x00AD, 0x034F, 0x061C, 0x180E, *range(0x200B, 0x2010), *range(0x202A, 0x202F),
     *range(0x2060, 0x2065), 0xFEFF],
)  # fmt: skip
_DASHES = str.maketrans(dict.fromkeys("‐‑‒–—―−﹣－", "-"))
_PHONE_SEPARATORS = re.compile(r"[\s\-.()/]")
_PHONE_SHAPE = re.compile(r"^(?:\+|00)?\d{3,20}$")
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_HOST_SHAPE = re.compile(r"^[^\s/@:?#]+\.[^\s/@:?#.]+\.?(?::\d{1,5})?(?:[/?#].*)?$")
_ANY_PACKAGE = re.compile(r"^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+$")
_ACCOUNT = re.compile(r"^@?[\w.\-]{1,64}$")
# Android package names read like reversed domains (``com.kefuwallet.app``); a host name
# never starts with these labels, so they tell the two apart.
_PACKAGE = re.compile(r"^(?:com|cn|net|org|io|me|top)(?:\.[a-z][a-z0-9_]*){2,}$")
_APP_STORE_HOSTS = {"apps.apple.com", "itunes.apple.com", "play.google.com"}


@dataclass(frozen=True)
class Parsed:
    """A value reduced to its kind and normal form.

    ``display`` is what a person is shown (``400 800 9595``, ``kefu-wallet.com.cn``);
    ``candidates`` are the registry keys that would claim the value, most specific first:
    for a host its parent domains, for an e-mail address the address and its domain.
    """

    kind: Kind
    normalised: str
    display: str
    candidates: tuple[str, ...]
    host: str | None = None  # for domains and e-mail addresses: the ASCII (punycode) host
    unicode_host: str | None = None
    is_ip: bool = False
    # ``https://kefu-wallet.com.cn@evil.example/``: what stands before the @ of a link is
    # shown to people but not where it leads
    decoy: str | None = None


@lru_cache(maxsize=1)
def suffix_list() -> PublicSuffixList:
    return PublicSuffixList()


def clean(raw: str | None) -> str:
    """NFKC (full-width digits and letters become ASCII), invisible marks removed."""
    if raw is None:
        raise EmptyValue("empty value", field="value")
    if len(raw) > MAX_VALUE:
        raise ValueTooLong("value too long", field="value", max=MAX_VALUE)
    text = unicodedata.normalize("NFKC", raw).translate(_INVISIBLE).translate(_DASHES)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cc" or ch in "\t\n")
    text = text.strip().strip("\"'<>“”‘’「」《》")
    if not text:
        raise EmptyValue("empty value", field="value")
    return text


def _phone(text: str) -> Parsed | None:
    compact = _PHONE_SEPARATORS.sub("", text.removeprefix("tel:"))
    if not _PHONE_SHAPE.match(compact):
        return None
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    try:
        number = phonenumbers.parse(compact, "CN")
    except phonenumbers.NumberParseException:
        return None
    if not (
        phonenumbers.is_possible_number(number) or shortnumberinfo.is_possible_short_number(number)
    ):
        return None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if number.country_code == 86:
        national = str(number.national_number)
        display = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        # 95xxx, 10690… and other service numbers have no formatting; show the digits
        display = display if len(national) >= 10 else national
    else:
        display = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return Parsed(kind="phone", normalised=e164, display=display, candidates=(e164,))


def readable(kind: str, normalised: str) -> str:
    """A stored key as a person writes it: +8695188 → 95188, +864008009595 → 400 800 9595
    (the +86 form is for matching, never for reading)."""
    if kind != "phone":
        return normalised
    parsed = _phone(normalised)
    return parsed.display if parsed is not None else normalised


def _to_ascii_host(host: str) -> tuple[str, str]:
    """(ASCII form, Unicode form) of a host name; punycode is decoded, Unicode encoded."""
    host = host.rstrip(".").lower()
    if not host or len(host) > 253:
        raise BadWebAddress("not a web address", field="value")
    labels = host.split(".")
    ascii_labels: list[str] = []
    unicode_labels: list[str] = []
    for label in labels:
        if not label:
            raise BadWebAddress("not a web address", field="value")
        if label.isascii():
            if not _HOST_LABEL.match(label):
                raise BadWebAddress("not a web address", field="value")
            ascii_labels.append(label)
            if label.startswith("xn--"):
                try:
                    unicode_labels.append(idna.decode(label))
                except idna.IDNAError:
                    unicode_labels.append(label)
            else:
                unicode_labels.append(label)
            continue
        try:
            encoded = idna.encode(label, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            raise BadWebAddress("not a web address", field="value") from exc
        ascii_labels.append(encoded)
        unicode_labels.append(idna.decode(encoded))
    return ".".join(ascii_labels), ".".join(unicode_labels)


def host_candidates(host: str) -> tuple[str, ...]:
    """The host and each parent domain down to the registrable one: the registry entry for
    ``kefu-wallet.com.cn`` also claims ``www.`` and ``help.kefu-wallet.com.cn``."""
    labels = host.split(".")
    registrable = suffix_list().privatesuffix(host) or host
    found = []
    for start in range(len(labels)):
        candidate = ".".join(labels[start:])
        found.append(candidate)
        if candidate == registrable:
            break
    return tuple(found)


def _ip(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


def parse_host(host: str) -> Parsed:
    ip = _ip(host)
    if ip is not None:
        return Parsed("domain", ip, ip, (ip,), host=ip, unicode_host=ip, is_ip=True)
    ascii_host, unicode_host = _to_ascii_host(host)
    if "." not in ascii_host:
        raise BadWebAddress("not a web address", field="value")
    return Parsed(
        kind="domain",
        normalised=ascii_host,
        display=unicode_host,
        candidates=host_candidates(ascii_host),
        host=ascii_host,
        unicode_host=unicode_host,
    )


def _app_key(host: str, path: str, query: str) -> str | None:
    """A store listing's stable key: ``apps.apple.com/app/id123`` or ``play:<package>``."""
    if host in {"apps.apple.com", "itunes.apple.com"}:
        match = re.search(r"/id(\d{5,12})", path)
        return f"apple:id{match.group(1)}" if match else None
    if host == "play.google.com":
        ids = parse_qs(query).get("id")
        return f"android:{ids[0].lower()}" if ids and _ANY_PACKAGE.match(ids[0].lower()) else None
    return None


def _url(text: str) -> Parsed | None:
    lowered = text.lower()
    has_scheme = re.match(r"^[a-z][a-z0-9+.-]{0,15}://", lowered) is not None
    if not has_scheme and not _HOST_SHAPE.match(text):
        return None
    if not has_scheme:
        text = "http://" + text
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError as exc:
        raise BadWebAddress("not a web address", field="value") from exc
    if not host:
        raise BadWebAddress("not a web address", field="value")
    parsed = parse_host(host)
    if parts.username:
        parsed = replace(parsed, decoy=unicodedata.normalize("NFKC", parts.username).lower())
    if parsed.host in _APP_STORE_HOSTS:
        key = _app_key(parsed.normalised, parts.path, parts.query)
        if key is not None:
            shown = f"https://{parsed.normalised}{parts.path}"
            if key.startswith("android:"):
                shown += f"?id={key.removeprefix('android:')}"
            return Parsed("app", key, shown, (key,), host=parsed.host)
    return parsed


def _email(text: str) -> Parsed | None:
    text = text.removeprefix("mailto:").split("?", 1)[0]
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain or " " in text or "/" in domain:
        return None
    if len(local) > 64 or not re.match(r"^[\w.!#$%&'*+/=?^`{|}~-]+$", local):
        raise BadEmail("not an e-mail address", field="value")
    try:
        host = parse_host(domain)
    except BadWebAddress as exc:
        raise BadEmail("not an e-mail address", field="value") from exc
    if host.is_ip:
        raise BadEmail("not an e-mail address", field="value")
    address = f"{local.lower()}@{host.normalised}"
    return Parsed(
        kind="email",
        normalised=address,
        display=f"{local.lower()}@{host.display}",
        candidates=(address, *(f"@{c}" for c in host.candidates)),
        host=host.host,
        unicode_host=host.unicode_host,
    )


def account_key(text: str) -> str:
    """Social account ids compare without case, width or a leading ``@``."""
    return unicodedata.normalize("NFKC", text).strip().lstrip("@").casefold()


def parse(raw: str | None) -> Parsed:
    """Detect the kind of ``raw`` and normalise it; InvalidInput when it is none of them."""
    text = clean(raw)
    if text.lower().startswith("mailto:") or (
        "@" in text.lstrip("@") and "://" not in text and not text.startswith("@")
    ):
        found = _email(text)
        if found is not None:
            return found
        raise BadEmail("not an e-mail address", field="value")
    if _ip(text) is not None:
        return parse_host(text)
    phone = _phone(text)
    if phone is not None:
        return phone
    if _PACKAGE.match(text.lower()):
        key = f"android:{text.lower()}"
        return Parsed("app", key, text.lower(), (key,))
    url = _url(text)
    if url is not None:
        return url
    if _ACCOUNT.match(text) and not text.strip("@.-_").isdigit():
        key = account_key(text)
        if key:
            return Parsed("account", key, text.lstrip("@"), (key,))
    raise UnrecognisedValue(
        "not a phone number, web address, e-mail address or account", field="value"
    )


def normalise_for(kind: str, value: str) -> Parsed:
    """Normalise a registry entry of a known kind (an admin typing ``400-800-9595``)."""
    text = clean(value)
    if kind in ("wechat", "weibo", "account"):
        if not _ACCOUNT.match(text):
            raise UnrecognisedValue("not an account name", field="value")
        key = account_key(text)
        return Parsed(kind, key, text.lstrip("@"), (key,))  # type: ignore[arg-type]
    if kind == "email" and text.startswith("@"):
        host = parse_host(text[1:])
        key = f"@{host.normalised}"
        return Parsed("email", key, f"@{host.display}", (key,), host=host.host)
    parsed = parse(text)
    if kind == "app" and parsed.kind == "domain":
        raise WrongKind(
            "an app listing needs its store address or package name", field="value", kind=kind
        )
    if parsed.kind != kind:
        raise WrongKind(f"this looks like a {parsed.kind}, not a {kind}", field="value", kind=kind)
    return parsed
