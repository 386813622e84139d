"""docs/deploy.md shows the files of deploy/ as they are (the two-machine test starts its
processes from those files, so the page and the test cannot drift apart)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).parents[3]
FILES = ["kefu.env", "kefu-web.service", "kefu-worker.service", "nginx-kefu.conf"]


@pytest.mark.parametrize("name", FILES)
def test_the_deploy_page_quotes_each_file_whole(name: str) -> None:
    page = (ROOT / "docs" / "deploy.md").read_text()
    text = (ROOT / "deploy" / name).read_text()
    assert f"`deploy/{name}`" in page
    assert f"\n{text}```" in page


def test_the_nginx_site_upgrades_chat_sockets() -> None:
    site = (ROOT / "deploy" / "nginx-kefu.conf").read_text()
    chat = site[site.index("location /ws/") :]
    assert "proxy_set_header Upgrade $http_upgrade;" in chat
    assert "proxy_set_header Connection $connection_upgrade;" in chat
    assert "proxy_http_version 1.1;" in chat
