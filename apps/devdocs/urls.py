from django.urls import path, re_path

from apps.devdocs import views
from apps.devdocs.pages import FILE_NAME, FOLDER, PAGE_NAME

app_name = "devdocs"

urlpatterns = [
    path("", views.guide_page, {"page": "index"}, name="index"),
    re_path(r"^ref/(?P<name>[a-z0-9_-]+)/?$", views.reference_page, name="reference"),
    re_path(
        rf"^ref/(?P<folder>{FOLDER})/(?P<name>{PAGE_NAME})/?$",
        views.reference_page,
        name="reference-in-folder",
    ),
    re_path(
        rf"^ref/(?P<folder>{FOLDER})/(?P<name>{FILE_NAME})$",
        views.reference_file,
        name="reference-file",
    ),
    re_path(r"^(?P<page>[a-z0-9-]+)/?$", views.guide_page, name="page"),
]
