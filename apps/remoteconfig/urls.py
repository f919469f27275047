from django.urls import path

from apps.remoteconfig.api import ConfigApi

api_routes = {"config": [path("", ConfigApi.as_view(), name="remote-config")]}
