"""The Lua scripts of the hot path (budgets, revocations, rank index) run by their SHA: the
source crosses the network once per Redis, and again only after Redis lost it."""

import hashlib

import pytest
import redis

from apps.accounts.hotcache import run_script
from tests.payments.private_redis import private_redis

pytestmark = pytest.mark.redis

SOURCE = "return tonumber(ARGV[1]) + #KEYS"


def test_a_script_runs_by_its_sha_and_is_loaded_again_after_redis_lost_it(tmp_path):
    # A server of its own: SCRIPT FLUSH empties the whole server's scripts, and another test
    # process's pipelined scripts on the shared one would fail (NoScriptError) meanwhile.
    with private_redis(tmp_path) as server:
        client = redis.Redis.from_url(server.url)
        sha = hashlib.sha1(SOURCE.encode()).hexdigest()

        assert run_script(client, SOURCE, ["a", "b"], [40]) == 42
        assert client.script_exists(sha) == [True]

        client.script_flush()  # as after a Redis restart
        assert run_script(client, SOURCE, ["a"], [1]) == 2
        assert client.script_exists(sha) == [True]
        client.close()
