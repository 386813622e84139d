"""Cases opened from a call, and how their reference is told to the caller: its 13-digit
keypad form read digit by digit, then the committed time, both in the caller's language.
The case is the customer's to track on any channel; the call record keeps the reference
that was said."""

from __future__ import annotations

from kefu import audit
from kefu.cases import refs
from kefu.cases import service as cases_service
from kefu.identity.permissions import ASSISTANT
from kefu.voice import calls, speech
from kefu.voice.engine import Ctx
from kefu.voice.twiml import Line


def ivr_actor(ctx: Ctx) -> audit.Actor:
    """The hotline acting for the caller it verified: the assistant's role and limits."""
    return audit.Actor(name=f"assistant:call:{ctx.call.call_sid}", role=ASSISTANT)


def open_case(
    ctx: Ctx, *, category: str, subject_key: str, links: tuple[tuple[str, str], ...] = ()
) -> str:
    """Open a case for the identified caller; returns its reference."""
    case = cases_service.open_case(
        ctx.db,
        new=cases_service.NewCase(
            customer_id=ctx.call.customer_id or 0,
            category=category,
            channel="voice",
            subject=ctx.line(subject_key).text,
            language=ctx.lang,
            links=links,
        ),
        actor=ivr_actor(ctx),
        settings=ctx.settings,
        now=ctx.now,
        senders=ctx.senders,
    )
    return case.reference


def tell(ctx: Ctx, reference: str) -> list[Line]:
    """Say the case's reference and committed time, and record that it was said."""
    case = cases_service.get_case(ctx.db, reference)
    calls.link_case(ctx.call, case_id=case.id, reference=case.reference, told=True)
    ctx.event("reference_told", reference=case.reference)
    spoken = speech.reference(refs.parse(case.reference).digits, ctx.lang)
    when = speech.moment(case.committed_at, ctx.lang, ctx.settings.tz)
    return [
        ctx.line("voice.case.opened", reference=spoken),
        ctx.line("voice.case.committed", time=when),
    ]
