"""Request dependencies shared by every domain: the settings, the request's language and a
web conversation's owner key. Who is calling (staff, a verified customer) and whether they
may do what the route does are identity's: ``kefu.identity.deps``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from starlette.requests import HTTPConnection

from kefu.config import Settings, get_settings
from kefu.i18n import Lang


def settings_of(connection: HTTPConnection) -> Settings:
    """The settings for a request: ``get_settings``, or what the app's
    ``dependency_overrides`` put in its place (tests do, after the app is built)."""
    provider = connection.app.dependency_overrides.get(get_settings, get_settings)
    settings: Settings = provider()
    return settings


async def _request_settings(connection: HTTPConnection) -> Settings:
    """``settings_of`` as a dependency: async, so it runs on the event loop instead of
    costing a threadpool hop of its own on every request."""
    return settings_of(connection)


SettingsDep = Annotated[Settings, Depends(_request_settings)]


def request_lang(request: Request) -> Lang:
    lang: Lang = request.state.lang
    return lang


LangDep = Annotated[Lang, Depends(request_lang)]

# the owner key of a web conversation (``kefu.chat.service.for_owner``): a header, never in
# a URL, so it stays out of access logs and the browser's history
CONVERSATION_KEY_HEADER = "X-Kefu-Conversation-Key"
ConversationKeyDep = Annotated[
    str | None,
    Header(
        alias=CONVERSATION_KEY_HEADER,
        description="The owner key returned when the conversation was started.",
    ),
]
