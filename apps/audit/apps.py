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
