"""The phone hotline (客服热线): carrier webhooks answered with TwiML, the voice menu as
data, identity and self-service by keypad, the queue shared with live chat, call-backs,
call records, prompts rendered offline and a phone simulator. See docs/voice.md."""
