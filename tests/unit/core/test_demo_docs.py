from pathlib import Path

from kefu.demo import DEMO_STAFF

DEMO_DOC = Path(__file__).resolve().parents[3] / "docs" / "demo.md"


def test_every_demo_password_is_documented() -> None:
    text = DEMO_DOC.read_text(encoding="utf-8")
    for username, role, _name, password in DEMO_STAFF:
        assert f"| `{username}` | `{password}` | {role}" in text
