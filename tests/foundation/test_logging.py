import json
import logging

from gamingpanel.logging import JsonFormatter, RequestIdFilter, ScrubSecretsFilter, scrub


def test_scrub_removes_keys_tickets_and_bearer_tokens():
    text = (
        "GET https://partner.steam-api.com/x?key=ABCDEF123&ticket=140000deadbeef failed; "
        "Authorization: Bearer eyJhbGciOiJkaXIifQ.abc.def.ghi.jkl"
    )
    cleaned = scrub(text)
    assert "ABCDEF123" not in cleaned
    assert "140000deadbeef" not in cleaned
    assert "eyJhbGciOiJkaXIifQ" not in cleaned
    assert "partner.steam-api.com" in cleaned  # the context stays readable


def test_scrub_removes_secrets_written_as_json_or_a_python_dict():
    cleaned = scrub(
        """{"refresh_token": "JSONSECRET1", "note": "kept"} {'token': 'DICTSECRET2'} """
        """{"api_key":"TIGHTSECRET3"}"""
    )

    assert "JSONSECRET1" not in cleaned and "DICTSECRET2" not in cleaned
    assert "TIGHTSECRET3" not in cleaned and '"note": "kept"' in cleaned


def test_scrub_keeps_error_codes_and_code_lines():
    text = (
        '{"code": "card_declined", "status_code": 402} problem "code": "token_expired" '
        "status_code = response.status_code"
    )

    assert scrub(text) == text


def test_scrub_removes_idc_games_token_and_user_id():
    cleaned = scrub(
        "GET https://api.idcgames.test/getAccessData.php?idctk=SECRETTOKEN123&idcuuid=U77&idcgameid=77"
    )

    assert "SECRETTOKEN123" not in cleaned and "U77" not in cleaned
    assert "idcgameid=77" in cleaned


def test_log_line_is_json_with_request_id_and_no_secret():
    record = logging.LogRecord(
        "x", logging.ERROR, __file__, 1, "refresh failed token=%s", ("s3cr3t-tok",), None
    )
    for log_filter in (RequestIdFilter(), ScrubSecretsFilter()):
        log_filter.filter(record)

    line = json.loads(JsonFormatter().format(record))

    assert line["level"] == "ERROR"
    assert line["request_id"] == "-"
    assert "s3cr3t-tok" not in line["message"]


def test_exception_text_is_scrubbed_too():
    try:
        raise ConnectionError("https://api.example/x?key=TOPSECRET")
    except ConnectionError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", (), sys.exc_info())
    ScrubSecretsFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert "TOPSECRET" not in line["exception"]
    assert "ConnectionError" in line["exception"]


def test_scrub_removes_a_payment_token_from_a_page_path():
    """A payment's public token is its checkout and return pages' only authority."""
    token = "Xk3_secretPublicToken-9"
    lines = [
        f'"GET /payments/sandbox/checkout/{token} HTTP/1.1" 200 2143',
        f'"POST /payments/sandbox/checkout/{token}?x=1 HTTP/1.1" 302 0',
        f"Not Found: /payments/return/{token}",
    ]

    cleaned = [scrub(line) for line in lines]

    assert not [line for line in cleaned if token in line]
    assert cleaned[0] == '"GET /payments/sandbox/checkout/[redacted] HTTP/1.1" 200 2143'
    assert cleaned[2] == "Not Found: /payments/return/[redacted]"


def test_django_s_loggers_write_one_scrubbed_json_line_each_in_debug():
    """As `make run` runs (DEBUG on): a request warning and runserver's access line each come out
    once, as a scrubbed JSON line; Django's own console handlers would add a plain copy."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    token = "Xk3_secretPublicToken-9"
    script = (
        "import django, logging; django.setup(); "
        f"logging.getLogger('django.request').warning('Not Found: %s', '/payments/return/{token}'); "
        "logging.getLogger('django.server').info("
        f"'\"%s\" %s %s', 'GET /payments/sandbox/checkout/{token} HTTP/1.1', 200, 2143); "
        "logging.getLogger('django.security.DisallowedHost').error('Invalid HTTP_HOST header')"
    )
    run = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "gamingpanel.settings",
            "DJANGO_DEBUG": "1",
            "LOG_LEVEL": "WARNING",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    output = run.stdout + run.stderr
    assert token not in output
    lines = [json.loads(line) for line in output.splitlines()]  # every line is JSON
    assert [(line["logger"], line["message"]) for line in lines] == [
        ("django.request", "Not Found: /payments/return/[redacted]"),
        ("django.server", '"GET /payments/sandbox/checkout/[redacted] HTTP/1.1" 200 2143'),
        ("django.security.DisallowedHost", "Invalid HTTP_HOST header"),
    ]
