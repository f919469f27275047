"""More settings whose 0, negative or absurd values broke the running panel, refused at start
(ImproperlyConfigured naming the setting, its value and what it must be), as in
test_setting_ranges.py:

- RATE_LIMIT_PER_HOUR, AUTH_RATE_LIMIT_PER_MINUTE, AUTH_GAME_RATE_LIMIT_PER_MINUTE at most 0:
  the first request of every window is past the limit, so every player request (or every login,
  refresh and link) is 429 rate_limited. RATELIMIT_ENABLE=0 is what turns the limits off.
- AXES_FAILURE_LIMIT at most 0: axes locks out at failures >= limit, so even the right password
  on the first try is the lock-out page: no operator can sign in.
- AXES_COOLOFF_MINUTES at most 0: axes counts only the failures of the last 0 minutes, so no
  login is ever paused (passwords guessed without limit); far beyond a year every login fails
  computing a date before year 1 (capped at a year).
- CELERY_VISIBILITY_TIMEOUT_SECONDS 1: TASK_RETRY_BACKOFF_MAX_SECONDS (4/5 of it, rounded down)
  is 0, and Celery's retry waits min(cap, 2 x 2^n) are all 0: retries run back to back.
- SEGMENT_RUN_SLICE_SECONDS below 0 (0 is one chunk per task) or above half the visibility
  timeout: a task still running at the timeout is handed to a second worker.
- PAYMENTS_SWEEP_MAX_ATTEMPTS at most 0: the sweeper flags every row left undone at its first
  look (sweeps >= 0) and queues nothing again; PAYMENTS_SWEEP_BACKOFF_SECONDS at most 0: a row
  is queued again by every sweep, its attempts spent within minutes.
- LEADERBOARD_PAYOUT_ATTEMPTS at most 0 acts as 1 while it reads as "never tried".
- PLATFORM_JWKS_FAILURE_BACKOFF_SECONDS below 0 is no backoff at all (0 is the documented off).
- SENTRY_/OTEL_TRACES_SAMPLE_RATE outside 0..1: Sentry drops every trace, OpenTelemetry's
  sampler raises when tracing starts.
- ANALYTICS_MAX_CLOCK_SKEW_SECONDS below a minute refuses nearly every client event (at 0 or
  below, all but future ones); ANALYTICS_MAX_PROPERTIES_BYTES below 2 refuses every event (`{}`
  is 2 bytes); ANALYTICS_DASHBOARD_DEFAULT_DAYS at 0 or below made an empty dashboard and CSV,
  past 366 a range no form lets an operator ask for.
- REFRESH_REUSE_GRACE_SECONDS below 0 or past an hour (a stolen refresh token honoured as a retry
  that long; past timedelta's range every refresh was a 500); ENDED_SESSIONS_KEPT_DAYS below 0
  (the daily prune deleted live sessions) or past a century (the prune failed every day);
  MULTIPLAYER_MAX_LIVE_SERVERS past a bigint (every server-info a 500) and
  MULTIPLAYER_SERVER_RETENTION_HOURS past a century (the hourly prune failed).
- EVENT_REPEAT_HORIZON_DAYS at 0 or below (a repeat made only once it had started) or past ten
  years (millions of days: the task failed every run, and no series repeated).
- LEADERBOARD_INDEX_CHECK_LARGE_MINUTES below 0 or past a year (Redis refused the expiry of a
  check's claim, and large boards' rank indexes were never checked).
- PLATFORM_JWKS_MIN_REFETCH_SECONDS at 0 or below: no refetch limit, so every login naming a
  made-up key id downloads the platform's key set.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from celery.utils.time import get_exponential_backoff_interval
from django.contrib.auth.models import User
from django.test import Client

from apps.accounts import ratelimit
from tests.foundation.probe import configured, refusal

REFUSED = [
    ("RATE_LIMIT_PER_HOUR", "0"),
    ("RATE_LIMIT_PER_HOUR", "-1000"),
    ("AUTH_RATE_LIMIT_PER_MINUTE", "0"),
    ("AUTH_RATE_LIMIT_PER_MINUTE", "-60"),
    ("AUTH_GAME_RATE_LIMIT_PER_MINUTE", "0"),
    ("AUTH_GAME_RATE_LIMIT_PER_MINUTE", "-3000"),
    ("DATA_EXPORTS_PER_HOUR", "0"),
    ("RATELIMIT_LEASE_SIZE", "0"),
    ("RATELIMIT_LEASE_SIZE", "-16"),
    ("AXES_FAILURE_LIMIT", "0"),
    ("AXES_FAILURE_LIMIT", "-5"),
    ("AXES_COOLOFF_MINUTES", "0"),
    ("AXES_COOLOFF_MINUTES", "-15"),
    ("AXES_COOLOFF_MINUTES", "525601"),
    ("AXES_COOLOFF_MINUTES", "2000000000"),
    ("CELERY_VISIBILITY_TIMEOUT_SECONDS", "1"),
    ("SEGMENT_RUN_SLICE_SECONDS", "-1"),
    ("SEGMENT_RUN_SLICE_SECONDS", "151"),  # the default timeout is 300
    ("SEGMENT_RUN_SLICE_SECONDS", "86400"),
    ("PAYMENTS_SWEEP_MAX_ATTEMPTS", "0"),
    ("PAYMENTS_SWEEP_MAX_ATTEMPTS", "-8"),
    ("PAYMENTS_SWEEP_BACKOFF_SECONDS", "0"),
    ("PAYMENTS_SWEEP_BACKOFF_SECONDS", "-60"),
    ("LEADERBOARD_PAYOUT_ATTEMPTS", "0"),
    ("LEADERBOARD_PAYOUT_ATTEMPTS", "-6"),
    ("PLATFORM_JWKS_FAILURE_BACKOFF_SECONDS", "-5"),
    ("SENTRY_TRACES_SAMPLE_RATE", "-0.1"),
    ("SENTRY_TRACES_SAMPLE_RATE", "1.5"),
    ("OTEL_TRACES_SAMPLE_RATE", "-1"),
    ("OTEL_TRACES_SAMPLE_RATE", "100"),
    ("ANALYTICS_MAX_CLOCK_SKEW_SECONDS", "0"),
    ("ANALYTICS_MAX_CLOCK_SKEW_SECONDS", "-3600"),
    ("ANALYTICS_MAX_CLOCK_SKEW_SECONDS", "59"),
    ("ANALYTICS_MAX_PROPERTIES_BYTES", "1"),
    ("ANALYTICS_MAX_PROPERTIES_BYTES", "0"),
    ("ANALYTICS_DASHBOARD_DEFAULT_DAYS", "0"),
    ("ANALYTICS_DASHBOARD_DEFAULT_DAYS", "-7"),
    ("ANALYTICS_DASHBOARD_DEFAULT_DAYS", "367"),
    ("ANALYTICS_DASHBOARD_DEFAULT_DAYS", "2000"),
    ("REFRESH_REUSE_GRACE_SECONDS", "-1"),
    ("REFRESH_REUSE_GRACE_SECONDS", "3601"),
    ("REFRESH_REUSE_GRACE_SECONDS", "1000000000000"),
    ("ENDED_SESSIONS_KEPT_DAYS", "-31"),
    ("ENDED_SESSIONS_KEPT_DAYS", "36501"),
    ("ENDED_SESSIONS_KEPT_DAYS", "1000000"),
    ("MULTIPLAYER_MAX_LIVE_SERVERS", str(2**63)),
    ("MULTIPLAYER_SERVER_RETENTION_HOURS", "876001"),
    ("MULTIPLAYER_SERVER_RETENTION_HOURS", "100000000"),
    ("EVENT_REPEAT_HORIZON_DAYS", "0"),
    ("EVENT_REPEAT_HORIZON_DAYS", "-7"),
    ("EVENT_REPEAT_HORIZON_DAYS", "3651"),
    ("EVENT_REPEAT_HORIZON_DAYS", "3000000"),
    ("LEADERBOARD_INDEX_CHECK_LARGE_MINUTES", "-1"),
    ("LEADERBOARD_INDEX_CHECK_LARGE_MINUTES", "525601"),
    ("LEADERBOARD_INDEX_CHECK_LARGE_MINUTES", "100000000000000"),
    ("PLATFORM_JWKS_MIN_REFETCH_SECONDS", "0"),
    ("PLATFORM_JWKS_MIN_REFETCH_SECONDS", "-60"),
]


@pytest.mark.parametrize(("name", "value"), REFUSED)
def test_a_setting_that_would_break_the_panel_is_refused_at_start(name, value):
    refused = refusal(**{name: value})

    assert refused is not None and "ImproperlyConfigured" in refused, refused
    assert name in refused
    assert f"it is {value}" in refused or f"it is {float(value)}" in refused, refused


def test_the_smallest_values_that_work_start():
    assert (
        refusal(
            RATE_LIMIT_PER_HOUR="1",
            AUTH_RATE_LIMIT_PER_MINUTE="1",
            AUTH_GAME_RATE_LIMIT_PER_MINUTE="1",
            DATA_EXPORTS_PER_HOUR="1",
            RATELIMIT_LEASE_SIZE="1",
            AXES_FAILURE_LIMIT="1",
            AXES_COOLOFF_MINUTES="1",
            CELERY_VISIBILITY_TIMEOUT_SECONDS="2",
            SEGMENT_RUN_SLICE_SECONDS="0",
            PAYMENTS_SWEEP_MAX_ATTEMPTS="1",
            PAYMENTS_SWEEP_BACKOFF_SECONDS="1",
            LEADERBOARD_PAYOUT_ATTEMPTS="1",
            PLATFORM_JWKS_FAILURE_BACKOFF_SECONDS="0",  # documented: no backoff
            SENTRY_TRACES_SAMPLE_RATE="0",
            OTEL_TRACES_SAMPLE_RATE="0",
            ANALYTICS_MAX_CLOCK_SKEW_SECONDS="60",
            ANALYTICS_MAX_PROPERTIES_BYTES="2",
            ANALYTICS_DASHBOARD_DEFAULT_DAYS="1",
            REFRESH_REUSE_GRACE_SECONDS="0",
            ENDED_SESSIONS_KEPT_DAYS="0",
            EVENT_REPEAT_HORIZON_DAYS="1",
            LEADERBOARD_INDEX_CHECK_LARGE_MINUTES="0",
            PLATFORM_JWKS_MIN_REFETCH_SECONDS="1",
        )
        is None
    )


def test_the_largest_bounded_values_start():
    assert (
        refusal(
            AXES_COOLOFF_MINUTES="525600",
            SEGMENT_RUN_SLICE_SECONDS="150",
            SENTRY_TRACES_SAMPLE_RATE="1",
            OTEL_TRACES_SAMPLE_RATE="1",
            ANALYTICS_DASHBOARD_DEFAULT_DAYS="366",
            REFRESH_REUSE_GRACE_SECONDS="3600",
            ENDED_SESSIONS_KEPT_DAYS="36500",
            MULTIPLAYER_MAX_LIVE_SERVERS=str(2**63 - 1),
            MULTIPLAYER_SERVER_RETENTION_HOURS="876000",
            EVENT_REPEAT_HORIZON_DAYS="3650",
            LEADERBOARD_INDEX_CHECK_LARGE_MINUTES="525600",
            RATE_LIMIT_PER_HOUR=str(10**9),  # as the benches set
        )
        is None
    )


def test_the_visibility_timeout_refusal_says_the_smallest_value_that_works_and_why():
    refused = refusal(CELERY_VISIBILITY_TIMEOUT_SECONDS="1")

    assert refused is not None
    assert "CELERY_VISIBILITY_TIMEOUT_SECONDS must be at least 2; it is 1" in refused
    assert "TASK_RETRY_BACKOFF_MAX_SECONDS" in refused


def test_at_a_visibility_timeout_of_1_every_retry_would_run_at_once():
    """What the refusal prevents: the cap 4/5 of 1 rounded down is 0, and Celery's autoretry
    wait (the payment tasks' retry_backoff=2, jittered) is then 0 for every retry; at 2 the cap is
    1 s and the waits are not all 0."""

    def waits(cap: int) -> set[int]:
        return {
            get_exponential_backoff_interval(factor=2, retries=n, maximum=cap, full_jitter=True)
            for n in range(8)
            for _ in range(50)
        }

    assert 1 * 4 // 5 == 0 and waits(0) == {0}
    assert 2 * 4 // 5 == 1 and waits(1) == {0, 1}


def test_the_retry_cap_and_segment_slice_follow_a_short_visibility_timeout():
    """The worker-crash test runs workers with a 2 s timeout: they start, with a cap of 1 s and
    a slice of 1 s (half the timeout) instead of the default 60."""
    assert configured(
        "[settings.TASK_RETRY_BACKOFF_MAX_SECONDS, settings.SEGMENT_RUN_SLICE_SECONDS]",
        CELERY_VISIBILITY_TIMEOUT_SECONDS="2",
    ) == [1, 1]
    assert configured("settings.SEGMENT_RUN_SLICE_SECONDS") == 60


def test_a_budget_of_0_refuses_the_first_request(settings):
    """What the rate-limit refusals prevent: with a limit of 0 the first request of a window is
    already past it (RATELIMIT_ENABLE=0 is what turns counting off)."""
    settings.RATELIMIT_ENABLE = True
    budget = ratelimit.spend(group="t", value=uuid.uuid4().hex, limit=0, period_seconds=60)

    assert budget is not None and budget.exceeded


RIGHT = "right-horse-battery-staple"


def _login(password: str) -> int:
    response = Client().post(
        "/admin/login/", {"username": "admin", "password": password}, REMOTE_ADDR="198.51.100.7"
    )
    return response.status_code


@pytest.mark.django_db
def test_a_failure_limit_of_0_locks_out_the_right_password_at_the_first_try(settings):
    User.objects.create_user(username="admin", password=RIGHT, is_staff=True)
    settings.AXES_FAILURE_LIMIT = 0

    assert _login(RIGHT) == 429


@pytest.mark.django_db
def test_a_cool_off_of_0_never_pauses_logins(settings):
    User.objects.create_user(username="admin", password=RIGHT, is_staff=True)
    settings.AXES_COOLOFF_TIME = timedelta(0)

    assert {_login(f"guess-{n}") for n in range(3 * settings.AXES_FAILURE_LIMIT)} == {200}
    assert _login(RIGHT) == 302
