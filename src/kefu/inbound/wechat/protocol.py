"""The official account's webhook protocol, done by wechatpy: the signature on every request
(token, timestamp, nonce), safe mode's AES envelope (安全模式, ``msg_signature``), the message
XML, and the XML of a passive reply.

Anything wrong with a request is refused before Kefu looks at it: a bad signature is
``SignatureInvalid`` (403), XML that does not parse or does not decrypt is ``Unreadable``
(400).

wechatpy is imported by the functions that use it: a process whose official account is not
connected never loads it (with requests and cryptography, ~15 MB of a web process).
"""

from __future__ import annotations

import binascii
import struct
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from xml.parsers.expat import ExpatError

from kefu.config import Settings
from kefu.errors import InvalidInput, PermissionDenied

if TYPE_CHECKING:
    from wechatpy.crypto import WeChatCrypto

# how far a request's timestamp may be from our clock: WeChat retries within seconds, so an
# older signed request is a replay
MAX_SKEW_SECONDS = 300
MAX_TEXT_BYTES = 2048  # WeChat's limit on a text message, passive or sent by the API
MAX_BODY = 64 * 1024  # a text message is at most 2048 bytes; anything this large is not WeChat


class SignatureInvalid(PermissionDenied):
    code = "signature_invalid"
    message_key = "error.wechat.signature_invalid"


class Unreadable(InvalidInput):
    code = "unreadable_message"
    message_key = "error.wechat.unreadable"


@dataclass(frozen=True)
class Signed:
    """The query string WeChat adds to every request."""

    signature: str
    timestamp: str
    nonce: str
    msg_signature: str = ""
    encrypt_type: str = ""


def _fresh(timestamp: str, now: float) -> None:
    if not timestamp.isdigit() or abs(now - int(timestamp)) > MAX_SKEW_SECONDS:
        raise SignatureInvalid("timestamp missing or too far from now")


def verify(settings: Settings, signed: Signed, *, now: float | None = None) -> None:
    """The plain signature every request carries, safe mode or not."""
    from wechatpy.exceptions import InvalidSignatureException
    from wechatpy.utils import check_signature

    _fresh(signed.timestamp, time.time() if now is None else now)
    try:
        check_signature(settings.wechat_token, signed.signature, signed.timestamp, signed.nonce)
    except InvalidSignatureException as exc:
        raise SignatureInvalid("bad signature") from exc


def _crypto(settings: Settings) -> WeChatCrypto:
    from wechatpy.crypto import WeChatCrypto

    return WeChatCrypto(settings.wechat_token, settings.wechat_aes_key, settings.wechat_app_id)


def encrypted(settings: Settings, signed: Signed) -> bool:
    """Safe mode: the account has an EncodingAESKey and WeChat says the body is encrypted."""
    return bool(settings.wechat_aes_key) and signed.encrypt_type == "aes"


@dataclass(frozen=True)
class Incoming:
    """A message or event as posted.

    ``kind`` is wechatpy's type: ``text``, ``image``, ``voice``… for messages (``unknown``
    for one it does not know), the event name (``subscribe``, ``subscribe_scan``,
    ``unsubscribe``, ``click``…) for events. ``message`` is wechatpy's object, which the
    passive reply is addressed from.
    """

    kind: str
    openid: str
    account: str
    msg_id: str | None
    text: str | None
    message: Any


def read(settings: Settings, signed: Signed, body: bytes) -> Incoming:
    """The message posted, decrypted in safe mode."""
    from wechatpy import parse_message
    from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException

    if len(body) > MAX_BODY:
        raise Unreadable("message too large")
    try:
        xml = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Unreadable("not UTF-8") from exc
    if encrypted(settings, signed):
        try:
            xml = _crypto(settings).decrypt_message(
                xml, signed.msg_signature, signed.timestamp, signed.nonce
            )
        except InvalidSignatureException as exc:
            raise SignatureInvalid("bad message signature") from exc
        except InvalidAppIdException as exc:
            raise SignatureInvalid("encrypted for another account") from exc
        except (ExpatError, KeyError, TypeError, ValueError, binascii.Error, struct.error) as exc:
            # not XML, no <Encrypt>, not base64, or bytes that are not our envelope
            raise Unreadable("encrypted message unreadable") from exc
    elif signed.encrypt_type == "aes":
        raise Unreadable("an encrypted message, but KEFU_WECHAT_AES_KEY is not set")
    try:
        message = parse_message(xml)
        incoming = Incoming(
            kind=_kind(message),
            openid=str(message.source or ""),
            account=str(message.target or ""),
            msg_id=str(message.id) if message.id else None,
            text=_text_of(message),
            message=message,
        )
    except (ExpatError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise Unreadable("not a WeChat message") from exc
    if not incoming.openid or len(incoming.openid) > 64 or not incoming.account:
        raise Unreadable("message without a usable FromUserName or ToUserName")
    return incoming


def _kind(message: Any) -> str:
    if message.type == "event":
        return str(message.event)
    if message.type == "unknown" and str(message._data.get("MsgType", "")).lower() == "event":
        return "event"  # an event wechatpy does not know
    return str(message.type)


def _text_of(message: Any) -> str | None:
    """What the follower wrote: a text message, or a voice message WeChat transcribed
    (语音识别, when the account turned it on)."""
    if message.type == "text":
        return str(message.content or "")
    if message.type == "voice" and message.recognition:
        return str(message.recognition)
    return None


def fit(text: str) -> str:
    """``text`` cut to what WeChat shows in one message, at a character boundary."""
    data = text.encode("utf-8")
    if len(data) <= MAX_TEXT_BYTES:
        return text
    return data[: MAX_TEXT_BYTES - 3].decode("utf-8", "ignore") + "…"


def reply(settings: Settings, signed: Signed, incoming: Incoming, text: str) -> str:
    """The passive reply as WeChat wants it back, encrypted in safe mode."""
    from wechatpy.replies import TextReply

    # the reply's text goes into a CDATA section, which "]]>" would end early
    content = fit(text.replace("]]>", "]] >"))
    xml = TextReply(message=incoming.message, content=content).render()
    if encrypted(settings, signed):
        return str(_crypto(settings).encrypt_message(xml, signed.nonce, signed.timestamp))
    return str(xml)


def echo(settings: Settings, signed: Signed, echostr: str) -> str:
    """The server check when the URL is saved in the admin console (服务器配置)."""
    verify(settings, signed)
    return echostr
