import logging
import logging.config

from kefu.logging_config import server_log_config


def test_server_logs_mask_card_numbers(capsys) -> None:
    logging.config.dictConfig(server_log_config("INFO"))
    try:
        logging.getLogger("kefu.test").info("customer wrote 4111 1111 1111 1111 in a search")
        logging.getLogger("uvicorn.error").info("path /search?q=4111111111111111")
        logged = capsys.readouterr().err
        assert "4111 1111 1111 1111" not in logged
        assert "4111111111111111" not in logged
        assert "1111" in logged
    finally:
        logging.config.dictConfig({"version": 1, "disable_existing_loggers": False})


def test_access_log_keeps_working_when_a_path_is_masked(capsys) -> None:
    logging.config.dictConfig(server_log_config("INFO"))
    try:
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
    finally:
        logging.config.dictConfig({"version": 1, "disable_existing_loggers": False})
