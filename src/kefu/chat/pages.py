"""The customer's own chat page (``/chat``): the widget opened full size, for a link in an
SMS, an e-mail or the app; and CORS for the widget embedded on other sites."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from kefu.deps import CONVERSATION_KEY_HEADER
from kefu.web.templating import render

router = APIRouter(include_in_schema=False)

# what the widget calls from the page it is embedded in
WIDGET_PATHS = ("/api/v1/chat/", "/api/v1/surveys/")


@router.get("/chat")
def chat_page(request: Request) -> Response:
    return render(request, "chat/page.html")


class WidgetCors:
    """CORS for the widget's endpoints only (``KEFU_CHAT_WIDGET_ORIGINS``): pages on those
    sites may start a chat, upload and see screenshots (with the conversation's owner key
    header) and answer the survey. No cookies are involved, and staff routes never answer
    another origin."""

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", CONVERSATION_KEY_HEADER],
            allow_credentials=False,
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope["path"]).startswith(WIDGET_PATHS):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
