"""The anti-fraud pages: the console's 防诈骗 tabs (one module a tab) and the help center's
"report a scam" and "is someone from you calling me?" pages."""

from __future__ import annotations

from fastapi import APIRouter

from kefu.antifraud.pages import calls, flags, help_center, lookups, registry, reports

router = APIRouter()
for _pages in (registry, reports, flags, calls, lookups, help_center):
    router.include_router(_pages.router)
