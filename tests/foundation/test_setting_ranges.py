"""Settings read from the environment whose out-of-range values would break the running panel
are refused at start (ImproperlyConfigured, naming the setting), not found out later by players
or by an ALERT every run:

- ANALYTICS_AGGREGATION_WORK_MEM goes into every aggregation transaction's SET LOCAL work_mem:
  a value PostgreSQL refuses failed every day's aggregation, and it was SQL text of its own.
- ANALYTICS_MAX_FUTURE_SECONDS at most 0 refused events stamped now or a moment ahead;
  ANALYTICS_MAX_BATCH at most 0 refused every batch.
- REDIS_SOCKET_TIMEOUT at most 0 failed every cache call.
- ACCESS_TOKEN_LIFETIME_SECONDS at most 0 issued only expired access tokens.
- PAYMENTS_SWEEP_INTERVAL_SECONDS below 1 had beat queue the sweeps back to back.
- PAYMENTS_SWEEP_BATCH at most 0 swept nothing (0) or every row but the last (below 0).
- PAYMENTS_UNOPENED_CHECKOUT_SECONDS at most 0 closed checkouts still being opened.
- CLOUDSAVE_RECEIPT_DAYS at most 0 had the daily prune forget every Idempotency-Key receipt.
- STRIPE_WEBHOOK_TOLERANCE_SECONDS 0 turned Stripe's age check off (replays taken) and refused
  sandbox callbacks; below 0 refused every webhook.
- CELERY_VISIBILITY_TIMEOUT_SECONDS at most 0 handed running tasks to a second worker.
- REFRESH_TOKEN_LIFETIME_SECONDS at most 0 opened only expired sessions.
- PLATFORM_/PAYMENT_CONNECT_TIMEOUT and _READ_TIMEOUT at most 0 are a ValueError in every
  outbound call (urllib3); PLATFORM_LOGIN_DEADLINE_SECONDS at most 0 made every platform login
  a 503.
"""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from tests.foundation.probe import refusal

REFUSED = [
    ("ANALYTICS_AGGREGATION_WORK_MEM", "256mb"),  # PostgreSQL's units are case-sensitive
    ("ANALYTICS_AGGREGATION_WORK_MEM", "63kB"),
    ("ANALYTICS_AGGREGATION_WORK_MEM", "2TB"),
    ("ANALYTICS_AGGREGATION_WORK_MEM", "lots"),
    ("ANALYTICS_AGGREGATION_WORK_MEM", "-1MB"),
    ("ANALYTICS_AGGREGATION_WORK_MEM", "9" * 400),
    ("ANALYTICS_AGGREGATION_WORK_MEM", "9" * 400 + ".5MB"),
    ("ANALYTICS_AGGREGATION_WORK_MEM", "64MB'; SET LOCAL statement_timeout = '1"),
    ("ANALYTICS_MAX_FUTURE_SECONDS", "0"),
    ("ANALYTICS_MAX_FUTURE_SECONDS", "-300"),
    ("ANALYTICS_MAX_BATCH", "0"),
    ("ANALYTICS_MAX_BATCH", "-1"),
    ("REDIS_SOCKET_TIMEOUT", "0"),
    ("REDIS_SOCKET_TIMEOUT", "-2"),
    ("ACCESS_TOKEN_LIFETIME_SECONDS", "0"),
    ("ACCESS_TOKEN_LIFETIME_SECONDS", "-7200"),
    ("PAYMENTS_SWEEP_INTERVAL_SECONDS", "0"),
    ("PAYMENTS_SWEEP_INTERVAL_SECONDS", "-60"),
    ("PAYMENTS_SWEEP_INTERVAL_SECONDS", "0.5"),
    ("PAYMENTS_SWEEP_BATCH", "0"),
    ("PAYMENTS_SWEEP_BATCH", "-1"),
    ("PAYMENTS_UNOPENED_CHECKOUT_SECONDS", "0"),
    ("PAYMENTS_UNOPENED_CHECKOUT_SECONDS", "-900"),
    ("CLOUDSAVE_RECEIPT_DAYS", "0"),
    ("CLOUDSAVE_RECEIPT_DAYS", "-7"),
    ("STRIPE_WEBHOOK_TOLERANCE_SECONDS", "0"),
    ("STRIPE_WEBHOOK_TOLERANCE_SECONDS", "-300"),
    ("CELERY_VISIBILITY_TIMEOUT_SECONDS", "0"),
    ("CELERY_VISIBILITY_TIMEOUT_SECONDS", "-300"),
    ("REFRESH_TOKEN_LIFETIME_SECONDS", "0"),
    ("REFRESH_TOKEN_LIFETIME_SECONDS", "-2592000"),
    ("PLATFORM_CONNECT_TIMEOUT", "0"),
    ("PLATFORM_CONNECT_TIMEOUT", "-2"),
    ("PLATFORM_READ_TIMEOUT", "0"),
    ("PLATFORM_READ_TIMEOUT", "-5"),
    ("PAYMENT_CONNECT_TIMEOUT", "0"),
    ("PAYMENT_CONNECT_TIMEOUT", "-2"),
    ("PAYMENT_READ_TIMEOUT", "0"),
    ("PAYMENT_READ_TIMEOUT", "-10"),
    ("PLATFORM_LOGIN_DEADLINE_SECONDS", "0"),
    ("PLATFORM_LOGIN_DEADLINE_SECONDS", "-8"),
]


