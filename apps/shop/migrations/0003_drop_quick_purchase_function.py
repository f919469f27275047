"""Drop shop_quick_purchase(): purchase rules live in Python only (apps/shop/services), and
every purchase takes that path. Unapplying this migration puts the function back as 0002
left it, so the migration history stays reversible."""

from importlib import import_module

from django.db import migrations

DROP_FUNCTION = """
DROP FUNCTION IF EXISTS shop_quick_purchase(
    bigint, bigint, bigint, integer, text, text, timestamptz, integer
)
"""


def drop_function(apps: object, schema_editor: object) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_FUNCTION, params=None)


def recreate_function(apps: object, schema_editor: object) -> None:
    if schema_editor.connection.vendor == "postgresql":
        created = import_module("apps.shop.migrations.0002_quick_purchase_function")
        schema_editor.execute(created.CREATE_FUNCTION, params=None)


class Migration(migrations.Migration):
    dependencies = [("shop", "0002_quick_purchase_function")]

    operations = [migrations.RunPython(drop_function, recreate_function)]
