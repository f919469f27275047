from __future__ import annotations

from django.test import Client
from django.utils import timezone

from apps.accounts.models import GameAccess
from apps.analytics.models import DailyMetrics
from tests.panel.conftest import make_user


def test_daily_metrics_admin_is_read_only_and_scoped_to_the_users_games(game, other_game):
    today = timezone.now().date()
    DailyMetrics.objects.create(game=game, day=today, dau=11)
    DailyMetrics.objects.create(game=other_game, day=today, dau=22)
    client = Client()
    client.force_login(make_user("anna", game, GameAccess.Role.ANALYST))

    response = client.get("/admin/analytics/dailymetrics/")

    assert response.status_code == 200
    assert [row.dau for row in response.context["cl"].result_list] == [11]
    assert client.get("/admin/analytics/dailymetrics/add/").status_code == 403
    row = DailyMetrics.objects.get(game=game)
    assert (
        client.post(f"/admin/analytics/dailymetrics/{row.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert DailyMetrics.objects.count() == 2