@pytest.mark.parametrize(("name", "value"), REFUSED, ids=lambda v: v if len(v) < 60 else "long")
def test_an_out_of_range_setting_is_refused_at_start(name, value):
    refused = refusal(**{name: value})

    assert refused is not None and "ImproperlyConfigured" in refused, refused
    assert name in refused


def test_the_smallest_values_that_work_start():
    assert (
        refusal(
            ANALYTICS_AGGREGATION_WORK_MEM="64kB",
            ANALYTICS_MAX_FUTURE_SECONDS="1",
            ANALYTICS_MAX_BATCH="1",
            REDIS_SOCKET_TIMEOUT="0.1",
            ACCESS_TOKEN_LIFETIME_SECONDS="1",
            PAYMENTS_SWEEP_INTERVAL_SECONDS="1",
            PAYMENTS_SWEEP_BATCH="1",
            PAYMENTS_UNOPENED_CHECKOUT_SECONDS="1",
            CLOUDSAVE_RECEIPT_DAYS="1",
            STRIPE_WEBHOOK_TOLERANCE_SECONDS="1",
            CELERY_VISIBILITY_TIMEOUT_SECONDS="2",
            REFRESH_TOKEN_LIFETIME_SECONDS="1",
            PLATFORM_CONNECT_TIMEOUT="0.1",
            PLATFORM_READ_TIMEOUT="0.1",
            PAYMENT_CONNECT_TIMEOUT="0.1",
            PAYMENT_READ_TIMEOUT="0.1",
            PLATFORM_LOGIN_DEADLINE_SECONDS="0.1",
        )
        is None
    )


@pytest.mark.parametrize("value", ["256MB", "1.5GB", "64", "65536B", "256 MB", " 2147483647kB"])
def test_work_mem_in_any_form_postgresql_takes_starts(value):
    assert refusal(ANALYTICS_AGGREGATION_WORK_MEM=value) is None


ACCEPTED_WORK_MEM = [
    "256MB",
    "1.5GB",
    "1.9TB",
    "1.9999GB",
    "0.5MB",
    "64",
    "64.5",
    "64kB",
    "65536B",
    "65500.5B",
    "256 MB",
    "2147483647kB",
]
# PostgreSQL refuses these too.
REFUSED_WORK_MEM = ["63", "63kB", "63.4", "65000B", "2TB", "256mb", "1 GiB", "12 MB extra", ""]


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("value", ACCEPTED_WORK_MEM + REFUSED_WORK_MEM)
def test_the_settings_take_exactly_the_work_mem_values_postgresql_takes(value):
    """What the check takes PostgreSQL takes, as the same kB (units, range, rounding)."""
    from gamingpanel.settings import _work_mem_kilobytes

    kilobytes = _work_mem_kilobytes(value.strip())
    accepted = kilobytes is not None and 64 <= kilobytes <= 2_147_483_647
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT set_config('work_mem', %s, true)", [value])
            cursor.execute("SELECT setting::bigint FROM pg_settings WHERE name = 'work_mem'")
            taken = cursor.fetchone()[0]
    except Exception:
        taken = None

    assert accepted == (value in ACCEPTED_WORK_MEM)
    assert (taken is not None) == accepted
    if accepted:
        assert taken == kilobytes
