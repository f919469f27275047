"""The panel's URLs plus one plain player endpoint, to test what every PlayerApi gets."""

from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.api_base import PlayerApi
from gamingpanel.urls import urlpatterns as panel_urlpatterns

WHOAMI = "/api/v1/test/whoami"


class WhoAmIApi(PlayerApi):
    def get(self, request: Request) -> Response:
        return Response({"player_id": request.user.pk, "session_id": request.auth.session_id})


urlpatterns = [path(WHOAMI.lstrip("/"), WhoAmIApi.as_view()), *panel_urlpatterns]
