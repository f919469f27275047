from django.urls import path

from apps.battlepass.api import BattlePassClaimApi, BattlePassProgressApi

urlpatterns = [
    path("battlepass/progress", BattlePassProgressApi.as_view(), name="battlepass-progress"),
    path("battlepass/claim", BattlePassClaimApi.as_view(), name="battlepass-claim"),
]
