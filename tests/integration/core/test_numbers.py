"""Every integer a route reads from a request is ASCII digits within its column's range: a
walk over all routes (API and pages) finds none without a maximum, and every route with an
id in its path answers 2**70, '١٢' and '²' with a 4xx, never a 500 or another row."""

from __future__ import annotations

import re
import typing
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from pydantic import BaseModel, TypeAdapter
from sqlalchemy.orm import Session
from tests.factories import make_customer, staff_token

from kefu.numbers import INT32_MAX, parse_ascii_int

BAD_NUMBERS = [str(2**70), str(2**31), "١٢", "²", "1_2", " 12", "+5", "12.0", "-1", "0x1f"]


def _params(dependant: Any) -> Iterator[Any]:
    yield from dependant.path_params
    yield from dependant.query_params
    yield from dependant.body_params
    for sub in dependant.dependencies:
        yield from _params(sub)


def _unbounded(schema: dict[str, Any]) -> bool:
    options = [schema, *schema.get("anyOf", [])]
    return any(o.get("type") == "integer" and "maximum" not in o for o in options)


def _routes(app: FastAPI) -> Iterator[tuple[str, str, APIRoute]]:
    for context in iter_route_contexts(app.routes):
        if isinstance(context.route, APIRoute):
            yield sorted(context.route.methods)[0], context.path, context.route


def test_no_route_reads_an_unbounded_integer(app: FastAPI) -> None:
    found = []
    for method, path, route in _routes(app):
        for param in _params(route.dependant):
            info = param.field_info
            annotation = info.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                properties = annotation.model_json_schema().get("properties", {})
                found += [
                    f"{method} {path} body.{name}"
                    for name, prop in properties.items()
                    if _unbounded(prop)
                ]
                continue
            typed = typing.Annotated[annotation, *info.metadata] if info.metadata else annotation
            schema = TypeAdapter(typed).json_schema()
            if _unbounded(schema):
                found.append(f"{method} {path} {param.name}")
    assert not found


def _id_paths(app: FastAPI) -> list[str]:
    paths = []
    for method, path, route in _routes(app):
        if method != "GET":
            continue
        ints = [
            p.name for p in route.dependant.path_params if "int" in str(p.field_info.annotation)
        ]
        for name in ints:
            path = path.replace("{" + name + "}", "{n}")
        if ints:
            paths.append(re.sub(r"\{\w+\}(?<!\{n\})", "x", path))
    return paths


def test_bad_numbers_in_paths_and_queries_are_refused(
    app: FastAPI, client: TestClient, db: Session
) -> None:
    admin = {"Authorization": f"Bearer {staff_token(client, db, 'admin')}"}
    customer = make_customer(db)
    paths = _id_paths(app)
    assert len(paths) >= 8
    for bad in BAD_NUMBERS:
        for path in paths:
            url = path.replace("{n}", bad)
            response = client.get(url, headers=admin, follow_redirects=False)
            assert 400 <= response.status_code < 500, (url, response.status_code)
        listed = client.get("/api/v1/audit", params={"customer_id": bad}, headers=admin)
        assert listed.status_code == 422, (bad, listed.text)
        assert client.get(f"/api/v1/customers/{bad}", headers=admin).status_code == 422
    # the same customer by its plain id still answers
    assert client.get(f"/api/v1/customers/{customer.id}", headers=admin).status_code == 200


@pytest.mark.parametrize(
    ("text", "expected"),
    [("12", 12), ("0012", 12), ("١٢", None), ("²", None), (str(2**70), None), ("", None)],
)
def test_form_numbers_read_by_hand(text: str, expected: int | None) -> None:
    assert parse_ascii_int(text) == expected
    assert parse_ascii_int(str(INT32_MAX)) == INT32_MAX
    assert parse_ascii_int(str(INT32_MAX + 1)) is None
