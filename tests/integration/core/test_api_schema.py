"""Schemathesis over the whole OpenAPI document, as an admin and anonymously: valid and
invalid requests for every operation, bounded and seeded so the run is repeatable. No request
may cause a server error, and every answer must be one the document declares (status code,
content type, body schema)."""

from __future__ import annotations

import contextlib
import os
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.orm import Session
from tests.factories import STAFF_PASSWORD, make_staff

# Examples per operation and generation mode (seeded, so every run sends the same requests);
# KEFU_SCHEMA_EXAMPLES raises it for a deeper run (10: about 2,300 requests per caller).
EXAMPLES = int(os.environ.get("KEFU_SCHEMA_EXAMPLES", "5"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# the documentation pages themselves
SKIPPED_PATHS = ("/docs", "/redoc", "/openapi.json")


def _operations(schema: Any) -> list[Any]:
    found = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if not operation.path.startswith(SKIPPED_PATHS):
            found.append(operation)
    return found


def _run(operation: Any, mode: GenerationMode, headers: dict[str, str]) -> tuple[int, Counter[str]]:
    sent = 0
    failures: Counter[str] = Counter()

    @seed(20)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        nonlocal sent
        sent += 1
        try:
            case.call_and_validate(headers=headers, checks=CHECKS)
        except (Failure, FailureGroup) as exc:
            found = exc.exceptions if isinstance(exc, FailureGroup) else (exc,)
            for failure in found:
                status = failure.message.splitlines()[0] if failure.message else ""
                failures[f"{operation.label} [{mode}] {failure.title}: {status}"] += 1

    with contextlib.suppress(Unsatisfiable):  # an operation without inputs has no invalid one
        run()
    return sent, failures


def _probe(schema: Any, headers: dict[str, str]) -> tuple[int, list[str]]:
    """Generated requests sent and the distinct failures found (operation, check, status)."""
    sent = 0
    failures: Counter[str] = Counter()
    for operation in _operations(schema):
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            count, found = _run(operation, mode, headers)
            sent += count
            failures.update(found)
    return sent, sorted(failures)


@pytest.fixture
def admin_headers(client: Any, db: Session) -> dict[str, str]:
    user = make_staff(db, "admin")
    response = client.post(
        "/api/v1/auth/token", json={"username": user.username, "password": STAFF_PASSWORD}
    )
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def api_schema(app: FastAPI) -> Iterator[Any]:
    yield schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.mark.slow
def test_every_operation_as_admin(api_schema: Any, admin_headers: dict[str, str]) -> None:
    sent, failures = _probe(api_schema, admin_headers)
    print(f"schemathesis as admin: {sent} requests, {len(failures)} failures")
    assert not failures, "\n".join(failures)


@pytest.mark.slow
def test_every_operation_anonymously(api_schema: Any) -> None:
    sent, failures = _probe(api_schema, {})
    print(f"schemathesis anonymously: {sent} requests, {len(failures)} failures")
    assert not failures, "\n".join(failures)
