from django.urls import path

from apps.leaderboards.api import (
    AroundMeApi,
    BoardListApi,
    ClientScoreApi,
    PeriodListApi,
    PlayerRankApi,
    ServerScoreApi,
    StandingsApi,
    TopApi,
)

routes = [
    path("<slug:slug>", TopApi.as_view(), name="leaderboards-top"),
    path("<slug:slug>/around-me", AroundMeApi.as_view(), name="leaderboards-around-me"),
    path(
        "<slug:slug>/players/<int:player_id>", PlayerRankApi.as_view(), name="leaderboards-player"
    ),
    path("<slug:slug>/periods", PeriodListApi.as_view(), name="leaderboards-periods"),
    path("<slug:slug>/periods/<int:number>", StandingsApi.as_view(), name="leaderboards-standings"),
    path("<slug:slug>/scores", ServerScoreApi.as_view(), name="leaderboards-scores"),
    path("<slug:slug>/my-score", ClientScoreApi.as_view(), name="leaderboards-my-score"),
]

api_routes = {
    "leaderboards/": routes,
    "leaderboards": [path("", BoardListApi.as_view(), name="leaderboards")],
}
