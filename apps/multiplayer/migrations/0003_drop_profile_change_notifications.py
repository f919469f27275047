"""The profile mirror is gone: a game server's profile is one indexed query behind a one-second
per-process cache (apps/multiplayer/selectors.py), so the NOTIFY triggers 0002 put on the player,
progress and level-curve tables go too. Reversing this migration puts them back."""

from importlib import import_module

from django.db import migrations

installed = import_module("apps.multiplayer.migrations.0002_profile_change_notifications")


class Migration(migrations.Migration):
    dependencies = [("multiplayer", "0002_profile_change_notifications")]

    operations = [migrations.RunPython(installed.uninstall, installed.install)]
