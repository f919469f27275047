"""Fixtures every app's tests share: games (alice's and bob's), players, API clients, services."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
from celery.result import allow_join_result
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from rest_framework.test import APIClient

from apps.accounts.models import Game, Player
from apps.accounts.services import create_server_key, set_game_access

ROOT = Path(__file__).resolve().parent.parent
HAS_POSTGRES = settings.IS_POSTGRES
HAS_REDIS = bool(settings.REDIS_URL)


def wallet_lock_at(sql: str) -> int:
    """Where the wallet lock of a value move (apps.inventory.services) starts in a captured
    message, or -1: on PostgreSQL the EXECUTE of its prepared statement, elsewhere its text."""
    found = [sql.find(mark) for mark in ("gp_lock_holdings_", "wallets AS MATERIALIZED")]
    return max(found)


def is_ledger_write(sql: str) -> bool:
    """Whether a captured message holds a value move's ledger write (as wallet_lock_at)."""
    return "gp_ledger_write_" in sql or "INSERT INTO inventory_ledgerentry" in sql


def eventually(condition: Callable[[], bool], *, within: float) -> float:
    """Seconds until `condition` held, polled every 5 ms; fails the test when it did not hold
    within `within` seconds."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        if condition():
            return time.monotonic() - started
        time.sleep(0.005)
    pytest.fail(f"not within {within} s")


def in_thread(work: Callable[[], object]) -> Future:
    """Run `work` on its own thread and database connection (closed after); the future gives
    its outcome. For races on PostgreSQL, one side held while the other starts."""

    def run() -> object:
        try:
            return work()
        finally:
            connection.close()

    pool = ThreadPoolExecutor(1)
    future = pool.submit(run)
    pool.shutdown(wait=False)
    return future


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("GP_REQUIRE_SERVICES") and not (HAS_POSTGRES and HAS_REDIS):
        raise pytest.UsageError("GP_REQUIRE_SERVICES is set but DATABASE_URL/REDIS_URL are not.")
    # Processes the tests start read the test database (another name): they must still share
    # this process's Redis prefix to see its revocations and queues.
    os.environ.setdefault("DEPLOYMENT_NAME", settings.DEPLOYMENT_NAME)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """With GP_REQUIRE_SERVICES (CI), a skipped test fails the run: whether a service is
    missing (PostgreSQL, Redis) or a tool a fixture needs (node for newman), every test runs."""
    if not os.environ.get("GP_REQUIRE_SERVICES") or exitstatus != pytest.ExitCode.OK:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    if skipped:
        reporter.write_line(f"GP_REQUIRE_SERVICES: {len(skipped)} test(s) skipped; failing the run")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://…")
    skip_redis = pytest.mark.skip(reason="needs Redis: set REDIS_URL=redis://…")
    for item in items:
        if "postgres" in item.keywords and not HAS_POSTGRES:
            item.add_marker(skip_pg)
        if "redis" in item.keywords and not HAS_REDIS:
            item.add_marker(skip_redis)


@pytest.fixture(autouse=True)
def _isolated_cache() -> Iterator[None]:
    """Each test starts with an empty cache (rate limits, revocations, JWKS) and nothing in this
    process's short caches (the players behind tokens)."""
    from django.core.cache import cache

    from gamingpanel.shortcache import clear_every_cache

    cache.clear()
    clear_every_cache()
    yield


@pytest.fixture(autouse=True)
def _joinable_results() -> Iterator[None]:
    """Celery's "inside a task" flag is one global that an eager task sets and then resets to
    what it found: two run at once in threads (the segment sweep race in
    tests/panel/test_segment_resume.py, the webhook races) can leave it set, and every later
    `result.get()` in the process refuses ("Never call result.get() within a task"). Each test
    starts with it clear, whichever ran before it in this process."""
    with allow_join_result():
        yield


@pytest.fixture(autouse=True)
def _audit_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    """The minute operator lock-outs are counted in (apps.audit.services) stays one minute for
    the whole test: two attempts a test makes in a row never fall either side of a minute's end.
    A test that moves it sets `_clock` itself."""
    from apps.audit import services

    monkeypatch.setattr(services, "_clock", lambda: 1_800_000_000.0)


