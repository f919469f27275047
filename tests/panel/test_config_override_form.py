"""The page's "add an override" form sends its key once: the template's own hidden `key` input
(the key's name) was followed by the form's (empty, unbound), and Django reads the last of two
values, so a browser's submit was refused ("key: This field is required") and no override could
be added from the page."""

from __future__ import annotations

import html as html_lib
import re

import pytest

from apps.remoteconfig.models import ConfigKey, ConfigOverride
from apps.remoteconfig.services import set_key

pytestmark = pytest.mark.django_db


def override_form_fields(page: str, key: ConfigKey) -> list[tuple[str, str]]:
    """The inputs of the key's override form, in page order, as a browser sends them."""
    start = page.index(f'id="override-{key.pk}-position"')
    form = page[page.rindex("<form", 0, start) : page.index("</form>", start)]
    fields = []
    for tag in re.findall(r"<(?:input|textarea|select)[^>]*>", form):
        name = re.search(r'name="([^"]*)"', tag)
        if name is None:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        fields.append((name.group(1), html_lib.unescape(value.group(1)) if value else ""))
    return fields


def test_the_override_form_as_the_page_sends_it_adds_the_override(operator_client, game):
    set_key(game=game, actor=None, key="motd", value="hi")
    key = ConfigKey.objects.get(game=game)
    page = operator_client.get(f"/panel/games/{game.pk}/config/").content.decode()
    fields = override_form_fields(page, key)
    assert [value for name, value in fields if name == "key"] == ["motd"]
    sent: dict[str, list[str]] = {}
    for name, value in fields:
        sent.setdefault(name, []).append(value)
    sent["value"] = ['"hello on ios"']
    sent["platforms"] = ["ios"]
    sent["payer"] = ["unknown"]

    response = operator_client.post(
        f"/panel/games/{game.pk}/config/add-override", sent, follow=True
    )

    assert "Override added to the draft" in response.content.decode()
    override = ConfigOverride.objects.get(config_key=key)
    assert (override.value, override.platforms) == ("hello on ios", ["ios"])
