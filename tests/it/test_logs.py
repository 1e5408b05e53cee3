"""Structured logging: one JSON object per line, kiosk id, events, redaction."""
from __future__ import annotations

import io
import json
import logging

import pytest
from helpers import make_config

from kiosk.operations.logs import JsonFormatter, redact, setup_logging, timed


@pytest.fixture
def json_log():
    stream = io.StringIO()
    handler = setup_logging(make_config(kiosk={"id": "K-LOG"}, logging={"level": "DEBUG"}), stream=stream)
    yield stream
    logging.getLogger().removeHandler(handler)


def lines(stream) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_one_json_object_per_line_with_kiosk_id_event_and_duration(json_log):
    log = logging.getLogger("kiosk.test")
    log.info("check-in done", extra={"event": "checkin.done", "duration_ms": 412.5, "mode": "online"})
    log.warning("multi\nline message")
    first, second = lines(json_log)
    assert first["kiosk"] == "K-LOG" and first["event"] == "checkin.done"
    assert first["duration_ms"] == 412.5 and first["mode"] == "online" and first["level"] == "INFO"
    assert second["msg"] == "multi\nline message" and second["event"] == "kiosk.test"


@pytest.mark.parametrize("text, expected", [
    ("id 001093012345 read", "id ********2345 read"),
    ("doc 093012345", "doc *****2345"),
    ("ref 0010930123456789 kept", "ref 0010930123456789 kept"),  # 16 digits: not an ID number
    ("took 1234 ms", "took 1234 ms"),
    ("a001093012345b", "a********2345b"),
    ("GET http://h:1/fhir/R4/Patient?identifier=s%7C001093012345&birthdate=1993-01-05 HTTP/1.1",
     "GET http://h:1/fhir/R4/Patient?… HTTP/1.1"),
    ("search /Appointment?patient=Patient/7&date=ge2026-11-25", "search /Appointment?… "[:-1]),
    ("really? yes", "really? yes"),
])
def test_redaction_masks_9_and_12_digit_numbers(text, expected):
    assert redact(text) == expected


def test_redaction_covers_message_extras_and_tracebacks(json_log):
    log = logging.getLogger("kiosk.test")
    try:
        raise ValueError("bad card 079204000123")
    except ValueError:
        log.exception("read failed %s", "079204000123",
                      extra={"event": "card.error", "detail": {"can": "204000123", "ids": ["079204000123"]}})
    text = json_log.getvalue()
    assert "079204000123" not in text and "204000123" not in text
    entry = lines(json_log)[0]
    assert entry["error"] == "ValueError" and "********0123" in entry["traceback"]
    assert entry["detail"] == {"can": "*****0123", "ids": ["********0123"]}


def test_timed_logs_duration_and_error_class_only(json_log):
    log = logging.getLogger("kiosk.test")
    with timed(log, "his.lookup", department="NOI"):
        pass
    with pytest.raises(KeyError):
        with timed(log, "his.lookup"):
            raise KeyError("NGUYỄN VĂN AN")
    ok, failed = lines(json_log)
    assert ok["event"] == "his.lookup" and ok["outcome"] == "ok" and ok["duration_ms"] >= 0
    assert ok["department"] == "NOI"
    assert failed["outcome"] == "error" and failed["error"] == "KeyError" and failed["level"] == "WARNING"
    assert "NGUYỄN" not in json_log.getvalue()


def test_text_format_and_level_from_config():
    stream = io.StringIO()
    handler = setup_logging(make_config(kiosk={"id": "K-TXT"}, logging={"format": "text", "level": "WARNING"}),
                            stream=stream)
    try:
        logging.getLogger("kiosk.test").info("hidden")
        logging.getLogger("kiosk.test").warning("shown 001093012345", extra={"event": "x.y"})
    finally:
        logging.getLogger().removeHandler(handler)
    out = stream.getvalue()
    assert "hidden" not in out and "K-TXT" in out and "********2345" in out and "event=x.y" in out


def test_request_urls_of_http_libraries_stay_out_even_at_debug(json_log):
    logging.getLogger("urllib3.connectionpool").debug('"GET /fhir/R4/Patient?identifier=x HTTP/1.1" 200')
    assert json_log.getvalue() == ""


def test_setup_twice_keeps_one_handler():
    cfg = make_config()
    a = setup_logging(cfg, stream=io.StringIO())
    b = setup_logging(cfg, stream=io.StringIO())
    try:
        assert a not in logging.getLogger().handlers and b in logging.getLogger().handlers
    finally:
        logging.getLogger().removeHandler(b)


def test_non_json_values_become_text():
    record = logging.LogRecord("k", logging.INFO, __file__, 1, "m", None, None)
    record.when = object()
    assert "object at" in json.loads(JsonFormatter("K").format(record))["when"]
