"""The Lua scripts of the hot path (budgets, revocations, rank index) run by their SHA: the
source crosses the network once per Redis, and again only after Redis lost it."""

import hashlib

import pytest

from apps.accounts.hotcache import redis_client, run_script

pytestmark = pytest.mark.redis

SOURCE = "return tonumber(ARGV[1]) + #KEYS"


def test_a_script_runs_by_its_sha_and_is_loaded_again_after_redis_lost_it():
    client = redis_client()
    sha = hashlib.sha1(SOURCE.encode()).hexdigest()

    assert run_script(client, SOURCE, ["a", "b"], [40]) == 42
    assert client.script_exists(sha) == [True]

    client.script_flush()  # as after a Redis restart
    assert run_script(client, SOURCE, ["a"], [1]) == 2
    assert client.script_exists(sha) == [True]
