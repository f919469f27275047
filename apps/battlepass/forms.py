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


class FixedOnceClaimedFormSet(BaseInlineFormSet):
    """Rows players have claimed (a tier, an event reward: a model whose claims are `claims`)
    keep what their claims were granted for: a change to one of `fixed_once_claimed` is refused
    on the field. A claim records only the row, so a changed reward or requirement would rewrite
    what players got and did, and a tier moved to another level would be claimable again there."""

    fixed_once_claimed: tuple[str, ...] = ()
    claimed_message = "Players have claimed this row: this field can no longer change."

    def clean(self) -> None:
        edited = {
            form.instance.pk: form
            for form in self.initial_forms
            if form.instance.pk is not None
            and not form.cleaned_data.get(DELETION_FIELD_NAME)
            and set(form.changed_data) & set(self.fixed_once_claimed)
        }
        deleted = {
            form.instance.pk
            for form in self.initial_forms
            if form.instance.pk is not None and form.cleaned_data.get(DELETION_FIELD_NAME)
        }
        if edited or deleted:
            # The edited rows and those to delete locked FOR UPDATE (until the admin's save
            # commits: its change view is one transaction) before their claims are read, in a
            # statement of its own: a claim holds its row FOR KEY SHARE until it commits
            # (battlepass.services.KEY_SHARE_TIER), which the save's UPDATE (NO KEY UPDATE) does
            # not wait for, so a claim under way was neither seen here nor waited for, and
            # granted the old reward under the new one; and Django's check for protected rows
            # (super().clean(), below) let the deletion of a row whose claim was under way by,
            # whose DELETE then waited for the claim and failed at commit on the claim's foreign
            # key (a 500). Now this waits for the claim and then sees it (the next statement
            # reads afresh): the edit is refused on the field, the deletion by Django's check;
            # or a claim starting now waits for the save and then reads the row as saved, or
            # finds it gone. Nothing is written before this, so the wait holds no lock a claim
            # could need; SQLite serializes writes anyway.
            rows = self.model._default_manager.select_for_update().filter(
                pk__in=edited.keys() | deleted
            )
            list(rows.order_by("pk").values_list("pk", flat=True))  # one lock order for every save
        super().clean()
        if not edited:
            return
        claimed = self.model._default_manager.filter(pk__in=edited, claims__isnull=False)
        for pk in set(claimed.values_list("pk", flat=True)):
            form = edited[pk]
            for name in self.fixed_once_claimed:
                if name in form.changed_data:
                    form.add_error(name, self.claimed_message)


class ClaimedTiersFormSet(FixedOnceClaimedFormSet):
    fixed_once_claimed = ("level", "xp_required", "free_reward", "premium_reward")
    claimed_message = (
        "Players have claimed this tier: its level, XP and rewards stay as they were claimed "
        "(add a tier instead)."
    )
