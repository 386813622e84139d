"""The demo wallet seeded once per module, an app that insists on carrier signatures, and
a carrier to ring it. Each test works inside its own savepoint."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, select
from sqlalchemy.orm import Session
from tests.integration.voice.carrier import CarrierCall

from kefu import demo
from kefu.app import create_app
from kefu.channels.models import OutboxMessage
from kefu.config import Settings, get_settings
from kefu.db import get_db

TOKEN = "test-carrier-auth-token"
BASE = "https://hotline.kefu.example"

# demo customers (kefu.wallet.demo.PROBLEMS): index → registered phone 138 + 8 digits
LOCKED, STUCK_TOPUP, FAILED_TOPUP, FROZEN, ENGLISH = 1, 2, 3, 10, 11


def phone_of(index: int) -> str:
    return f"+86138{index:08d}"


def account_digits(index: int) -> str:
    return f"{index:09d}"


@pytest.fixture(scope="module")
def demo_connection(engine: Engine) -> Iterator[Connection]:
    connection = engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    demo.seed(session, history=False)
    session.close()
    try:
        yield connection
    finally:
        outer.rollback()
        connection.close()


@pytest.fixture
def demo_db(demo_connection: Connection) -> Iterator[Session]:
    nested = demo_connection.begin_nested()
    session = Session(bind=demo_connection, join_transaction_mode="create_savepoint")
    try:
        yield session
    finally:
        session.close()
        if nested.is_active:
            nested.rollback()


@pytest.fixture
def voice_settings(settings: Settings, tmp_path: Path) -> Settings:
    return Settings(
        **{
            **settings.model_dump(),
            "voice_auth_token": TOKEN,
            "voice_public_url": BASE,
            "voice_prompt_dir": str(tmp_path / "prompts"),
        }
    )


@pytest.fixture
def voice_app(demo_db: Session, voice_settings: Settings) -> FastAPI:
    application = create_app(voice_settings)

    def _db() -> Iterator[Session]:
        yield demo_db

    application.dependency_overrides[get_db] = _db
    application.dependency_overrides[get_settings] = lambda: voice_settings
    return application


@pytest.fixture
def ring(voice_app: FastAPI) -> Iterator[Callable[[str], CarrierCall]]:
    with TestClient(voice_app, raise_server_exceptions=False) as client:

        def dial(caller: str) -> CarrierCall:
            return CarrierCall(client=client, token=TOKEN, base=BASE, caller=caller).dial()

        yield dial


def last_code(db: Session, phone: str) -> str:
    body = db.scalars(
        select(OutboxMessage.body)
        .where(OutboxMessage.destination == phone, OutboxMessage.purpose == "otp")
        .order_by(OutboxMessage.id.desc())
    ).first()
    assert body is not None, "no code was sent"
    found = re.search(r"\b\d{6}\b", body)
    assert found is not None
    return found.group()
