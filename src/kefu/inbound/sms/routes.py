"""The carrier's webhook for texts sent to our SMS number (Twilio's form fields; SignalWire
and Telnyx's compatibility API post the same), signed like the voice webhooks."""

from __future__ import annotations

from fastapi import APIRouter, Response
from twilio.twiml.messaging_response import MessagingResponse

from kefu.channels.deps import SendersDep
from kefu.db import DbSession
from kefu.deps import SettingsDep
from kefu.inbound.sms import intake
from kefu.voice.signatures import Carrier

router = APIRouter(prefix="/sms", tags=["sms webhooks"])


@router.post("/incoming")
def incoming(
    carrier: Carrier, db: DbSession, settings: SettingsDep, senders: SendersDep
) -> Response:
    """Replies go out through the SMS sender (the outbox, or the carrier's API), so the
    answer to the webhook itself is an empty message response."""
    intake.receive(
        db,
        sender=carrier.value("From"),
        body=carrier.value("Body"),
        settings=settings,
        senders=senders,
    )
    db.commit()
    return Response(str(MessagingResponse()), media_type="application/xml")
