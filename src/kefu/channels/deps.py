"""The message senders as a request dependency: the ones the app built at start-up
(``app.state.senders``). Defined once here; routes import ``SendersDep``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from kefu.channels.senders import Senders


def get_senders(connection: HTTPConnection) -> Senders:
    """For a request or a websocket."""
    built: Senders = connection.app.state.senders
    return built


SendersDep = Annotated[Senders, Depends(get_senders)]
