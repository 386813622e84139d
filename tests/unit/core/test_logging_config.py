import logging
import logging.config
import sys
from collections.abc import Iterator

import pytest

from kefu.logging_config import redact_path, server_log_config


@pytest.fixture(autouse=True)
def _loggers_restored() -> Iterator[None]:
    """The server's configuration replaces the kefu and uvicorn loggers' handlers; later
    tests in this process get the loggers back as they were."""
    names = ("kefu", "uvicorn", "uvicorn.error", "uvicorn.access")
    saved = {
        name: (list(logger.handlers), logger.propagate, logger.level)
        for name in names
        for logger in [logging.getLogger(name)]
    }
    yield
    for name, (handlers, propagate, level) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.propagate, logger.level = propagate, level


def test_server_logs_mask_card_numbers(capsys) -> None:
    logging.config.dictConfig(server_log_config("INFO"))
    logging.getLogger("kefu.test").info("customer wrote 4111 1111 1111 1111 in a search")
    logging.getLogger("uvicorn.error").info("path /search?q=4111111111111111")
    logged = capsys.readouterr().err
    assert "4111 1111 1111 1111" not in logged
    assert "4111111111111111" not in logged
    assert "1111" in logged


def test_access_log_keeps_working_when_a_path_is_masked(capsys) -> None:
    logging.config.dictConfig(server_log_config("INFO"))
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d',
        "127.0.0.1:5000",
        "GET",
        "/api/v1/faq?q=4111111111111111",
        "1.1",
        200,
    )
    captured = capsys.readouterr()
    logged = captured.out + captured.err
    assert "GET /api/v1/faq?q=" in logged
    assert "4111111111111111" not in logged


def test_health_probes_are_not_in_the_access_log(capsys) -> None:
    logging.config.dictConfig(server_log_config("INFO"))
    for path in ("/healthz", "/readyz", "/help"):
        logging.getLogger("uvicorn.access").info(
            '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", path, "1.1", 200
        )
    captured = capsys.readouterr()
    logged = captured.out + captured.err
    assert "GET /help " in logged
    assert "/healthz" not in logged and "/readyz" not in logged


def test_access_log_paths_carry_no_ids(capsys) -> None:
    from kefu.logging_config import redact_path

    logging.config.dictConfig(server_log_config("INFO"))
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d',
        "127.0.0.1:5000",
        "GET",
        "/api/v1/chat/conversations/Xk29dLq0PzT7vYwB/attachments/a1b2c3?lang=en",
        "1.1",
        200,
    )
    captured = capsys.readouterr()
    logged = captured.out + captured.err
    assert "Xk29dLq0PzT7vYwB" not in logged and "a1b2c3" not in logged
    assert "/api/v1/chat/conversations/:id/attachments/:id?lang=…" in logged
    assert redact_path("/api/v1/customers/42/audit") == "/api/v1/customers/:id/audit"
    assert redact_path("/api/v1/faq/account_locked") == "/api/v1/faq/account_locked"
    assert redact_path("/api/v1/cases/C2612000123") == "/api/v1/cases/:id"
    assert redact_path("/help/survey/AbcdefghijKlmnopqrstuv") == "/help/survey/:id"
    assert redact_path("/api/v1/verify?value=13800138000") == "/api/v1/verify?value=…"


def test_every_conversation_id_is_masked_in_every_path_that_carries_one() -> None:
    """A conversation id is masked in each customer route that names one, even one with no
    digit or capital (the owner key never travels in a URL: it is a header)."""
    for public_id in ("Xk29dLq0PzT7vYwBa1b2c3d4", "abcdefghijklmnop-qrstuvw", "ab_cd"):
        for path in (
            f"/api/v1/chat/conversations/{public_id}/attachments",
            f"/api/v1/bot/conversations/{public_id}/messages?after=3",
            f"/api/v1/surveys/conversation/{public_id}?lang=en",
        ):
            assert public_id not in redact_path(path), path
    assert redact_path("/api/v1/chat/conversations") == "/api/v1/chat/conversations"
    assert redact_path("/api/v1/bot/conversations/") == "/api/v1/bot/conversations/"


def test_a_swapped_stream_is_written_to_not_the_one_at_configuration(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A handler configured while one stream was sys.stderr writes to the stream that is
    sys.stderr when the line comes (a closed one raised 'I/O operation on closed file')."""
    import io

    logging.config.dictConfig(server_log_config("INFO"))
    original = sys.stderr
    replaced = io.StringIO()
    sys.stderr = replaced
    try:
        logging.getLogger("kefu.test").warning("written after the swap")
    finally:
        sys.stderr = original
    assert "written after the swap" in replaced.getvalue()
