"""The admin list of cloud-save documents (every player's keys) reads one page: no total
beside the filtered count, a count capped by a LIMIT, and a search by player id compared as a
number (the documents' index leads with it), not by a key alone, which no index leads with."""

from __future__ import annotations

import pytest

from apps.accounts.models import Player
from apps.cloudsave.models import Document
from tests.accounts.admin_lists import (
    assert_reads_one_page,
    assert_searches_player_id_as_a_number,
    listed,
    signed_in_operator,
)

URL = "/admin/cloudsave/document/"
TABLE = "cloudsave_document"


@pytest.fixture
def operator_client(client, game):
    return signed_in_operator(client, game)


@pytest.fixture
def documents(game, player):
    someone = Player.objects.create(game=game, display_name="someone")

    def document(owner: Player, key: str) -> Document:
        return Document.objects.create(
            game=game, player=owner, key=key, version=1, value={"a": 1}, size=7
        )

    return [document(player, "profile"), document(player, "1"), document(someone, "profile")]


def test_the_list_reads_one_page_and_a_capped_count(operator_client, documents):
    queries, shown = listed(operator_client, URL, TABLE)

    assert len(shown) == 3
    assert_reads_one_page(queries)


def test_a_number_searches_the_player_id_as_a_number(operator_client, documents, player):
    queries, shown = listed(operator_client, f"{URL}?q={player.pk}", TABLE)

    assert set(shown) == set(documents[:2])
    assert_searches_player_id_as_a_number(queries, TABLE, player.pk)
    assert [sql for sql in queries if '"key"' in sql.split("WHERE")[-1]] == []


def test_a_key_finds_nothing_and_reads_nothing(operator_client, documents):
    queries, shown = listed(operator_client, f"{URL}?q=profile", TABLE)

    assert shown == []
    assert queries == []
