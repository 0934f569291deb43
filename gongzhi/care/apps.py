from django.apps import AppConfig


class CareConfig(AppConfig):
    name = "gongzhi.care"
    label = "care"
    verbose_name = "Three lines of contact and household care"

    def ready(self):
        from django.db.models.signals import post_migrate

        from .defaults import ensure_defaults

        post_migrate.connect(ensure_defaults, sender=self)

        from gongzhi.registry.signals import household_facts_changed

        from .receivers import reclassify_changed_households

        household_facts_changed.connect(reclassify_changed_households, dispatch_uid="care.reclassify")
