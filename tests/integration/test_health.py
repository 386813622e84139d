from fastapi.testclient import TestClient


def test_healthz_checks_database(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["X-Request-ID"]


def test_openapi_is_served(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/api/v1/auth/token" in spec["paths"]


def test_unknown_route_uses_error_shape_in_request_language(client: TestClient) -> None:
    zh = client.get("/no/such/page", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    en = client.get("/no/such/page", headers={"Accept-Language": "en-US,en;q=0.8"})
    assert zh.status_code == en.status_code == 404
    assert zh.json()["error"]["code"] == "not_found"
    assert zh.json()["error"]["message"] == "未找到相关内容。"
    assert en.json()["error"]["message"] == "Nothing was found."
