from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "apps.audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        # Imported here, not at the top: apps.py loads before the models do. Both imports point
        # down (audit -> accounts) or into audit itself, so no cycle hides here.
        from apps.accounts.operator_actions import operator_acted
        from apps.audit.services import record_announced_action

        # accounts (below audit) announces admin edits, bans and ended sessions; we record them.
        operator_acted.connect(record_announced_action, dispatch_uid="audit.record_action")

        # Operator login failures and lock-outs (django-axes). Connected after axes' own
        # receivers (axes is installed before audit), so a request already says if it is locked out.
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_login_failed

        from apps.audit.receivers import locked_out, login_failed

        user_login_failed.connect(login_failed, dispatch_uid="audit.login_failed")
        user_locked_out.connect(locked_out, dispatch_uid="audit.login_locked_out")

        # The entries about a player, in their data export (accounts' registry,
        # docs/guide/privacy.md). Kept on erasure: no erase.
        from apps.accounts.privacy import register_privacy_section
        from apps.audit import privacy

        register_privacy_section("audit_log", export=privacy.export)
