"""The admin's "generate tiers" form: an XP curve and a reward pattern for N tiers."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.formsets import DELETION_FIELD_NAME
from django.forms.models import BaseInlineFormSet

from apps.battlepass.authoring import MAX_TIERS, TierPattern
from apps.inventory.models import MAX_LINE_QUANTITY


class GenerateTiersForm(forms.Form):
    count = forms.IntegerField(min_value=1, max_value=MAX_TIERS, initial=50, label="Tiers")
    first_xp = forms.IntegerField(
        min_value=1, max_value=10**7, initial=1000, label="XP for tier 1",
        help_text="Season XP the first tier needs; each next tier needs this step again, grown.",
    )  # fmt: skip
    xp_growth_percent = forms.IntegerField(
        min_value=0, max_value=100, initial=5, label="XP step growth per tier (%)"
    )
    free_target = forms.ChoiceField(required=False, label="Free track reward")
    free_quantity = forms.IntegerField(min_value=1, max_value=MAX_LINE_QUANTITY, required=False)
    premium_target = forms.ChoiceField(required=False, label="Premium track reward")
    premium_quantity = forms.IntegerField(min_value=1, max_value=MAX_LINE_QUANTITY, required=False)
    reward_growth_percent = forms.IntegerField(
        min_value=0, max_value=100, initial=0, label="Reward growth per tier (%)"
    )
    premium_every = forms.IntegerField(
        min_value=1, max_value=MAX_TIERS, initial=1, label="Premium reward every N tiers"
    )

    def __init__(self, *args: Any, currencies: list[str], items: list[str], **kwargs: Any):
        super().__init__(*args, **kwargs)
        choices = [
            ("", "— none —"),
            ("Currencies", [(f"currency:{code}", code) for code in currencies]),
            ("Items", [(f"sku:{sku}", sku) for sku in items]),
        ]
        for name in ("free_target", "premium_target"):
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = choices

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        for track in ("free", "premium"):
            if bool(data.get(f"{track}_target")) != bool(data.get(f"{track}_quantity")):
                self.add_error(f"{track}_quantity", "Give both the reward and its quantity.")
        return data

    def pattern(self) -> TierPattern:
        data = self.cleaned_data
        return TierPattern(
            count=data["count"],
            first_xp=data["first_xp"],
            xp_growth_percent=data["xp_growth_percent"],
            free_lines=self._lines("free"),
            premium_lines=self._lines("premium"),
            reward_growth_percent=data["reward_growth_percent"],
            premium_every=data["premium_every"],
        )

    def _lines(self, track: str) -> tuple[dict, ...]:
        target = self.cleaned_data.get(f"{track}_target")
        if not target:
            return ()
        kind, code = target.split(":", 1)
        return ({kind: code, "quantity": self.cleaned_data[f"{track}_quantity"]},)


class RisingXpFormSet(BaseInlineFormSet):
    """A season's tiers as its admin page edits them: the XP a tier needs never falls as the
    tier rises (a higher tier that needs less would unlock before the one below it)."""

    def clean(self) -> None:
        super().clean()
        tiers = sorted(
            (form.cleaned_data["level"], form.cleaned_data["xp_required"])
            for form in self.forms
            if not form.errors
            and not form.cleaned_data.get(DELETION_FIELD_NAME)
            and form.cleaned_data.get("level") is not None
            and form.cleaned_data.get("xp_required") is not None
        )
        for (level, xp), (higher, higher_xp) in zip(tiers, tiers[1:], strict=False):
            if higher_xp < xp:
                raise forms.ValidationError(
                    f"Tier {higher} needs {higher_xp} XP, less than tier {level} ({xp}): the "
                    "XP a tier needs never falls as the tier rises.",
                    code="xp_falls",
                )
