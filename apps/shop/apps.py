from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "apps.shop"
    verbose_name = "Shop"

    def ready(self) -> None:
        # Imported here: models must be loaded first (apps.shop.services reads them).
        from apps.payments.services.processing import register_purchase_outcomes
        from apps.shop.services.payment_outcomes import ShopPurchaseOutcomes

        register_purchase_outcomes(ShopPurchaseOutcomes())

        # The player's data export and erasure (accounts' registry, docs/guide/privacy.md).
        from apps.accounts.privacy import register_privacy_section
        from apps.shop import privacy

        register_privacy_section("shop", export=privacy.export, erase=privacy.erase)
