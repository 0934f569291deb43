from django.apps import AppConfig


class CareConfig(AppConfig):
    name = "gongzhi.care"
    label = "care"
    verbose_name = "Three lines of contact and household care"

    def ready(self):
        from django.db.models.signals import post_migrate

        from .defaults import ensure_defaults

        post_migrate.connect(ensure_defaults, sender=self)

        # Registers the task that takes in the registry's changed households (by name; no signal).
        from . import receivers  # noqa: F401
