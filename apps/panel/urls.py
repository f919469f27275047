from django.urls import path
from django.views.generic import RedirectView

from apps.panel.views import (
    account,
    config,
    dashboard,
    exports,
    leaderboards,
    players,
    purchases,
    records,
    segments,
)

app_name = "panel"

urlpatterns = [
    path("", RedirectView.as_view(url="/panel/", permanent=False), name="root"),
    path("panel/", dashboard.home, name="home"),
    path("panel/players/", players.players_home, name="players-home"),
    path("panel/account/two-factor/", account.two_factor_page, name="two-factor"),
    path("panel/games/<int:game_id>/", dashboard.dashboard, name="dashboard"),
    path(
        "panel/games/<int:game_id>/export/<slug:table>.csv",
        exports.export_csv,
        name="export",
    ),
    path("panel/games/<int:game_id>/players/", players.player_search, name="players"),
    path("panel/games/<int:game_id>/leaderboards/", leaderboards.boards_page, name="leaderboards"),
    path(
        "panel/games/<int:game_id>/leaderboards/<int:board_id>/",
        leaderboards.board_page,
        name="leaderboard",
    ),
    path(
        "panel/games/<int:game_id>/leaderboards/<int:board_id>/<slug:action>",
        leaderboards.board_action,
        name="leaderboard-action",
    ),
    path(
        "panel/games/<int:game_id>/purchases/<int:purchase_id>/refund",
        purchases.refund_purchase,
        name="purchase-refund",
    ),
    path("panel/games/<int:game_id>/config/", config.config_page, name="config"),
    path(
        "panel/games/<int:game_id>/config/<slug:action>",
        config.config_action,
        name="config-action",
    ),
    path(
        "panel/games/<int:game_id>/records/<slug:table>.csv",
        records.export_records,
        name="records",
    ),
    path("panel/games/<int:game_id>/segment/", segments.segment_action, name="segment"),
    path(
        "panel/games/<int:game_id>/segment/runs/<int:run_id>/",
        segments.segment_run,
        name="segment-run",
    ),
    path(
        "panel/games/<int:game_id>/players/<int:player_id>/",
        players.player_detail,
        name="player",
    ),
    path(
        "panel/games/<int:game_id>/players/<int:player_id>/<slug:action>",
        players.player_action,
        name="player-action",
    ),
]
