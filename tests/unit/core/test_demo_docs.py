from pathlib import Path

from kefu.demo import DEMO_STAFF
from kefu.i18n import LANGUAGES, translate
from kefu.identity.permissions import ROLE_ORDER as ROLES

DEMO_DOC = Path(__file__).resolve().parents[3] / "docs" / "demo.md"


def test_every_demo_password_is_documented() -> None:
    text = DEMO_DOC.read_text(encoding="utf-8")
    for username, role, _name, password in DEMO_STAFF:
        assert f"| `{username}` | `{password}` | {role}" in text


# the titles staff go by, besides the roles' own labels
TITLES = ("客服", "坐席", "专员", "主管", "管理员", "Admin", "Agent", "Supervisor")


def test_demo_staff_names_are_names() -> None:
    """A display name is a person's name: the console shows the role beside it (the top
    bar, the transfer list, the staff pages), so a title in the name reads twice."""
    roles = {translate(f"role.{role}", lang) for role in ROLES for lang in LANGUAGES}
    for _username, _role, name, _password in DEMO_STAFF:
        assert not any(word in name for word in (*TITLES, *roles)), name


def test_every_demo_staff_name_is_documented() -> None:
    text = DEMO_DOC.read_text(encoding="utf-8")
    rows = {line.split(" | ")[0]: line for line in text.splitlines() if line.startswith("| `")}
    for username, _role, name, _password in DEMO_STAFF:
        assert rows[f"| `{username}`"].endswith(f" | {name} |")
