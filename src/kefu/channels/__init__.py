"""Outgoing messages: SMS and e-mail, each behind a port with backends chosen by settings.

Every message sent is also kept in the ``outbox_message`` table. Only the ``outbox`` backend
keeps a message's text as sent; real backends keep it with its secrets (one-time codes)
masked, and no backend writes a message's text to the log.
"""
