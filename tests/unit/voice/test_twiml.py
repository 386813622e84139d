"""Turns become TwiML through the twilio package: absolute action URLs carrying the
prompt number, a redirect for silence, the queue and dial verbs."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

from kefu.voice.twiml import (
    Ask,
    Dial,
    Enqueue,
    Hangup,
    Leave,
    Line,
    Restart,
    Turn,
    Urls,
    player,
    render,
    say,
)

URLS = Urls("https://hotline.example.com")


def parse(turn: Turn, seq: int = 7) -> ElementTree.Element:
    return ElementTree.fromstring(render(turn, seq=seq, urls=URLS, speak=say))  # noqa: S314


def test_a_question_gathers_keys_then_comes_back_on_silence() -> None:
    turn = Turn(
        Ask(prompt=(Line("请输入", "zh-CN"),), digits=6, finish="#", timeout=15), [Line("Hi", "en")]
    )
    root = parse(turn)
    say_, gather, redirect = list(root)
    assert say_.tag == "Say" and say_.get("language") == "en-US"
    assert gather.get("action") == "https://hotline.example.com/voice/input?s=7"
    assert gather.get("numDigits") == "6" and gather.get("finishOnKey") == "#"
    assert gather.get("input") == "dtmf" and gather.get("timeout") == "15"
    assert gather[0].get("language") == "zh-CN" and gather[0].text == "请输入"
    assert redirect.tag == "Redirect" and redirect.text == gather.get("action")


def test_a_menu_question_lets_star_and_pound_through_as_keys() -> None:
    gather = parse(Turn(Ask(prompt=(Line("x", "en"),))))[0]
    assert gather.get("finishOnKey") == ""


def test_the_wait_loop_does_not_redirect() -> None:
    root = parse(Turn(Ask(prompt=(Line("x", "en"),), action="/voice/queue/input", redirect=False)))
    assert [verb.tag for verb in root] == ["Gather"]
    assert root[0].get("action") == "https://hotline.example.com/voice/queue/input?s=7"


def test_queue_dial_leave_restart_and_hangup() -> None:
    enqueue = parse(Turn(Enqueue("kefu-CA1")))[0]
    assert enqueue.text == "kefu-CA1"
    assert enqueue.get("waitUrl") == "https://hotline.example.com/voice/queue/wait"
    assert enqueue.get("action") == "https://hotline.example.com/voice/queue/done"
    dial = parse(Turn(Dial(kind="sip", target="sip:agent@pbx.example.com")))[0]
    assert dial.get("action") == "https://hotline.example.com/voice/dial/done"
    assert dial[0].tag == "Sip" and dial[0].text == "sip:agent@pbx.example.com"
    assert parse(Turn(Dial(kind="client", target="agent")))[0][0].tag == "Client"
    assert parse(Turn(Leave()))[0].tag == "Leave"
    restart = parse(Turn(Restart()))[0]
    assert (
        restart.tag == "Redirect" and restart.text == "https://hotline.example.com/voice/incoming"
    )
    assert [v.tag for v in parse(Turn(Hangup(), [Line("bye", "en")]))] == ["Say", "Hangup"]


def test_play_mode_speaks_through_rendered_audio() -> None:
    seen: list[Line] = []

    def register(line: Line) -> str:
        seen.append(line)
        return "a" * 40

    root = ElementTree.fromstring(  # noqa: S314
        render(
            Turn(Hangup(), [Line("再见", "zh-CN")]), seq=1, urls=URLS, speak=player(URLS, register)
        )
    )
    assert root[0].tag == "Play"
    assert root[0].text == f"https://hotline.example.com/voice/prompts/{'a' * 40}.wav"
    assert seen == [Line("再见", "zh-CN")]
