"""A Redis server of the test's own, on a free port: fault tests stop and start it as a broker
outage, never touching the shared Redis."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import redis
from kombu import pools as kombu_pools

REDIS_SERVER = shutil.which("redis-server")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PrivateRedis:
    def __init__(self, port: int, workdir: str) -> None:
        self.port, self.workdir = port, workdir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert REDIS_SERVER is not None
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
            + ["--appendonly", "no", "--dir", self.workdir, "--loglevel", "warning"],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                client.ping()
                client.close()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"private redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None


@contextmanager
def private_redis(tmp_path: Any) -> Iterator[PrivateRedis]:
    if REDIS_SERVER is None:
        pytest.skip("needs the redis-server binary for a private broker")
    server = PrivateRedis(free_port(), str(tmp_path))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def celery_broker(url: str, *, queue: str) -> Iterator[Any]:
    """This process's Celery app publishes to `url` (not eagerly, on `queue`) inside the block."""
    from gamingpanel.celery import app

    names = ("broker_url", "task_always_eager", "task_default_queue")
    previous = {name: app.conf[name] for name in names}
    app.conf.update(broker_url=url, task_always_eager=False, task_default_queue=queue)
    _drop_connections(app)
    try:
        yield app
    finally:
        app.conf.update(previous)
        _drop_connections(app)


def _drop_connections(app: Any) -> None:
    """Close every pooled broker connection and forget the pools (kombu keeps them in a registry
    of its own: a pool closed but kept there would refuse every later acquire, eager sends
    included), so the next publish connects to the configured URL."""
    kombu_pools.reset()
    app._pool = None
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None
