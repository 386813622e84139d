"""The assistant: language understanding (``nlu``), then dialog, actions and hand-over."""
