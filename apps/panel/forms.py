from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone

from apps.accounts.models import PERMANENT_BAN_UNTIL
from apps.analytics.selectors import DayRange
from apps.inventory.services import Change
from apps.panel.selectors import PlayerFilters
from apps.platforms.models import PlatformCredential

MAX_RANGE_DAYS = settings.ANALYTICS_DASHBOARD_MAX_DAYS


class UtcDateTimeField(forms.DateTimeField):
    """A date and time typed in UTC, and its label says so. A datetime-local input sends no
    zone, and the operator's own is unknown: this reads it as UTC whatever TIME_ZONE is (a value
    typed with an offset, 18:30+02:00, keeps it)."""

    widget = forms.DateTimeInput({"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

    def __init__(self, *, label: str, **kwargs: Any) -> None:
        super().__init__(label=f"{label} (UTC)", **kwargs)

    def to_python(self, value: Any) -> datetime | None:
        with timezone.override(UTC):
            moment = super().to_python(value)
        if moment is not None:
            # An offset can carry the calendar's last or first minute past it in UTC (9999-12-31
            # 23:59-01:00 is in the year 10000): PostgreSQL stores that instant, and every read
            # of its row is then a 500 (Python's datetime cannot hold it).
            try:
                moment.astimezone(UTC)
            except OverflowError:
                raise forms.ValidationError(
                    "Outside the calendar in UTC (years 1 to 9999).", code="invalid"
                ) from None
        return moment

    def prepare_value(self, value: Any) -> Any:
        with timezone.override(UTC):
            return super().prepare_value(value)


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
        if start := data.get("start"):
            return start, end
        # An end in the calendar's first days: the range starts with the calendar.
        return (end - default if end - date.min >= default else date.min), end


FROM_MIDNIGHT = "The whole day counts, from 00:00 UTC."
TO_MIDNIGHT = "The whole day counts, up to 23:59:59 UTC."


def utc_day_field(label: str, help_text: str) -> forms.DateField:
    """An optional date filter of the player list: a whole day in UTC."""
    return forms.DateField(
        required=False,
        label=label,
        help_text=help_text,
        widget=forms.DateInput({"type": "date"}),
    )


class PlayerFilterForm(forms.Form):
    """The player list's search, filters and sort; the same filters pick a segment."""

    BANNED = [("", "Any"), ("yes", "Banned"), ("no", "Not banned")]
    SORTS = [
        ("newest", "Newest first"),
        ("oldest", "Oldest first"),
        ("last_seen", "Last seen"),
        ("name", "Name"),
        ("id", "Id"),
        ("level", "Level (highest first)"),
        ("spend", "Spend (highest first)"),
    ]

    q = forms.CharField(
        required=False,
        max_length=200,
        label="Search",
        widget=forms.TextInput({"placeholder": "Player id, platform id or display name"}),
    )
    platform = forms.ChoiceField(
        required=False, choices=[("", "Any"), *PlatformCredential.Platform.choices]
    )
    banned = forms.ChoiceField(required=False, choices=BANNED)
    created_after = utc_day_field("Created after (UTC day)", FROM_MIDNIGHT)
    created_before = utc_day_field(
        "Created before (UTC day)",
        "The whole day counts, up to 23:59:59 UTC; unlike a remote-config override's "
        "created before, which leaves out the instant it names.",
    )
    seen_after = utc_day_field("Last seen after (UTC day)", FROM_MIDNIGHT)
    seen_before = utc_day_field("Last seen before (UTC day)", TO_MIDNIGHT)
    min_level = forms.IntegerField(required=False, min_value=1, max_value=1000)
    max_level = forms.IntegerField(required=False, min_value=1, max_value=1000)
    spend_currency = forms.CharField(
        required=False, max_length=32, label="Spend currency", help_text="e.g. USD"
    )
    min_spend = forms.DecimalField(
        required=False, min_value=0, max_digits=14, decimal_places=2, label="Spent at least"
    )
    sort = forms.ChoiceField(required=False, choices=SORTS)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("min_spend") is not None and not data.get("spend_currency"):
            self.add_error("spend_currency", "Say which currency the spend is counted in.")
            del data["min_spend"]  # a spend in no currency is not a filter that can be read
        if data.get("sort") == "spend" and not data.get("spend_currency"):
            # Spend is summed per currency: in none there is nothing to sort by.
            self.add_error(
                "sort", "Spend is counted per currency: say which one. Until then, newest first."
            )
        low, high = data.get("min_level"), data.get("max_level")
        if low and high and low > high:
            self.add_error("max_level", "The highest level must not be below the lowest.")
        return data

    def filters(self) -> PlayerFilters:
        """What was asked: each field that could be read filters, one that could not (shown
        beside it) filters nothing, and the others still apply."""
        data = self._readable()
        banned = {"yes": True, "no": False}.get(data.get("banned") or "")
        return PlayerFilters(
            query=data.get("q") or "",
            platform=data.get("platform") or "",
            banned=banned,
            created_after=_day_start(data.get("created_after")),
            created_before=_day_start(data.get("created_before"), next_day=True),
            seen_after=_day_start(data.get("seen_after")),
            seen_before=_day_start(data.get("seen_before"), next_day=True),
            min_level=data.get("min_level"),
            max_level=data.get("max_level"),
            spend_currency=(data.get("spend_currency") or "").strip().upper(),
            min_spend=data.get("min_spend"),
        )

    def sort_order(self) -> str:
        return self._readable().get("sort") or "newest"

    def _readable(self) -> dict[str, Any]:
        if not self.is_bound:
            return {}
        self.is_valid()  # cleans; a field that failed is left out of cleaned_data
        return self.cleaned_data


def _day_start(day: date | None, next_day: bool = False) -> datetime | None:
    """Dates are whole UTC days (as their labels say, whatever TIME_ZONE is); "before" includes
    the day itself."""
    if day is None:
        return None
    if next_day:
        if day == date.max:
            return None  # "before" the calendar's last day, itself included: no bound
        day += timedelta(days=1)
    return datetime.combine(day, time.min, tzinfo=UTC)


class BanForm(forms.Form):
    reason = forms.CharField(max_length=300)
    until = UtcDateTimeField(label="Until", required=False, help_text="Empty: until unbanned.")

    def clean_until(self):
        until = self.cleaned_data.get("until")
        if until is not None and until <= timezone.now():
            raise forms.ValidationError("A ban must end in the future.")
        return until


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=300, required=False)


class UndoForm(forms.Form):
    """Undo a segment ban (its run's page). Read through a form, not from the POST as it came:
    U+0000 in either field was a 500 on PostgreSQL."""

    reason = forms.CharField(max_length=300)
    # A script's own key; the page sends none (one undo per ban: undo-<id>).
    idempotency_key = forms.CharField(max_length=64, required=False)


class GrantForm(forms.Form):
    """Grant or revoke one currency or item through the ledger."""

    DIRECTIONS = [("grant", "Grant"), ("revoke", "Revoke")]

    direction = forms.ChoiceField(choices=DIRECTIONS)
    target = forms.ChoiceField(label="Currency or item")
    quantity = forms.IntegerField(min_value=1, max_value=10**12)
    reason = forms.CharField(max_length=300)
    idempotency_key = forms.CharField(max_length=64, widget=forms.HiddenInput)
    # The newest player when the form was shown: the count it showed is what the action runs on.
    max_player_id = forms.IntegerField(min_value=0, required=False, widget=forms.HiddenInput)

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


class SegmentActionForm(forms.Form):
    """One action for every player of a segment: grant or revoke a currency or item, ban, unban."""

    KINDS = [
        ("grant", "Grant currency or items"),
        ("revoke", "Revoke currency or items"),
        ("ban", "Ban"),
        ("unban", "Unban"),
    ]

    kind = forms.ChoiceField(choices=KINDS, label="Action")
    target = forms.ChoiceField(label="Currency or item", required=False)
    quantity = forms.IntegerField(min_value=1, max_value=10**12, required=False)
    ban_until = UtcDateTimeField(
        label="Ban until", required=False, help_text="Empty: until unbanned."
    )
    reason = forms.CharField(max_length=300)
    idempotency_key = forms.CharField(max_length=64, widget=forms.HiddenInput)
    # The newest player when the form was shown: the count it showed is what the action runs on.
    max_player_id = forms.IntegerField(min_value=0, required=False, widget=forms.HiddenInput)

    def __init__(self, *args, currencies: list[str], items: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        target = self.fields["target"]
        assert isinstance(target, forms.ChoiceField)
        target.choices = [
            ("", "—"),
            ("Currencies", [(f"currency:{code}", code) for code in currencies]),
            ("Items", [(f"item:{sku}", sku) for sku in items]),
        ]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("kind") in ("grant", "revoke"):
            if not data.get("target"):
                self.add_error("target", "Pick the currency or item.")
            if not data.get("quantity"):
                self.add_error("quantity", "Say how many.")
        until = data.get("ban_until")
        if data.get("kind") != "ban":
            data["ban_until"] = None  # filled in, then another action picked: not part of it
        elif until is not None and until <= timezone.now():
            self.add_error("ban_until", "A ban must end in the future.")
        elif until is not None and until >= PERMANENT_BAN_UNTIL:
            data["ban_until"] = None  # past "until unbanned" is that (services.submit_...)
        return data

    def change(self) -> Change | None:
        if self.cleaned_data["kind"] not in ("grant", "revoke"):
            return None
        kind, code = self.cleaned_data["target"].split(":", 1)
        sign = 1 if self.cleaned_data["kind"] == "grant" else -1
        delta = sign * self.cleaned_data["quantity"]
        return (
            Change("currency", code, delta) if kind == "currency" else Change("item", code, delta)
        )
