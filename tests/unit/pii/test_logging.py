import io
import logging

from shared.pii.logging import PiiLogFilter, install_log_scrubbing, scrub_data, sentry_before_send


def make_logger(name):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s %(customer)s"))
    handler.addFilter(PiiLogFilter())
    logger = logging.getLogger(name)
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, stream


def test_filter_scrubs_message_and_args():
    logger, stream = make_logger("pii-test-args")
    logger.info("lookup %s from %s", "jane@example.com", "10.1.2.3", extra={"customer": "call +44 20 7946 0958"})
    assert stream.getvalue() == "INFO lookup <EMAIL> from <IP_ADDRESS> call <PHONE>\n"


def test_filter_scrubs_record_fields_directly():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "card %s", ("4111 1111 1111 1111",), None)
    assert PiiLogFilter().filter(record)
    assert record.msg == "card <CREDIT_CARD>"
    assert not record.args
    assert record.getMessage() == "card <CREDIT_CARD>"


def test_filter_scrubs_exception_text():
    logger, stream = make_logger("pii-test-exc")
    try:
        raise ValueError("no account for jane@example.com")
    except ValueError:
        logger.exception("failed for %s", "jane@example.com", extra={"customer": "-"})
    output = stream.getvalue()
    assert "jane@example.com" not in output
    assert "ValueError: no account for <EMAIL>" in output


def test_install_adds_one_filter_to_root_handlers():
    root = logging.getLogger()
    handler = logging.StreamHandler(io.StringIO())
    root.addHandler(handler)
    try:
        first = install_log_scrubbing()
        second = install_log_scrubbing()
        assert first is second
        assert sum(isinstance(f, PiiLogFilter) for f in handler.filters) == 1
    finally:
        root.removeHandler(handler)


def test_scrub_data_recurses():
    data = {"to": "jane@example.com", "nested": [{"phone": "+44 20 7946 0958"}, 3, None], "jane@example.com": True}
    assert scrub_data(data) == {"to": "<EMAIL>", "nested": [{"phone": "<PHONE>"}, 3, None], "<EMAIL>": True}


def test_sentry_before_send_scrubs_and_drops():
    event = {
        "message": "refund to GB82WEST12345698765432",
        "logentry": {"message": "user %s", "params": ["jane@example.com"], "formatted": "user jane@example.com"},
        "exception": {
            "values": [
                {
                    "type": "KeyError",
                    "value": "'jane@example.com'",
                    "stacktrace": {"frames": [{"function": "f", "vars": {"email": "jane@example.com"}}]},
                }
            ]
        },
        "breadcrumbs": {"values": [{"message": "GET /users?phone=+442079460958", "data": {"ip": "10.0.0.1"}}]},
        "extra": {"card": "4111 1111 1111 1111"},
        "tags": {"who": "jane@example.com"},
        "request": {"url": "https://x.test/?email=jane@example.com", "data": {"a": 1}, "cookies": "s=1", "headers": {}},
        "user": {"id": "u1", "email": "jane@example.com", "ip_address": "10.0.0.1"},
    }
    out = sentry_before_send(event, {})
    assert out["message"] == "refund to <IBAN>"
    assert out["logentry"]["formatted"] == "user <EMAIL>"
    assert out["logentry"]["params"] == ["<EMAIL>"]
    value = out["exception"]["values"][0]
    assert value["value"] == "'<EMAIL>'"
    assert "vars" not in value["stacktrace"]["frames"][0]
    crumb = out["breadcrumbs"]["values"][0]
    assert crumb["message"] == "GET /users?phone=<PHONE>"
    assert crumb["data"] == {"ip": "<IP_ADDRESS>"}
    assert out["extra"] == {"card": "<CREDIT_CARD>"}
    assert out["tags"] == {"who": "<EMAIL>"}
    assert out["request"] == {"url": "https://x.test/?email=<EMAIL>"}
    assert out["user"] == {"id": "u1"}
    assert "jane" not in repr(out)


