from django.apps import AppConfig


class LeaderboardsConfig(AppConfig):
    name = "apps.leaderboards"
    verbose_name = "Leaderboards"

    def ready(self) -> None:
        # Imported here: models must be loaded first. The apps we register with sit below us
        # and never import the leaderboards: multiplayer calls what we register for each
        # recorded match; accounts announces bans on its signal; a saved or deleted season
        # moves the end of season boards' open periods.
        from django.db.models.signals import post_delete, post_save

        from apps.accounts.operator_actions import operator_acted
        from apps.battlepass.models import Season
        from apps.leaderboards.receivers import on_operator_action, on_season_changed
        from apps.leaderboards.services.stat_boards import record_match_stats
        from apps.multiplayer.services.matches import register_match_listener

        register_match_listener(record_match_stats)
        operator_acted.connect(on_operator_action, dispatch_uid="leaderboards.bans")
        for signal in (post_save, post_delete):
            signal.connect(on_season_changed, sender=Season, dispatch_uid="leaderboards.seasons")

        # The player's data export and erasure (accounts' registry, docs/guide/privacy.md).
        from apps.accounts.privacy import register_privacy_section
        from apps.leaderboards import privacy

        # Last: removing an open period's entry holds the period's lock, which every score
        # submitted to that board waits for, until the erasure commits.
        register_privacy_section(
            "leaderboards", export=privacy.export, erase=privacy.erase, erase_last=True
        )
        from apps.audit.privacy import register_entries_about

        register_entries_about("leaderboards", privacy.audit_entries)
