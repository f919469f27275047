from django.urls import path

from gamingpanel.views import not_implemented_view

urlpatterns = [
    path(
        "battlepass/progress",
        not_implemented_view("Battle pass progress", "get").as_view(),
        name="battlepass-progress",
    ),
    path(
        "battlepass/claim",
        not_implemented_view("Claim a battle pass tier", "post").as_view(),
        name="battlepass-claim",
    ),
]
