"""Log configuration for the server: uvicorn's handlers plus Kefu's own loggers, all passing
through the sensitive-data filter, since request paths and library messages can carry what a
customer typed (a card number in a search query, a code in a form). The access log shows
paths without their ids and query values (``AccessPathFilter``): a conversation's public id
is what lets its widget in, and a log is read by more people than the chat."""

from __future__ import annotations

import copy
import logging
import re
import sys
from typing import Any
from urllib.parse import parse_qsl

from uvicorn.config import LOGGING_CONFIG

_ID_SEGMENT = re.compile(r"\d|^(?=.*[A-Z])[A-Za-z0-9_-]{16,}$")
_VERSION_SEGMENT = re.compile(r"^v\d{1,2}$")
# whatever follows these is a conversation's id, even one that happens to look like a word
_ID_AFTER = frozenset({"conversations", "conversation"})


def redact_path(path: str) -> str:
    """``/api/v1/chat/conversations/k3Jd9…/attachments/7`` as ``…/conversations/:id/
    attachments/:id``; query values dropped, their names kept. A segment is an id when it
    holds a digit (``v1`` aside), is a long mixed-case token, or follows ``conversations``;
    words and slugs stay."""
    path, _, query = path.partition("?")
    parts = path.split("/")
    segments = [
        ":id"
        if (_ID_SEGMENT.search(segment) and not _VERSION_SEGMENT.match(segment))
        or (n > 0 and parts[n - 1] in _ID_AFTER and segment)
        else segment
        for n, segment in enumerate(parts)
    ]
    redacted = "/".join(segments)
    if query:
        names = dict.fromkeys(name for name, _ in parse_qsl(query, keep_blank_values=True))
        redacted += "?" + "&".join(f"{name}=…" for name in names)
    return redacted


# A load balancer or orchestrator asks these every few seconds: a line each would bury the
# requests people made, and writing it was a sixth of a probe's cost.
PROBE_PATHS = frozenset({"/healthz", "/readyz"})


class AccessPathFilter(logging.Filter):
    """uvicorn's access line with the path redacted (its third argument); health probes
    are not logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            if args[2] in PROBE_PATHS:
                return False
            record.args = (*args[:2], redact_path(args[2]), *args[3:])
        return True


class CurrentStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to ``sys.stderr`` (or ``sys.stdout``) as it is when a line is logged, not as
    it was when logging was configured: whoever swaps the stream later (a test runner's
    capture, a daemoniser) would otherwise leave the handler writing to a closed file."""

    def __init__(self, stream_name: str = "stderr") -> None:
        if stream_name not in ("stderr", "stdout"):
            raise ValueError(f"stream_name is stderr or stdout, not {stream_name!r}")
        self.stream_name = stream_name
        super().__init__()

    @property
    def stream(self) -> Any:
        return getattr(sys, self.stream_name)

    @stream.setter
    def stream(self, _value: Any) -> None:
        """The stream is looked up at each line; what StreamHandler sets is ignored."""


def _current_stream(handler: dict[str, Any]) -> None:
    """A handler of ``ext://sys.stderr`` or ``ext://sys.stdout`` made a
    ``CurrentStreamHandler`` of the same stream."""
    stream = handler.get("stream")
    if handler.get("class") == "logging.StreamHandler" and stream in (
        "ext://sys.stderr",
        "ext://sys.stdout",
    ):
        handler["class"] = "kefu.logging_config.CurrentStreamHandler"
        handler["stream_name"] = stream.removeprefix("ext://sys.")
        del handler["stream"]


def server_log_config(level: str) -> dict[str, Any]:
    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {
        "sensitive": {"()": "kefu.sensitive.SensitiveLogFilter"},
        "access_path": {"()": "kefu.logging_config.AccessPathFilter"},
    }
    for handler in config["handlers"].values():
        handler["filters"] = ["sensitive"]
        _current_stream(handler)
    config["handlers"]["access"]["filters"] = ["access_path", "sensitive"]
    config["loggers"]["kefu"] = {
        "handlers": ["default"],
        "level": level.upper(),
        "propagate": False,
    }
    return config


def worker_log_config(level: str) -> dict[str, Any]:
    """``kefu worker``: kefu's and huey's lines (jobs run, retried, failed; the periodic
    jobs each scheduler queued) on stderr, through the same sensitive-data filter."""
    handler = {
        "class": "kefu.logging_config.CurrentStreamHandler",
        "stream_name": "stderr",
        "formatter": "plain",
        "filters": ["sensitive"],
    }
    logger = {"handlers": ["default"], "level": level.upper(), "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"sensitive": {"()": "kefu.sensitive.SensitiveLogFilter"}},
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "handlers": {"default": handler},
        "loggers": {"kefu": logger, "huey": logger},
    }
