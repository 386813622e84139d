"""The help center's FAQ: shipped articles per intent, admin edits with history, feedback."""
