"""Is this webhook really from our carrier? A small verifier interface per carrier.

Twilio signs each request with HMAC (the auth token as key) over the full URL it called
plus the sorted form parameters, in ``X-Twilio-Signature``; the ``twilio`` package's
``RequestValidator`` checks it. SignalWire's compatibility API signs the same way with its
signing key, in ``X-SignalWire-Signature``. The URL is the one the carrier called, so
behind a proxy it comes from ``KEFU_VOICE_PUBLIC_URL``, never from the Host header.

Telnyx (TeXML) signs ``<timestamp>|<raw body>`` with Ed25519 (headers
``telnyx-signature-ed25519`` and ``telnyx-timestamp``), checked with the account's public
key (``cryptography``); a timestamp more than five minutes off is refused, so a captured
request cannot be replayed later. Everything after the signature is the same markup.
Adding a carrier is one class with ``verify``, and one entry in ``_BACKENDS``.

``Carrier`` is the request dependency that reads a webhook and checks its signature; the
voice webhooks and the SMS webhook (``kefu.inbound.sms``, same carrier, same token) take it.
"""

from __future__ import annotations

import base64
import binascii
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Protocol

from fastapi import Depends, Request
from starlette.datastructures import ImmutableMultiDict
from twilio.request_validator import (
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)

from kefu.config import Settings
from kefu.deps import SettingsDep
from kefu.errors import ConfigError
from kefu.voice.errors import SignatureInvalid

log = logging.getLogger("kefu.voice")


@dataclass(frozen=True)
class CarrierRequest:
    """A webhook as the carrier sent it: the public URL it called and the form it posted
    (a multi-dict, as the validator reads repeated fields with ``getlist``)."""

    url: str
    form: ImmutableMultiDict[str, str]
    headers: Mapping[str, str]
    body: bytes = b""  # as sent: Telnyx signs the raw body

    def value(self, name: str) -> str:
        return self.form.get(name) or ""


class Verifier(Protocol):
    name: str

    def verify(self, request: CarrierRequest) -> bool: ...


class TwilioVerifier:
    name = "twilio"
    header = "x-twilio-signature"

    def __init__(self, token: str) -> None:
        self._validator = RequestValidator(token)

    def _signature(self, request: CarrierRequest) -> str:
        return request.headers.get(self.header, "")

    def verify(self, request: CarrierRequest) -> bool:
        signature = self._signature(request)
        if not signature:
            return False
        algorithm = get_signature_algorithm(
            request.headers.get(SIGNATURE_SETTINGS_HEADER.lower(), "")
        )
        return bool(self._validator.validate(request.url, request.form, signature, algorithm))


class SignalWireVerifier(TwilioVerifier):
    """Same algorithm as Twilio, keyed with the SignalWire signing key."""

    name = "signalwire"
    header = "x-signalwire-signature"

    def _signature(self, request: CarrierRequest) -> str:
        return request.headers.get(self.header) or request.headers.get(TwilioVerifier.header, "")


class TelnyxVerifier:
    """Ed25519 over ``<timestamp>|<raw body>``; the key is the account's public key, in
    base64 as the portal shows it."""

    name = "telnyx"
    tolerance_seconds = 300

    def __init__(self, public_key: str, clock: Callable[[], float] = time.time) -> None:
        # cryptography (~8 MB) is loaded only by a process that answers Telnyx
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        try:
            raw = base64.b64decode(public_key.strip(), validate=True)
            self._key = Ed25519PublicKey.from_public_bytes(raw)
        except (binascii.Error, ValueError) as exc:
            raise ConfigError(
                "KEFU_VOICE_AUTH_TOKEN must be the Telnyx account's public key (base64)"
            ) from exc
        self._clock = clock

    def verify(self, request: CarrierRequest) -> bool:
        stamp = request.headers.get("telnyx-timestamp", "")
        signature = request.headers.get("telnyx-signature-ed25519", "")
        if not stamp.isdigit() or not signature:
            return False
        if abs(self._clock() - int(stamp)) > self.tolerance_seconds:
            return False
        from cryptography.exceptions import InvalidSignature

        try:
            self._key.verify(
                base64.b64decode(signature, validate=True), stamp.encode() + b"|" + request.body
            )
        except (binascii.Error, ValueError, InvalidSignature):
            return False
        return True


_BACKENDS: dict[str, Callable[[str], Verifier]] = {
    "twilio": TwilioVerifier,
    "signalwire": SignalWireVerifier,
    "telnyx": TelnyxVerifier,
}


def check_provider(settings: Settings) -> None:
    """Stop start-up on an unknown carrier or a key its verifier cannot use."""
    if settings.voice_provider not in _BACKENDS:
        raise ConfigError(
            f"KEFU_VOICE_PROVIDER={settings.voice_provider!r}; expected one of {sorted(_BACKENDS)}"
        )
    if settings.voice_auth_token:
        _BACKENDS[settings.voice_provider](settings.voice_auth_token)


def build_verifier(settings: Settings) -> Verifier | None:
    """The configured carrier's verifier; None when no auth token is set (development)."""
    check_provider(settings)
    if not settings.voice_auth_token:
        return None
    return _BACKENDS[settings.voice_provider](settings.voice_auth_token)


def public_base(settings: Settings) -> str:
    return (settings.voice_public_url or settings.public_url).rstrip("/")


async def carrier_request(request: Request, settings: SettingsDep) -> CarrierRequest:
    """The posted form and the public URL it was sent to, signature checked.

    The form is read here (it needs ``await``) so the database work in the route runs
    in the thread pool, off the event loop.
    """
    body = await request.body()  # kept as sent: some carriers sign the raw bytes
    form = await request.form()
    pairs = [(name, value) for name, value in form.multi_items() if isinstance(value, str)]
    query = f"?{request.url.query}" if request.url.query else ""
    carrier = CarrierRequest(
        url=public_base(settings) + request.url.path + query,
        form=ImmutableMultiDict(pairs),
        headers=request.headers,
        body=body,
    )
    verifier = build_verifier(settings)
    if verifier is None:
        if settings.env == "production":
            raise SignatureInvalid("KEFU_VOICE_AUTH_TOKEN is required in production")
        return carrier
    if not verifier.verify(carrier):
        log.warning("carrier webhook refused: bad or missing signature on %s", request.url.path)
        raise SignatureInvalid("bad or missing carrier signature")
    return carrier


Carrier = Annotated[CarrierRequest, Depends(carrier_request)]


def sign(token: str, url: str, form: Mapping[str, str]) -> str:
    """The signature a Twilio-style carrier puts on a request: used by the phone simulator,
    which acts as the carrier."""
    return str(RequestValidator(token).compute_signature(url, dict(form)))
