"""Log configuration for the server: uvicorn's handlers plus Kefu's own loggers, all passing
through the sensitive-data filter, since request paths and library messages can carry what a
customer typed (a card number in a search query, a code in a form)."""

from __future__ import annotations

import copy
from typing import Any

from uvicorn.config import LOGGING_CONFIG


def server_log_config(level: str) -> dict[str, Any]:
    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"sensitive": {"()": "kefu.sensitive.SensitiveLogFilter"}}
    for handler in config["handlers"].values():
        handler["filters"] = ["sensitive"]
    config["loggers"]["kefu"] = {
        "handlers": ["default"],
        "level": level.upper(),
        "propagate": False,
    }
    return config
