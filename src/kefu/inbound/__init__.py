"""What customers send us on the channels Kefu also writes on: texts to our SMS number
(``sms``), WeChat official account messages (``wechat``) and mail (``email``), each turned
into a case reply, a survey answer, an assistant turn or a chat message.

Inbound sits above the domains it hands messages to (cases, chat, the assistant, quality,
identity) and next to the voice webhooks, whose carrier signature check the SMS webhook
shares. The outbound side — senders, the outbox, queued mail — is ``kefu.channels``, which
imports no domain; replies go out through it.
"""
