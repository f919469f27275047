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
