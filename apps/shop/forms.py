"""The offer's admin form: the price typed in the currency's own units (4.99 USD, 500 JPY, 120
gold), stored as the contract's integer amount (minor units for real money)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from apps.shop.models import Offer
from gamingpanel.currencies import minor_units


def currency_exponent(currency: str, *, real_money: bool) -> int:
    """Decimals of a price: real money has the ISO 4217 currency's (2 for USD, 0 for JPY, 3 for
    KWD); a virtual currency counts whole units."""
    return minor_units(currency) if real_money else 0


# Offered in the price currency's picker besides the game's own currencies (any ISO 4217 code
# may be typed).
COMMON_ISO_CURRENCIES = (
    "USD", "EUR", "GBP", "JPY", "KRW", "CNY", "BRL", "CAD", "AUD", "MXN", "INR", "TRY", "PLN",
    "SEK", "NOK", "DKK", "CHF", "RUB", "IDR", "THB",
)  # fmt: skip


class CurrencyCodeInput(forms.TextInput):
    """A text box with suggestions: the game's virtual currencies and common ISO codes."""

    def __init__(self, codes: list[str]) -> None:
        super().__init__(attrs={"list": "gp-price-currencies", "autocomplete": "off", "size": 10})
        self.codes = codes

    def render(self, name: str, value: Any, attrs: Any = None, renderer: Any = None) -> SafeString:
        options = format_html_join("", '<option value="{}">', ((code,) for code in self.codes))
        return format_html(
            '{}<datalist id="gp-price-currencies">{}</datalist>',
            super().render(name, value, attrs, renderer),
            options,
        )


class OfferAdminForm(forms.ModelForm):
    stock_moved_message = (
        "Purchases moved the stock from {shown} to {now} since this page was loaded: "
        "enter the number of units left you want now, and save again."
    )

    price = forms.DecimalField(
        min_value=Decimal(0),
        max_digits=18,
        help_text="In the currency's units: 4.99 for USD, 500 for JPY, 120 for a virtual "
        "currency. Stored as minor units for real money.",
    )

    class Meta:
        model = Offer
        fields = [
            "game", "category", "name", "description", "position", "active", "real_money",
            "price_currency", "price_amount", "contents", "available_from", "available_until",
            "per_player_limit", "stock", "apple_product_id", "google_product_id",
            "store_consumable",
        ]  # fmt: skip
        widgets = {"price_amount": forms.HiddenInput}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["price_amount"].required = False
        # The page posts back the stock it showed, so a save tells an operator's edit of the
        # stock from purchases that moved it while the page was open (OfferAdmin.save_model).
        self.fields["stock"].show_hidden_initial = True
        offer = self.instance
        if offer.pk is not None and offer.price_amount is not None:
            exponent = currency_exponent(offer.price_currency, real_money=offer.real_money)
            self.initial["price"] = Decimal(offer.price_amount).scaleb(-exponent)

    def clean(self) -> dict[str, Any]:
        super().clean()
        self._refuse_stock_typed_over_sales()
        data = self.cleaned_data
        price: Decimal | None = data.get("price")
        if price is None:
            return data
        currency = (data.get("price_currency") or "").strip()
        real_money = bool(data.get("real_money"))
        if real_money:
            currency = currency.upper()
            data["price_currency"] = currency
        exponent = currency_exponent(currency, real_money=real_money)
        amount = price.scaleb(exponent)
        if amount != amount.to_integral_value():
            unit = f"{currency} has {exponent} decimals" if exponent else "whole units only"
            self.add_error("price", f"Too many decimals: {unit}.")
            return data
        data["price_amount"] = int(amount)
        return data

    def _refuse_stock_typed_over_sales(self) -> None:
        """An operator who typed a new stock over a number purchases have moved since the page
        was loaded is asked again, with the number there is now: saving theirs would undo those
        sales' count (or the units an expired checkout gave back)."""
        stored = self.instance
        if stored.pk is None or "stock" not in self.changed_data:
            return
        bound = self["stock"]
        try:
            shown = self.fields["stock"].to_python(self.data.get(bound.html_initial_name))
        except ValidationError:
            shown = None
        if shown == stored.stock:
            return
        # The page shown again carries the number there is now, so the next save goes through.
        shown_again = QueryDict(mutable=True)  # the request's own data is immutable
        shown_again.update(self.data)
        shown_again[bound.html_initial_name] = "" if stored.stock is None else str(stored.stock)
        self.data = shown_again
        self.add_error(
            "stock",
            self.stock_moved_message.format(
                shown="unlimited" if shown is None else shown,
                now="unlimited" if stored.stock is None else stored.stock,
            ),
        )
