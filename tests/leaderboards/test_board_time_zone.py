"""A board's time zone is an IANA name (`Europe/Madrid`), the same on every host: a name the
machine's zoneinfo also reads but that is not one (`localtime`, this host's own setting; the
`right/` variants, whose leap seconds put midnight in Madrid at 22:00 UTC instead of 23:00; the
`posix/` copies) is refused when saved, not kept to reset the board at another moment."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from apps.leaderboards.models import Board

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "zone", ["localtime", "right/Europe/Madrid", "posix/Europe/Madrid", "posixrules"]
)
def test_a_time_zone_that_is_not_an_iana_name_is_refused(game, zone):
    board = Board(game=game, slug="daily", name="Daily", reset=Board.Reset.DAILY, time_zone=zone)

    with pytest.raises(ValidationError) as refused:
        board.full_clean()

    assert "time_zone" in refused.value.message_dict


@pytest.mark.parametrize("zone", ["UTC", "Europe/Madrid", "America/Santiago", "Etc/GMT+5"])
def test_an_iana_time_zone_is_taken(game, zone):
    board = Board(game=game, slug="daily", name="Daily", reset=Board.Reset.DAILY, time_zone=zone)

    board.full_clean()  # raises ValidationError when refused
    board.save()

    assert Board.objects.values_list("time_zone", flat=True).get(pk=board.pk) == zone
