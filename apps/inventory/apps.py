from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "apps.inventory"
    verbose_name = "Inventory and ledger"

    def ready(self) -> None:
        # Analytics sits below inventory and never reads the ledger: the economy dashboards'
        # sources and sinks come from this selector. Imported here: models must be loaded first.
        from apps.analytics.aggregation import register_economy_source
        from apps.inventory.selectors import economy_flows

        register_economy_source(economy_flows)

        # The player's data export and erasure (accounts' registry, docs/guide/privacy.md).
        from apps.accounts.privacy import register_privacy_section
        from apps.inventory import privacy

        register_privacy_section("inventory", export=privacy.export)
