"""The API's routes hang from the root in one group per prefix (gamingpanel/urls.py): a path is
resolved by entering one group, whatever app its route belongs to."""

from django.urls import URLResolver, resolve

from gamingpanel.urls import api_routes_by_prefix, urlpatterns


def api_groups() -> list[str]:
    return [
        str(entry.pattern)
        for entry in urlpatterns
        if isinstance(entry, URLResolver) and str(entry.pattern).startswith("api/v1/")
    ]


def test_each_prefix_is_one_group_and_the_catch_all_comes_last():
    groups = api_groups()

    assert len(groups) == len(set(groups))
    assert groups[-1] == "api/v1/"
    assert "api/v1/player/" in groups and "api/v1/auth/" in groups


def test_apps_sharing_a_prefix_share_its_group():
    grouped = api_routes_by_prefix()
    player_routes = {str(route.pattern) for route in grouped["player/"]}
    auth_routes = {str(route.pattern) for route in grouped["auth/"]}

    # inventory, stats and cloud save answer under player/; accounts and login under auth/
    assert {"inventory", "stats", "saves", "saves/<str:key>"} <= player_routes
    assert {"validate", "third-party/login"} <= auth_routes


def test_every_grouped_route_resolves_to_its_view():
    for path, name in [
        ("/api/v1/player/stats", "player-stats"),
        ("/api/v1/player/inventory", "player-inventory"),
        ("/api/v1/player/saves/slot-1", "player-save"),
        ("/api/v1/auth/validate", "auth-validate"),
        ("/api/v1/auth/third-party/login", "auth-third-party-login"),
        ("/api/v1/config", "remote-config"),
        ("/api/v1/leaderboards", "leaderboards"),
        ("/api/v1/leaderboards/weekly/around-me", "leaderboards-around-me"),
        ("/api/v1/health", "health"),
        ("/api/v1/health/live", "health-live"),
    ]:
        assert resolve(path).url_name == name, path
