"""Conversations on every text channel: the assistant, live chat with agents, routing."""
