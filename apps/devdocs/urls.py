from django.urls import path, re_path

from apps.devdocs import views

app_name = "devdocs"

urlpatterns = [
    path("", views.guide_page, {"page": "index"}, name="index"),
    re_path(r"^ref/(?P<name>[a-z0-9_-]+)/?$", views.reference_page, name="reference"),
    re_path(r"^(?P<page>[a-z0-9-]+)/?$", views.guide_page, name="page"),
]
