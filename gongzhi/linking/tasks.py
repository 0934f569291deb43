"""Celery tasks (beat schedule in settings): the linking module's warnings (``sweeps.py``)."""
from celery import shared_task


@shared_task(name="linking.sweep")
def sweep() -> dict:
    from .sweeps import sweep_all

    return sweep_all()
