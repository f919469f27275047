"""The data an admin change form posts back when the operator changes nothing: start from it,
change what the test changes, and post it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.test import Client


def form_as_shown(client: Client, url: str) -> dict[str, Any]:
    """The change page's fields and its inlines' rows, with the values it shows."""
    response = client.get(url)
    assert response.status_code == 200
    shown = [response.context["adminform"].form]
    data: dict[str, Any] = {}
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in management.fields:
            data[f"{management.prefix}-{name}"] = management.initial.get(name, 0)
        shown += inline.formset.forms
    for form in shown:
        for name, field in form.fields.items():
            bound, widget = form[name], field.widget
            value = bound.value()
            if isinstance(widget, forms.MultiWidget):
                for index, (part_widget, part) in enumerate(
                    zip(widget.widgets, widget.decompress(value), strict=True)
                ):
                    if part is not None:
                        data[f"{bound.html_name}_{index}"] = part_widget.format_value(part)
            elif isinstance(widget, forms.CheckboxInput):
                if value:
                    data[bound.html_name] = "on"
            elif value is not None:
                data[bound.html_name] = value
            if field.show_hidden_initial and value is not None:
                data[bound.html_initial_name] = value  # as loaded, posted back by the page
    return data


def row_of(data: dict[str, Any], prefix: str, pk: int) -> str:
    """The prefix (e.g. "tiers-1") of the inline row that shows the row `pk` in `data`."""
    return next(
        key.removesuffix("-id")
        for key, value in data.items()
        if key.startswith(f"{prefix}-") and key.endswith("-id") and str(value) == str(pk)
    )
