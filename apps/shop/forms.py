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
from apps.shop.services.authoring import UNSAID, StockEdit, StockMoved, Unsaid, stock_to_save
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
    stock_unsaid_message = (
        "This save did not send the stock its page was loaded with (initial-stock), so it "
        "could undo purchases: the stock is {now} now. Enter the number of units left you want "
        "now, and save again."
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
        # stock from purchases that moved it while the page was open (`_settle_stock`).
        self.fields["stock"].show_hidden_initial = True
        offer = self.instance
        if offer.pk is not None and offer.price_amount is not None:
            exponent = currency_exponent(offer.price_currency, real_money=offer.real_money)
            self.initial["price"] = Decimal(offer.price_amount).scaleb(-exponent)

    def clean(self) -> dict[str, Any]:
        super().clean()
        self._settle_stock()
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

    def _settle_stock(self) -> None:
        """The stock this save writes, decided by the shop (`stock_to_save`) under the offer's
        row lock, which the admin's save holds to its commit. A number typed over one purchases
        have moved since the page was loaded is asked again, with the number there is now:
        saving it would undo those sales' count (or the units an expired checkout gave back)."""
        offer = self.instance
        if offer.pk is None or "stock" not in self.cleaned_data:
            return
        edit = None
        if "stock" in self.changed_data:
            edit = StockEdit(typed=self.cleaned_data["stock"], loaded=self._loaded_stock())
        try:
            self.cleaned_data["stock"] = stock_to_save(offer_id=offer.pk, edit=edit)
        except StockMoved as moved:
            self._ask_stock_again(moved)

    def _loaded_stock(self) -> int | None | Unsaid:
        """The stock the page showed, which it posts back (`initial-stock`; empty: unlimited).
        A POST without it (a script's) does not say, so nothing shows that its number undoes no
        sale: it is asked again, with the number there is now."""
        name = self["stock"].html_initial_name
        if name not in self.data:
            return UNSAID
        try:
            return self.fields["stock"].to_python(self.data[name])
        except ValidationError:
            return UNSAID

    def _ask_stock_again(self, moved: StockMoved) -> None:
        now = "unlimited" if moved.now is None else moved.now
        # The page shown again carries the number there is now, so the next save goes through.
        shown_again = QueryDict(mutable=True)  # the request's own data is immutable
        shown_again.update(self.data)
        shown_again[self["stock"].html_initial_name] = "" if moved.now is None else str(moved.now)
        self.data = shown_again
        if moved.loaded is UNSAID:
            message = self.stock_unsaid_message.format(now=now)
        else:
            shown = "unlimited" if moved.loaded is None else moved.loaded
            message = self.stock_moved_message.format(shown=shown, now=now)
        self.add_error("stock", message)
