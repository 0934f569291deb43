from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "gongzhi.cases"
    label = "cases"
    verbose_name = "Residents' matters (cases)"

    def ready(self):
        from django.db.models.signals import post_migrate

        post_migrate.connect(_restore_empty_catalogue, sender=self)


def _restore_empty_catalogue(sender, using="default", **kwargs):
    """Put the default catalogue back when the tables are empty.

    Migration 0002 installs it once; a database flush (``gongzhi flush``, or the reset after each
    transactional test) empties the tables and then emits post_migrate, which lands here. A county
    that has categories of its own is left alone: defaults it retired are not resurrected.
    """
    from .catalogue import install_default_catalogue
    from .models import CaseCategory, TimeLimitDefault

    if not CaseCategory.objects.using(using).exists():
        install_default_catalogue(CaseCategory.objects.db_manager(using).model, TimeLimitDefault)
