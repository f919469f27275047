"""Real-money offer prices counted with ISO 4217's decimals (gamingpanel.currencies). Before,
every currency but eight had two: a price typed as 1000 HUF (ISO: two decimals) was stored as
1000, which is 10.00 HUF; 1.5 KWD (three) as 150; 1000 XOF (none) as 100000. Each stored price is
rescaled so that it means what the operator typed. Purchases keep the amounts they were made at."""

from decimal import ROUND_HALF_UP, Decimal

from django.db import migrations

OLD_ZERO_DECIMALS = {"JPY", "KRW", "VND", "CLP", "ISK", "HUF", "TWD", "UGX"}
# ISO 4217 minor units other than 2, as gamingpanel.currencies had them when this was written.
ISO_MINOR_UNITS = {
    **dict.fromkeys(
        (
            "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
            "VND", "VUV", "XAF", "XOF", "XPF",
        ),
        0,
    ),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}  # fmt: skip


def shift_of(currency: str) -> int:
    code = currency.upper()
    return ISO_MINOR_UNITS.get(code, 2) - (0 if code in OLD_ZERO_DECIMALS else 2)


def rescale(apps: object, schema_editor: object, *, direction: int) -> None:
    Offer = apps.get_model("shop", "Offer")  # type: ignore[attr-defined]
    for offer in Offer.objects.filter(real_money=True).iterator():
        shift = shift_of(offer.price_currency) * direction
        if shift:
            scaled = Decimal(offer.price_amount).scaleb(shift)
            offer.price_amount = int(scaled.to_integral_value(rounding=ROUND_HALF_UP))
            offer.save(update_fields=["price_amount"])


class Migration(migrations.Migration):
    dependencies = [("shop", "0004_purchase_bought_and_reserved")]

    operations = [
        migrations.RunPython(
            lambda apps, editor: rescale(apps, editor, direction=1),
            lambda apps, editor: rescale(apps, editor, direction=-1),
        )
    ]
