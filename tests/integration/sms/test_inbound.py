"""Texts to our SMS number: survey replies reach the survey, anything else gets one answer
a day pointing to the hotline, and the carrier's signature is required."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.factories import make_customer, make_staff
from tests.integration.quality.helpers import T0, resolved_case, survey_of_case
from twilio.request_validator import RequestValidator

from kefu.antifraud import service as antifraud
from kefu.app import create_app
from kefu.channels import outbox
from kefu.channels.senders import Senders, build_senders
from kefu.config import Settings, get_settings
from kefu.db import get_db
from kefu.errors import InvalidInput
from kefu.inbound.sms import intake
from kefu.quality import surveys

TOKEN = "test-sms-carrier-token"
BASE = "https://sms.kefu.example"
HOUR = timedelta(hours=1)


@pytest.fixture
def senders(settings: Settings) -> Senders:
    return build_senders(settings)


@pytest.fixture
def signed_client(db: Session, settings: Settings) -> Iterator[TestClient]:
    signed = Settings(
        **{**settings.model_dump(), "voice_auth_token": TOKEN, "voice_public_url": BASE}
    )
    application: FastAPI = create_app(signed)

    def _db() -> Iterator[Session]:
        yield db

    application.dependency_overrides[get_db] = _db
    application.dependency_overrides[get_settings] = lambda: signed
    with TestClient(application, raise_server_exceptions=False) as client:
        yield client


def post(client: TestClient, form: dict[str, str], *, sign: bool = True) -> int:
    headers = {}
    if sign:
        signature = RequestValidator(TOKEN).compute_signature(f"{BASE}/sms/incoming", form)
        headers["X-Twilio-Signature"] = signature
    response = client.post("/sms/incoming", data=form, headers=headers)
    if response.status_code == 200:
        assert response.headers["content-type"].startswith("application/xml")
        assert "<Response" in response.text
    return response.status_code


def texts_to(db: Session, phone: str, purpose: str) -> list[str]:
    return [m.body for m in outbox.latest(db, limit=50, to=phone) if m.purpose == purpose]


def form(sender: str, body: str) -> dict[str, str]:
    return {"MessageSid": "SM" + "1" * 32, "From": sender, "To": "10690959099", "Body": body}


def test_a_survey_reply_by_text_is_taken(db: Session, settings: Settings, senders: Senders) -> None:
    customer, agent = make_customer(db), make_staff(db)
    assert customer.phone is not None
    case = resolved_case(db, settings, customer=customer, agent=agent, channel="sms")
    surveys.send_due(db, senders=senders, settings=settings, now=T0 + HOUR)
    survey = survey_of_case(db, case)
    national = customer.phone.removeprefix("+86")  # carriers may send the local form
    outcome = intake.receive(
        db, sender=national, body="５", settings=settings, senders=senders, now=T0 + HOUR
    )
    assert outcome == "answered" and survey.score == 5
    assert texts_to(db, customer.phone, "sms_unattended") == []


def test_other_texts_get_the_hotline_once_a_day(db: Session, signed_client: TestClient) -> None:
    customer = make_customer(db, language="en")
    assert customer.phone is not None
    antifraud.seed_demo(db)
    hotline = next(
        c.value for c in antifraud.contact_channels(db) if c.kind == "phone" and c.role == "hotline"
    )
    assert post(signed_client, form(customer.phone, "my top up is missing, help")) == 200
    (text,) = texts_to(db, customer.phone, "sms_unattended")
    assert hotline in text and "not read" in text
    assert post(signed_client, form(customer.phone, "hello??")) == 200
    assert len(texts_to(db, customer.phone, "sms_unattended")) == 1  # no second answer today


def test_an_unknown_number_writing_chinese_is_answered_in_chinese(
    db: Session, signed_client: TestClient
) -> None:
    stranger = "+8613912345678"
    antifraud.seed_demo(db)
    assert post(signed_client, form("139 1234 5678", "我的钱怎么没到账")) == 200
    (text,) = texts_to(db, stranger, "sms_unattended")
    assert "客服热线" in text and "95099" in text


def test_unsigned_or_forged_texts_are_refused(db: Session, signed_client: TestClient) -> None:
    message = form("+8613912345679", "1")
    assert post(signed_client, message, sign=False) == 403
    forged = {**message, "Body": "5"}
    signature = RequestValidator(TOKEN).compute_signature(f"{BASE}/sms/incoming", message)
    response = signed_client.post(
        "/sms/incoming", data=forged, headers={"X-Twilio-Signature": signature}
    )
    assert response.status_code == 403
    assert texts_to(db, "+8613912345679", "sms_unattended") == []


def test_a_sender_that_is_not_a_number_is_a_clear_error(
    db: Session, settings: Settings, senders: Senders, signed_client: TestClient
) -> None:
    with pytest.raises(InvalidInput):
        intake.receive(db, sender="ALPHA-ID", body="hi", settings=settings, senders=senders)
    assert post(signed_client, form("not-a-number", "hi")) == 400
