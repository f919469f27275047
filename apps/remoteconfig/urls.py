from django.urls import path

from apps.remoteconfig.api import ConfigApi

urlpatterns = [path("config", ConfigApi.as_view(), name="remote-config")]
