"""Both senders, built once at startup so a misconfigured backend stops the app early."""

from __future__ import annotations

from dataclasses import dataclass

from kefu.channels import email, sms
from kefu.config import Settings


@dataclass(frozen=True)
class Senders:
    sms: sms.SmsSender
    email: email.EmailSender


def build_senders(settings: Settings) -> Senders:
    return Senders(sms=sms.build_sender(settings), email=email.build_sender(settings))
