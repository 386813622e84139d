"""Signature checking behind the verifier interface, with the twilio package's own
signing as the carrier's."""

from __future__ import annotations

import pytest
from starlette.datastructures import ImmutableMultiDict
from twilio.request_validator import RequestValidator

from kefu.config import Settings
from kefu.errors import ConfigError
from kefu.voice.signatures import (
    CarrierRequest,
    SignalWireVerifier,
    TwilioVerifier,
    build_verifier,
    sign,
)

TOKEN = "auth-token-for-tests"
URL = "https://hotline.example.com/voice/input?s=3"
FORM = {"CallSid": "CA123", "Digits": "1", "From": "+8613800000002"}


def request(
    signature: str | None,
    *,
    url: str = URL,
    form: dict[str, str] = FORM,
    header: str = "x-twilio-signature",
) -> CarrierRequest:
    headers = {header: signature} if signature is not None else {}
    return CarrierRequest(url=url, form=ImmutableMultiDict(list(form.items())), headers=headers)


def test_a_request_signed_by_the_carrier_passes() -> None:
    signature = RequestValidator(TOKEN).compute_signature(URL, FORM)
    assert TwilioVerifier(TOKEN).verify(request(signature))
    assert sign(TOKEN, URL, FORM) == signature


@pytest.mark.parametrize(
    "tampered",
    [
        request(None),
        request(""),
        request(sign("another-token", URL, FORM)),
        request(sign(TOKEN, URL, FORM), form={**FORM, "Digits": "2"}),
        request(sign(TOKEN, URL, FORM), url=URL.replace("s=3", "s=4")),
        request(sign(TOKEN, URL, FORM), url=URL.replace("https://hotline", "https://evil")),
    ],
)
def test_missing_wrong_or_replayed_elsewhere_signatures_fail(tampered: CarrierRequest) -> None:
    assert not TwilioVerifier(TOKEN).verify(tampered)


def test_signalwire_reads_its_own_header() -> None:
    signature = sign(TOKEN, URL, FORM)
    assert SignalWireVerifier(TOKEN).verify(request(signature, header="x-signalwire-signature"))
    assert SignalWireVerifier(TOKEN).verify(request(signature))
    assert not SignalWireVerifier("other").verify(
        request(signature, header="x-signalwire-signature")
    )


def test_no_token_means_no_verifier_and_an_unknown_carrier_stops_startup() -> None:
    assert build_verifier(Settings(voice_auth_token="")) is None
    assert isinstance(build_verifier(Settings(voice_auth_token=TOKEN)), TwilioVerifier)
    with pytest.raises(ConfigError, match="KEFU_VOICE_PROVIDER"):
        build_verifier(Settings(voice_provider="carrier-pigeon"))