def test_json_formatter_keeps_the_scrubbed_exception_text():
    from shared.observability import JsonFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(PiiLogFilter())
    logger = logging.getLogger("pii-test-json-exc")
    logger.handlers[:] = [handler]
    logger.propagate = False
    try:
        raise ValueError("no account for jane@example.com")
    except ValueError:
        logger.exception("lookup failed")
    output = stream.getvalue()
    assert "ValueError: no account for <EMAIL>" in output.replace("\\n", "\n")
    assert "jane@example.com" not in output


def test_percent_encoded_identifiers_in_urls_are_scrubbed():
    crumb_url = "https://api.example/api/v2/gdpr/subjects?searchType=EMAIL&searchValue=jane.doe%40example.com"
    event = {"breadcrumbs": {"values": [{"message": "GET", "data": {"url": crumb_url,
                                                                     "http.query": "searchValue=%2B4915112345678"}}]}}
    crumb = sentry_before_send(event)["breadcrumbs"]["values"][0]
    assert crumb["data"]["url"].endswith("searchValue=<EMAIL>")
    assert crumb["data"]["http.query"] == "searchValue=<PHONE>"


# Issue 20: the log filter and Sentry use the engine's own rule, phone-shaped numbers included.
_SHAPED = "(111) 555-0199"  # no numbering plan the engine knows accepts it


def test_log_line_with_a_phone_shaped_number_after_call_me_on_is_masked():
    logger, stream = make_logger("pii-test-shaped")
    logger.info("customer says: call me on %s", _SHAPED, extra={"customer": f"my number is {_SHAPED}"})
    output = stream.getvalue()
    assert "555-0199" not in output
    assert output == "INFO customer says: call me on <PHONE> my number is <PHONE>\n"


def test_sentry_event_with_a_phone_shaped_number_after_call_me_on_is_masked():
    event = {
        "message": f"call me on {_SHAPED}",
        "exception": {"values": [{"value": f"no contact for number +1 {_SHAPED}"}]},
        "breadcrumbs": {"values": [{"message": f"rappelez-moi au {_SHAPED}"}]},
        "extra": {"note": f"Phone: {_SHAPED}"},
    }
    scrubbed = sentry_before_send(event)
    assert scrubbed["message"] == "call me on <PHONE>"
    assert scrubbed["exception"]["values"][0]["value"] == "no contact for number <PHONE>"
    assert scrubbed["breadcrumbs"]["values"][0]["message"] == "rappelez-moi au <PHONE>"
    assert scrubbed["extra"] == {"note": "Phone: <PHONE>"}


def test_log_filter_leaves_an_order_number_with_the_same_digits():
    logger, stream = make_logger("pii-test-order")
    logger.info("call me about order %s", "1115550199", extra={"customer": "-"})
    assert stream.getvalue() == "INFO call me about order 1115550199 -\n"


def test_the_pool_logger_of_celery_workers_is_scrubbed_too(monkeypatch, capsys):
    """billiard logs a task's failure with its arguments on "multiprocessing", which does not propagate."""
    import logging
    from types import SimpleNamespace

    from billiard import util
    from pydantic import SecretStr

    from shared import observability

    root, pool = logging.getLogger(), logging.getLogger("multiprocessing")
    monkeypatch.setattr(observability, "_configured", False)
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    monkeypatch.setattr(pool, "handlers", list(pool.handlers))
    monkeypatch.setattr(root, "level", root.level)
    observability.setup_observability(SimpleNamespace(sentry_dsn=SecretStr("")))  # type: ignore[arg-type]
    util.get_logger().error("Pool callback raised exception: %r", ValueError("jane.doe@example.com"))
    written = capsys.readouterr().err
    assert "Pool callback raised exception" in written and "jane.doe@example.com" not in written


def test_an_identifier_encoded_twice_in_a_url_is_scrubbed():
    from shared.pii.engine import scrub

    assert "jane.doe" not in scrub("GET /x?q=jane.doe%2540example.com")
    assert "7700900123" not in scrub("GET /x?next=%252Fsearch%253Fphone%253D%25252B447700900123")
