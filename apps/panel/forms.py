from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone

from apps.analytics.selectors import DayRange
from apps.inventory.services import Change

MAX_RANGE_DAYS = 366


class DateRangeForm(forms.Form):
    start = forms.DateField(required=False, label="From", widget=forms.DateInput({"type": "date"}))
    end = forms.DateField(required=False, label="To", widget=forms.DateInput({"type": "date"}))

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        start, end = self._resolve(data, timezone.now().date())
        if start > end:
            raise forms.ValidationError("From must not be after To.")
        if (end - start).days >= MAX_RANGE_DAYS:
            raise forms.ValidationError(f"At most {MAX_RANGE_DAYS} days at once.")
        return data

    def day_range(self, today: date | None = None) -> DayRange:
        """The chosen range; the last N days when nothing, or something unusable, was given."""
        today = today or timezone.now().date()
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        start, end = self._resolve(data, today)
        return DayRange(start=start, end=end)

    @staticmethod
    def _resolve(data: dict, today: date) -> tuple[date, date]:
        end = data.get("end") or today
        default = timedelta(days=settings.ANALYTICS_DASHBOARD_DEFAULT_DAYS - 1)
        return data.get("start") or end - default, end


class PlayerSearchForm(forms.Form):
    q = forms.CharField(
        required=False,
        max_length=200,
        label="Search",
        widget=forms.TextInput({"placeholder": "Player id, platform id or display name"}),
    )


class BanForm(forms.Form):
    reason = forms.CharField(max_length=300)
    until = forms.DateTimeField(
        required=False,
        help_text="Empty: until unbanned.",
        widget=forms.DateTimeInput({"type": "datetime-local"}),
    )

    def clean_until(self):
        until = self.cleaned_data.get("until")
        if until is not None and until <= timezone.now():
            raise forms.ValidationError("A ban must end in the future.")
        return until


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=300, required=False)


class GrantForm(forms.Form):
    """Grant or revoke one currency or item through the ledger."""

    DIRECTIONS = [("grant", "Grant"), ("revoke", "Revoke")]

    direction = forms.ChoiceField(choices=DIRECTIONS)
    target = forms.ChoiceField(label="Currency or item")
    quantity = forms.IntegerField(min_value=1, max_value=10**12)
    reason = forms.CharField(max_length=300)
    idempotency_key = forms.CharField(max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args, currencies: list[str], items: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        target = self.fields["target"]
        assert isinstance(target, forms.ChoiceField)
        target.choices = [
            ("Currencies", [(f"currency:{code}", code) for code in currencies]),
            ("Items", [(f"item:{sku}", sku) for sku in items]),
        ]

    def change(self) -> Change:
        kind, code = self.cleaned_data["target"].split(":", 1)
        sign = 1 if self.cleaned_data["direction"] == "grant" else -1
        delta = sign * self.cleaned_data["quantity"]
        # The target's choices are currency:<code> and item:<sku> only.
        return (
            Change("currency", code, delta) if kind == "currency" else Change("item", code, delta)
        )
