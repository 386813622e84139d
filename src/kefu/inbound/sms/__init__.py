"""Texts customers send to our SMS number: the carrier's webhook (``routes``) and what
becomes of each text (``intake``). Sending SMS is ``kefu.channels.sms``."""
