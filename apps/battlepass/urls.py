from django.urls import path

from apps.battlepass.api import BattlePassClaimApi, BattlePassProgressApi

routes = [
    path("progress", BattlePassProgressApi.as_view(), name="battlepass-progress"),
    path("claim", BattlePassClaimApi.as_view(), name="battlepass-claim"),
]

api_routes = {"battlepass/": routes}
