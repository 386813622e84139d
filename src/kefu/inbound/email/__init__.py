"""Mail customers send: received by the SMTP server (``server``) or fetched from an IMAP
mailbox (``imap``), stored raw, then parsed (``parse``) and made a case message (``intake``)
by a job (``jobs``); ``cli`` lists and retries mail flagged for a person. Sending mail and a
case's thread of Message-IDs are ``kefu.channels.email``."""
