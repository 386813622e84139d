"""The effective settings, read-only, for admins: every ``KEFU_*`` variable with the value
this process runs with and whether it was set or is the default. Secrets are never shown:
a secret reads "set" or "not set", and a password inside a URL is masked. Changing a
setting is a deployment change (environment variables), not a console edit."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from kefu.config import Settings
from kefu.deps import SettingsDep
from kefu.identity.deps import CSRF_FIELD, StaffPrincipal, require
from kefu.web.templating import render

router = APIRouter(prefix="/console", include_in_schema=False)
Reader = Annotated[StaffPrincipal, Depends(require("settings.read"))]
# a name ending so holds a secret (KEFU_SECRET_KEY, KEFU_IMAP_PASSWORD, KEFU_WECHAT_TOKEN,
# KEFU_VOICE_AUTH_TOKEN, KEFU_APP_TOKEN_SECRET...); its value never leaves the process
_SECRET_ENDINGS = ("_key", "_secret", "_password", "_token")
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*:)(?P<password>[^@\s]+)@")


@dataclass(frozen=True)
class Row:
    name: str  # the environment variable
    value: str
    secret: bool
    set_here: bool  # set in the environment, not the default


def is_secret(field: str) -> bool:
    return field.endswith(_SECRET_ENDINGS)


def masked_url(value: str) -> str:
    return _URL_PASSWORD.sub(lambda m: f"{m['head']}****@", value)


def rows(settings: Settings) -> list[Row]:
    found = []
    for field in sorted(Settings.model_fields):
        value = getattr(settings, field)
        secret = is_secret(field)
        if secret:
            shown = "set" if value else "unset"
        elif value is None:
            shown = ""
        else:
            shown = masked_url(str(value))
        found.append(
            Row(
                name=f"KEFU_{field.upper()}",
                value=shown,
                secret=secret,
                set_here=field in settings.model_fields_set,
            )
        )
    return found


@router.get("/settings")
def settings_page(request: Request, staff: Reader, settings: SettingsDep) -> Response:
    return render(
        request,
        "console/settings.html",
        {
            "staff": staff.user,
            "may": staff.may,
            "csrf_token": staff.token.csrf_token,
            "csrf_field": CSRF_FIELD,
            "nav_active": "settings",
            "rows": rows(settings),
            "two_factor_from": settings.two_factor_from,
        },
    )
