"""Chat across processes through Redis: two ``kefu serve`` processes share one chat (the
customer on one, the agent on the other), and the bus itself survives a Redis restart."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker
from tests.integration.chat.conftest import (
    ChatServer,
    accept_chat,
    make_agent,
    message,
    open_console,
    open_widget,
    queued_chat,
)
from tests.integration.email.mail_processes import (
    free_port,
    kefu_env,
    port_open,
    start,
    stop,
    wait_for,
)

from kefu.chat import bus
from kefu.chat.redis_bus import RedisBus
from kefu.config import Settings

REDIS = shutil.which("redis-server")
pytestmark = pytest.mark.skipif(
    REDIS is None, reason="redis-server is not installed (apt install redis-server)"
)


def run_redis(port: int) -> subprocess.Popen[bytes]:
    assert REDIS is not None
    process = subprocess.Popen(
        [REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for(lambda: port_open(port), what="redis")
    return process


@pytest.fixture
def redis_url() -> Iterator[str]:
    port = free_port()
    process = run_redis(port)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_two_buses_meet_through_redis_and_resync_after_it_restarts() -> None:
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    redis = run_redis(port)

    async def scenario() -> None:
        nonlocal redis
        one, other = RedisBus(url), RedisBus(url)
        one.RECONNECT_DELAY = 0.2
        sub = await one.subscribe("conv:1")
        await other.publish("conv:1", {"type": "message", "seq": 1, "text": "你好"})
        other.publish_nowait([("conv:1", {"type": "message", "seq": 2, "text": "from a thread"})])
        await other.publish("conv:2", {"type": "message", "seq": 1})  # not subscribed
        got = [await asyncio.wait_for(sub.get(), 5) for _ in range(2)]
        assert [m["seq"] for _c, m in got] == [1, 2] and got[0][1]["text"] == "你好"
        assert sub.empty()

        redis.terminate()
        redis.wait(timeout=10)
        other.publish_nowait([("conv:1", {"type": "message", "seq": 3})])  # lost: Redis is down
        redis = run_redis(port)
        _channel, note = await asyncio.wait_for(sub.get(), 15)
        assert note == {"type": "resync"}  # the socket reads the database after this
        await asyncio.sleep(0.2)
        await other.publish("conv:1", {"type": "message", "seq": 4})
        assert (await asyncio.wait_for(sub.get(), 5))[1]["seq"] == 4
        sub.close()
        await one.close()
        await other.close()

    try:
        asyncio.run(scenario())
    finally:
        redis.terminate()
        redis.wait(timeout=10)


def serve(
    engine: Engine, tmp_path: Path, redis_url: str, name: str, *args: str
) -> tuple[ChatServer, subprocess.Popen[bytes]]:
    port = free_port()
    env = kefu_env(
        engine.url.render_as_string(hide_password=False),
        tmp_path / name,
        KEFU_REDIS_URL=redis_url,
        KEFU_SMTP_ENABLED="false",
        KEFU_JOBS_INLINE="false",
        KEFU_LOG_LEVEL="WARNING",
    )
    (tmp_path / name).mkdir(parents=True, exist_ok=True)
    process = start(
        ["serve", "--host", "127.0.0.1", "--port", str(port), *args],
        env,
        tmp_path / f"{name}.log",
    )
    wait_for(lambda: port_open(port), seconds=60, what=f"kefu serve ({name})")
    server = ChatServer(
        url=f"http://127.0.0.1:{port}",
        ws_url=f"ws://127.0.0.1:{port}",
        sessions=sessionmaker(bind=engine, expire_on_commit=False),
        settings=Settings(),
    )
    return server, process


def chat_both_ways(customers: ChatServer, agents: ChatServer) -> None:
    """A customer's widget on ``customers`` and an agent's console on ``agents`` meet in
    one chat: offer, accept, typing and five messages each way, in order, none twice."""
    agent = make_agent(agents)
    console = open_console(agents, agent)
    public_id, conversation_id = queued_chat(customers)
    widget = open_widget(customers, public_id)
    widget.until(message("state"))
    offer = console.until(message("work", change="offered"))
    assert offer["item"]["conversation_id"] == conversation_id
    accept_chat(agents, conversation_id, agent)
    assert agent.user.display_name in widget.until(message(sender="system"))["text"]

    console.send({"type": "watch", "conversation_id": conversation_id, "after_seq": 0})
    console.until(message(sender="system"))  # watching now: the backlog is in
    widget.send({"type": "typing"})
    assert console.until(message("typing"))["from"] == "customer"
    for n in range(5):
        widget.send({"type": "message", "text": f"客户{n}", "client_msg_id": f"c{n}"})
        console.send(
            {
                "type": "message",
                "conversation_id": conversation_id,
                "text": f"客服{n}",
                "client_msg_id": f"a{n}",
            }
        )
    to_agent = [console.until(message(sender="customer"))["text"] for _ in range(5)]
    to_customer = [widget.until(message(sender="agent"))["text"] for _ in range(5)]
    assert to_agent == [f"客户{n}" for n in range(5)]
    assert to_customer == [f"客服{n}" for n in range(5)]
    seqs = [f["seq"] for f in widget.seen if f.get("type") == "message"]
    assert seqs == sorted(set(seqs))
    widget.close()
    console.close()


def test_customer_on_one_process_and_agent_on_another(
    isolated_database: Engine, tmp_path: Path, redis_url: str, settings: Settings
) -> None:
    """``settings`` puts this test process on the test configuration, as the servers are."""
    bus.install(RedisBus(redis_url))  # this process's commits (the test's set-up) join in
    first, first_process = serve(isolated_database, tmp_path, redis_url, "a")
    second, second_process = serve(isolated_database, tmp_path, redis_url, "b")
    try:
        chat_both_ways(customers=first, agents=second)
    finally:
        stop(first_process)
        stop(second_process)
        bus.reset_bus()


def web_processes(parent: int) -> list[int]:
    """The processes ``kefu serve --workers`` started to serve requests (its other child
    is multiprocessing's resource tracker)."""
    children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    return [
        int(pid) for pid in children if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]


def test_several_web_processes_on_one_port(
    isolated_database: Engine, tmp_path: Path, redis_url: str, settings: Settings
) -> None:
    bus.install(RedisBus(redis_url))
    server, process = serve(isolated_database, tmp_path, redis_url, "w", "--workers", "3")
    try:
        wait_for(lambda: len(web_processes(process.pid)) == 3, what="three web processes")
        chat_both_ways(customers=server, agents=server)
    finally:
        stop(process)
        bus.reset_bus()
    assert process.returncode == 0
