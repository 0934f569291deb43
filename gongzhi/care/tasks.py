"""Celery tasks (``shared_task``: they bind to the project's Celery app when one is configured,
and run in-process when the broker is absent, as the settings make Celery eager)."""
from celery import shared_task


@shared_task(name="care.sweep_visits")
def sweep_visits() -> dict:
    from .plans import sweep_visits as sweep

    return sweep()


@shared_task(name="care.classify_households")
def classify_households(region_id: int | None = None) -> dict:
    from gongzhi.registry.models import Region

    from .services import households_classify

    region = Region.objects.get(pk=region_id) if region_id else None
    stats = households_classify(actor=None, region=region)
    return {"households": stats.households, "changed": stats.changed, "by_colour": stats.by_colour}
