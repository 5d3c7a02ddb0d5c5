from django.apps import AppConfig


class CrisisConfig(AppConfig):
    name = "tether.crisis"
    label = "crisis"

    def ready(self) -> None:
        from django.db import transaction
        from django.db.models.signals import post_delete, post_save

        from tether.crisis import offline
        from tether.organizations.models import Program

        # The crisis-line snapshot for database outages follows every change to a
        # program (its lines, its name, active or not), once the change is committed.
        def program_changed(**kwargs: object) -> None:
            transaction.on_commit(offline.write_snapshot_quietly)

        post_save.connect(program_changed, sender=Program, weak=False)
        post_delete.connect(program_changed, sender=Program, weak=False)
