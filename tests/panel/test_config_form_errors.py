"""A refused remote-config form comes back as sent, with why beside the field that holds the
problem: a value past REMOTE_CONFIG_MAX_VALUE_BYTES beside the value (a page message alone left
the operator to find which of the page's forms, and which field, it meant), and the message
still says nothing changed."""

from __future__ import annotations

import html as html_lib
import re

import pytest

from apps.remoteconfig.models import ConfigKey, ConfigOverride
from apps.remoteconfig.services import set_key

LIMIT = 100
TOO_LARGE = '"' + "x" * (LIMIT - 1) + '"'  # 101 bytes as stored


@pytest.fixture(autouse=True)
def _limit(settings) -> None:
    settings.REMOTE_CONFIG_MAX_VALUE_BYTES = LIMIT


def config(game, action: str = "") -> str:
    return f"/panel/games/{game.pk}/config/{action}"


def field_errors(html: str, field_id: str) -> str:
    """The errors Django renders beside the field whose input has `field_id` (the error list the
    input names in aria-describedby, so a screen reader reads it with the field too)."""
    field = re.search(rf'<(?:input|textarea)[^>]*\bid="{re.escape(field_id)}"', html)
    assert field is not None, field_id
    if f"{field_id}_error" not in field.group(0):
        return ""
    errors = re.search(rf'<ul class="errorlist" id="{re.escape(field_id)}_error">(.*?)</ul>', html)
    assert errors is not None
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", errors.group(1)))


def details_open(html: str, field_id: str) -> bool:
    """The override form holding `field_id` is unfolded."""
    before = html[: html.index(f'id="{field_id}"')]
    return before[before.rindex("<details") :].startswith("<details open")


@pytest.mark.django_db
def test_a_key_value_too_large_is_shown_beside_the_value(operator_client, game):
    response = operator_client.post(
        config(game, "set-key"), {"key": "motd", "value": TOO_LARGE, "description": "hello"}
    )

    html = response.content.decode()
    assert response.status_code == 200
    beside = field_errors(html, "id_value")
    assert "a value of 101 bytes" in beside and "REMOTE_CONFIG_MAX_VALUE_BYTES" in beside
    assert "Nothing changed: The value of motd" in html  # the page's message stays
    # What was typed is kept, to shorten it rather than type it again.
    assert re.search(r'name="key" value="motd"[^>]*id="id_key"', html)
    assert re.search(r'name="description" value="hello"[^>]*id="id_description"', html)
    assert not ConfigKey.objects.filter(game=game).exists()


@pytest.mark.django_db
def test_an_override_value_too_large_is_shown_beside_that_keys_override_value(
    operator_client, game
):
    set_key(game=game, actor=None, key="motd", value="hi")
    other = set_key(game=game, actor=None, key="speed", value=1)
    motd = ConfigKey.objects.get(game=game, key="motd")

    response = operator_client.post(
        config(game, "add-override"),
        {"key": "motd", "position": 0, "value": TOO_LARGE, "rollout_percent": 100,
         "payer": "unknown"},
    )  # fmt: skip

    html = response.content.decode()
    assert response.status_code == 200
    assert "REMOTE_CONFIG_MAX_VALUE_BYTES" in field_errors(html, f"override-{motd.pk}-value")
    assert details_open(html, f"override-{motd.pk}-value")  # not folded away
    assert not details_open(html, f"override-{other.pk}-value")
    assert field_errors(html, f"override-{other.pk}-value") == ""
    assert not ConfigOverride.objects.filter(config_key__game=game).exists()


@pytest.mark.django_db
def test_a_value_that_is_not_json_is_shown_beside_the_value(operator_client, game):
    response = operator_client.post(config(game, "set-key"), {"key": "motd", "value": "{oops"})

    assert "Not JSON" in field_errors(response.content.decode(), "id_value")
    assert not ConfigKey.objects.filter(game=game).exists()


@pytest.mark.django_db
def test_a_refusal_about_the_whole_draft_is_shown_on_the_form(operator_client, game, settings):
    set_key(game=game, actor=None, key="motd", value="x" * 90)
    settings.REMOTE_CONFIG_MAX_RELEASE_BYTES = 150

    response = operator_client.post(
        config(game, "set-key"), {"key": "tip", "value": '"' + "y" * 80 + '"'}
    )

    html = response.content.decode()
    form = html[html.index('id="key-form"') :]
    assert "REMOTE_CONFIG_MAX_RELEASE_BYTES" in form[: form.index("</form>")]
    assert "Nothing changed: The draft would be" in html
    assert not ConfigKey.objects.filter(game=game, key="tip").exists()
