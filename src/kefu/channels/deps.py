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


async def _request_senders(connection: HTTPConnection) -> Senders:
    """``get_senders`` as a dependency: async, so it runs on the event loop instead of
    costing a threadpool hop of its own."""
    return get_senders(connection)


SendersDep = Annotated[Senders, Depends(_request_senders)]
