"""The URLs a game's operators type into its platform config, and where they may point.

Checked when the credential is saved (`config_problems`, from the model's `clean`) and again
on every login that reads one (`per_game_url`, `per_game_hosts`), with the one guard of
`gamingpanel.outbound`; the request itself then checks the addresses it connects to.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.conf import settings

from apps.platforms.errors import PlatformNotConfigured
from gamingpanel.outbound import RefusedDestination, check_destination, check_url, host_matches

# The setting that lists each platform's real hosts (docs/platforms.md).
HOSTS_SETTING = {
    "apple": "APPLE_URL_HOSTS",
    "idcgames": "IDCGAMES_URL_HOSTS",
    "nintendo": "NINTENDO_URL_HOSTS",
    "playstation": "PLAYSTATION_URL_HOSTS",
}
# Config keys holding a URL the server fetches, and keys holding host names it may fetch from.
URL_KEYS = {
    "idcgames": ("verify_url", "profile_url"),
    "nintendo": ("jwks_url",),
    "playstation": ("jwks_url", "token_url"),
}
HOST_LIST_KEYS = {"apple": ("key_hosts",)}


def allowed_hosts(platform: str) -> tuple[str, ...]:
    name = HOSTS_SETTING.get(platform)
    return tuple(getattr(settings, name, ())) if name else ()


def _url_problem(platform: str, value: object, *, resolve: bool) -> str | None:
    if not isinstance(value, str):
        return "must be an https:// URL"
    try:
        check_url(value.strip(), hosts=allowed_hosts(platform))
        if resolve:
            check_destination(value.strip())
    except RefusedDestination as refused:
        return str(refused)
    return None


def _host_problem(platform: str, host: str) -> str | None:
    if "*" in host:
        # A key URL's host is compared with these names as written, never as a pattern.
        return f"the host {host} must be a host name, not a pattern"
    if not host_matches(host, allowed_hosts(platform)):
        allowed = ", ".join(allowed_hosts(platform)) or "none"
        return f"the host {host} is not an allowed host ({allowed})"
    try:
        check_url(f"https://{host}/")
    except RefusedDestination as refused:
        return str(refused)
    return None


def _host_list(value: object) -> list[str] | None:
    if isinstance(value, str):
        return value.replace(",", " ").split()
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return [item.strip() for item in value if item.strip()]
    return None


def config_problems(platform: str, config: object) -> dict[str, str]:
    """What is wrong with the URLs and hosts of a platform config, by key (save time: names
    are also resolved, and one that resolves to an internal address is refused)."""
    if not isinstance(config, Mapping):
        return {}
    problems: dict[str, str] = {}
    for key in URL_KEYS.get(platform, ()):
        value = config.get(key)
        if value not in (None, "") and (problem := _url_problem(platform, value, resolve=True)):
            problems[key] = problem
    for key in HOST_LIST_KEYS.get(platform, ()):
        value = config.get(key)
        if value in (None, "", []):
            continue
        hosts = _host_list(value)
        if hosts is None:
            problems[key] = "must be a list of host names"
            continue
        found = [problem for host in hosts if (problem := _host_problem(platform, host))]
        if found:
            problems[key] = "; ".join(found)
    return problems


def per_game_url(platform: str, key: str, value: str) -> str:
    """A per-game URL read at login: https and on the platform's hosts, else
    400 platform_not_configured (the request then checks the addresses it connects to)."""
    problem = _url_problem(platform, value, resolve=False)
    if problem is not None:
        raise PlatformNotConfigured(f"{platform} config {key!r} is refused: {problem}.")
    return value


def per_game_hosts(platform: str, key: str, hosts: tuple[str, ...]) -> tuple[str, ...]:
    """Per-game host names read at login, each on the platform's hosts."""
    for host in hosts:
        if (problem := _host_problem(platform, host)) is not None:
            raise PlatformNotConfigured(f"{platform} config {key!r} is refused: {problem}.")
    return hosts