@pytest.fixture(autouse=True)
def _no_name_lookups(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test asks the machine's resolver about a platform's or provider's host: a name other
    than `localhost` or an address does not resolve, as on a closed network, but at once. The
    resolver here sometimes took 5 s to say so for a made-up `*.test` name, longer than a
    login's connect budget, and the login failed with 503. `responses` answers those requests
    before any connection; a test of the outbound guard replaces `resolve` with its own."""
    import ipaddress
    import socket

    from gamingpanel import outbound

    resolve_for_real = outbound.resolve

    def resolve(host: str, port: int) -> list[str]:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            if host != "localhost":
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None
        return resolve_for_real(host, port)

    monkeypatch.setattr(outbound, "resolve", resolve)


@pytest.fixture
def game(db: None) -> Game:
    return Game.objects.create(
        name="Alpha", slug="alpha", client_key="alpha-client-key", sandbox=True
    )


@pytest.fixture
def other_game(db: None) -> Game:
    return Game.objects.create(name="Beta", slug="beta", client_key="beta-client-key", sandbox=True)


@pytest.fixture
def player(game: Game) -> Player:
    return Player.objects.create(game=game, display_name="alice")


@pytest.fixture
def other_player(other_game: Game) -> Player:
    return Player.objects.create(game=other_game, display_name="bob")


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def player_client(player: Player) -> APIClient:
    """A client acting as `player`, without going through tokens (tested in tests/accounts)."""
    client = APIClient()
    client.force_authenticate(user=player)
    return client


@pytest.fixture
def server_key(game: Game) -> str:
    return create_server_key(game=game, name="test server").raw_key


@pytest.fixture
def server_client(server_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_SERVER_KEY=server_key)
    return client


@pytest.fixture
def celery_worker_process(transactional_db: None) -> Iterator[subprocess.Popen]:
    """A real Celery worker (not eager) on the Redis broker, reading this test's database."""
    if not (HAS_REDIS and HAS_POSTGRES):
        pytest.skip("needs PostgreSQL and Redis for a real worker")
    from gamingpanel.celery import app as celery_app

    queue = f"test-{uuid.uuid4().hex[:8]}"
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "GP_TESTING": "1",
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "gamingpanel",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "-Q",
            queue,
            "--loglevel=WARNING",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
    )
    previous = (celery_app.conf.task_always_eager, celery_app.conf.task_default_queue)
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = queue
    try:
        _wait_for_worker(celery_app, worker)
        yield worker
    finally:
        celery_app.conf.task_always_eager, celery_app.conf.task_default_queue = previous
        worker.terminate()
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()


def _wait_for_worker(celery_app: object, worker: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise RuntimeError("Celery worker exited during start-up")
        if celery_app.control.ping(timeout=0.5):
            return
    raise RuntimeError("Celery worker did not answer a ping within 30 s")


@pytest.fixture
def make_operator(db):
    """make_operator(username, game, role): a panel user with that role in that game."""

    def make(username: str, game: Game, role: str):
        user = get_user_model().objects.create_user(username=username, password="pw-long-enough-1")
        set_game_access(user=user, game=game, role=role)
        return user

    return make


def while_an_erasure_waits_to_commit(player_id: int, work: Callable[[], object]) -> Future:
    """The erasure of the player, held just before its commit (it holds the player's row), and
    `work` started on its own thread meanwhile; once `work` waits for a lock (or after 3 s, when
    it does not: the caller's checks then say what it did), the erasure commits. Answers `work`'s
    future. For a write whose request checked the player before the erasure committed: its own
    inserts take only KEY SHARE on the player, which the erasure's NO KEY UPDATE does not hold
    up, so it must wait for the erasure on its own."""
    from unittest import mock

    from apps.accounts.services import privacy as erasure

    erasing, release = threading.Event(), threading.Event()
    announce = erasure.announce_action

    def hold_before_the_commit(**kwargs: object) -> object:
        erasing.set()
        release.wait(10)
        return announce(**kwargs)

    with mock.patch.object(erasure, "announce_action", hold_before_the_commit):
        erase = in_thread(
            lambda: erasure.erase_player(player=Player.objects.get(pk=player_id), actor=None)
        )
        try:
            assert erasing.wait(10)  # the erasure holds the player's row, not yet committed
            started = in_thread(work)
            wait_until_a_statement_waits_for_a_lock(timeout=3)
        finally:
            release.set()
        assert erase.result(10) is True
    return started


def wait_until_a_statement_waits_for_a_lock(timeout: float = 10.0) -> None:
    """Until another session of this database waits for a lock (read from inside a transaction:
    the activity view is read afresh each time)."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0]:
                return
            threading.Event().wait(0.01)
    raise AssertionError("no statement waited for a lock")
